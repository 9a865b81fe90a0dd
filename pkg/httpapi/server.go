// Package httpapi serves Durable Functions' HTTP management API on top of
// pkg/client, so that scripts and tools written for Durable Functions work
// against Endure unchanged: start an orchestration, follow the URIs of the
// check-status body, query, list, raise events, terminate, suspend, resume,
// rewind, restart and purge.
//
// Every endpoint needs the access key (Config.Key), given as the code query
// parameter or the x-functions-key header, as Durable Functions' system key
// is. The package decides no workflow semantics: it parses requests, calls
// pkg/client and renders answers.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// WebhookPrefix is where the management API lives, as in Durable Functions.
const WebhookPrefix = "/runtime/webhooks/durabletask"

// Config configures the API server.
type Config struct {
	// Key is the access key every request must carry, as code=<key> or an
	// x-functions-key header. Empty turns access control off: only for
	// tests and processes that are never reachable from outside.
	Key string
	// Connection is reported as the connection= query parameter (default
	// "Storage", as Durable Functions does).
	Connection string
	// Logger receives request errors (default slog.Default()).
	Logger *slog.Logger
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	c   *client.Client
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the API server for c.
func New(c *client.Client, cfg Config) *Server {
	if cfg.Connection == "" {
		cfg.Connection = "Storage"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{c: c, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	instances := WebhookPrefix + "/instances"
	for _, r := range []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"POST /api/orchestrators/{functionName}", s.start},
		{"POST /api/orchestrators/{functionName}/{instanceId}", s.start},
		{"GET " + instances, s.list},
		{"GET " + instances + "/{$}", s.list},
		{"DELETE " + instances, s.purgeMany},
		{"DELETE " + instances + "/{$}", s.purgeMany},
		{"GET " + instances + "/{instanceId}", s.status},
		{"DELETE " + instances + "/{instanceId}", s.purge},
		{"POST " + instances + "/{instanceId}/raiseEvent/{eventName}", s.raiseEvent},
		{"POST " + instances + "/{instanceId}/terminate", s.terminate},
		{"POST " + instances + "/{instanceId}/suspend", s.suspend},
		{"POST " + instances + "/{instanceId}/resume", s.resume},
		{"POST " + instances + "/{instanceId}/rewind", s.rewind},
		{"POST " + instances + "/{instanceId}/restart", s.restart},
	} {
		s.mux.Handle(r.pattern, s.authorized(r.handler))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// maxBody bounds request bodies: a payload limit plus room for JSON framing.
const maxBody = protocol.MaxPayload + 1024

// readJSON reads a request body that must be empty or valid JSON.
func readJSON(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", protocol.MaxPayload))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, true
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "request body is not valid JSON")
		return nil, false
	}
	return body, true
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// fail maps client errors to status codes.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, protocol.ErrInvalidName), errors.Is(err, client.ErrUnknownOrchestrator),
		errors.Is(err, client.ErrInvalidInput):
		code = http.StatusBadRequest
	case errors.Is(err, protocol.ErrPayloadTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, client.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, client.ErrInstanceExists), errors.Is(err, client.ErrNotFailed), errors.Is(err, client.ErrNotFinished):
		code = http.StatusConflict
	case errors.Is(err, client.ErrFinished):
		code = http.StatusGone
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
	}
	if code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, code, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

// Serve serves h on ln until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http api on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
