package engine_test

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func TestTerminateStopsTheCodeAndCancelsPendingTimers(t *testing.T) {
	unwound := make(chan struct{})
	longRunning := func(ctx *workflow.Context, _ any) (string, error) {
		defer close(unwound)
		timer := workflow.CreateTimer(ctx, time.Hour)           // #0
		work := workflow.CallActivity[string](ctx, "Work", nil) // #1
		workflow.All(ctx, timer, work)
		return workflow.CallActivity[string](ctx, "AfterTerminate", nil).Await()
	}
	lookup := lookupOf(t, "Long", longRunning)
	in := newInstance(t, lookup)
	in.step(started("Long", nil))

	rec := in.step(terminated("operator request"))
	wantEvents(t, rec, protocol.EventExecutionTerminated, protocol.EventTimerCanceled)
	if id := rec.Events[1].TaskID; id != 0 {
		t.Errorf("TimerCanceled names #%d, want the timer #0", id)
	}
	if got := in.rt.Status(); got != protocol.StatusTerminated {
		t.Fatalf("status = %s, want Terminated", got)
	}
	if got := string(in.rt.Output()); got != `"operator request"` {
		t.Errorf("output = %s, want the terminate result", got)
	}
	select {
	case <-unwound:
	case <-time.After(5 * time.Second):
		t.Fatal("orchestrator code was not unwound by terminate")
	}

	// Nothing reaches a terminated instance.
	wantEvents(t, in.step(completed(1, "late"), fired(0), raised("E", 1), terminated("again")))
	if got := in.rt.Status(); got != protocol.StatusTerminated {
		t.Fatalf("status after late results = %s, want Terminated", got)
	}

	restored := replayInto(t, lookup, in.records)
	if restored.Status() != protocol.StatusTerminated || string(restored.Output()) != `"operator request"` {
		t.Fatalf("restored status %s output %s, want Terminated with the terminate result", restored.Status(), restored.Output())
	}
}

func explodeAfterActivity(ctx *workflow.Context, how string) (string, error) {
	workflow.CreateTimer(ctx, time.Hour) // left pending
	if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
		return "", err
	}
	switch how {
	case "string":
		panic("boom")
	case "error":
		panic(errors.New("boom as error"))
	case "runtime error":
		var m map[string]int
		m["x"]++ // nil map write
	case "nil":
		panic(nil)
	case "goexit":
		runtime.Goexit()
	}
	return "survived", nil
}

func TestPanicInOrchestratorFailsTheInstance(t *testing.T) {
	tests := []struct {
		how         string
		wantMessage string
	}{
		{"string", "boom"},
		{"error", "boom as error"},
		{"runtime error", "assignment to entry in nil map"},
		{"nil", "panic called with nil argument"},
		{"goexit", "Goexit"},
	}
	for _, tt := range tests {
		t.Run(tt.how, func(t *testing.T) {
			lookup := lookupOf(t, "Explode", explodeAfterActivity)
			in := newInstance(t, lookup)
			in.step(started("Explode", tt.how))
			rec := in.step(completed(1, "a"))
			wantEvents(t, rec, protocol.EventTaskCompleted, protocol.EventExecutionFailed, protocol.EventTimerCanceled)

			if got := in.rt.Status(); got != protocol.StatusFailed {
				t.Fatalf("status = %s, want Failed", got)
			}
			f := in.rt.Failure()
			if f == nil || f.Type != engine.FailureTypePanic {
				t.Fatalf("failure = %+v, want Type %q", f, engine.FailureTypePanic)
			}
			if !strings.Contains(f.Message, tt.wantMessage) {
				t.Errorf("failure message = %q, want it to mention %q", f.Message, tt.wantMessage)
			}
			if !strings.Contains(f.Stack, "explodeAfterActivity") {
				t.Errorf("failure stack does not show the orchestrator frame:\n%s", f.Stack)
			}
			if got := find(t, rec, protocol.EventExecutionFailed).Failure; got == nil || *got != *f {
				t.Errorf("ExecutionFailed carries %+v, want %+v", got, f)
			}

			restored := replayInto(t, lookup, in.records)
			wantSameState(t, stateOf(restored), stateOf(in.rt))
		})
	}
}

func TestPanicOnStartFailsTheFirstStep(t *testing.T) {
	panicNow := func(*workflow.Context, any) (string, error) { panic("at once") }
	in := newInstance(t, lookupOf(t, "PanicNow", panicNow))
	wantEvents(t, in.step(started("PanicNow", nil)), protocol.EventExecutionStarted, protocol.EventExecutionFailed)
	if f := in.rt.Failure(); f == nil || f.Type != engine.FailureTypePanic || f.Message != "at once" {
		t.Fatalf("failure = %+v, want a Panic with message %q", f, "at once")
	}
}

func TestOutputSizeLimit(t *testing.T) {
	// The hub's cap bounds the output (here 1 KiB).
	const limit = 1 << 10
	// returnN returns a JSON string of exactly n bytes.
	returnN := func(_ *workflow.Context, n int) (json.RawMessage, error) {
		return json.RawMessage(`"` + strings.Repeat("x", n-2) + `"`), nil
	}
	tests := []struct {
		name     string
		size     int
		wantFail bool
	}{
		{"at the limit completes", limit, false},
		{"one byte over the limit fails", limit + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstance(t, lookupOf(t, "Big", returnN))
			in.rt.SetMaxPayload(limit)
			rec := in.step(started("Big", tt.size))
			if !tt.wantFail {
				wantEvents(t, rec, protocol.EventExecutionStarted, protocol.EventExecutionCompleted)
				if len(in.rt.Output()) != tt.size {
					t.Fatalf("output is %d bytes, want %d", len(in.rt.Output()), tt.size)
				}
				return
			}
			wantEvents(t, rec, protocol.EventExecutionStarted, protocol.EventExecutionFailed)
			if in.rt.Status() != protocol.StatusFailed || in.rt.Output() != nil {
				t.Fatalf("status %s with %d bytes of output, want Failed without output", in.rt.Status(), len(in.rt.Output()))
			}
			if f := in.rt.Failure(); f == nil || !strings.Contains(f.Message, protocol.ErrPayloadTooLarge.Error()) {
				t.Fatalf("failure = %+v, want it to say %q", f, protocol.ErrPayloadTooLarge)
			}
		})
	}
}

func TestOutputOverMaxPayloadFailsWithoutACap(t *testing.T) {
	// An engine-level orchestrator: building the output through JSON would
	// take seconds under the race detector.
	for _, size := range []int{protocol.MaxPayload, protocol.MaxPayload + 1} {
		lookup := func(string) (engine.Orchestrator, bool) {
			return func(*engine.Runtime) ([]byte, error) { return make([]byte, size), nil }, true
		}
		in := newInstance(t, lookup)
		in.step(started("Big", nil))
		wantFail := size > protocol.MaxPayload
		if got := in.rt.Status() == protocol.StatusFailed; got != wantFail {
			t.Fatalf("%d bytes of output: status %s, want failed %v", size, in.rt.Status(), wantFail)
		}
		if f := in.rt.Failure(); wantFail && !strings.Contains(f.Message, protocol.ErrPayloadTooLarge.Error()) {
			t.Fatalf("failure = %+v, want it to say %q", f, protocol.ErrPayloadTooLarge)
		}
	}
}

func TestOrchestratorErrorFailsTheInstance(t *testing.T) {
	refuse := func(*workflow.Context, any) (string, error) {
		return "", &protocol.Failure{Type: "Refused", Message: "not today"}
	}
	in := newInstance(t, lookupOf(t, "Refuse", refuse))
	in.step(started("Refuse", nil))
	if f := in.rt.Failure(); in.rt.Status() != protocol.StatusFailed || f == nil || f.Type != "Refused" || f.Message != "not today" {
		t.Fatalf("status %s failure %+v, want Failed with the returned *protocol.Failure", in.rt.Status(), f)
	}
}

func TestUnknownOrchestrator(t *testing.T) {
	lookup := lookupOf(t, "Greet", greet)
	t.Run("Step", func(t *testing.T) {
		rt := newRuntime(t, testInstanceID, lookup)
		rec, err := rt.Step(t0, []protocol.Event{started("Nope", nil)})
		if !errors.Is(err, engine.ErrUnknownOrchestrator) || rec != nil {
			t.Fatalf("Step = %v, %v; want ErrUnknownOrchestrator", rec, err)
		}
		if !strings.Contains(err.Error(), `"Nope"`) {
			t.Errorf("error %q does not name the orchestrator", err)
		}
		if rt.Started() {
			t.Error("Started() = true for an orchestrator that did not run")
		}
	})
	t.Run("Replay", func(t *testing.T) {
		rt := newRuntime(t, testInstanceID, lookup)
		history := []protocol.HistoryRecord{{V: 1, Time: t0, Events: []protocol.Event{
			started("Nope", nil),
			{Type: protocol.EventTaskScheduled, Time: t0, TaskID: 0, Name: "SayHello"},
		}}}
		if err := rt.Replay(history); !errors.Is(err, engine.ErrUnknownOrchestrator) {
			t.Fatalf("Replay = %v, want ErrUnknownOrchestrator", err)
		}
	})
}

func TestFinishedHistoryIsRestoredWithoutRunningCode(t *testing.T) {
	failure := &protocol.Failure{Type: "Refused", Message: "no"}
	start := started("Greet", "Tokyo")
	scheduled := protocol.Event{Type: protocol.EventTaskScheduled, Time: t0, TaskID: 0, Name: "SayHello", Input: jsonOf("Tokyo")}
	later := t0.Add(time.Minute)
	tests := []struct {
		name        string
		last        []protocol.Event
		wantStatus  protocol.RuntimeStatus
		wantOutput  string
		wantFailure *protocol.Failure
	}{
		{
			name:       "completed",
			last:       []protocol.Event{completed(0, "Hello"), {Type: protocol.EventExecutionCompleted, Time: later, Result: jsonOf("Hello")}},
			wantStatus: protocol.StatusCompleted, wantOutput: `"Hello"`,
		},
		{
			name:       "failed",
			last:       []protocol.Event{completed(0, "Hello"), {Type: protocol.EventExecutionFailed, Time: later, Failure: failure}},
			wantStatus: protocol.StatusFailed, wantFailure: failure,
		},
		{
			name:       "terminated",
			last:       []protocol.Event{terminated("stop")},
			wantStatus: protocol.StatusTerminated, wantOutput: `"stop"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			lookup := func(string) (engine.Orchestrator, bool) {
				calls++
				return nil, false
			}
			history := []protocol.HistoryRecord{
				{V: 1, Time: t0, Events: []protocol.Event{start, scheduled}},
				{V: 1, Time: later, Events: tt.last},
			}
			rt := replayInto(t, lookup, history)
			if calls != 0 {
				t.Fatalf("Replay looked up the orchestrator %d times; a finished instance needs no code", calls)
			}
			want := state{
				Started: true, Name: "Greet", ExecutionID: testExecutionID, Input: `"Tokyo"`, CreatedAt: t0,
				Status: tt.wantStatus, Output: tt.wantOutput, Failure: tt.wantFailure,
			}
			wantSameState(t, stateOf(rt), want)

			rec, err := rt.Step(later.Add(time.Second), []protocol.Event{completed(0, "again"), raised("E", 1), terminated("again")})
			if err != nil || rec != nil {
				t.Fatalf("Step on a finished instance = %v, %v; want nothing", rec, err)
			}
		})
	}
}
