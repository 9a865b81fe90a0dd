package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/nats-io/nats-server/v2/server"
)

// env is a hub on a real embedded nats-server with in-process workers.
type env struct {
	t      testing.TB
	srv    *server.Server
	hub    *jetstream.Hub
	client *client.Client
	orch   *workflow.Registry
	acts   *activity.Registry
	wg     sync.WaitGroup
	cancel []context.CancelFunc
}

func newEnv(t testing.TB) *env {
	return newEnvWith(t, jetstream.Config{})
}

// newEnvWith is newEnv with hub settings; name, lease and logger are set here.
func newEnvWith(t testing.TB, cfg jetstream.Config) *env {
	t.Helper()
	srv := testnats.Server(t)
	nc := testnats.Connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.Name, cfg.ActivityLease, cfg.Logger = "test", 5*time.Second, quietLogger()
	hub, err := jetstream.Open(ctx, nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, hub: hub, client: client.New(hub), orch: workflow.NewRegistry(), acts: activity.NewRegistry()}
	t.Cleanup(e.stop)
	return e
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{}

func (testWriter) Write(p []byte) (int, error) { return len(p), nil }

// startOrchestrators runs an orchestrator worker until the test ends or the
// returned stop is called.
func (e *env) startOrchestrators(cfg worker.OrchestratorConfig) (stop func()) {
	cfg.Logger = quietLogger()
	w := worker.NewOrchestratorWorker(e.hub, e.orch, cfg)
	return e.run(w.Run, w.Ready())
}

// startActivities runs an activity worker.
func (e *env) startActivities() (stop func()) {
	w := worker.NewActivityWorker(e.hub, e.acts, worker.ActivityConfig{Logger: quietLogger()})
	return e.run(w.Run, w.Ready())
}

// run runs a worker and waits until it is ready.
func (e *env) run(fn func(context.Context) error, ready <-chan struct{}) func() {
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
	select {
	case <-ready:
	case <-done:
		e.t.Fatal("worker stopped before it was ready")
	}
	stop := func() { cancel(); <-done }
	e.cancel = append(e.cancel, cancel)
	return stop
}

func (e *env) stop() {
	for _, c := range e.cancel {
		c()
	}
	e.wg.Wait()
}

// wait waits for the instance to finish.
func (e *env) wait(id string) *client.Status {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := e.client.WaitForCompletion(ctx, id)
	if err != nil {
		e.t.Fatalf("wait for %s: %v", id, err)
	}
	return st
}

// waitStatus polls until the instance has the status.
func (e *env) waitStatus(id string, want string) {
	e.t.Helper()
	testnats.Eventually(e.t, 10*time.Second, func() error {
		st, err := e.client.Status(context.Background(), id)
		if err != nil {
			return err
		}
		if string(st.RuntimeStatus) != want {
			return errors.New("status is " + string(st.RuntimeStatus) + ", want " + want)
		}
		return nil
	})
}

// waitCustomStatus polls until the instance shows the custom status.
func waitCustomStatus(t testing.TB, e *env, id, want string) {
	t.Helper()
	testnats.Eventually(t, 10*time.Second, func() error {
		st, err := e.client.Status(context.Background(), id)
		if err != nil {
			return err
		}
		if string(st.CustomStatus) != want {
			return errors.New("custom status is " + string(st.CustomStatus))
		}
		return nil
	})
}

// waitFor polls until cond holds.
func (e *env) waitFor(cond func() bool) {
	e.t.Helper()
	testnats.Eventually(e.t, 10*time.Second, func() error {
		if !cond() {
			return errors.New("condition not met")
		}
		return nil
	})
}
