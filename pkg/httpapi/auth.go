package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// KeyHeader is the header that may carry the access key instead of the
// code query parameter.
const KeyHeader = "x-functions-key"

// NewKey returns a random access key: 32 bytes, URL-safe base64, so that it
// can sit in a query string as it is.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorized answers 401 to a request without the access key.
func (s *Server) authorized(h http.HandlerFunc) http.Handler {
	if s.cfg.Key == "" {
		return h
	}
	want := []byte(s.cfg.Key)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(KeyHeader)
		if got == "" {
			got = r.URL.Query().Get("code")
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Key realm="endure", param="code", header="`+KeyHeader+`"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong access key: pass it as the code query parameter or the "+KeyHeader+" header")
			return
		}
		h(w, r)
	})
}
