package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func TestAnyReturnsTheFirstTaskDone(t *testing.T) {
	// Task IDs: #0 A, #1 B, #2 timer; the event has none.
	anyOf := func(ctx *workflow.Context, _ any) (int, error) {
		a := workflow.CallActivity[string](ctx, "A", nil)
		b := workflow.CallActivity[string](ctx, "B", nil)
		timer := workflow.CreateTimer(ctx, time.Hour)
		ev := workflow.WaitForExternalEvent[string](ctx, "Go")
		return workflow.Any(ctx, a, b, timer, ev), nil
	}
	const (
		completedT = protocol.EventTaskCompleted
		doneT      = protocol.EventExecutionCompleted
		canceledT  = protocol.EventTimerCanceled // finishing cancels the pending timer
	)
	tests := []struct {
		name   string
		inputs []protocol.Event
		want   int
		events []protocol.EventType
	}{
		{"activity A completes", []protocol.Event{completed(0, "a")}, 0, []protocol.EventType{completedT, doneT, canceledT}},
		{"activity B completes", []protocol.Event{completed(1, "b")}, 1, []protocol.EventType{completedT, doneT, canceledT}},
		{"activity B fails", []protocol.Event{taskFailed(1, "boom")}, 1, []protocol.EventType{protocol.EventTaskFailed, doneT, canceledT}},
		{"timer fires", []protocol.Event{fired(2)}, 2, []protocol.EventType{protocol.EventTimerFired, doneT}},
		{"event arrives", []protocol.Event{raised("Go", "now")}, 3, []protocol.EventType{protocol.EventEventRaised, doneT, canceledT}},
		// The code resumes on B and finishes; A's result then has no taker.
		{"two results in one batch", []protocol.Event{completed(1, "b"), completed(0, "a")}, 1, []protocol.EventType{completedT, doneT, canceledT}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstance(t, lookupOf(t, "AnyOf", anyOf))
			in.step(started("AnyOf", nil))
			wantEvents(t, in.step(tt.inputs...), tt.events...)
			wantOutput(t, in.rt, tt.want)
		})
	}
}

func TestAnyPrefersArgumentOrderAmongTasksAlreadyDone(t *testing.T) {
	anyAfterGate := func(ctx *workflow.Context, _ any) (int, error) {
		a := workflow.CallActivity[string](ctx, "A", nil) // #0
		b := workflow.CallActivity[string](ctx, "B", nil) // #1
		if _, err := workflow.CallActivity[string](ctx, "Gate", nil).Await(); err != nil {
			return -1, err
		}
		return workflow.Any(ctx, b, a), nil
	}
	in := newInstance(t, lookupOf(t, "AnyAfterGate", anyAfterGate))
	in.step(started("AnyAfterGate", nil))
	in.step(completed(0, "a"))
	in.step(completed(1, "b"))
	in.step(completed(2, "open"))
	wantOutput(t, in.rt, 0) // b is argument 0
}

func TestAllWaitsForEveryTask(t *testing.T) {
	type result struct {
		Err string
		A   string
		B   string
	}
	allOf := func(ctx *workflow.Context, _ any) (result, error) {
		a := workflow.CallActivity[string](ctx, "A", nil) // #0
		b := workflow.CallActivity[string](ctx, "B", nil) // #1
		var r result
		if err := workflow.All(ctx, a, b); err != nil {
			r.Err = err.Error()
		}
		r.A, _ = a.Await()
		r.B, _ = b.Await()
		return r, nil
	}
	tests := []struct {
		name  string
		first protocol.Event
		last  protocol.Event
		want  result
	}{
		{"both complete", completed(1, "b"), completed(0, "a"), result{A: "a", B: "b"}},
		{"only B fails", taskFailed(1, "boom"), completed(0, "a"), result{Err: "activity B failed: boom", A: "a"}},
		{"both fail: the first in argument order wins", taskFailed(1, "b failed"), taskFailed(0, "a failed"),
			result{Err: "activity A failed: a failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstance(t, lookupOf(t, "AllOf", allOf))
			in.step(started("AllOf", nil))
			wantEvents(t, in.step(tt.first), tt.first.Type)
			if in.rt.Status() != protocol.StatusRunning {
				t.Fatalf("status after one result = %s, want Running", in.rt.Status())
			}
			wantEvents(t, in.step(tt.last), tt.last.Type, protocol.EventExecutionCompleted)
			wantOutput(t, in.rt, tt.want)
		})
	}
}

func TestAllReturnsErrCanceledForACancelledTimer(t *testing.T) {
	allWithCancelled := func(ctx *workflow.Context, _ any) (bool, error) {
		timer := workflow.CreateTimer(ctx, time.Hour)
		a := workflow.CallActivity[string](ctx, "A", nil)
		timer.Cancel()
		return errors.Is(workflow.All(ctx, a, timer), workflow.ErrCanceled), nil
	}
	in := newInstance(t, lookupOf(t, "AllWithCancelled", allWithCancelled))
	wantEvents(t, in.step(started("AllWithCancelled", nil)),
		protocol.EventExecutionStarted, protocol.EventTimerCreated, protocol.EventTaskScheduled, protocol.EventTimerCanceled)
	in.step(completed(1, "a"))
	wantOutput(t, in.rt, true)
}
