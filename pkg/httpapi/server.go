// Package httpapi serves Durable Functions' HTTP management API on top of
// pkg/client, so that scripts and tools written for Durable Functions work
// against Endure unchanged: start an orchestration, follow the URIs of the
// check-status body, raise events, terminate.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// WebhookPrefix is where the management API lives, as in Durable Functions.
const WebhookPrefix = "/runtime/webhooks/durabletask"

// Config configures the API server.
type Config struct {
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
	s.mux.HandleFunc("POST /api/orchestrators/{functionName}", s.start)
	s.mux.HandleFunc("POST /api/orchestrators/{functionName}/{instanceId}", s.start)
	s.mux.HandleFunc("GET "+WebhookPrefix+"/instances/{instanceId}", s.status)
	s.mux.HandleFunc("POST "+WebhookPrefix+"/instances/{instanceId}/raiseEvent/{eventName}", s.raiseEvent)
	s.mux.HandleFunc("POST "+WebhookPrefix+"/instances/{instanceId}/terminate", s.terminate)
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

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("functionName")
	input, ok := readJSON(w, r)
	if !ok {
		return
	}
	opts := []client.StartOption{}
	if input != nil {
		opts = append(opts, client.WithInput(input))
	}
	if id := r.PathValue("instanceId"); id != "" {
		opts = append(opts, client.WithInstanceID(id))
	}
	id, err := s.c.Start(r.Context(), name, opts...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeCheckStatus(w, r, id)
}

func (s *Server) writeCheckStatus(w http.ResponseWriter, r *http.Request, id string) {
	body := s.checkStatus(r, id)
	w.Header().Set("Location", body.StatusQueryGetURI)
	w.Header().Set("Retry-After", "10")
	writeJSON(w, http.StatusAccepted, body)
}

// CheckStatus is the check-status body that answers a start: the instance
// ID and the URIs that manage it. {eventName} and {text} are placeholders
// for the caller to fill in.
type CheckStatus struct {
	ID                    string `json:"id"`
	StatusQueryGetURI     string `json:"statusQueryGetUri"`
	SendEventPostURI      string `json:"sendEventPostUri"`
	TerminatePostURI      string `json:"terminatePostUri"`
	RewindPostURI         string `json:"rewindPostUri"`
	PurgeHistoryDeleteURI string `json:"purgeHistoryDeleteUri"`
	RestartPostURI        string `json:"restartPostUri"`
	SuspendPostURI        string `json:"suspendPostUri"`
	ResumePostURI         string `json:"resumePostUri"`
}

// checkStatus builds the check-status body for an instance.
func (s *Server) checkStatus(r *http.Request, id string) CheckStatus {
	base := baseURL(r) + WebhookPrefix + "/instances/" + url.PathEscape(id)
	q := "taskHub=" + url.QueryEscape(s.c.Hub().Name()) + "&connection=" + url.QueryEscape(s.cfg.Connection)
	return CheckStatus{
		ID:                    id,
		StatusQueryGetURI:     base + "?" + q,
		SendEventPostURI:      base + "/raiseEvent/{eventName}?" + q,
		TerminatePostURI:      base + "/terminate?reason={text}&" + q,
		RewindPostURI:         base + "/rewind?reason={text}&" + q,
		PurgeHistoryDeleteURI: base + "?" + q,
		RestartPostURI:        base + "/restart?" + q,
		SuspendPostURI:        base + "/suspend?reason={text}&" + q,
		ResumePostURI:         base + "/resume?reason={text}&" + q,
	}
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

// statusJSON is the status object of Durable Functions' API.
type statusJSON struct {
	Name            string          `json:"name"`
	InstanceID      string          `json:"instanceId"`
	RuntimeStatus   string          `json:"runtimeStatus"`
	Input           json.RawMessage `json:"input"`
	CustomStatus    json.RawMessage `json:"customStatus"`
	Output          json.RawMessage `json:"output"`
	CreatedTime     string          `json:"createdTime"`
	LastUpdatedTime string          `json:"lastUpdatedTime"`
}

// timeFormat is how Durable Functions writes times: UTC, whole seconds.
const timeFormat = "2006-01-02T15:04:05Z"

func renderStatus(st *client.Status, showInput bool) statusJSON {
	null := json.RawMessage("null")
	or := func(b json.RawMessage) json.RawMessage {
		if len(b) == 0 {
			return null
		}
		return b
	}
	out := statusJSON{
		Name: st.Name, InstanceID: st.InstanceID, RuntimeStatus: string(st.RuntimeStatus),
		Input: null, CustomStatus: or(st.CustomStatus), Output: or(st.Output),
		CreatedTime:     st.CreatedAt.UTC().Format(timeFormat),
		LastUpdatedTime: st.LastUpdatedAt.UTC().Format(timeFormat),
	}
	if showInput {
		out.Input = or(st.Input)
	}
	if st.Failure != nil {
		msg, _ := json.Marshal(fmt.Sprintf("Orchestrator function '%s' failed: %s", st.Name, st.Failure.Message))
		out.Output = msg
	}
	return out
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	showInput, err := boolParam(q, "showInput", true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	failOn500, err := boolParam(q, "returnInternalServerErrorOnFailure", false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	st, err := s.c.Status(r.Context(), r.PathValue("instanceId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	switch st.RuntimeStatus {
	case protocol.StatusPending, protocol.StatusRunning, protocol.StatusContinuedAsNew, protocol.StatusSuspended:
		code = http.StatusAccepted
		w.Header().Set("Location", baseURL(r)+r.URL.RequestURI())
		w.Header().Set("Retry-After", "5")
	case protocol.StatusFailed:
		if failOn500 {
			code = http.StatusInternalServerError
		}
	}
	writeJSON(w, code, renderStatus(st, showInput))
}

func boolParam(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("query parameter %s must be true or false, got %q", name, v)
}

func (s *Server) raiseEvent(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusBadRequest, "Content-Type must be application/json")
		return
	}
	data, ok := readJSON(w, r)
	if !ok {
		return
	}
	if err := s.c.RaiseEvent(r.Context(), r.PathValue("instanceId"), r.PathValue("eventName"), data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) terminate(w http.ResponseWriter, r *http.Request) {
	if err := s.c.Terminate(r.Context(), r.PathValue("instanceId"), r.URL.Query().Get("reason")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
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
	case errors.Is(err, client.ErrInstanceExists):
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
