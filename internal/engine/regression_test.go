package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func TestCustomStatusSurvivesRestoreOfFinishedInstance(t *testing.T) {
	withStatus := func(ctx *workflow.Context, _ any) (string, error) {
		if err := ctx.SetCustomStatus("almost done"); err != nil {
			return "", err
		}
		return workflow.CallActivity[string](ctx, "A", nil).Await()
	}
	lookup := lookupOf(t, "WithStatus", withStatus)
	in := newInstance(t, lookup)
	in.step(started("WithStatus", nil))
	in.step(completed(0, "a"))
	if got := string(in.rt.CustomStatus()); got != `"almost done"` {
		t.Fatalf("live custom status = %s", got)
	}
	restored := replayInto(t, lookup, in.records)
	if got := string(restored.CustomStatus()); got != `"almost done"` {
		t.Fatalf("custom status of the restored finished instance = %q, want %q", got, `"almost done"`)
	}
}

// v1 cancels the timer after Work; v2 forgets to and waits on it.
func cancelV1(ctx *workflow.Context, _ any) (string, error) {
	timer := workflow.CreateTimer(ctx, time.Hour)
	work := workflow.CallActivity[string](ctx, "Work", nil)
	workflow.Any(ctx, work, timer)
	timer.Cancel()
	return workflow.CallActivity[string](ctx, "Next", nil).Await()
}

func cancelV2(ctx *workflow.Context, _ any) (string, error) {
	timer := workflow.CreateTimer(ctx, time.Hour)
	work := workflow.CallActivity[string](ctx, "Work", nil)
	workflow.Any(ctx, work, timer)
	next := workflow.CallActivity[string](ctx, "Next", nil)
	if err := workflow.All(ctx, next, timer); err != nil {
		return "", err
	}
	return next.Await()
}

func TestReplayFailsWhenCodeNoLongerCancelsARecordedTimer(t *testing.T) {
	in := newInstance(t, lookupOf(t, "Cancel", cancelV1))
	in.step(started("Cancel", nil))
	wantEvents(t, in.step(completed(1, "w")), protocol.EventTaskCompleted, protocol.EventTimerCanceled, protocol.EventTaskScheduled)

	rt := replayInto(t, lookupOf(t, "Cancel", cancelV2), in.records)
	if rt.Status() != protocol.StatusFailed || rt.Failure() == nil || rt.Failure().Type != engine.FailureTypeNonDeterminism {
		t.Fatalf("status %s, failure %+v; want a non-determinism failure: history cancels timer #0, the code does not (and now waits for a timer the scheduler has cancelled)", rt.Status(), rt.Failure())
	}
}

func TestReplayFailsWhenCodeCancelsATimerHistoryDidNot(t *testing.T) {
	in := newInstance(t, lookupOf(t, "Cancel", cancelV2))
	in.step(started("Cancel", nil))
	wantEvents(t, in.step(completed(1, "w")), protocol.EventTaskCompleted, protocol.EventTaskScheduled)

	rt := replayInto(t, lookupOf(t, "Cancel", cancelV1), in.records)
	rec, err := rt.Step(in.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Status() != protocol.StatusFailed {
		t.Fatalf("status %s, Step after Replay committed %+v; want a non-determinism failure, not a new TimerCanceled", rt.Status(), rec)
	}
}

func TestTerminateUnwindsCodeThatRecoversPanics(t *testing.T) {
	safe := func(ctx *workflow.Context, _ any) (out string, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("recovered: %v", r)
			}
		}()
		return workflow.CallActivity[string](ctx, "A", nil).Await()
	}
	rt := engine.New(testInstanceID, lookupOf(t, "Safe", safe))
	if _, err := rt.Step(t0, []protocol.Event{started("Safe", nil)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan *protocol.HistoryRecord, 1)
	go func() {
		rec, _ := rt.Step(t0.Add(time.Second), []protocol.Event{terminated("stop")})
		done <- rec
	}()
	select {
	case rec := <-done:
		wantEvents(t, rec, protocol.EventExecutionTerminated)
	case <-time.After(5 * time.Second):
		t.Fatal("Step(ExecutionTerminated) deadlocked: the orchestrator recovered the unwind panic and returned")
	}
}

func TestResumeDeliversHeldInputsInOrderAndSkipsCancelledTimers(t *testing.T) {
	// The approval pattern: an event and the deadline both arrive while the
	// instance is suspended. On resume the event is taken first, the code
	// cancels the timer, and the held TimerFired must then be passed over.
	approval := func(ctx *workflow.Context, _ any) (string, error) {
		timer := workflow.CreateTimer(ctx, time.Second)
		ev := workflow.WaitForExternalEvent[string](ctx, "Approval")
		if workflow.Any(ctx, ev, timer) == 0 {
			timer.Cancel()
			who, _ := ev.Await()
			return workflow.CallActivity[string](ctx, "Record", who).Await()
		}
		return "escalated", nil
	}
	lookup := lookupOf(t, "Approval", approval)
	in := newInstance(t, lookup)
	in.step(started("Approval", nil))
	in.step(protocol.Event{Type: protocol.EventExecutionSuspended})
	in.step(raised("Approval", "yes"), fired(0))
	if st := in.rt.Status(); st != protocol.StatusSuspended {
		t.Fatalf("status %s while suspended", st)
	}
	in.step(protocol.Event{Type: protocol.EventExecutionResumed})
	in.step(completed(1, "recorded yes"))
	wantOutput(t, in.rt, "recorded yes")
	// Rebuilt from history, the instance ends the same way.
	wantOutput(t, replayInto(t, lookup, in.records), "recorded yes")
}
