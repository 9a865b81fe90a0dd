package workflowtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	"github.com/endurehq/endure/workflowtest"
)

// historyForm is one of the forms a recorded history reaches the replayer
// in, with the replay function for it.
type historyForm struct {
	name string
	// noInputs says the form does not show activity inputs (the HTTP API
	// leaves them out of answered calls), so diffs show calls without them.
	noInputs bool
	replay   func(t *testing.T, reg *workflow.Registry, records []protocol.HistoryRecord) error
}

// flatten turns records into the flat events client.History returns.
func flatten(records []protocol.HistoryRecord) []protocol.Event {
	var out []protocol.Event
	for _, rec := range records {
		out = append(out, rec.Events...)
	}
	return out
}

// historyForms are the forms users have: the hub's records, the Go
// client's events, ExportHistory's JSON, and the HTTP status API's
// historyEvents, rendered by the API's own renderer.
var historyForms = []historyForm{
	{"records", false, func(_ *testing.T, reg *workflow.Registry, records []protocol.HistoryRecord) error {
		return workflowtest.Replay(reg, records)
	}},
	{"client events", false, func(_ *testing.T, reg *workflow.Registry, records []protocol.HistoryRecord) error {
		return workflowtest.ReplayEvents(reg, flatten(records))
	}},
	{"exported JSON", false, func(t *testing.T, reg *workflow.Registry, records []protocol.HistoryRecord) error {
		data, err := workflowtest.ExportHistory(workflowtest.DefaultInstanceID, records)
		if err != nil {
			t.Fatal(err)
		}
		return workflowtest.ReplayJSON(reg, data)
	}},
	{"HTTP status", true, func(t *testing.T, reg *workflow.Registry, records []protocol.HistoryRecord) error {
		status := map[string]any{
			"name": "x", "instanceId": workflowtest.DefaultInstanceID, "runtimeStatus": "Completed",
			"historyEvents": httpapi.RenderHistory(flatten(records), true, true),
		}
		data, err := json.Marshal(status)
		if err != nil {
			t.Fatal(err)
		}
		return workflowtest.ReplayJSON(reg, data)
	}},
}

// httpStart starts runs off a whole second, so that the HTTP form, which
// rounds times to the second, is really rounded.
var httpStart = workflowtest.DefaultStartTime.Add(400 * time.Millisecond)

// recorded runs an orchestrator with the sample activities and returns its
// history.
type recorded struct {
	name string
	// notHTTP leaves out the HTTP form: the API does not render
	// sub-orchestration events yet.
	notHTTP bool
	reg     *workflow.Registry
	orch    string
	input   any
	events  map[time.Duration]any // "Approval" events by virtual time
	mocks   map[string]any
}

func (r recorded) history(t *testing.T) []protocol.HistoryRecord {
	t.Helper()
	_, acts := samples(t)
	env := workflowtest.New(workflowtest.WithRegistry(r.reg), workflowtest.WithActivities(acts), workflowtest.WithStartTime(httpStart))
	for after, data := range r.events {
		env.RaiseEventAfter("Approval", after, data)
	}
	for name, mock := range r.mocks {
		env.OnActivity(name, mock)
	}
	if _, err := env.Run(r.orch, r.input); err != nil {
		t.Fatal(err)
	}
	return env.History()
}

func TestReplayOfUnchangedCodeFindsNoMismatch(t *testing.T) {
	reg, _ := samples(t)
	tests := []recorded{
		{name: "approved", reg: reg, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true}},
		{name: "escalated", reg: reg, orch: "ApprovalWorkflow"},
		{name: "chained", reg: reg, orch: "Chaining", input: workflows.ChainingInput{Steps: 20}},
		{name: "activity failure handled", reg: register(t, "Tolerant", func(ctx *workflow.Context, _ any) (string, error) {
			if _, err := workflow.CallActivity[string](ctx, "Flaky", nil).Await(); err != nil {
				return workflow.CallActivity[string](ctx, "Approval", "fallback").Await()
			}
			return "", nil
		}), orch: "Tolerant", mocks: map[string]any{"Flaky": errors.New("down")}},
		{name: "failed orchestration", reg: register(t, "Fragile", func(ctx *workflow.Context, _ any) (string, error) {
			return workflow.CallActivity[string](ctx, "Flaky", nil).Await()
		}), orch: "Fragile", mocks: map[string]any{"Flaky": errors.New("down")}},
		{name: "fan-out with a timer", reg: register(t, "FanOut", func(ctx *workflow.Context, _ any) (int, error) {
			timer := workflow.CreateTimer(ctx, 72*time.Hour)
			var tasks []workflow.Awaitable
			for i := range 3 {
				tasks = append(tasks, workflow.CallActivity[string](ctx, "Approval", fmt.Sprint(i)))
			}
			if err := workflow.All(ctx, tasks...); err != nil {
				return 0, err
			}
			return 3, timer.Await()
		}), orch: "FanOut"},
		{name: "sub-orchestration", notHTTP: true, reg: parentAndChild(t), orch: "Parent", input: 20,
			mocks: map[string]any{"Double": 40}},
		{name: "continued as new (last execution)", reg: register(t, "Counter", func(ctx *workflow.Context, n int) (int, error) {
			if err := workflow.CreateTimer(ctx, time.Hour).Await(); err != nil || n == 2 {
				return n, err
			}
			return 0, workflow.ContinueAsNew(ctx, n+1)
		}), orch: "Counter", input: 0},
	}
	for _, tt := range tests {
		history := tt.history(t)
		for _, form := range historyForms {
			if tt.notHTTP && form.noInputs {
				continue
			}
			t.Run(tt.name+"/"+form.name, func(t *testing.T) {
				if err := form.replay(t, tt.reg, history); err != nil {
					t.Errorf("replay of unchanged code: %v", err)
				}
			})
		}
	}
}

// changedApproval is ApprovalWorkflow after a change: what it does once the
// manager answered is up to then.
func changedApproval(t testing.TB, then func(ctx *workflow.Context, decision string) ([]string, error)) *workflow.Registry {
	return register(t, "ApprovalWorkflow", func(ctx *workflow.Context, _ any) ([]string, error) {
		timer := workflow.CreateTimer(ctx, workflows.DefaultApprovalTimeout)
		approval := workflow.WaitForExternalEvent[json.RawMessage](ctx, "Approval")
		if workflow.Any(ctx, approval, timer) != 0 {
			out, err := workflow.CallActivity[string](ctx, "Escalation", "Head of department").Await()
			return []string{out}, err
		}
		timer.Cancel()
		return then(ctx, "Approved")
	})
}

func TestReplayReportsAChangedOrchestrator(t *testing.T) {
	reg, _ := samples(t)
	approved := recorded{reg: reg, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true}}
	call := func(name string) func(*workflow.Context, string) ([]string, error) {
		return func(ctx *workflow.Context, decision string) ([]string, error) {
			out, err := workflow.CallActivity[string](ctx, name, decision).Await()
			return []string{out}, err
		}
	}
	tests := []struct {
		name       string
		changed    *workflow.Registry
		divergence int
		want       []string // lines the diff must have
	}{
		{
			name:       "calls a different activity",
			changed:    changedApproval(t, call("RecordDecision")),
			divergence: 1,
			want: []string{
				`- #1 CallActivity("Approval", "Approved")   <== first divergence`,
				`+ #1 CallActivity("RecordDecision", "Approved")`,
			},
		},
		{
			name: "adds a timer",
			changed: changedApproval(t, func(ctx *workflow.Context, decision string) ([]string, error) {
				if err := workflow.CreateTimer(ctx, time.Minute).Await(); err != nil {
					return nil, err
				}
				return call("Approval")(ctx, decision)
			}),
			divergence: 1,
			want: []string{
				`- #1 CallActivity("Approval", "Approved")   <== first divergence`,
				`+ #1 CreateTimer(1m0s)`,
			},
		},
		{
			name: "drops the deadline timer",
			changed: register(t, "ApprovalWorkflow", func(ctx *workflow.Context, _ any) ([]string, error) {
				if _, err := workflow.WaitForExternalEvent[json.RawMessage](ctx, "Approval").Await(); err != nil {
					return nil, err
				}
				return call("Approval")(ctx, "Approved")
			}),
			divergence: 0,
			want: []string{
				`- #0 CreateTimer(20s), cancelled   <== first divergence`,
				`+ #0 CallActivity("Approval", "Approved")`,
				`- #1 CallActivity("Approval", "Approved")`,
			},
		},
		{
			name: "returns without the activity",
			changed: changedApproval(t, func(*workflow.Context, string) ([]string, error) {
				return []string{"approved"}, nil
			}),
			divergence: 1,
			want: []string{
				`  #0 CreateTimer(20s), cancelled`,
				`- #1 CallActivity("Approval", "Approved")   <== first divergence`,
				`- end: completed at step 2 with ["Your project design proposal has been -  Approved!"]`,
				`+ end: completed at step 1 with ["approved"]`,
			},
		},
		{
			name: "waits where it used to complete",
			changed: changedApproval(t, func(ctx *workflow.Context, decision string) ([]string, error) {
				out, err := call("Approval")(ctx, decision)
				if err != nil {
					return nil, err
				}
				_, err = workflow.WaitForExternalEvent[string](ctx, "Confirm").Await()
				return out, err
			}),
			divergence: -1,
			want: []string{
				`  #1 CallActivity("Approval", "Approved")`,
				`- end: completed at step 2 with ["Your project design proposal has been -  Approved!"]   <== first divergence`,
				`+ end: still running`,
			},
		},
	}
	history := approved.history(t)
	for _, tt := range tests {
		for _, form := range historyForms {
			t.Run(tt.name+"/"+form.name, func(t *testing.T) {
				err := form.replay(t, tt.changed, history)
				var nd *workflowtest.NonDeterminismError
				if !errors.As(err, &nd) || !errors.Is(err, workflowtest.ErrNonDeterminism) {
					t.Fatalf("replay error = %v, want a *NonDeterminismError", err)
				}
				if nd.Divergence != tt.divergence {
					t.Errorf("divergence at %d, want %d", nd.Divergence, tt.divergence)
				}
				lines := strings.Split(err.Error(), "\n")
				for _, want := range tt.want {
					if !contains(lines, want) && !(form.noInputs && contains(lines, withoutInputs(want))) {
						t.Errorf("diff has no line %q:\n%v", want, err)
					}
				}
			})
		}
	}
}

// withoutInputs drops the inputs from the calls in a diff line, as they
// read when a history does not show them.
func withoutInputs(line string) string {
	return callInput.ReplaceAllString(line, `$1)`)
}

var callInput = regexp.MustCompile(`(Call(?:Activity|SubOrchestrator)\("[^"]*"), [^)]*\)`)

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestEngineAgreesOnAnInFlightHistory(t *testing.T) {
	reg, _ := samples(t)
	full := recorded{reg: reg, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true}}.history(t)
	inFlight := full[:2] // the approval arrived and the activity is scheduled
	if err := workflowtest.Replay(reg, inFlight); err != nil {
		t.Fatalf("replay of unchanged code: %v", err)
	}
	changed := changedApproval(t, func(ctx *workflow.Context, decision string) ([]string, error) {
		out, err := workflow.CallActivity[string](ctx, "RecordDecision", decision).Await()
		return []string{out}, err
	})
	err := workflowtest.Replay(changed, inFlight)
	var nd *workflowtest.NonDeterminismError
	if !errors.As(err, &nd) {
		t.Fatalf("replay error = %v, want a *NonDeterminismError", err)
	}
	want := `history has CallActivity("Approval") as action #1, but the code took CallActivity("RecordDecision") as action #1`
	if !strings.Contains(nd.EngineMessage, want) || nd.ExpectedEnd.Status != protocol.StatusRunning {
		t.Errorf("engine message = %q (history ends %s), want it to say %q", nd.EngineMessage, nd.ExpectedEnd.Status, want)
	}
}

func TestReplayOfARewoundHistory(t *testing.T) {
	charge := func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "Charge", 42).Await()
	}
	reg := register(t, "Checkout", charge)
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	env.OnActivity("Charge", errors.New("card declined"))
	if res, err := env.Run("Checkout", nil); err != nil || res.Status != protocol.StatusFailed {
		t.Fatalf("Run = %+v, %v; want Failed", res, err)
	}
	// What an orchestrator worker commits next: the rewind, then (after
	// rebuilding from history) the retried charge's result.
	history := env.History()
	at := workflowtest.DefaultStartTime.Add(time.Hour)
	history = append(history, protocol.HistoryRecord{Time: at, Events: []protocol.Event{{Type: protocol.EventExecutionRewound, Time: at}}})
	rt := engine.New(workflowtest.DefaultInstanceID, reg.Lookup)
	defer rt.Close()
	if err := rt.Replay(history); err != nil {
		t.Fatal(err)
	}
	rec, err := rt.Step(at.Add(time.Minute), []protocol.Event{{Type: protocol.EventTaskCompleted, TaskID: 0, Result: []byte(`"charged"`)}})
	if err != nil || rec == nil || rt.Status() != protocol.StatusCompleted {
		t.Fatalf("retry step = %+v, %v (status %s); want it to complete", rec, err, rt.Status())
	}
	history = append(history, *rec)

	for _, form := range historyForms {
		t.Run(form.name, func(t *testing.T) {
			if err := form.replay(t, reg, history); err != nil {
				t.Errorf("replay of unchanged code: %v", err)
			}
			changed := register(t, "Checkout", func(ctx *workflow.Context, _ any) (string, error) {
				return workflow.CallActivity[string](ctx, "Refund", 42).Await()
			})
			want := `+ #0 CallActivity("Refund", 42)`
			if form.noInputs {
				want = withoutInputs(want)
			}
			if err := form.replay(t, changed, history); !errors.Is(err, workflowtest.ErrNonDeterminism) ||
				!strings.Contains(err.Error(), want) {
				t.Errorf("replay of changed code: %v, want a mismatch naming Refund", err)
			}
		})
	}
}

func TestReplayRejectsWhatItCannotReplay(t *testing.T) {
	reg, _ := samples(t)
	history := recorded{reg: reg, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true}}.history(t)
	rendered := func(showInput, showOutput bool) []byte {
		b, err := json.Marshal(httpapi.RenderHistory(flatten(history), showInput, showOutput))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want []error
		text string
	}{
		{"status without history", []byte(`{"name":"ApprovalWorkflow","runtimeStatus":"Completed"}`), []error{workflowtest.ErrBadHistory}, "showHistory=true"},
		{"history without results", rendered(true, false), []error{workflowtest.ErrBadHistory}, "showHistoryOutput=true"},
		{"history without inputs", rendered(false, true), []error{workflowtest.ErrBadHistory}, "showInput=true"},
		{"not JSON", []byte(`history`), []error{workflowtest.ErrBadHistory}, ""},
		{"unknown event", []byte(`[{"EventType":"Teleported","Timestamp":"2025-01-01T00:00:00Z"}]`), []error{workflowtest.ErrBadHistory}, "Teleported"},
		{"wrong export format", []byte(`{"format":"endure-history/v0","records":[]}`), []error{workflowtest.ErrBadHistory}, "endure-history/v0"},
		{"unknown orchestrator", rendered(true, true), []error{workflowtest.ErrUnknownOrchestrator}, "ApprovalWorkflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reg
			if tt.name == "unknown orchestrator" {
				r = workflow.NewRegistry()
			}
			err := workflowtest.ReplayJSON(r, tt.data)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error = %v, want %v", err, want)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error = %v, want it to mention %q", err, tt.text)
			}
		})
	}
	if err := workflowtest.Replay(reg, nil); !errors.Is(err, workflowtest.ErrBadHistory) {
		t.Errorf("Replay of no records = %v, want ErrBadHistory", err)
	}
}

func TestReplayOfAnUnsupportedVersion(t *testing.T) {
	fn := func(ctx *workflow.Context, _ any) (string, error) { return "v", nil }
	v1 := workflow.NewRegistry()
	if err := workflow.Register(v1, "Versioned", fn, workflow.WithVersion("v1")); err != nil {
		t.Fatal(err)
	}
	v2 := workflow.NewRegistry()
	if err := workflow.Register(v2, "Versioned", fn, workflow.WithVersion("v2"), workflow.WithSupportedVersions("v2")); err != nil {
		t.Fatal(err)
	}
	env := workflowtest.New(workflowtest.WithRegistry(v1))
	if _, err := env.Run("Versioned", nil); err != nil {
		t.Fatal(err)
	}
	if err := workflowtest.Replay(v1, env.History()); err != nil {
		t.Errorf("replay on the version it started on: %v", err)
	}
	if err := workflowtest.Replay(v2, env.History()); !errors.Is(err, workflowtest.ErrUnsupportedVersion) {
		t.Errorf("replay on a registry without v1 = %v, want ErrUnsupportedVersion", err)
	}
}

func TestDiffOfALongHistoryElidesTheSharedPart(t *testing.T) {
	reg, _ := samples(t)
	history := recorded{reg: reg, orch: "Chaining", input: workflows.ChainingInput{Steps: 50}}.history(t)
	changed := register(t, "Chaining", func(ctx *workflow.Context, in workflows.ChainingInput) (int, error) {
		n := 0
		for i := range in.Steps {
			name := "Step"
			if i == 40 {
				name = "StepV2"
			}
			var err error
			if n, err = workflow.CallActivity[int](ctx, name, workflows.StepInput{Value: n}).Await(); err != nil {
				return 0, err
			}
		}
		return n, nil
	})
	err := workflowtest.Replay(changed, history)
	if err == nil {
		t.Fatal("replay of changed code found no mismatch")
	}
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	for _, want := range []string{
		`  ... 37 identical actions ...`,
		`  #39 CallActivity("Step", {"value":39,"delayMs":0})`,
		`- #40 CallActivity("Step", {"value":40,"delayMs":0})   <== first divergence`,
		`+ #40 CallActivity("StepV2", {"value":40,"delayMs":0})`,
		`  ... 6 identical actions ...`,
	} {
		if !contains(lines, want) {
			t.Errorf("diff has no line %q:\n%v", want, err)
		}
	}
	if len(lines) > 25 {
		t.Errorf("diff has %d lines, want the shared part elided:\n%v", len(lines), err)
	}
}

func TestReplayedActivitiesAreNeverRun(t *testing.T) {
	reg := register(t, "Once", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "SideEffect", nil).Await()
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	runs := 0
	env.OnActivity("SideEffect", func(context.Context, any) (string, error) { runs++; return "done", nil })
	if _, err := env.Run("Once", nil); err != nil {
		t.Fatal(err)
	}
	if err := workflowtest.Replay(reg, env.History()); err != nil || runs != 1 {
		t.Errorf("replay = %v after %d activity runs, want nil after 1", err, runs)
	}
}

func TestReplayHonoursPatches(t *testing.T) {
	reg, _ := samples(t)
	v1History := recorded{reg: reg, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true}}.history(t)
	// v2 notifies the manager first, behind a patch, so that instances
	// started on v1 keep the old path.
	patched := func(old string) *workflow.Registry {
		return changedApproval(t, func(ctx *workflow.Context, decision string) ([]string, error) {
			if ctx.IsPatched("notify") {
				if _, err := workflow.CallActivity[string](ctx, "Notify", decision).Await(); err != nil {
					return nil, err
				}
			} else if old != "Approval" {
				if _, err := workflow.CallActivity[string](ctx, old, decision).Await(); err != nil {
					return nil, err
				}
			}
			out, err := workflow.CallActivity[string](ctx, "Approval", decision).Await()
			return []string{out}, err
		})
	}
	v2 := patched("Approval")
	v2History := recorded{reg: v2, orch: "ApprovalWorkflow", events: map[time.Duration]any{5 * time.Second: true},
		mocks: map[string]any{"Notify": "notified"}}.history(t)

	for _, form := range historyForms {
		t.Run(form.name, func(t *testing.T) {
			err := form.replay(t, v2, v1History)
			if form.noInputs {
				// The HTTP API does not render PatchApplied events, so it
				// cannot tell an old history from a patched one.
				if !errors.Is(err, workflowtest.ErrBadHistory) || !strings.Contains(err.Error(), `IsPatched("notify")`) {
					t.Errorf("replay of v1 history on v2 = %v, want ErrBadHistory naming the patch", err)
				}
				return
			}
			if err != nil {
				t.Errorf("replay of the v1 history on v2, which keeps the old path: %v", err)
			}
			if err := form.replay(t, v2, v2History); err != nil {
				t.Errorf("replay of the v2 history on v2: %v", err)
			}
			wrong := patched("Audit") // the old path changed too
			err = form.replay(t, wrong, v1History)
			var nd *workflowtest.NonDeterminismError
			if !errors.As(err, &nd) || !strings.Contains(nd.EngineMessage, `CallActivity("Audit")`) || !strings.Contains(nd.Note, `patch "notify"`) {
				t.Errorf("replay of the v1 history on a v2 whose old path changed = %v, want a mismatch naming Audit and the patch", err)
			}
		})
	}

	t.Run("HTTP history with PatchApplied entries", func(t *testing.T) {
		events := httpapi.RenderHistory(flatten(v2History), true, true)
		var withPatch []httpapi.HistoryEvent
		for _, ev := range events {
			withPatch = append(withPatch, ev)
			if ev["EventType"] == "EventRaised" {
				withPatch = append(withPatch, httpapi.HistoryEvent{"EventType": "PatchApplied", "Name": "notify", "Timestamp": ev["Timestamp"]})
			}
		}
		data, err := json.Marshal(withPatch)
		if err != nil {
			t.Fatal(err)
		}
		if err := workflowtest.ReplayJSON(v2, data); err != nil {
			t.Errorf("replay of the v2 history on v2: %v", err)
		}
	})
}
