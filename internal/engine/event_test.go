package engine_test

import (
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func TestWaitForEventResumesWhenTheEventArrives(t *testing.T) {
	approve := func(ctx *workflow.Context, _ any) (bool, error) {
		return workflow.WaitForExternalEvent[bool](ctx, "Approve").Await()
	}
	in := newInstance(t, lookupOf(t, "Approval", approve))

	wantEvents(t, in.step(started("Approval", nil)), protocol.EventExecutionStarted)
	// An event with another name is history but does not wake the code.
	wantEvents(t, in.step(raised("Reject", true)), protocol.EventEventRaised)
	if in.rt.Status() != protocol.StatusRunning {
		t.Fatalf("status = %s after an unrelated event, want Running", in.rt.Status())
	}
	wantEvents(t, in.step(raised("Approve", true)), protocol.EventEventRaised, protocol.EventExecutionCompleted)
	wantOutput(t, in.rt, true)
}

func TestEventsRaisedBeforeTheWaitAreDeliveredFirstInFirstOutByName(t *testing.T) {
	// The code is busy with the Gate activity while the events arrive.
	collect := func(ctx *workflow.Context, _ any) ([]string, error) {
		if _, err := workflow.CallActivity[string](ctx, "Gate", nil).Await(); err != nil {
			return nil, err
		}
		var got []string
		for _, name := range []string{"A", "B", "A", "A"} {
			v, err := workflow.WaitForExternalEvent[string](ctx, name).Await()
			if err != nil {
				return nil, err
			}
			got = append(got, name+"="+v)
		}
		return got, nil
	}
	lookup := lookupOf(t, "Collect", collect)
	in := newInstance(t, lookup)
	in.step(started("Collect", nil))
	wantEvents(t, in.step(raised("A", "a1")), protocol.EventEventRaised)
	wantEvents(t, in.step(raised("B", "b1"), raised("A", "a2")), protocol.EventEventRaised, protocol.EventEventRaised)
	wantEvents(t, in.step(completed(0, "open")), protocol.EventTaskCompleted)

	// Two A events were buffered and consumed; the third A wait is parked.
	prefix := append([]protocol.HistoryRecord(nil), in.records...)
	wantEvents(t, in.step(raised("A", "a3")), protocol.EventEventRaised, protocol.EventExecutionCompleted)
	wantOutput(t, in.rt, []string{"A=a1", "B=b1", "A=a2", "A=a3"})

	// Replay delivers the buffered events in the same order.
	replayed := replayInto(t, lookup, prefix)
	rec, err := replayed.Step(in.now, []protocol.Event{raised("A", "a3")})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, protocol.EventEventRaised, protocol.EventExecutionCompleted)
	wantOutput(t, replayed, []string{"A=a1", "B=b1", "A=a2", "A=a3"})
}

func TestWaitersForOneNameAreServedInCallOrder(t *testing.T) {
	twoWaits := func(ctx *workflow.Context, _ any) ([]int, error) {
		first := workflow.WaitForExternalEvent[int](ctx, "N")
		second := workflow.WaitForExternalEvent[int](ctx, "N")
		if err := workflow.All(ctx, second, first); err != nil {
			return nil, err
		}
		a, _ := first.Await()
		b, _ := second.Await()
		return []int{a, b}, nil
	}
	in := newInstance(t, lookupOf(t, "TwoWaits", twoWaits))
	in.step(started("TwoWaits", nil))
	wantEvents(t, in.step(raised("N", 1)), protocol.EventEventRaised)
	wantEvents(t, in.step(raised("N", 2)), protocol.EventEventRaised, protocol.EventExecutionCompleted)
	wantOutput(t, in.rt, []int{1, 2})
}

func TestEventsRaisedBeforeStartAreDropped(t *testing.T) {
	in := newInstance(t, lookupOf(t, "Greet", greet))
	wantEvents(t, in.step(raised("A", 1), completed(0, "x"), fired(0), terminated("too early")))
	if in.rt.Started() || in.rt.Status() != protocol.StatusPending {
		t.Fatalf("Started() = %v, status = %s; want a pending instance", in.rt.Started(), in.rt.Status())
	}
}
