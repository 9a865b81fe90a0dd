package worker_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

// orderV1 calls "Old", then waits for "go".
func orderV1(ctx *workflow.Context, _ any) (string, error) {
	a, err := workflow.CallActivity[string](ctx, "Old", nil).Await()
	if err != nil {
		return "", err
	}
	_, err = workflow.WaitForExternalEvent[any](ctx, "go").Await()
	return a + "@" + ctx.Version(), err
}

// orderV2 replaces "Old" by "New" behind a patch.
func orderV2(ctx *workflow.Context, _ any) (string, error) {
	step := "Old"
	if ctx.IsPatched("use-new") {
		step = "New"
	}
	a, err := workflow.CallActivity[string](ctx, step, nil).Await()
	if err != nil {
		return "", err
	}
	_, err = workflow.WaitForExternalEvent[any](ctx, "go").Await()
	return a + "@" + ctx.Version(), err
}

// orderV2Unpatched replaces "Old" by "New" without a patch.
func orderV2Unpatched(ctx *workflow.Context, _ any) (string, error) {
	a, err := workflow.CallActivity[string](ctx, "New", nil).Await()
	if err != nil {
		return "", err
	}
	_, err = workflow.WaitForExternalEvent[any](ctx, "go").Await()
	return a, err
}

func TestPatchedCodeKeepsRunningInstancesOnTheirPath(t *testing.T) {
	cases := []struct {
		name      string
		v2        func(*workflow.Context, any) (string, error)
		oldOutput string // of the instance started on v1
		oldStatus protocol.RuntimeStatus
	}{
		{"patched", orderV2, `"old@1"`, protocol.StatusCompleted},
		{"unpatched change fails as non-deterministic", orderV2Unpatched, "", protocol.StatusFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			must(t, activity.Register(e.acts, "Old", func(context.Context, any) (string, error) { return "old", nil }))
			must(t, activity.Register(e.acts, "New", func(context.Context, any) (string, error) { return "new", nil }))
			e.startActivities()
			must(t, workflow.Register(e.orch, "Order", orderV1, workflow.WithVersion("1")))
			stopV1 := e.startOrchestrators(worker.OrchestratorConfig{})
			ctx := context.Background()
			old, err := e.client.Start(ctx, "Order")
			must(t, err)
			waitEventCount(t, e, old, protocol.EventTaskCompleted, 1)
			stopV1()

			// Deploy v2: a new registry, a new worker.
			e.orch = workflow.NewRegistry()
			must(t, workflow.Register(e.orch, "Order", tc.v2, workflow.WithVersion("2")))
			e.startOrchestrators(worker.OrchestratorConfig{})
			fresh, err := e.client.Start(ctx, "Order")
			must(t, err)
			for _, id := range []string{old, fresh} {
				must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage("true")))
			}
			st := e.wait(old)
			if st.RuntimeStatus != tc.oldStatus || (tc.oldOutput != "" && string(st.Output) != tc.oldOutput) {
				t.Fatalf("instance started on v1: %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
			}
			if tc.oldStatus == protocol.StatusFailed && (st.Failure == nil || st.Failure.Type != "NonDeterminismError") {
				t.Fatalf("failure %+v, want a NonDeterminismError", st.Failure)
			}
			if st := e.wait(fresh); tc.oldStatus == protocol.StatusCompleted && string(st.Output) != `"new@2"` {
				t.Fatalf("instance started on v2: %s %s", st.RuntimeStatus, st.Output)
			}
		})
	}
}

func TestWorkerLeavesUnsupportedVersionsToOthers(t *testing.T) {
	e := newEnv(t)
	must(t, activity.Register(e.acts, "Old", func(context.Context, any) (string, error) { return "old", nil }))
	e.startActivities()
	must(t, workflow.Register(e.orch, "Order", orderV1, workflow.WithVersion("1")))
	stopV1 := e.startOrchestrators(worker.OrchestratorConfig{})
	ctx := context.Background()
	id, err := e.client.Start(ctx, "Order")
	must(t, err)
	waitEventCount(t, e, id, protocol.EventTaskCompleted, 1)
	stopV1()

	// A v2-only worker must not run the v1 instance; a v1 worker, started
	// beside it, must.
	e.orch = workflow.NewRegistry()
	must(t, workflow.Register(e.orch, "Order", orderV2Unpatched, workflow.WithVersion("2"), workflow.WithSupportedVersions()))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.orch = workflow.NewRegistry()
	must(t, workflow.Register(e.orch, "Order", orderV1, workflow.WithVersion("1")))
	e.startOrchestrators(worker.OrchestratorConfig{})
	must(t, e.client.RaiseEvent(ctx, id, "go", json.RawMessage("true")))
	if st := e.wait(id); st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != `"old@1"` {
		t.Fatalf("v1 instance: %s %s %+v", st.RuntimeStatus, st.Output, st.Failure)
	}
}

// waitEventCount polls until the instance's history has n events of typ.
func waitEventCount(t *testing.T, e *env, id string, typ protocol.EventType, n int) {
	t.Helper()
	e.waitFor(func() bool { return countEvents(t, e, id, typ) >= n })
}
