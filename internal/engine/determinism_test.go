package engine_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func chain(ctx *workflow.Context, n int) (int, error) {
	for range 3 {
		var err error
		if n, err = workflow.CallActivity[int](ctx, "Inc", n).Await(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func fanOutFanIn(ctx *workflow.Context, cities []string) ([]string, error) {
	tasks := make([]workflow.Task[string], len(cities))
	waits := make([]workflow.Awaitable, len(cities))
	for i, c := range cities {
		tasks[i] = workflow.CallActivity[string](ctx, "SayHello", c)
		waits[i] = tasks[i]
	}
	if err := workflow.All(ctx, waits...); err != nil {
		return nil, err
	}
	out := make([]string, len(tasks))
	for i, task := range tasks {
		out[i], _ = task.Await()
	}
	return out, nil
}

func timerThenActivity(ctx *workflow.Context, _ any) (string, error) {
	if err := workflow.CreateTimer(ctx, 10*time.Minute).Await(); err != nil {
		return "", err
	}
	return workflow.CallActivity[string](ctx, "Wake", ctx.Now()).Await()
}

func compensate(ctx *workflow.Context, _ any) (string, error) {
	if _, err := workflow.CallActivity[string](ctx, "Book", nil).Await(); err != nil {
		return workflow.CallActivity[string](ctx, "Cancel", err.Error()).Await()
	}
	return "booked", nil
}

func guidsAndStatus(ctx *workflow.Context, _ any) ([]string, error) {
	var ids []string
	for range 2 {
		id := ctx.NewGUID()
		ids = append(ids, id)
		if err := ctx.SetCustomStatus(id); err != nil {
			return nil, err
		}
		if err := workflow.CreateTimer(ctx, time.Minute).Await(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// scenarios are orchestrations with scripted inputs, one batch per step.
var scenarios = []struct {
	name   string
	lookup func(testing.TB) engine.Lookup
	steps  [][]protocol.Event
}{
	{
		name:   "activity chain",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Chain", chain) },
		steps:  [][]protocol.Event{{started("Chain", 0)}, {completed(0, 1)}, {completed(1, 2)}, {completed(2, 3)}},
	},
	{
		name:   "fan-out fan-in",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Fan", fanOutFanIn) },
		steps: [][]protocol.Event{
			{started("Fan", []string{"Tokyo", "Seattle", "London"})},
			{completed(2, "Hello London")},
			{completed(1, "Hello Seattle"), completed(2, "duplicate")},
			{completed(0, "Hello Tokyo")},
		},
	},
	{
		name:   "timer then activity",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "TimerThenActivity", timerThenActivity) },
		steps:  [][]protocol.Event{{started("TimerThenActivity", nil)}, {fired(0)}, {completed(1, "awake")}},
	},
	{
		name:   "race with cancelled timer",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Race", raceThenCancel) },
		steps:  [][]protocol.Event{{started("Race", nil)}, {completed(1, "work")}, {fired(0)}, {completed(2, "reported")}},
	},
	{
		name:   "activity failure handled",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Compensate", compensate) },
		steps:  [][]protocol.Event{{started("Compensate", nil)}, {taskFailed(0, "sold out")}, {completed(1, "cancelled")}},
	},
	{
		name:   "external events before and after the wait",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Collect", collectEvents) },
		steps: [][]protocol.Event{
			{started("Collect", nil)}, {raised("A", "a1")}, {raised("B", "b1"), raised("A", "a2")},
			{completed(0, "open")}, {raised("A", "a3")},
		},
	},
	{
		name:   "GUIDs and custom status",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "GUIDs", guidsAndStatus) },
		steps:  [][]protocol.Event{{started("GUIDs", nil)}, {fired(0)}, {fired(1)}},
	},
	{
		name:   "terminated while waiting",
		lookup: func(t testing.TB) engine.Lookup { return lookupOf(t, "Race", raceThenCancel) },
		steps:  [][]protocol.Event{{started("Race", nil)}, {terminated("stop")}, {completed(1, "late")}},
	},
}

func collectEvents(ctx *workflow.Context, _ any) ([]string, error) {
	if _, err := workflow.CallActivity[string](ctx, "Gate", nil).Await(); err != nil {
		return nil, err
	}
	var got []string
	for _, name := range []string{"A", "B", "A", "A"} {
		v, err := workflow.WaitForExternalEvent[string](ctx, name).Await()
		if err != nil {
			return nil, err
		}
		got = append(got, v)
	}
	return got, nil
}

// TestReplayReproducesEveryStep checks, for every prefix of a recorded
// history, that a fresh Runtime replaying it has the live state, takes no new
// action, and, given the next step's inputs, commits the very record the live
// run committed, however many times it is replayed.
func TestReplayReproducesEveryStep(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			lookup := sc.lookup(t)
			live := newInstance(t, lookup)
			before := []state{stateOf(live.rt)} // before[i]: state before step i
			var committed []*protocol.HistoryRecord
			for _, inputs := range sc.steps {
				committed = append(committed, live.step(inputs...))
				before = append(before, stateOf(live.rt))
			}
			if st := live.rt.Status(); st == protocol.StatusRunning || st == protocol.StatusPending {
				t.Fatalf("the script leaves the instance %s; finish it so every outcome is replayed", st)
			}

			var history []protocol.HistoryRecord
			for i, inputs := range sc.steps {
				now := t0.Add(time.Duration(i) * time.Second) // instance.step's clock: t0, then a second per step
				for replay := range 2 {
					rt := replayInto(t, lookup, history)
					wantSameState(t, stateOf(rt), before[i])
					if rec, err := rt.Step(now, nil); err != nil || rec != nil {
						t.Fatalf("step %d, replay %d: Step without inputs = %+v, %v; want nothing new", i, replay, rec, err)
					}
					rec, err := rt.Step(now, inputs)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(rec, committed[i]) {
						t.Fatalf("step %d, replay %d: re-run gave\n %+v\nlive run committed\n %+v", i, replay, rec, committed[i])
					}
					wantSameState(t, stateOf(rt), before[i+1])
				}
				if committed[i] != nil {
					history = append(history, *committed[i])
				}
			}
			final := replayInto(t, lookup, history)
			wantSameState(t, stateOf(final), before[len(sc.steps)])
		})
	}
}

// TestNonDeterminismIsDetectedOnReplay replays the history of version 1 of an
// orchestrator with a changed version 2.
func TestNonDeterminismIsDetectedOnReplay(t *testing.T) {
	callAB := func(ctx *workflow.Context, _ any) (string, error) {
		if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
			return "", err
		}
		return workflow.CallActivity[string](ctx, "B", nil).Await()
	}
	callAC := func(ctx *workflow.Context, _ any) (string, error) {
		if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
			return "", err
		}
		return workflow.CallActivity[string](ctx, "C", nil).Await()
	}
	callAThenTimer := func(ctx *workflow.Context, _ any) (string, error) {
		if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
			return "", err
		}
		return "", workflow.CreateTimer(ctx, time.Hour).Await()
	}
	timerFirst := func(ctx *workflow.Context, _ any) (string, error) {
		return "", workflow.CreateTimer(ctx, time.Hour).Await()
	}
	callAOnly := func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "A", nil).Await()
	}
	parallelAB := func(ctx *workflow.Context, _ any) (string, error) {
		a := workflow.CallActivity[string](ctx, "A", nil)
		b := workflow.CallActivity[string](ctx, "B", nil)
		return "", workflow.All(ctx, a, b)
	}
	parallelABC := func(ctx *workflow.Context, _ any) (string, error) {
		a := workflow.CallActivity[string](ctx, "A", nil)
		b := workflow.CallActivity[string](ctx, "B", nil)
		c := workflow.CallActivity[string](ctx, "C", nil)
		return "", workflow.All(ctx, a, b, c)
	}
	timerAndB := func(ctx *workflow.Context, _ any) (string, error) {
		timer := workflow.CreateTimer(ctx, time.Hour)
		b := workflow.CallActivity[string](ctx, "B", nil)
		return "", workflow.All(ctx, timer, b)
	}
	timerAndC := func(ctx *workflow.Context, _ any) (string, error) {
		timer := workflow.CreateTimer(ctx, time.Hour)
		c := workflow.CallActivity[string](ctx, "C", nil)
		return "", workflow.All(ctx, timer, c)
	}
	type orch = func(*workflow.Context, any) (string, error)
	tests := []struct {
		name          string
		v1, v2        orch
		v1Inputs      [][]protocol.Event // after the start
		wantMessage   []string           // substrings; nil: v2 is compatible
		wantCancelled []int32            // timers the failure cancels
	}{
		{
			name: "same code replays", v1: callAB, v2: callAB,
			v1Inputs: [][]protocol.Event{{completed(0, "a")}},
		},
		{
			name: "different activity name", v1: callAB, v2: callAC,
			v1Inputs:    [][]protocol.Event{{completed(0, "a")}},
			wantMessage: []string{`history has CallActivity("B") as action #1`, `the code took CallActivity("C") as action #1`},
		},
		{
			name: "timer instead of activity", v1: callAB, v2: callAThenTimer,
			v1Inputs:    [][]protocol.Event{{completed(0, "a")}},
			wantMessage: []string{`history has CallActivity("B") as action #1`, `the code took CreateTimer as action #1`},
		},
		{
			name: "activity instead of timer", v1: timerFirst, v2: callAOnly,
			wantMessage: []string{`history has CreateTimer as action #0`, `the code took CallActivity("A") as action #0`},
		},
		{
			name: "fewer actions", v1: parallelAB, v2: callAOnly,
			wantMessage: []string{`history has CallActivity("B") as action #1`, "did not take it"},
		},
		{
			name: "more actions", v1: parallelAB, v2: parallelABC,
			wantMessage: []string{`history has no action #2`, `the code took CallActivity("C") as action #2`},
		},
		{
			name: "returning early", v1: callAB, v2: callAOnly,
			v1Inputs:    [][]protocol.Event{{completed(0, "a")}},
			wantMessage: []string{"returned"},
		},
		{
			name: "pending timer is cancelled by the failure", v1: timerAndB, v2: timerAndC,
			wantMessage:   []string{`history has CallActivity("B") as action #1`, `the code took CallActivity("C") as action #1`},
			wantCancelled: []int32{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v1 := newInstance(t, lookupOf(t, "Versioned", tt.v1))
			v1.step(started("Versioned", nil))
			for _, inputs := range tt.v1Inputs {
				v1.step(inputs...)
			}
			if v1.rt.Status() != protocol.StatusRunning {
				t.Fatalf("version 1 is %s, want it still running", v1.rt.Status())
			}

			rt := replayInto(t, lookupOf(t, "Versioned", tt.v2), v1.records)
			rec, err := rt.Step(v1.now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantMessage == nil {
				if rt.Status() != protocol.StatusRunning || rec != nil {
					t.Fatalf("compatible code: status %s, record %+v; want Running and nothing new", rt.Status(), rec)
				}
				return
			}

			f := rt.Failure()
			if rt.Status() != protocol.StatusFailed || f == nil || f.Type != engine.FailureTypeNonDeterminism {
				t.Fatalf("status %s, failure %+v; want Failed with Type %q", rt.Status(), f, engine.FailureTypeNonDeterminism)
			}
			for _, want := range append([]string{engine.ErrNonDeterminism.Error()}, tt.wantMessage...) {
				if !strings.Contains(f.Message, want) {
					t.Errorf("failure message %q does not say %q", f.Message, want)
				}
			}
			want := []protocol.EventType{protocol.EventExecutionFailed}
			for range tt.wantCancelled {
				want = append(want, protocol.EventTimerCanceled)
			}
			wantEvents(t, rec, want...)
			if got := rec.Events[0].Failure; got == nil || *got != *f {
				t.Errorf("ExecutionFailed carries %+v, want %+v", got, f)
			}
			for i, id := range tt.wantCancelled {
				if got := rec.Events[1+i].TaskID; got != id {
					t.Errorf("TimerCanceled names #%d, want #%d", got, id)
				}
			}
			// The failure is the outcome: nothing further is accepted.
			if rec, err := rt.Step(v1.now.Add(time.Second), []protocol.Event{completed(0, "a"), completed(1, "b")}); err != nil || rec != nil {
				t.Fatalf("Step after the failure = %+v, %v; want nothing", rec, err)
			}
		})
	}
}
