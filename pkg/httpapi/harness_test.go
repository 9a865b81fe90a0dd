package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	njs "github.com/nats-io/nats.go/jetstream"
)

// testKey is the access key of every test server.
const testKey = "test-key_0123456789"

// The sample workflows' answers (two spaces after the dash, as in the
// Durable Functions original).
const (
	approvedText   = "Your project design proposal has been -  Approved!"
	rejectedText   = "Your project design proposal has been -  Rejected!"
	escalationText = "ESCALATION : You have not approved the project design proposal - reassigning to your Manager! Head of department!"
)

// api is the HTTP API of a task hub on a real embedded nats-server, with an
// orchestrator worker and an activity worker in this process hosting the
// sample workflows and the test orchestrators below.
type api struct {
	t      testing.TB
	hub    *jetstream.Hub
	client *client.Client
	srv    *httptest.Server
	http   *http.Client

	flakyCalls *atomic.Int32 // calls of the Flaky activity
	gate       chan struct{} // closed to let the Gate activity return
	gateOnce   *sync.Once
	gateCalls  *atomic.Int32
}

// with returns the api for a subtest: helpers fail t.
func (a *api) with(t testing.TB) *api {
	c := *a
	c.t = t
	return &c
}

func newAPI(t *testing.T) *api {
	t.Helper()
	hub := testnats.Hub(t, jetstream.Config{Name: "api", ActivityLease: 5 * time.Second, Logger: quietLogger()})
	a := &api{t: t, hub: hub, client: client.New(hub), http: &http.Client{Timeout: 30 * time.Second},
		flakyCalls: new(atomic.Int32), gate: make(chan struct{}), gateOnce: new(sync.Once), gateCalls: new(atomic.Int32)}
	orch := workflow.NewRegistry()
	acts := activity.NewRegistry()
	must(t, workflows.RegisterOrchestrators(orch))
	must(t, workflows.RegisterActivities(acts))
	a.registerTestWorkflows(orch, acts)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ow := worker.NewOrchestratorWorker(hub, orch, worker.OrchestratorConfig{Logger: quietLogger()})
	aw := worker.NewActivityWorker(hub, acts, worker.ActivityConfig{Logger: quietLogger()})
	for _, run := range []func(context.Context) error{ow.Run, aw.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, ready := range []<-chan struct{}{ow.Ready(), aw.Ready()} {
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatal("workers not ready")
		}
	}
	a.srv = httptest.NewServer(httpapi.New(a.client, httpapi.Config{Key: testKey, Logger: quietLogger()}))
	t.Cleanup(a.srv.Close)
	t.Cleanup(a.openGate)
	return a
}

// registerTestWorkflows adds the orchestrators and activities the tests
// need besides the samples.
func (a *api) registerTestWorkflows(orch *workflow.Registry, acts *activity.Registry) {
	t := a.t
	// WaitEvent returns the data of the event "go".
	must(t, workflow.Register(orch, "WaitEvent", func(ctx *workflow.Context, _ any) (json.RawMessage, error) {
		return workflow.WaitForExternalEvent[json.RawMessage](ctx, "go").Await()
	}))
	// Echo returns its input.
	must(t, workflow.Register(orch, "Echo", func(_ *workflow.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	}))
	// Parent runs Echo as a sub-orchestration.
	must(t, workflow.Register(orch, "Parent", func(ctx *workflow.Context, in json.RawMessage) (json.RawMessage, error) {
		return workflow.CallSubOrchestrator[json.RawMessage](ctx, "Echo", in, workflow.WithSubInstanceID(ctx.InstanceID()+"-child")).Await()
	}))
	// Fail fails at once.
	must(t, workflow.Register(orch, "Fail", func(_ *workflow.Context, _ any) (any, error) {
		return nil, errors.New("boom")
	}))
	// Flaky calls the Flaky activity, which fails the first time.
	must(t, workflow.Register(orch, "Flaky", func(ctx *workflow.Context, in int) (int, error) {
		return workflow.CallActivity[int](ctx, "Flaky", in).Await()
	}))
	must(t, activity.Register(acts, "Flaky", func(_ context.Context, in int) (int, error) {
		if a.flakyCalls.Add(1) == 1 {
			return 0, errors.New("database unavailable")
		}
		return in * 2, nil
	}))
	// Gated calls the Gate activity, which returns once the test opens
	// the gate.
	must(t, workflow.Register(orch, "Gated", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "Gate", nil).Await()
	}))
	must(t, activity.Register(acts, "Gate", func(ctx context.Context, _ any) (string, error) {
		a.gateCalls.Add(1)
		select {
		case <-a.gate:
			return "gate opened", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
}

func (a *api) openGate() { a.gateOnce.Do(func() { close(a.gate) }) }

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// url returns the server's URL for path with the access key added.
func (a *api) url(path string) string {
	return withKey(a.srv.URL + path)
}

// withKey adds code=<key> to a URL.
func withKey(u string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "code=" + url.QueryEscape(testKey)
}

// mgmt is the path of the management API.
func mgmt(path string) string { return httpapi.WebhookPrefix + path }

// response is an HTTP answer, body read.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body)) }

// do sends a request; contentType "" sends none, and extra headers are
// name/value pairs.
func (a *api) do(method, u, contentType, body string, headers ...string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	must(a.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.http.Do(req)
	must(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(a.t, err)
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// checkStatus is the check-status body.
type checkStatus struct {
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

var checkStatusFields = []string{"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri",
	"purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}

// fill replaces a URI template's placeholder.
func fill(uri, placeholder, value string) string {
	return strings.Replace(uri, placeholder, url.QueryEscape(value), 1)
}

// status is the status object.
type status struct {
	Name            string           `json:"name"`
	InstanceID      string           `json:"instanceId"`
	RuntimeStatus   string           `json:"runtimeStatus"`
	Input           json.RawMessage  `json:"input"`
	CustomStatus    json.RawMessage  `json:"customStatus"`
	Output          json.RawMessage  `json:"output"`
	CreatedTime     string           `json:"createdTime"`
	LastUpdatedTime string           `json:"lastUpdatedTime"`
	HistoryEvents   []map[string]any `json:"historyEvents"`
}

var statusFields = []string{"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime", "lastUpdatedTime"}

// keysOf returns the keys of a JSON object, failing the test if body is
// not one.
func keysOf(t testing.TB, body []byte) map[string]bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, body)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// requireKeys fails unless body is a JSON object with exactly these keys.
func requireKeys(t testing.TB, body []byte, want []string) {
	t.Helper()
	got := keysOf(t, body)
	for _, k := range want {
		if !got[k] {
			t.Errorf("body lacks %q: %s", k, body)
		}
		delete(got, k)
	}
	for k := range got {
		t.Errorf("body has unexpected key %q: %s", k, body)
	}
}

// start starts an orchestrator over HTTP and returns the check-status body.
func (a *api) start(name, input string) checkStatus {
	a.t.Helper()
	return a.startAt("/api/orchestrators/"+name, input)
}

func (a *api) startAt(path, input string) checkStatus {
	a.t.Helper()
	r := a.do("POST", a.url(path), "application/json", input)
	if r.code != http.StatusAccepted {
		a.t.Fatalf("start %s: %s", path, r)
	}
	var cs checkStatus
	must(a.t, json.Unmarshal(r.body, &cs))
	return cs
}

// get reads a status URI.
func (a *api) get(uri string) (response, status) {
	a.t.Helper()
	r := a.do("GET", uri, "", "")
	var st status
	if r.code == http.StatusOK || r.code == http.StatusAccepted || r.code == http.StatusInternalServerError {
		must(a.t, json.Unmarshal(r.body, &st))
	}
	return r, st
}

// waitStatus follows a status URI until the instance has the runtime
// status, and returns the last answer.
func (a *api) waitStatus(uri, want string) (response, status) {
	a.t.Helper()
	var r response
	var st status
	testnats.Eventually(a.t, 20*time.Second, func() error {
		r, st = a.get(uri)
		if st.RuntimeStatus != want {
			return fmt.Errorf("status %s, want %s (%s)", st.RuntimeStatus, want, r)
		}
		return nil
	})
	return r, st
}

// waitHistory follows a status URI with showHistory until cond holds for
// its history events.
func (a *api) waitHistory(uri string, cond func([]map[string]any) error) status {
	a.t.Helper()
	var st status
	testnats.Eventually(a.t, 20*time.Second, func() error {
		_, st = a.get(uri + "&showHistory=true&showHistoryOutput=true")
		return cond(st.HistoryEvents)
	})
	return st
}

// countEvents counts history entries of a type.
func countEvents(events []map[string]any, typ string) int {
	n := 0
	for _, e := range events {
		if e["EventType"] == typ {
			n++
		}
	}
	return n
}

// hasEvents returns a history condition: at least n entries of each type.
func hasEvents(want map[string]int) func([]map[string]any) error {
	return func(events []map[string]any) error {
		for typ, n := range want {
			if got := countEvents(events, typ); got < n {
				return fmt.Errorf("%d %s in history, want %d: %v", got, typ, n, events)
			}
		}
		return nil
	}
}

// pendingTimers polls until the instance has n pending timers.
func (a *api) waitPendingTimers(id string, n int) {
	a.t.Helper()
	testnats.Eventually(a.t, 20*time.Second, func() error {
		got, err := a.hub.PendingTimers(context.Background(), id)
		if err != nil || got != n {
			return fmt.Errorf("%d pending timers of %s (%v), want %d", got, id, err, n)
		}
		return nil
	})
}

// waitQuiet polls until no activity task waits and the instance's inbox
// is empty: everything sent to it has been processed.
func (a *api) waitQuiet(id string) {
	a.t.Helper()
	ctx := context.Background()
	js := a.hub.JetStream()
	testnats.Eventually(a.t, 20*time.Second, func() error {
		tasks, err := js.Stream(ctx, "ENDURE_"+a.hub.Name()+"_TASKS")
		if err != nil {
			return err
		}
		ti, err := tasks.Info(ctx)
		if err != nil {
			return err
		}
		if ti.State.Msgs != 0 {
			return fmt.Errorf("%d activity tasks waiting", ti.State.Msgs)
		}
		inbox, err := js.Stream(ctx, "ENDURE_"+a.hub.Name()+"_INBOX")
		if err != nil {
			return err
		}
		ii, err := inbox.Info(ctx, njs.WithSubjectFilter("endure."+a.hub.Name()+".inbox.*."+id))
		if err != nil {
			return err
		}
		n := uint64(0)
		for _, c := range ii.State.Subjects {
			n += c
		}
		if n != 0 {
			return fmt.Errorf("%d work items for %s waiting", n, id)
		}
		return nil
	})
}

// output decodes a status's output.
func output[T any](t testing.TB, st status) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(st.Output, &v); err != nil {
		t.Fatalf("output %s: %v", st.Output, err)
	}
	return v
}
