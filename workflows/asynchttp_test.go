package workflows_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/workflows"
)

// exchange is one request StartAndPoll made and what it got back.
type exchange struct {
	method, url string
	withKey     bool // sent the x-functions-key header
	status      int
	location    string
	sent, got   time.Time
}

// recorder is a transport that records every exchange.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchange{method: req.Method, url: req.URL.String(), withKey: req.Header.Get(httpapi.KeyHeader) != "", sent: time.Now()}
	resp, err := http.DefaultTransport.RoundTrip(req)
	x.got = time.Now()
	if resp != nil {
		x.status, x.location = resp.StatusCode, resp.Header.Get("Location")
	}
	r.mu.Lock()
	r.log = append(r.log, x)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

func TestStartAndPollFollowsLocationUntilDone(t *testing.T) {
	t.Parallel()
	const maxWait = 20 * time.Millisecond
	e := newEnv(t, nil)
	key := httpapi.NewKey()
	base := e.httpAPI(key)
	rec := &recorder{}
	hc := &http.Client{Transport: rec}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Three sections of 100 ms each: the report takes at least 300 ms, a
	// dozen polls at the capped Retry-After.
	out, err := workflows.StartAndPoll(ctx, hc, base, "GenerateReport",
		workflows.ReportInput{Sections: []string{"Summary", "Details", "Appendix"}, DelayMs: 100},
		workflows.PollOptions{Key: key, MaxRetryAfter: maxWait})
	must(t, err)
	if want := `{"sections":["## Summary","## Details","## Appendix"]}`; string(out) != want {
		t.Fatalf("output %s, want %s", out, want)
	}

	log := rec.exchanges()
	if len(log) < 3 {
		t.Fatalf("%d requests; want a start, polls answered 202 and a final 200: %+v", len(log), log)
	}
	first := log[0]
	if first.method != http.MethodPost || first.url != base+"/api/orchestrators/GenerateReport" || !first.withKey || first.status != http.StatusAccepted {
		t.Fatalf("first request %+v, want POST /api/orchestrators/GenerateReport with the key, answered 202", first)
	}
	statusURL := first.location
	if !strings.Contains(statusURL, "code=") {
		t.Fatalf("Location %q does not carry the access key", statusURL)
	}
	polls202 := 0
	for i, x := range log[1:] {
		prev := log[i]
		if x.method != http.MethodGet || x.url != prev.location || x.withKey {
			t.Fatalf("request %d is %s %s (key header %v); want a GET of the previous Location %s, without the key header",
				i+2, x.method, x.url, x.withKey, prev.location)
		}
		if x.url != statusURL {
			t.Fatalf("poll %d went to %s, want the status URL %s", i+1, x.url, statusURL)
		}
		if gap := x.sent.Sub(prev.got); gap < maxWait {
			t.Fatalf("poll %d came %v after the previous answer; Retry-After capped at %v was not honoured", i+1, gap, maxWait)
		}
		last := i == len(log)-2
		switch {
		case !last && x.status == http.StatusAccepted:
			polls202++
		case last && x.status == http.StatusOK:
		default:
			t.Fatalf("poll %d answered %d (last: %v); want 202 until a final 200", i+1, x.status, last)
		}
	}
	if polls202 < 2 {
		t.Fatalf("only %d polls answered 202; the report should take several polls", polls202)
	}
}

func TestStartAndPollReportsFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	key := httpapi.NewKey()
	base := e.httpAPI(key)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := workflows.PollOptions{Key: key, MaxRetryAfter: 20 * time.Millisecond}

	t.Run("failed instance", func(t *testing.T) {
		_, err := workflows.StartAndPoll(ctx, http.DefaultClient, base, "Chaining", workflows.ChainingInput{Steps: -1}, opts)
		var nc *workflows.NotCompletedError
		if !errors.As(err, &nc) || nc.RuntimeStatus != "Failed" || nc.InstanceID == "" ||
			string(nc.Output) != `"Orchestrator function 'Chaining' failed: steps must be between 0 and 10000, got -1"` {
			t.Fatalf("got %v, want a NotCompletedError for the Failed instance", err)
		}
	})
	for _, tc := range []struct {
		name         string
		orchestrator string
		key          string
		wantCode     int
	}{
		{name: "no access key", orchestrator: "GenerateReport", wantCode: http.StatusUnauthorized},
		{name: "wrong access key", orchestrator: "GenerateReport", key: "not-the-key", wantCode: http.StatusUnauthorized},
		{name: "unknown orchestrator", orchestrator: "NoSuchOrchestrator", key: key, wantCode: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workflows.StartAndPoll(ctx, http.DefaultClient, base, tc.orchestrator, nil,
				workflows.PollOptions{Key: tc.key, MaxRetryAfter: opts.MaxRetryAfter})
			var he *workflows.HTTPError
			if !errors.As(err, &he) || he.StatusCode != tc.wantCode || he.Message == "" {
				t.Fatalf("got %v, want an HTTPError %d with the API's message", err, tc.wantCode)
			}
		})
	}
}
