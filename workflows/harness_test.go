package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
)

// env is a task hub on a real embedded nats-server, with an orchestrator
// worker and an activity worker in this process hosting the samples.
type env struct {
	t      testing.TB
	hub    *jetstream.Hub
	client *client.Client
	wg     sync.WaitGroup
	cancel []context.CancelFunc
}

// newEnv starts a server, a hub and the workers; jobStatus answers the
// Monitor's checks (nil: the simulated job system).
func newEnv(t testing.TB, jobStatus workflows.JobStatusCheck) *env {
	t.Helper()
	nc := testnats.Connect(t, testnats.Server(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: "samples", ActivityLease: 5 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, hub: hub, client: client.New(hub)}
	t.Cleanup(e.stop)

	orch := workflow.NewRegistry()
	must(t, workflows.RegisterOrchestrators(orch))
	acts := activity.NewRegistry()
	must(t, workflows.RegisterActivitiesWith(acts, jobStatus))
	ow := worker.NewOrchestratorWorker(hub, orch, worker.OrchestratorConfig{Logger: quietLogger()})
	e.run(ow.Run, ow.Ready())
	aw := worker.NewActivityWorker(hub, acts, worker.ActivityConfig{Logger: quietLogger()})
	e.run(aw.Run, aw.Ready())
	return e
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// run runs a worker until the test ends and waits until it is ready.
func (e *env) run(fn func(context.Context) error, ready <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("worker: %v", err)
		}
	}()
	e.cancel = append(e.cancel, cancel)
	select {
	case <-ready:
	case <-done:
		e.t.Fatal("worker stopped before it was ready")
	case <-time.After(workerDeadline):
		e.t.Fatalf("worker not ready after %v; goroutines:\n%s", workerDeadline, allStacks())
	}
}

// workerDeadline bounds how long a worker may take to get ready or to stop,
// so that a hang fails the test with the stacks instead of timing out.
const workerDeadline = 30 * time.Second

func (e *env) stop() {
	for _, c := range e.cancel {
		c()
	}
	stopped := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(workerDeadline):
		e.t.Errorf("workers still running %v after they were cancelled; goroutines:\n%s", workerDeadline, allStacks())
	}
}

// allStacks returns the stacks of every goroutine.
func allStacks() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

// httpAPI serves the HTTP API for the hub, guarded by key, until the test
// ends, and returns its base URL.
func (e *env) httpAPI(key string) string {
	srv := httptest.NewServer(httpapi.New(e.client, httpapi.Config{Key: key, Logger: quietLogger()}))
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// start starts an instance and fails the test if it cannot.
func (e *env) start(name string, input any) string {
	e.t.Helper()
	id, err := e.client.Start(context.Background(), name, client.WithInput(input))
	must(e.t, err)
	return id
}

// wait waits for the instance to finish and returns its final status.
func (e *env) wait(id string, timeout time.Duration) *client.Status {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := e.client.WaitForCompletion(ctx, id)
	if err != nil {
		e.t.Fatalf("wait for %s: %v", id, err)
	}
	return st
}

// completed waits for the instance and fails the test unless it completed
// with exactly the output want.
func (e *env) completed(id string, timeout time.Duration, want string) *client.Status {
	e.t.Helper()
	st := e.wait(id, timeout)
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != want {
		e.t.Fatalf("%s: got %s %s (failure %+v), want Completed %s", id, st.RuntimeStatus, st.Output, st.Failure, want)
	}
	return st
}

// history reads the instance's committed history records.
func (e *env) history(id string) []protocol.HistoryRecord {
	e.t.Helper()
	h, err := e.hub.ReadHistory(context.Background(), id)
	must(e.t, err)
	return h.Records
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
