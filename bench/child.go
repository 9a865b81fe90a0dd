package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/nats-io/nats.go"
)

// The roles a worker child process can take.
const (
	roleOrchestrator = "orchestrator"
	roleActivity     = "activity"
	roleEcho         = "echo" // the baseline's bare JetStream worker
)

// workerFlag is the hidden first argument that makes the bench binary run
// as a worker child: bench -worker ROLE --nats URL --hub H.
const workerFlag = "-worker"

// readyLine is what a worker child prints on stdout once it takes work.
const readyLine = "bench-worker-ready"

// isWorkerInvocation reports whether args (without the program name) ask
// for a worker child rather than a benchmark run.
func isWorkerInvocation(args []string) bool {
	return len(args) > 0 && (args[0] == workerFlag || args[0] == "-"+workerFlag)
}

// childConfig is a worker child's command line.
type childConfig struct {
	role, natsURL, hub string
	cpuProfile         string
	orchConcurrency    int
	orchCacheSize      int
	actConcurrency     int
}

// workerMain runs a worker child until SIGTERM or SIGINT and returns the
// exit code. The workers are the real ones from pkg/worker, hosting the
// bench's orchestrators and activities.
func workerMain(args []string) int {
	var c childConfig
	fs := flag.NewFlagSet("bench -worker", flag.ContinueOnError)
	fs.StringVar(&c.role, "worker", "", "orchestrator, activity or echo")
	fs.StringVar(&c.natsURL, "nats", "", "NATS URL")
	fs.StringVar(&c.hub, "hub", "", "task hub")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of this process here")
	fs.IntVar(&c.orchConcurrency, "orch-concurrency", 0, "OrchestratorConfig.Concurrency (0: default)")
	fs.IntVar(&c.orchCacheSize, "orch-cache-size", 0, "OrchestratorConfig.CacheSize (0: default)")
	fs.IntVar(&c.actConcurrency, "activity-concurrency", 0, "ActivityConfig.Concurrency (0: default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).
		With("bench-worker", c.role, "pid", os.Getpid())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if err := runChild(ctx, c, log); err != nil {
		log.Error("worker failed", "err", err)
		return 1
	}
	return 0
}

// runChild runs the worker of c.role, announcing readyLine once it takes
// work, until ctx ends.
func runChild(ctx context.Context, c childConfig, log *slog.Logger) error {
	nc, err := nats.Connect(c.natsURL, nats.Name("endure-bench-"+c.role))
	if err != nil {
		return err
	}
	defer nc.Close()
	announce := func() { fmt.Println(readyLine) }
	if c.role == roleEcho {
		return runEcho(ctx, nc, c.hub, announce)
	}
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: c.hub, Logger: log})
	if err != nil {
		return err
	}
	var run func(context.Context) error
	var ready <-chan struct{}
	switch c.role {
	case roleOrchestrator:
		reg := workflow.NewRegistry()
		if err := registerOrchestrations(reg); err != nil {
			return err
		}
		w := worker.NewOrchestratorWorker(hub, reg, worker.OrchestratorConfig{
			Concurrency: c.orchConcurrency, CacheSize: c.orchCacheSize, Logger: log,
		})
		run, ready = w.Run, w.Ready()
	case roleActivity:
		reg := activity.NewRegistry()
		if err := registerActivities(reg); err != nil {
			return err
		}
		w := worker.NewActivityWorker(hub, reg, worker.ActivityConfig{Concurrency: c.actConcurrency, Logger: log})
		run, ready = w.Run, w.Ready()
	default:
		return fmt.Errorf("unknown worker role %q", c.role)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case <-ready:
		announce()
		return <-done
	case err := <-done:
		return err
	}
}
