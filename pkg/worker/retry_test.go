package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func TestRetryWaitsFollowThePolicyAndNonRetryableStops(t *testing.T) {
	policy := workflow.RetryPolicy{
		FirstRetryInterval: 100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaxRetryInterval:   300 * time.Millisecond,
		MaxAttempts:        5,
	}
	cases := []struct {
		name      string
		failures  int32 // attempts that fail before one succeeds
		permanent bool  // failures are marked non-retryable
		attempts  int32
		waits     []time.Duration
		output    string
		failed    bool
	}{
		{name: "succeeds on the fourth attempt", failures: 3, attempts: 4,
			waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, output: `"ok"`},
		{name: "gives up after MaxAttempts", failures: 99, attempts: 5,
			waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}, failed: true},
		{name: "non-retryable error stops at once", failures: 99, permanent: true, attempts: 1, failed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var calls atomic.Int32
			must(t, activity.Register(e.acts, "Unreliable", func(context.Context, any) (string, error) {
				if calls.Add(1) <= tc.failures {
					if tc.permanent {
						return "", activity.NonRetryable(errors.New("bad request"))
					}
					return "", errors.New("try later")
				}
				return "ok", nil
			}))
			must(t, workflow.Register(e.orch, "Retrying", func(ctx *workflow.Context, _ any) (string, error) {
				return workflow.CallActivityWithRetry[string](ctx, "Unreliable", policy, nil)
			}))
			e.startOrchestrators(worker.OrchestratorConfig{})
			e.startActivities()
			id, err := e.client.Start(context.Background(), "Retrying")
			must(t, err)
			st := e.wait(id)
			if tc.failed != (st.RuntimeStatus == protocol.StatusFailed) || (!tc.failed && string(st.Output) != tc.output) {
				t.Fatalf("got %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
			}
			if n := calls.Load(); n != tc.attempts {
				t.Fatalf("activity ran %d times, want %d", n, tc.attempts)
			}
			h, err := e.hub.ReadHistory(context.Background(), id)
			must(t, err)
			var waits []time.Duration
			for _, rec := range h.Records {
				for _, ev := range rec.Events {
					if ev.Type == protocol.EventTimerCreated {
						waits = append(waits, ev.FireAt.Sub(rec.Time))
					}
				}
			}
			if len(waits) != len(tc.waits) {
				t.Fatalf("history has retry waits %v, want %v", waits, tc.waits)
			}
			for i := range waits {
				if waits[i] != tc.waits[i] {
					t.Fatalf("history has retry waits %v, want %v", waits, tc.waits)
				}
			}
		})
	}
}

func TestWaitForExternalEventWithTimeout(t *testing.T) {
	e := newEnv(t)
	must(t, workflow.Register(e.orch, "TwoWaits", func(ctx *workflow.Context, _ any) ([]string, error) {
		// The first wait times out; the event raised afterwards must reach
		// the second wait, not the abandoned first one.
		_, err := workflow.WaitForExternalEventWithTimeout[string](ctx, "ping", 200*time.Millisecond)
		first := "event"
		if errors.Is(err, workflow.ErrTimeout) {
			first = "timeout"
		}
		if err := ctx.SetCustomStatus("waiting again"); err != nil {
			return nil, err
		}
		second, err := workflow.WaitForExternalEventWithTimeout[string](ctx, "ping", time.Minute)
		return []string{first, second}, err
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "TwoWaits")
	must(t, err)
	waitCustomStatus(t, e, id, `"waiting again"`)
	must(t, e.client.RaiseEvent(ctx, id, "ping", []byte(`"pong"`)))
	st := e.wait(id)
	if string(st.Output) != `["timeout","pong"]` {
		t.Fatalf("output %s, want [\"timeout\",\"pong\"]", st.Output)
	}
}
