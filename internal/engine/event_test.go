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

// raisedWithID is a raised event as clients send it: with an event ID.
func raisedWithID(name string, data any, eventID string) protocol.Event {
	ev := raised(name, data)
	ev.EventID = eventID
	return ev
}

// sumVotes adds up two "vote" events.
func sumVotes(ctx *workflow.Context, _ any) (int, error) {
	sum := 0
	for range 2 {
		v, err := workflow.WaitForExternalEvent[int](ctx, "vote").Await()
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// TestRaisedEventIsTakenOncePerEventID feeds copies of one event, as a
// redelivery after a lost acknowledgement would: in the same step, in a
// later step and after a replay, the copy is dropped. Events without an ID
// (from older clients) all count.
func TestRaisedEventIsTakenOncePerEventID(t *testing.T) {
	lookup := lookupOf(t, "Votes", sumVotes)

	t.Run("copies dropped", func(t *testing.T) {
		in := newInstance(t, lookup)
		in.step(started("Votes", nil))
		vote := raisedWithID("vote", 1, "e1")
		wantEvents(t, in.step(vote, vote), protocol.EventEventRaised)
		if rec := in.step(vote); rec != nil {
			t.Fatalf("a copy of a taken event was recorded: %v", eventTypes(rec.Events))
		}
		replayed := replayInto(t, lookup, in.records)
		if rec, err := replayed.Step(in.now, []protocol.Event{vote}); err != nil || rec != nil {
			t.Fatalf("copy after replay: record %v, err %v; want none", rec, err)
		}
		rec, err := replayed.Step(in.now, []protocol.Event{raisedWithID("vote", 2, "e2")})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, rec, protocol.EventEventRaised, protocol.EventExecutionCompleted)
		wantOutput(t, replayed, 3)
		if got := find(t, rec, protocol.EventEventRaised).EventID; got != "e2" {
			t.Fatalf("recorded event ID %q, want e2", got)
		}
	})

	t.Run("events without an ID all count", func(t *testing.T) {
		in := newInstance(t, lookup)
		in.step(started("Votes", nil))
		wantEvents(t, in.step(raised("vote", 1), raised("vote", 1)),
			protocol.EventEventRaised, protocol.EventEventRaised, protocol.EventExecutionCompleted)
		wantOutput(t, in.rt, 2)
	})
}

// TestEventTakenByTheContinueAsNewStepIsNotTakenAgain: a copy of an event
// consumed in the step that continued as new must not reach the next
// execution, which learns its ID from the start (Seen), nor may a copy of
// an event carried over.
func TestEventTakenByTheContinueAsNewStepIsNotTakenAgain(t *testing.T) {
	counter := func(ctx *workflow.Context, n int) (int, error) {
		v, err := workflow.WaitForExternalEvent[int](ctx, "add").Await()
		if err != nil {
			return 0, err
		}
		if n+v >= 10 {
			return n + v, nil
		}
		return 0, workflow.ContinueAsNew(ctx, n+v, workflow.KeepUnprocessedEvents())
	}
	lookup := lookupOf(t, "Counter", counter)
	in := newInstance(t, lookup)
	in.step(started("Counter", 0))
	add, carried := raisedWithID("add", 4, "a1"), raisedWithID("add", 1, "a2")
	rec := in.step(add, carried)
	can := find(t, rec, protocol.EventExecutionContinuedAsNew)
	if len(can.Seen) != 1 || can.Seen[0] != "a1" || len(can.Carried) != 1 || can.Carried[0].EventID != "a2" {
		t.Fatalf("continue-as-new: seen %v, carried %+v; want seen [a1] and a2 carried", can.Seen, can.Carried)
	}

	// The next execution starts as the worker starts it.
	next := newInstance(t, lookup)
	start := started("Counter", 4)
	start.ExecutionID, start.Carried, start.Seen = can.ExecutionID, can.Carried, can.Seen
	wantEvents(t, next.step(start), protocol.EventExecutionStarted, protocol.EventExecutionContinuedAsNew)
	// It took the carried a2 (4+1 = 5 < 10) and continued again; copies of
	// a1 and a2 delivered now change nothing.
	if rec := next.step(add, carried); rec != nil {
		t.Fatalf("copies reached the next execution: %v", eventTypes(rec.Events))
	}
}

// TestManagementRequestIsTakenOncePerEventID: a suspend delivered again
// after the resume that followed it must not suspend the instance again;
// the same holds after a replay.
func TestManagementRequestIsTakenOncePerEventID(t *testing.T) {
	approve := func(ctx *workflow.Context, _ any) (bool, error) {
		return workflow.WaitForExternalEvent[bool](ctx, "Approve").Await()
	}
	lookup := lookupOf(t, "Approval", approve)
	in := newInstance(t, lookup)
	in.step(started("Approval", nil))
	suspend := protocol.Event{Type: protocol.EventExecutionSuspended, Reason: "audit", EventID: "s1"}
	resume := protocol.Event{Type: protocol.EventExecutionResumed, Reason: "done", EventID: "r1"}
	wantEvents(t, in.step(suspend), protocol.EventExecutionSuspended)
	wantEvents(t, in.step(resume), protocol.EventExecutionResumed)
	if rec := in.step(suspend); rec != nil || in.rt.Status() != protocol.StatusRunning {
		t.Fatalf("copy of the suspend: record %v, status %s; want none and Running", rec, in.rt.Status())
	}
	replayed := replayInto(t, lookup, in.records)
	if rec, err := replayed.Step(in.now, []protocol.Event{suspend}); err != nil || rec != nil || replayed.Status() != protocol.StatusRunning {
		t.Fatalf("copy after replay: record %v, err %v, status %s; want none and Running", rec, err, replayed.Status())
	}
	// A new suspend (another ID) still works.
	wantEvents(t, in.step(protocol.Event{Type: protocol.EventExecutionSuspended, EventID: "s2"}), protocol.EventExecutionSuspended)
}
