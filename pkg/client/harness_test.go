package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newHub opens a task hub on a real embedded nats-server.
func newHub(t testing.TB) (*jetstream.Hub, *client.Client) {
	t.Helper()
	hub := testnats.Hub(t, jetstream.Config{Name: "client", Logger: quietLogger()})
	return hub, client.New(hub)
}

// runWorkers runs an orchestrator worker hosting WaitEvent (returns the
// data of event "go") and Echo (returns its input) until the test ends.
func runWorkers(t *testing.T, hub *jetstream.Hub) {
	t.Helper()
	orch := workflow.NewRegistry()
	must(t, workflow.Register(orch, "WaitEvent", func(ctx *workflow.Context, _ any) (json.RawMessage, error) {
		return workflow.WaitForExternalEvent[json.RawMessage](ctx, "go").Await()
	}))
	must(t, workflow.Register(orch, "Echo", func(_ *workflow.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	w := worker.NewOrchestratorWorker(hub, orch, worker.OrchestratorConfig{Logger: quietLogger()})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	select {
	case <-w.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("worker not ready")
	}
}
