package worker_test

import (
	"context"
	"sync"
	"testing"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

// BenchmarkSequenceOfFive runs instances that call five activities in turn,
// with in-process workers on an embedded server: a quick profile target.
// The bench program measures the real thing.
func BenchmarkSequenceOfFive(b *testing.B) {
	e := newEnv(b)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(activity.Register(e.acts, "Inc", func(_ context.Context, in int) (int, error) { return in + 1, nil }))
	must(workflow.Register(e.orch, "Five", func(ctx *workflow.Context, _ any) (int, error) {
		v := 0
		for i := 0; i < 5; i++ {
			var err error
			if v, err = workflow.CallActivity[int](ctx, "Inc", v).Await(); err != nil {
				return 0, err
			}
		}
		return v, nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := e.client.Start(ctx, "Five")
			if err != nil {
				b.Error(err)
				return
			}
			st, err := e.client.WaitForCompletion(ctx, id)
			if err != nil || string(st.Output) != "5" {
				b.Errorf("%s: %v %v", id, err, st)
			}
		}()
	}
	wg.Wait()
}
