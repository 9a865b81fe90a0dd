package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/endurehq/endure/workflow"
)

// The async HTTP API pattern: a long-running operation is started with one
// request that answers at once, 202 Accepted with a Location header; the
// caller GETs that location, again and again, for as long as it answers 202,
// waiting as its Retry-After header says, until an answer that is not 202
// carries the result. Endure's HTTP API (pkg/httpapi) answers every start
// this way, so any orchestrator can be driven like this. StartAndPoll is
// such a caller, written against HTTP alone, and GenerateReport is a
// long-running orchestrator to drive with it.

// ReportInput is GenerateReport's input.
type ReportInput struct {
	// Sections are rendered one after the other.
	Sections []string `json:"sections"`
	// DelayMs is how long rendering each section takes.
	DelayMs int `json:"delayMs"`
}

// Report is GenerateReport's output.
type Report struct {
	// Sections are the rendered sections, in order.
	Sections []string `json:"sections"`
}

// GenerateReport renders each section with the RenderSection activity, in
// order, showing its progress as custom status, and returns the rendered
// report. It stands for any operation too long for one HTTP request.
func GenerateReport(ctx *workflow.Context, in ReportInput) (Report, error) {
	out := Report{Sections: make([]string, 0, len(in.Sections))}
	for i, name := range in.Sections {
		if err := ctx.SetCustomStatus(map[string]int{"rendered": i, "of": len(in.Sections)}); err != nil {
			return Report{}, err
		}
		s, err := workflow.CallActivity[string](ctx, "RenderSection", SectionInput{Name: name, DelayMs: in.DelayMs}).Await()
		if err != nil {
			return Report{}, err
		}
		out.Sections = append(out.Sections, s)
	}
	return out, nil
}

// SectionInput is the RenderSection activity's input.
type SectionInput struct {
	// Name is the section's title.
	Name string `json:"name"`
	// DelayMs is how long rendering takes.
	DelayMs int `json:"delayMs"`
}

// RenderSection works for DelayMs milliseconds, then returns the rendered
// section.
func RenderSection(ctx context.Context, in SectionInput) (string, error) {
	if in.DelayMs > 0 {
		select {
		case <-time.After(time.Duration(in.DelayMs) * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return "## " + in.Name, nil
}

// PollOptions configures StartAndPoll.
type PollOptions struct {
	// Key is the API's access key, sent with the start request as the
	// x-functions-key header. The polls do not send it: the Location the API
	// answers with carries it.
	Key string
	// MaxRetryAfter caps the wait between polls that the server asks for
	// with Retry-After (0: no cap).
	MaxRetryAfter time.Duration
}

// defaultRetryAfter is the wait between polls when a 202 has no usable
// Retry-After.
const defaultRetryAfter = time.Second

// maxResponse bounds the answers StartAndPoll reads: a status object with
// the largest output Endure carries fits comfortably.
const maxResponse = 4 << 20

// HTTPError is an answer that is neither 202 nor the final status.
type HTTPError struct {
	// StatusCode is the answer's HTTP status code.
	StatusCode int
	// Message is the answer's message, or its body.
	Message string
}

// Error implements error.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("http %d: %s", e.StatusCode, e.Message)
}

// NotCompletedError is returned by StartAndPoll for an instance that
// finished without completing: Failed, Terminated or Canceled.
type NotCompletedError struct {
	// InstanceID is the instance's ID.
	InstanceID string
	// RuntimeStatus is how it finished.
	RuntimeStatus string
	// Output is its output: for a failed instance, the failure message.
	Output json.RawMessage
}

// Error implements error.
func (e *NotCompletedError) Error() string {
	return fmt.Sprintf("instance %s is %s: %s", e.InstanceID, e.RuntimeStatus, e.Output)
}

// StartAndPoll starts the named orchestrator with input through the HTTP API
// at baseURL (POST /api/orchestrators/{name}) and then follows only the
// Location of each 202 answer, waiting as Retry-After says (capped by
// opts.MaxRetryAfter), until the status answer is final. It returns the
// output of a Completed instance as compact JSON, a *NotCompletedError for
// one that finished otherwise, and a *HTTPError for an answer it did not
// expect.
func StartAndPoll(ctx context.Context, hc *http.Client, baseURL, orchestrator string, input any, opts PollOptions) (json.RawMessage, error) {
	body, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("start %s: input: %w", orchestrator, err)
	}
	start := strings.TrimSuffix(baseURL, "/") + "/api/orchestrators/" + url.PathEscape(orchestrator)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, start, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", orchestrator, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if opts.Key != "" {
		req.Header.Set("x-functions-key", opts.Key)
	}
	for {
		code, header, data, err := do(hc, req)
		if err != nil {
			return nil, err
		}
		switch {
		case code == http.StatusAccepted:
			next, err := req.URL.Parse(header.Get("Location"))
			if err != nil || header.Get("Location") == "" {
				return nil, fmt.Errorf("%s %s: 202 without a usable Location header", req.Method, req.URL.Path)
			}
			if err := sleep(ctx, retryAfter(header.Get("Retry-After"), opts.MaxRetryAfter)); err != nil {
				return nil, err
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return nil, err
			}
		case code == http.StatusOK && req.Method == http.MethodGet:
			var st struct {
				InstanceID    string          `json:"instanceId"`
				RuntimeStatus string          `json:"runtimeStatus"`
				Output        json.RawMessage `json:"output"`
			}
			if err := json.Unmarshal(data, &st); err != nil {
				return nil, fmt.Errorf("GET %s: status object: %w", req.URL.Path, err)
			}
			var out bytes.Buffer // the API indents its answers
			if err := json.Compact(&out, st.Output); err != nil {
				return nil, fmt.Errorf("GET %s: output: %w", req.URL.Path, err)
			}
			if st.RuntimeStatus != "Completed" {
				return nil, &NotCompletedError{InstanceID: st.InstanceID, RuntimeStatus: st.RuntimeStatus, Output: out.Bytes()}
			}
			return out.Bytes(), nil
		default:
			var e struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(data, &e) != nil || e.Message == "" {
				e.Message = string(data)
			}
			return nil, &HTTPError{StatusCode: code, Message: e.Message}
		}
	}
}

// do sends req and reads the whole answer.
func do(hc *http.Client, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped.
func retryAfter(v string, limit time.Duration) time.Duration {
	d := defaultRetryAfter
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(time.Until(t), 0)
	}
	if limit > 0 {
		d = min(d, limit)
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
