package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func TestStartToCloseTimeoutFailsTheAttempt(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Slow", func(ctx context.Context, _ any) (string, error) {
		select {
		case <-time.After(time.Minute):
			return "too late", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	must(t, workflow.Register(e.orch, "CallSlow", func(ctx *workflow.Context, _ any) (string, error) {
		_, err := workflow.CallActivity[string](ctx, "Slow", nil, workflow.WithStartToCloseTimeout(300*time.Millisecond)).Await()
		var ae *workflow.ActivityError
		if errors.As(err, &ae) && ae.Type == "Timeout" {
			return "timed out", nil
		}
		return "", fmt.Errorf("want a Timeout ActivityError, got %T %v", err, err)
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	id, err := e.client.Start(context.Background(), "CallSlow")
	must(t, err)
	if st := e.wait(id); string(st.Output) != `"timed out"` {
		t.Fatalf("got %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
	}
}

func TestHeartbeatsKeepALongActivityOnItsWorker(t *testing.T) {
	e := newEnv(t)
	var runs atomic.Int32
	must(t, activity.Register(e.acts, "Long", func(ctx context.Context, _ any) (int, error) {
		runs.Add(1)
		// Three heartbeat timeouts long, heart-beating four times a timeout.
		for i := 0; i < 12; i++ {
			select {
			case <-time.After(100 * time.Millisecond):
				activity.Heartbeat(ctx)
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		info, _ := activity.GetInfo(ctx)
		return info.Attempt, nil
	}, activity.WithHeartbeatTimeout(400*time.Millisecond)))
	must(t, workflow.Register(e.orch, "CallLong", func(ctx *workflow.Context, _ any) (int, error) {
		return workflow.CallActivity[int](ctx, "Long", nil).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	e.startActivities()
	id, err := e.client.Start(context.Background(), "CallLong")
	must(t, err)
	if st := e.wait(id); string(st.Output) != "1" || runs.Load() != 1 {
		t.Fatalf("output %s (attempt), %d runs; want attempt 1 and one run", st.Output, runs.Load())
	}
}

func TestHungActivityIsRetriedAfterItsHeartbeatTimeout(t *testing.T) {
	e := newEnv(t)
	var runs atomic.Int32
	must(t, activity.Register(e.acts, "HangsOnce", func(ctx context.Context, _ any) (int, error) {
		runs.Add(1)
		info, _ := activity.GetInfo(ctx)
		if info.Attempt == 1 {
			<-ctx.Done() // hangs without heart-beating until given up
			return 0, ctx.Err()
		}
		return info.Attempt, nil
	}, activity.WithHeartbeatTimeout(300*time.Millisecond)))
	must(t, workflow.Register(e.orch, "CallHangs", func(ctx *workflow.Context, _ any) (int, error) {
		return workflow.CallActivity[int](ctx, "HangsOnce", nil).Await()
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	id, err := e.client.Start(context.Background(), "CallHangs")
	must(t, err)
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != "2" || runs.Load() != 2 {
		t.Fatalf("got %s output %s after %d runs; want the second attempt to complete", st.RuntimeStatus, st.Output, runs.Load())
	}
}

func TestCallingAnUnregisteredActivityFailsClearly(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Known", func(context.Context, any) (string, error) { return "ok", nil }))
	must(t, workflow.Register(e.orch, "Typo", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "Knwon", nil).Await()
	}))
	e.startActivities()
	e.startOrchestrators(worker.OrchestratorConfig{})
	id, err := e.client.Start(context.Background(), "Typo")
	must(t, err)
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || !strings.Contains(st.Failure.Message, `"Knwon" is not registered`) {
		t.Fatalf("got %s %+v, want a failure naming the unknown activity", st.RuntimeStatus, st.Failure)
	}
}
