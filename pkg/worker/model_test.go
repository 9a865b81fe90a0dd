package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func TestSubOrchestrations(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Double", func(_ context.Context, in int) (int, error) { return in * 2, nil }))
	must(t, workflow.Register(e.orch, "Child", func(ctx *workflow.Context, in int) (int, error) {
		if in < 0 {
			return 0, errors.New("negative input")
		}
		return workflow.CallActivity[int](ctx, "Double", in).Await()
	}))
	must(t, workflow.Register(e.orch, "Parent", func(ctx *workflow.Context, _ any) ([]string, error) {
		a, err := workflow.CallSubOrchestrator[int](ctx, "Child", 5).Await()
		if err != nil {
			return nil, err
		}
		b, err := workflow.CallSubOrchestrator[int](ctx, "Child", 7, workflow.WithSubInstanceID("chosen-child")).Await()
		if err != nil {
			return nil, err
		}
		_, err = workflow.CallSubOrchestrator[int](ctx, "Child", -1).Await()
		var se *workflow.SubOrchestrationError
		if !errors.As(err, &se) || se.Message != "negative input" || se.Name != "Child" {
			return nil, fmt.Errorf("child failure came back as %T %v", err, err)
		}
		_, err = workflow.CallSubOrchestrator[int](ctx, "NoSuchOrchestrator", 1).Await()
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("unknown child came back as %T %v", err, err)
		}
		free, err := workflow.StartOrchestration(ctx, "Child", 100, workflow.WithSubInstanceID("detached-child"))
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprint(a), fmt.Sprint(b), se.Message, free}, nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()
	id, err := e.client.Start(ctx, "Parent")
	must(t, err)
	st := e.wait(id)
	var out []string
	if err := json.Unmarshal(st.Output, &out); err != nil || st.RuntimeStatus != protocol.StatusCompleted {
		t.Fatalf("parent: %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
	}
	if out[0] != "10" || out[1] != "14" || out[3] != "detached-child" {
		t.Fatalf("parent output %q", out)
	}
	if chosen := e.wait("chosen-child"); string(chosen.Output) != "14" {
		t.Fatalf("chosen-child output %s", chosen.Output)
	}
	if free := e.wait("detached-child"); string(free.Output) != "200" {
		t.Fatalf("detached child output %s", free.Output)
	}
}

func TestSendEventBetweenInstances(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	must(t, workflow.Register(e.orch, "Sender", func(ctx *workflow.Context, target string) (string, error) {
		return "sent", workflow.SendEvent(ctx, target, "go", "from sender")
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	rid, err := e.client.Start(ctx, "WaitEvent", client.WithInstanceID("receiver"))
	must(t, err)
	e.waitStatus(rid, "Running")
	sid, err := e.client.Start(ctx, "Sender", client.WithInput("receiver"))
	must(t, err)
	e.wait(sid)
	if st := e.wait(rid); string(st.Output) != `"from sender"` {
		t.Fatalf("receiver output %s", st.Output)
	}
}

// counter counts events "add" with continue-as-new after each, keeping
// events that arrived meanwhile, until it reaches the target.
func counter(ctx *workflow.Context, state [2]int) (int, error) {
	count, target := state[0], state[1]
	if count >= target {
		return count, nil
	}
	n, err := workflow.WaitForExternalEvent[int](ctx, "add").Await()
	if err != nil {
		return 0, err
	}
	if err := ctx.SetCustomStatus(count + n); err != nil {
		return 0, err
	}
	return 0, workflow.ContinueAsNew(ctx, [2]int{count + n, target}, workflow.KeepUnprocessedEvents())
}

func TestContinueAsNewKeepsEventsAndBoundsHistory(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Counter", counter))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	const events = 30
	id, err := e.client.Start(ctx, "Counter", client.WithInput([2]int{0, events}))
	must(t, err)
	// Raise every event at once: most arrive while an execution is ending
	// or starting, and must carry over, never be lost.
	for i := 0; i < events; i++ {
		must(t, e.client.RaiseEvent(ctx, id, "add", json.RawMessage("1")))
	}
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != fmt.Sprint(events) {
		t.Fatalf("got %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
	}
	h, err := e.hub.ReadHistory(ctx, id)
	must(t, err)
	if len(h.Records) > 2 {
		t.Fatalf("history of the last execution has %d records; continue-as-new should keep it small", len(h.Records))
	}
	if n := countEvents(t, e, id, protocol.EventExecutionStarted); n != 1 {
		t.Fatalf("%d ExecutionStarted in history, want 1", n)
	}
}

func TestContinueAsNewLoopWithTimersStaysCorrect(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Ticker", func(ctx *workflow.Context, n int) (int, error) {
		if n == 0 {
			return 0, nil
		}
		if err := workflow.CreateTimer(ctx, 10*time.Millisecond).Await(); err != nil {
			return 0, err
		}
		return 0, workflow.ContinueAsNew(ctx, n-1)
	}))
	e.startOrchestrators(worker.OrchestratorConfig{CacheSize: 1})
	id, err := e.client.Start(context.Background(), "Ticker", client.WithInput(20))
	must(t, err)
	testnats.Eventually(t, 30*time.Second, func() error {
		st, err := e.client.Status(context.Background(), id)
		if err != nil {
			return err
		}
		if st.RuntimeStatus != protocol.StatusCompleted {
			return fmt.Errorf("status %s", st.RuntimeStatus)
		}
		return nil
	})
}

func TestShortTimersFireOnTime(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "Nap", func(ctx *workflow.Context, ms int) (int64, error) {
		start := ctx.Now()
		for i := 0; i < 5; i++ {
			if err := workflow.CreateTimer(ctx, time.Duration(ms)*time.Millisecond).Await(); err != nil {
				return 0, err
			}
		}
		return ctx.Now().Sub(start).Milliseconds(), nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	id, err := e.client.Start(context.Background(), "Nap", client.WithInput(20))
	must(t, err)
	st := e.wait(id)
	var elapsed int64
	must(t, json.Unmarshal(st.Output, &elapsed))
	// Five 20 ms timers: never early, and far from JetStream's ~250 ms floor
	// per timer (a generous bound for a loaded machine).
	if elapsed < 100 || elapsed > 1000 {
		t.Fatalf("five 20 ms timers took %d ms in virtual time", elapsed)
	}
}

func TestRecursiveTerminateAndPurgeReachSubOrchestrations(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "WaitEvent", waitEvent))
	must(t, workflow.Register(e.orch, "Middle", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallSubOrchestrator[string](ctx, "WaitEvent", nil, workflow.WithSubInstanceID("leaf")).Await()
	}))
	must(t, workflow.Register(e.orch, "Top", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallSubOrchestrator[string](ctx, "Middle", nil, workflow.WithSubInstanceID("middle")).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "Top", client.WithInstanceID("top"))
	must(t, err)
	e.waitStatus("leaf", "Running")
	if _, err := e.client.PurgeRecursive(ctx, id); !errors.Is(err, client.ErrNotFinished) {
		t.Fatalf("recursive purge of a running tree: %v, want ErrNotFinished", err)
	}
	must(t, e.client.TerminateRecursive(ctx, id, "cleanup"))
	for _, x := range []string{"top", "middle", "leaf"} {
		if st := e.wait(x); st.RuntimeStatus != protocol.StatusTerminated {
			t.Fatalf("%s is %s, want Terminated", x, st.RuntimeStatus)
		}
	}
	n, err := e.client.PurgeRecursive(ctx, id)
	must(t, err)
	if n != 3 {
		t.Fatalf("purged %d instances, want 3", n)
	}
	for _, x := range []string{"top", "middle", "leaf"} {
		if _, err := e.client.Status(ctx, x); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("%s after recursive purge: %v", x, err)
		}
	}
}
