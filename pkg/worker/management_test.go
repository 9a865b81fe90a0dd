package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	njs "github.com/nats-io/nats.go/jetstream"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func countEvents(t *testing.T, e *env, id string, typ protocol.EventType) int {
	t.Helper()
	h, err := e.hub.ReadHistory(context.Background(), id)
	must(t, err)
	n := 0
	for _, r := range h.Records {
		for _, ev := range r.Events {
			if ev.Type == typ {
				n++
			}
		}
	}
	return n
}

// waitEvent is an orchestrator that returns the data of event "go".
func waitEvent(ctx *workflow.Context, _ any) (string, error) {
	return workflow.WaitForExternalEvent[string](ctx, "go").Await()
}

func TestSuspendedInstanceKeepsEventsUntilResumed(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()

	id, err := e.client.Start(ctx, "WaitEvent")
	must(t, err)
	e.waitStatus(id, "Running")
	must(t, e.client.Suspend(ctx, id, "maintenance"))
	e.waitStatus(id, "Suspended")
	must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage(`"hello"`)))

	// The event is recorded in history but not processed while suspended.
	testnats.Eventually(t, 10*time.Second, func() error {
		if n := countEvents(t, e, id, protocol.EventEventRaised); n != 1 {
			return fmt.Errorf("%d EventRaised in history", n)
		}
		return nil
	})
	st, err := e.client.Status(ctx, id)
	must(t, err)
	if st.RuntimeStatus != protocol.StatusSuspended {
		t.Fatalf("status %s after event while suspended, want Suspended", st.RuntimeStatus)
	}

	must(t, e.client.Resume(ctx, id, "done"))
	st = e.wait(id)
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != `"hello"` {
		t.Fatalf("got %s %s, want Completed \"hello\"", st.RuntimeStatus, st.Output)
	}
}

func TestTerminateStopsInstanceAndCancelsTimers(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "LongTimer", func(ctx *workflow.Context, _ any) (string, error) {
		return "timer fired", workflow.CreateTimer(ctx, time.Hour).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()

	id, err := e.client.Start(ctx, "LongTimer")
	must(t, err)
	testnats.Eventually(t, 10*time.Second, func() error {
		if n, err := e.hub.PendingTimers(ctx, id); err != nil || n != 1 {
			return fmt.Errorf("%d pending timers (%v)", n, err)
		}
		return nil
	})
	must(t, e.client.Terminate(ctx, id, "no longer needed"))
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusTerminated || string(st.Output) != `"no longer needed"` {
		t.Fatalf("got %s %s, want Terminated with the reason", st.RuntimeStatus, st.Output)
	}
	testnats.Eventually(t, 10*time.Second, func() error {
		if n, err := e.hub.PendingTimers(ctx, id); err != nil || n != 0 {
			return fmt.Errorf("%d pending timers (%v)", n, err)
		}
		return nil
	})
	if err := e.client.Terminate(ctx, id, "again"); !errors.Is(err, client.ErrFinished) {
		t.Fatalf("terminate of a terminated instance: %v, want ErrFinished", err)
	}
}

func TestRewindRerunsFailedActivity(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	must(t, activity.Register(e.acts, "Flaky", func(_ context.Context, in int) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errors.New("database unavailable")
		}
		return in * 2, nil
	}))
	must(t, activity.Register(e.acts, "Double", func(_ context.Context, in int) (int, error) { return in * 2, nil }))
	must(t, workflow.Register(e.orch, "TwoSteps", func(ctx *workflow.Context, in int) (int, error) {
		a, err := workflow.CallActivity[int](ctx, "Double", in).Await()
		if err != nil {
			return 0, err
		}
		return workflow.CallActivity[int](ctx, "Flaky", a).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()

	id, err := e.client.Start(ctx, "TwoSteps", client.WithInput(5))
	must(t, err)
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || st.Failure.Message == "" {
		t.Fatalf("got %s %+v, want Failed with a message", st.RuntimeStatus, st.Failure)
	}
	if err := e.client.Rewind(ctx, id, "database is back"); err != nil {
		t.Fatal(err)
	}
	testnats.Eventually(t, 20*time.Second, func() error {
		st, err := e.client.Status(ctx, id)
		if err != nil {
			return err
		}
		if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != "20" {
			return fmt.Errorf("status %s output %s", st.RuntimeStatus, st.Output)
		}
		return nil
	})
	if n := calls.Load(); n != 2 {
		t.Fatalf("Flaky ran %d times, want 2", n)
	}
	if err := e.client.Rewind(ctx, id, "again"); !errors.Is(err, client.ErrFinished) {
		t.Fatalf("rewind of a completed instance: %v, want ErrFinished", err)
	}
}

func TestRestartRunsAgainWithOriginalInput(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Double", func(_ context.Context, in int) (int, error) { return in * 2, nil }))
	must(t, workflow.Register(e.orch, "Double", func(ctx *workflow.Context, in int) (int, error) {
		return workflow.CallActivity[int](ctx, "Double", in).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()

	id, err := e.client.Start(ctx, "Double", client.WithInput(21), client.WithInstanceID("restart-me"))
	must(t, err)
	first := e.wait(id)

	newID, err := e.client.Restart(ctx, id, true)
	must(t, err)
	if newID == id {
		t.Fatalf("restart with a new ID kept %s", id)
	}
	if st := e.wait(newID); string(st.Output) != "42" || string(st.Input) != "21" {
		t.Fatalf("restarted instance: input %s output %s, want 21 and 42", st.Input, st.Output)
	}

	sameID, err := e.client.Restart(ctx, id, false)
	must(t, err)
	if sameID != id {
		t.Fatalf("restart under the same ID gave %s", sameID)
	}
	second := e.wait(id)
	if string(second.Output) != "42" || !second.CreatedAt.After(first.CreatedAt) {
		t.Fatalf("second run: output %s created %v (first %v)", second.Output, second.CreatedAt, first.CreatedAt)
	}
	if n := countEvents(t, e, id, protocol.EventExecutionStarted); n != 1 {
		t.Fatalf("history of the restarted ID has %d ExecutionStarted, want 1 (old history purged)", n)
	}
}

func TestPurgeDeletesOnlyFinishedInstances(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()

	id, err := e.client.Start(ctx, "WaitEvent")
	must(t, err)
	e.waitStatus(id, "Running")
	if err := e.client.Purge(ctx, id); !errors.Is(err, client.ErrNotFinished) {
		t.Fatalf("purge of a running instance: %v, want ErrNotFinished", err)
	}
	must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage(`"x"`)))
	e.wait(id)
	must(t, e.client.Purge(ctx, id))
	if _, err := e.client.Status(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("status after purge: %v, want ErrNotFound", err)
	}
	h, err := e.hub.ReadHistory(ctx, id)
	must(t, err)
	if len(h.Records) != 0 {
		t.Fatalf("history after purge has %d records", len(h.Records))
	}
}

func TestStartingRunningIDFailsAndFinishedIDIsReused(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()

	_, err := e.client.Start(ctx, "WaitEvent", client.WithInstanceID("order-1"))
	must(t, err)
	if _, err := e.client.Start(ctx, "WaitEvent", client.WithInstanceID("order-1")); !errors.Is(err, client.ErrInstanceExists) {
		t.Fatalf("second start of a running ID: %v, want ErrInstanceExists", err)
	}
	e.waitStatus("order-1", "Running")
	must(t, e.client.RaiseEvent(ctx, "order-1", "go", json.RawMessage(`"first"`)))
	e.wait("order-1")

	_, err = e.client.Start(ctx, "WaitEvent", client.WithInstanceID("order-1"))
	must(t, err)
	e.waitStatus("order-1", "Running")
	must(t, e.client.RaiseEvent(ctx, "order-1", "go", json.RawMessage(`"second"`)))
	if st := e.wait("order-1"); string(st.Output) != `"second"` {
		t.Fatalf("reused ID output %s, want \"second\"", st.Output)
	}
}

func TestCacheOfOneInstanceGivesCorrectResults(t *testing.T) {
	for _, size := range []int{1, 10000} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) {
			e := newEnv(t)
			must(t, activity.Register(e.acts, "Inc", func(_ context.Context, in int) (int, error) { return in + 1, nil }))
			must(t, workflow.Register(e.orch, "Count", func(ctx *workflow.Context, n int) (int, error) {
				v := 0
				for i := 0; i < n; i++ {
					var err error
					if v, err = workflow.CallActivity[int](ctx, "Inc", v).Await(); err != nil {
						return 0, err
					}
				}
				return v, nil
			}))
			e.startOrchestrators(worker.OrchestratorConfig{CacheSize: size})
			e.startActivities()
			ctx := context.Background()
			ids := make([]string, 20)
			for i := range ids {
				id, err := e.client.Start(ctx, "Count", client.WithInput(i%7))
				must(t, err)
				ids[i] = id
			}
			for i, id := range ids {
				if st := e.wait(id); string(st.Output) != fmt.Sprint(i%7) {
					t.Fatalf("instance %d: %s %s, want %d", i, st.RuntimeStatus, st.Output, i%7)
				}
				if n := countEvents(t, e, id, protocol.EventTaskCompleted); n != i%7 {
					t.Fatalf("instance %d has %d TaskCompleted, want %d", i, n, i%7)
				}
			}
		})
	}
}

func TestTwoOrchestratorWorkersShareInstances(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Inc", func(_ context.Context, in int) (int, error) { return in + 1, nil }))
	must(t, workflow.Register(e.orch, "FanOut", func(ctx *workflow.Context, n int) (int, error) {
		tasks := make([]workflow.Task[int], n)
		all := make([]workflow.Awaitable, n)
		for i := range tasks {
			tasks[i] = workflow.CallActivity[int](ctx, "Inc", i)
			all[i] = tasks[i]
		}
		if err := workflow.All(ctx, all...); err != nil {
			return 0, err
		}
		sum := 0
		for _, t := range tasks {
			v, _ := t.Await()
			sum += v
		}
		return sum, nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{CacheSize: 5})
	e.startOrchestrators(worker.OrchestratorConfig{CacheSize: 5})
	e.startActivities()
	ctx := context.Background()
	ids := make([]string, 30)
	for i := range ids {
		id, err := e.client.Start(ctx, "FanOut", client.WithInput(20))
		must(t, err)
		ids[i] = id
	}
	for _, id := range ids {
		if st := e.wait(id); string(st.Output) != "210" {
			t.Fatalf("%s: %s %s, want 210", id, st.RuntimeStatus, st.Output)
		}
		if n := countEvents(t, e, id, protocol.EventTaskCompleted); n != 20 {
			t.Fatalf("%s has %d TaskCompleted, want 20", id, n)
		}
	}
}

func TestInstancesMoveToRemainingWorkerWhenOneStops(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	stopA := e.startOrchestrators(worker.OrchestratorConfig{})
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	ids := make([]string, 40)
	for i := range ids {
		id, err := e.client.Start(ctx, "WaitEvent")
		must(t, err)
		ids[i] = id
	}
	for _, id := range ids {
		e.waitStatus(id, "Running")
	}
	stopA()
	for i, id := range ids {
		must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage(fmt.Sprintf(`"%d"`, i))))
	}
	for i, id := range ids {
		if st := e.wait(id); string(st.Output) != fmt.Sprintf(`"%d"`, i) {
			t.Fatalf("%s: %s %s", id, st.RuntimeStatus, st.Output)
		}
	}
}

func TestScheduledStartWaitsAndCanBeTerminated(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Now", func(ctx *workflow.Context, _ any) (time.Time, error) {
		return ctx.Now(), nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	at := time.Now().Add(time.Second).UTC()
	id, err := e.client.Start(ctx, "Now", client.WithStartAt(at))
	must(t, err)
	later, err := e.client.Start(ctx, "Now", client.WithStartAt(time.Now().Add(time.Hour)))
	must(t, err)
	testnats.Eventually(t, 10*time.Second, func() error {
		if n, err := e.hub.PendingTimers(ctx, later); err != nil || n != 1 {
			return fmt.Errorf("%d start timers (%v)", n, err)
		}
		return nil
	})
	if st, err := e.client.Status(ctx, later); err != nil || st.RuntimeStatus != protocol.StatusPending {
		t.Fatalf("scheduled instance: %v %v, want Pending", st, err)
	}
	st := e.wait(id)
	var ran time.Time
	must(t, json.Unmarshal(st.Output, &ran))
	if ran.Before(at) {
		t.Fatalf("ran at %v, before its start time %v", ran, at)
	}
	must(t, e.client.Terminate(ctx, later, "not needed"))
	if st := e.wait(later); st.RuntimeStatus != protocol.StatusTerminated {
		t.Fatalf("terminated scheduled instance is %s", st.RuntimeStatus)
	}
	testnats.Eventually(t, 10*time.Second, func() error {
		if n, err := e.hub.PendingTimers(ctx, later); err != nil || n != 0 {
			return fmt.Errorf("%d start timers left (%v)", n, err)
		}
		return nil
	})
}

func TestIDReuseCanBeRefused(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Now", func(ctx *workflow.Context, _ any) (time.Time, error) {
		return ctx.Now(), nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "Now", client.WithInstanceID("once-only"))
	must(t, err)
	e.wait(id)
	if _, err := e.client.Start(ctx, "Now", client.WithInstanceID("once-only"), client.WithoutIDReuse()); !errors.Is(err, client.ErrInstanceExists) {
		t.Fatalf("reuse with WithoutIDReuse: %v, want ErrInstanceExists", err)
	}
	must(t, e.client.Purge(ctx, id))
	if _, err := e.client.Start(ctx, "Now", client.WithInstanceID("once-only"), client.WithoutIDReuse()); err != nil {
		t.Fatalf("start of a purged ID: %v", err)
	}
}

// orphan leaves an instance as a client that stored its state a minute ago
// and died before sending its start (to start at startAt, if not zero).
func (e *env) orphan(id, name string, startAt time.Time) {
	e.t.Helper()
	created := time.Now().Add(-time.Minute).UTC()
	st := &protocol.InstanceState{InstanceID: id, Name: name, ExecutionID: "exec-1",
		Status: protocol.StatusPending, CreatedAt: created, UpdatedAt: created, StartAt: startAt}
	eff := e.hub.NewEffects()
	ctx := context.Background()
	if _, err := e.hub.ClaimInstance(ctx, st, eff); err != nil {
		e.t.Fatal(err)
	}
	if _, err := eff.Send(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func TestStartLostByACrashedClientIsSentAgain(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	ctx := context.Background()
	e.orphan("orphan", "WaitEvent", time.Time{})
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.waitStatus("orphan", "Running")
	must(t, e.client.RaiseEvent(ctx, "orphan", "go", json.RawMessage(`"found"`)))
	if st := e.wait("orphan"); string(st.Output) != `"found"` {
		t.Fatalf("orphan: %s %s", st.RuntimeStatus, st.Output)
	}
}

// TestRaisedEventCountsOnceWhateverTheCopies: a raised event delivered
// twice (a worker died between committing it and acknowledging it, or a
// caller retried with the same event ID) is applied once.
func TestRaisedEventCountsOnceWhateverTheCopies(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "SumTwo", func(ctx *workflow.Context, _ any) (int, error) {
		sum := 0
		for range 2 {
			v, err := workflow.WaitForExternalEvent[int](ctx, "add").Await()
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "SumTwo")
	must(t, err)
	e.waitStatus(id, "Running")

	// Two copies of one message in the inbox, as a redelivery leaves them
	// (different message IDs, so that JetStream keeps both).
	item := &protocol.WorkItem{InstanceID: id, Event: protocol.Event{
		Type: protocol.EventEventRaised, Time: time.Now().UTC(), Name: "add", Input: []byte("1"), EventID: "copied"}}
	must(t, e.hub.SendWork(ctx, item, "copy-1"))
	must(t, e.hub.SendWork(ctx, item, "copy-2"))
	// A caller retrying with its own event ID.
	must(t, e.client.RaiseEvent(ctx, id, "add", json.RawMessage("10"), client.WithEventID("retried")))
	must(t, e.client.RaiseEvent(ctx, id, "add", json.RawMessage("10"), client.WithEventID("retried")))
	if st := e.wait(id); string(st.Output) != "11" {
		t.Fatalf("output %s %s, want 11 (1 once, 10 once)", st.RuntimeStatus, st.Output)
	}
	if err := e.client.RaiseEvent(ctx, id, "add", json.RawMessage("1"), client.WithEventID("bad.id")); !errors.Is(err, protocol.ErrInvalidName) {
		t.Fatalf("event ID with a dot: %v, want ErrInvalidName", err)
	}
}

// TestMessagesTakenByADeadWorkerAreReclaimed: a worker that died holding
// a message (taken, never acknowledged) does not make the instance wait for
// the inbox's 15 s ack wait: the worker that takes the partition over
// reclaims the message at once.
func TestMessagesTakenByADeadWorkerAreReclaimed(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	stop := e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "WaitEvent")
	must(t, err)
	e.waitStatus(id, "Running")
	stop()

	// The "dead worker": it takes the event from the partition and dies
	// without acknowledging it.
	must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage(`"reclaimed"`)))
	c, err := e.hub.InboxConsumer(ctx, e.hub.PartitionOf(id))
	must(t, err)
	batch, err := c.Fetch(1, njs.FetchMaxWait(5*time.Second))
	must(t, err)
	taken := 0
	for range batch.Messages() {
		taken++
	}
	if taken != 1 {
		t.Fatalf("took %d messages from the partition, want the event (%v)", taken, batch.Error())
	}

	e.startOrchestrators(worker.OrchestratorConfig{})
	// Well under the 15 s ack wait, after which the message would come back
	// by itself.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := e.client.WaitForCompletion(wctx, id)
	if err != nil {
		t.Fatalf("instance still waiting for the event the dead worker took: %v", err)
	}
	if string(st.Output) != `"reclaimed"` {
		t.Fatalf("output %s %s", st.RuntimeStatus, st.Output)
	}
}

// TestMessagesOfAWorkerDeadButNotYetExpiredAreReclaimed: a worker killed a
// moment ago still counts as live until its heartbeat expires, so a worker
// starting now shares the partitions with it; once it expires, every
// message it had taken comes back at once, whether its partition went to
// the new worker at the start or only when the dead one expired.
func TestMessagesOfAWorkerDeadButNotYetExpiredAreReclaimed(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	stop := e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	// One instance in every partition.
	ids := map[int]string{}
	for n := 0; len(ids) < e.hub.Partitions(); n++ {
		id := fmt.Sprintf("held-%d", n)
		if _, ok := ids[e.hub.PartitionOf(id)]; !ok {
			ids[e.hub.PartitionOf(id)] = id
			_, err := e.client.Start(ctx, "WaitEvent", client.WithInstanceID(id))
			must(t, err)
		}
	}
	for _, id := range ids {
		e.waitStatus(id, "Running")
	}
	stop()

	// The "dead worker": its last heartbeat is fresh, and it has taken every
	// instance's event without acknowledging it.
	must(t, e.hub.Heartbeat(ctx, "dead-worker"))
	for p, id := range ids {
		must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage(`"reclaimed"`)))
		c, err := e.hub.InboxConsumer(ctx, p)
		must(t, err)
		batch, err := c.Fetch(1, njs.FetchMaxWait(5*time.Second))
		must(t, err)
		for range batch.Messages() {
		}
	}
	taken := time.Now()

	e.startOrchestrators(worker.OrchestratorConfig{})
	// The dead worker expires jetstream.WorkerTTL after the new worker first
	// sees it; without reclaiming, the events would come back only after the
	// ack wait, counted from when they were taken.
	deadline := taken.Add(jetstream.InboxAckWait - 2*time.Second)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for _, id := range ids {
		st, err := e.client.WaitForCompletion(wctx, id)
		if err != nil {
			t.Fatalf("%s still waits for the event the dead worker took (%v after it took it): %v", id, time.Since(taken).Round(time.Millisecond), err)
		}
		if string(st.Output) != `"reclaimed"` {
			t.Fatalf("%s: output %s %s", id, st.RuntimeStatus, st.Output)
		}
	}
}

// TestScheduledStartLostByACrashedClientKeepsItsTime: the start sent again
// for a scheduled instance whose client died is still held to its time.
func TestScheduledStartLostByACrashedClientKeepsItsTime(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "StartedAt", func(ctx *workflow.Context, _ any) (time.Time, error) {
		return ctx.Now(), nil
	}))
	startAt := time.Now().Add(2 * time.Second).UTC()
	e.orphan("late-orphan", "StartedAt", startAt)
	e.startOrchestrators(worker.OrchestratorConfig{})
	done := e.wait("late-orphan")
	var began time.Time
	if err := json.Unmarshal(done.Output, &began); err != nil {
		t.Fatalf("output %s: %v", done.Output, err)
	}
	if began.Before(startAt) {
		t.Fatalf("started at %s, %v before its scheduled time", began.Format(time.RFC3339Nano), startAt.Sub(began))
	}
}

func TestRecurringScheduleStartsInstancesUntilDeleted(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Tick", func(ctx *workflow.Context, in string) (string, error) {
		return in + " at " + ctx.Now().Format(time.RFC3339), nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	if err := e.client.CreateSchedule(ctx, "ticker", "@every 0.5s", "Tick", "tick"); !errors.Is(err, jetstream.ErrBadSchedule) {
		t.Fatalf("sub-second schedule: %v, want ErrBadSchedule", err)
	}
	must(t, e.client.CreateSchedule(ctx, "ticker", "@every 1s", "Tick", "tick"))
	list, err := e.client.Schedules(ctx)
	must(t, err)
	if len(list) != 1 || list[0].Name != "ticker" || list[0].Spec != "@every 1s" || list[0].Orchestrator != "Tick" {
		t.Fatalf("schedules: %+v", list)
	}
	// Two occurrences, each a completed instance named after its time.
	var done []string
	testnats.Eventually(t, 15*time.Second, func() error {
		done = done[:0]
		for st, err := range e.client.Instances(ctx, client.Query{IDPrefix: "ticker-", Statuses: []protocol.RuntimeStatus{protocol.StatusCompleted}}) {
			if err != nil {
				return err
			}
			if !strings.HasPrefix(string(st.Output), `"tick at `) {
				return fmt.Errorf("%s output %s", st.InstanceID, st.Output)
			}
			done = append(done, st.InstanceID)
		}
		if len(done) < 2 {
			return fmt.Errorf("%d scheduled instances completed", len(done))
		}
		return nil
	})
	must(t, e.client.DeleteSchedule(ctx, "ticker"))
	if list, err := e.client.Schedules(ctx); err != nil || len(list) != 0 {
		t.Fatalf("schedules after delete: %+v %v", list, err)
	}
}
