package engine_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func greet(ctx *workflow.Context, city string) (string, error) {
	return workflow.CallActivity[string](ctx, "SayHello", city).Await()
}

func TestCallActivitySchedulesTaskAndResumesOnCompletion(t *testing.T) {
	in := newInstance(t, lookupOf(t, "Greet", greet))

	rec := in.step(started("Greet", "Tokyo"))
	wantEvents(t, rec, protocol.EventExecutionStarted, protocol.EventTaskScheduled)
	sched := find(t, rec, protocol.EventTaskScheduled)
	if sched.TaskID != 0 || sched.Name != "SayHello" || string(sched.Input) != `"Tokyo"` {
		t.Errorf("TaskScheduled = #%d %s %s, want #0 SayHello \"Tokyo\"", sched.TaskID, sched.Name, sched.Input)
	}
	if !sched.Time.Equal(rec.Time) {
		t.Errorf("TaskScheduled time = %v, want the step time %v", sched.Time, rec.Time)
	}
	if got := in.rt.Status(); got != protocol.StatusRunning {
		t.Fatalf("status after start = %s, want Running", got)
	}

	rec = in.step(completed(0, "Hello Tokyo!"))
	wantEvents(t, rec, protocol.EventTaskCompleted, protocol.EventExecutionCompleted)
	if got := string(find(t, rec, protocol.EventExecutionCompleted).Result); got != `"Hello Tokyo!"` {
		t.Errorf("ExecutionCompleted result = %s, want \"Hello Tokyo!\"", got)
	}
	wantOutput(t, in.rt, "Hello Tokyo!")
}

func TestActivityFailureReachesOrchestrator(t *testing.T) {
	t.Run("handled as ActivityError", func(t *testing.T) {
		describeFailure := func(ctx *workflow.Context, _ any) (string, error) {
			_, err := workflow.CallActivity[string](ctx, "Charge", 100).Await()
			var ae *workflow.ActivityError
			if !errors.As(err, &ae) {
				return fmt.Sprintf("not an ActivityError: %v", err), nil
			}
			return ae.Name + "|" + ae.Type + "|" + ae.Message, nil
		}
		in := newInstance(t, lookupOf(t, "Pay", describeFailure))
		in.step(started("Pay", nil))
		wantEvents(t, in.step(taskFailed(0, "card declined")), protocol.EventTaskFailed, protocol.EventExecutionCompleted)
		wantOutput(t, in.rt, "Charge|*errors.errorString|card declined")
	})
	t.Run("returned, fails the instance", func(t *testing.T) {
		pay := func(ctx *workflow.Context, _ any) (string, error) {
			return workflow.CallActivity[string](ctx, "Charge", 100).Await()
		}
		in := newInstance(t, lookupOf(t, "Pay", pay))
		in.step(started("Pay", nil))
		rec := in.step(taskFailed(0, "card declined"))
		wantEvents(t, rec, protocol.EventTaskFailed, protocol.EventExecutionFailed)
		if in.rt.Status() != protocol.StatusFailed {
			t.Fatalf("status = %s, want Failed", in.rt.Status())
		}
		f := in.rt.Failure()
		if f == nil || f.Message != "activity Charge failed: card declined" {
			t.Fatalf("failure = %+v, want message %q", f, "activity Charge failed: card declined")
		}
		if got := find(t, rec, protocol.EventExecutionFailed).Failure; got == nil || *got != *f {
			t.Errorf("ExecutionFailed carries %+v, want %+v", got, f)
		}
	})
}

// TestResultsTheCodeCannotUseAreDropped: only the first result for a pending
// call or timer of the right kind becomes history.
func TestResultsTheCodeCannotUseAreDropped(t *testing.T) {
	// Task IDs: #0 activity A, #1 timer, #2 activity B.
	waitAll := func(ctx *workflow.Context, _ any) (string, error) {
		a := workflow.CallActivity[string](ctx, "A", nil)
		timer := workflow.CreateTimer(ctx, 3*time.Hour)
		b := workflow.CallActivity[string](ctx, "B", nil)
		if err := workflow.All(ctx, a, timer, b); err != nil {
			return "", err
		}
		ra, _ := a.Await()
		rb, _ := b.Await()
		return ra + rb, nil
	}
	const (
		completedT = protocol.EventTaskCompleted
		failedT    = protocol.EventTaskFailed
		firedT     = protocol.EventTimerFired
	)
	tests := []struct {
		name  string
		steps [][]protocol.Event
		want  [][]protocol.EventType // per step; nil: nothing to commit
	}{
		{
			name:  "second TaskCompleted for a task in the same batch",
			steps: [][]protocol.Event{{completed(0, "a"), completed(0, "again")}},
			want:  [][]protocol.EventType{{completedT}},
		},
		{
			name:  "TaskCompleted redelivered in a later step",
			steps: [][]protocol.Event{{completed(0, "a")}, {completed(0, "again")}},
			want:  [][]protocol.EventType{{completedT}, nil},
		},
		{
			name:  "TaskFailed after TaskCompleted",
			steps: [][]protocol.Event{{completed(0, "a")}, {taskFailed(0, "late")}},
			want:  [][]protocol.EventType{{completedT}, nil},
		},
		{
			name:  "TaskCompleted after TaskFailed",
			steps: [][]protocol.Event{{taskFailed(2, "boom"), completed(2, "b")}},
			want:  [][]protocol.EventType{{failedT}},
		},
		{
			name:  "TimerFired twice",
			steps: [][]protocol.Event{{fired(1)}, {fired(1)}},
			want:  [][]protocol.EventType{{firedT}, nil},
		},
		{
			name:  "result for an unknown task ID",
			steps: [][]protocol.Event{{completed(7, "x"), completed(-1, "x"), fired(9)}},
			want:  [][]protocol.EventType{nil},
		},
		{
			name:  "TaskCompleted for a timer",
			steps: [][]protocol.Event{{completed(1, "x")}},
			want:  [][]protocol.EventType{nil},
		},
		{
			name:  "TimerFired for an activity call",
			steps: [][]protocol.Event{{fired(0), fired(2)}},
			want:  [][]protocol.EventType{nil},
		},
		{
			name:  "second ExecutionStarted",
			steps: [][]protocol.Event{{started("WaitAll", "other input")}},
			want:  [][]protocol.EventType{nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := lookupOf(t, "WaitAll", waitAll)
			in := newInstance(t, lookup)
			in.step(started("WaitAll", nil))
			for i, inputs := range tt.steps {
				wantEvents(t, in.step(inputs...), tt.want[i]...)
			}
			if in.rt.Status() != protocol.StatusRunning {
				t.Fatalf("status = %s, want Running: All still waits", in.rt.Status())
			}
			// The dropped inputs must not have reached the code: replaying the
			// committed history gives the same state.
			wantSameState(t, stateOf(replayInto(t, lookup, in.records)), stateOf(in.rt))
		})
	}

	t.Run("the first result is the one the code sees", func(t *testing.T) {
		in := newInstance(t, lookupOf(t, "WaitAll", waitAll))
		in.step(started("WaitAll", nil))
		in.step(completed(0, "first-"), completed(0, "second-"))
		in.step(fired(1), completed(2, "b"))
		wantOutput(t, in.rt, "first-b")
	})
}
