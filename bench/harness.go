package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/endurehq/endure/internal/devserver"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// bencher runs workloads.
type bencher struct {
	opts    options
	sizes   sizes
	natsURL string
	runID   string // keeps this run's hubs apart from earlier runs' on a shared server
}

// natsServer is the server the run uses.
type natsServer struct {
	url, desc string
	close     func()
}

// startServer starts an embedded nats-server with file storage in a
// temporary folder, or describes the one at url.
func startServer(url string) (*natsServer, error) {
	if url != "" {
		nc, err := nats.Connect(url)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", url, err)
		}
		defer nc.Close()
		return &natsServer{url: url, desc: "nats-server " + nc.ConnectedServerVersion() + " at " + url, close: func() {}}, nil
	}
	dir, err := os.MkdirTemp("", "endure-bench-")
	if err != nil {
		return nil, err
	}
	s, err := devserver.Start(devserver.Options{Dir: dir, Port: -1})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &natsServer{
		url:  s.ClientURL(),
		desc: "embedded nats-server " + server.VERSION + " (file storage)",
		close: func() {
			s.Shutdown()
			s.WaitForShutdown()
			os.RemoveAll(dir)
		},
	}, nil
}

// rig is what a workload runs on: its own task hub (or, for the baselines,
// its own pair of streams), its worker child processes, a client and an
// instance watcher.
type rig struct {
	hubName string
	sizes   sizes
	clients int
	nc      *nats.Conn
	js      njs.JetStream
	workers *workerSet

	// Endure workloads only.
	hub     *jetstream.Hub
	client  *client.Client
	watcher *instanceWatcher
}

// quietLogger drops the bench process's own hub logs below warnings.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// runWorkload runs one workload within its timeout and returns its row;
// a failure or a timeout is recorded in the row.
func (b *bencher) runWorkload(parent context.Context, w workload) *result {
	r := &result{Workload: w.name}
	timeout := b.sizes.timeouts[w.name]
	if b.opts.timeout > 0 {
		timeout = b.opts.timeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	err := b.measure(ctx, w, r)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
		r.Err = fmt.Sprintf("TIMEOUT after %v: %v", timeout, err)
	case err != nil:
		r.Err = err.Error()
	default:
		r.OK = true
	}
	return r
}

// measure sets up a rig, runs the workload on it, measures the bench and
// the worker processes, and tears the rig down.
func (b *bencher) measure(ctx context.Context, w workload, r *result) (err error) {
	g, err := b.newRig(ctx, w)
	if err != nil {
		return fmt.Errorf("set-up: %w", err)
	}
	defer func() { err = errors.Join(err, g.close()) }()

	stopProfile := b.profileBench(w.name)
	selfBefore, _, _ := procUsage("self")
	start := time.Now()
	err = w.run(ctx, g, r)
	r.Wall = time.Since(start)
	selfAfter, _, _ := procUsage("self")
	stopProfile()
	r.BenchCPU = selfAfter - selfBefore

	u, uerr := g.workers.usage() // before close stops them
	// A workload that ran part of its work on rigs of its own (scaleout)
	// has already counted their workers.
	r.WorkerCPU += u.cpu
	r.PeakRSS = max(r.PeakRSS, u.peakRSS)
	return errors.Join(err, g.workers.exited(), uerr)
}

// profileBench writes a CPU profile of the bench process for one workload
// if --cpuprofile is set, and returns the function that stops it.
func (b *bencher) profileBench(workload string) (stop func()) {
	if b.opts.cpuProfileDir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(b.opts.cpuProfileDir, workload+"-bench.pprof"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// newRig provisions the workload's hub (or the baseline's streams) with
// every consumer the workers will use, starts the worker children one by
// one, and then the instance watcher.
//
// The order matters under the race detector: nats-server 2.15.2 reads a
// stream's config without its lock when it creates a new consumer
// (fileStore.ConsumerStore), while every jetstream.Open in a starting
// worker rewrites the config of each of the hub's streams
// (CreateOrUpdateStream), so a consumer created while another process
// opens the hub is a data race inside the server. Hence: the inbox and task
// consumers exist before any worker starts; the workers start one at a
// time, activity workers first, since an orchestrator worker keeps creating
// ordered consumers (hub.LiveWorkers lists a KV bucket every second); and
// the watcher's consumer comes last.
func (b *bencher) newRig(ctx context.Context, w workload) (g *rig, err error) {
	g = &rig{hubName: "bench" + b.runID + "_" + w.name, sizes: b.sizes, clients: b.opts.clients}
	defer func() {
		if err != nil {
			_ = g.close()
		}
	}()
	if g.nc, err = nats.Connect(b.natsURL, nats.Name("endure-bench-client")); err != nil {
		return g, err
	}
	if g.js, err = njs.New(g.nc); err != nil {
		return g, err
	}
	spec := workerSpec{natsURL: b.natsURL, hub: g.hubName, profileDir: b.opts.cpuProfileDir, profileTag: w.name}
	if w.echo {
		if err = provisionEcho(ctx, g.js, g.hubName); err != nil {
			return g, err
		}
		spec.roles = []string{roleEcho}
	} else {
		if g.hub, err = jetstream.Open(ctx, g.nc, jetstream.Config{Name: g.hubName, Logger: quietLogger}); err != nil {
			return g, err
		}
		g.client = client.New(g.hub)
		if err = provisionConsumers(ctx, g.hub); err != nil {
			return g, err
		}
		actWorkers, actConcurrency := b.opts.actWorkers, b.opts.actConcurrency
		if w.actWorkers > 0 {
			actWorkers = w.actWorkers
		}
		if w.actConcurrency > 0 {
			actConcurrency = w.actConcurrency
		}
		for range actWorkers {
			spec.roles = append(spec.roles, roleActivity)
		}
		for range b.opts.orchWorkers {
			spec.roles = append(spec.roles, roleOrchestrator)
		}
		if b.opts.orchConcurrency > 0 {
			spec.extraArgs = append(spec.extraArgs, "--orch-concurrency", fmt.Sprint(b.opts.orchConcurrency))
		}
		if w.orchCacheSize > 0 {
			spec.extraArgs = append(spec.extraArgs, "--orch-cache-size", fmt.Sprint(w.orchCacheSize))
		}
		if actConcurrency > 0 {
			spec.extraArgs = append(spec.extraArgs, "--activity-concurrency", fmt.Sprint(actConcurrency))
		}
	}
	if g.workers, err = startWorkers(ctx, spec); err != nil {
		return g, err
	}
	if !w.echo {
		if g.watcher, err = watchInstances(ctx, b.natsURL, g.hubName); err != nil {
			return g, err
		}
	}
	g.workers.markReady()
	return g, nil
}

// provisionConsumers creates the hub's inbox and task consumers, as the
// workers would.
func provisionConsumers(ctx context.Context, hub *jetstream.Hub) error {
	for p := 0; p < hub.Partitions(); p++ {
		if _, err := hub.InboxConsumer(ctx, p); err != nil {
			return err
		}
	}
	for _, name := range []string{actIncr, actEcho, actSleep} {
		if _, err := hub.TaskConsumer(ctx, name, 0); err != nil {
			return err
		}
	}
	return nil
}

// close stops the workers and the watcher and deletes every stream and
// bucket of the workload's hub or baseline.
func (g *rig) close() error {
	var errs []error
	if g.workers != nil {
		errs = append(errs, g.workers.stop())
	}
	if g.watcher != nil {
		g.watcher.stop()
	}
	if g.js != nil {
		errs = append(errs, deleteStreams(g.js, g.hubName))
	}
	if g.nc != nil {
		g.nc.Close()
	}
	return errors.Join(errs...)
}

// deleteStreams deletes the streams of a hub (ENDURE_H_*), its KV buckets
// (KV_ENDURE_H_*) and object stores (OBJ_ENDURE_H_*), and the baseline's
// (BENCH_H_*), whatever else the hub's layout holds.
func deleteStreams(js njs.JetStream, hub string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names []string
	list := js.StreamNames(ctx)
	for name := range list.Name() {
		for _, prefix := range []string{"ENDURE_", "KV_ENDURE_", "OBJ_ENDURE_", "BENCH_"} {
			if strings.HasPrefix(name, prefix+hub+"_") {
				names = append(names, name)
			}
		}
	}
	errs := []error{list.Err()}
	for _, name := range names {
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, njs.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// instanceID names the i-th instance of a workload; every workload has a
// hub of its own.
func instanceID(i int) string { return fmt.Sprintf("i%05d", i) }

// forEach calls fn(i) for every i in [0, n) on up to workers goroutines. It
// stops handing out work at the first error, which it returns, or when ctx
// ends.
func forEach(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		return ctx.Err()
	}
	return first
}

// startAll starts n instances of an orchestrator under IDs instanceID(i)
// with the rig's client goroutines, and returns when each Start call began
// and returned.
func (g *rig) startAll(ctx context.Context, n int, name string, input func(i int) any) (begun, accepted []time.Time, err error) {
	begun, accepted = make([]time.Time, n), make([]time.Time, n)
	err = forEach(ctx, n, g.clients, func(i int) error {
		begun[i] = time.Now()
		if _, err := g.client.Start(ctx, name, client.WithInstanceID(instanceID(i)), client.WithInput(input(i))); err != nil {
			return fmt.Errorf("start %s: %w", instanceID(i), err)
		}
		accepted[i] = time.Now()
		return nil
	})
	return begun, accepted, err
}

// finished returns, per instance, when the watcher saw it finish (zero if
// it has not), and how many have not.
func (g *rig) finished(n int) (doneAt []time.Time, missing int) {
	doneAt = make([]time.Time, n)
	for i := range n {
		if o, ok := g.watcher.get(instanceID(i)); ok && !o.doneAt.IsZero() {
			doneAt[i] = o.doneAt
		} else {
			missing++
		}
	}
	return doneAt, missing
}

// sinceEach returns ends[i]-starts[i] for every i where both are set.
func sinceEach(starts, ends []time.Time) []time.Duration {
	var out []time.Duration
	for i := range ends {
		if !starts[i].IsZero() && !ends[i].IsZero() {
			out = append(out, ends[i].Sub(starts[i]))
		}
	}
	return out
}

// verifyOutputs checks that each of the n instances completed and that its
// output, decoded into a T, passes check. It reports how many did not.
func verifyOutputs[T any](ctx context.Context, g *rig, n int, check func(i int, out T) error) error {
	var errs []error
	bad := 0
	for i := range n {
		id := instanceID(i)
		err := func() error {
			o, ok := g.watcher.get(id)
			switch {
			case !ok || o.doneAt.IsZero():
				return fmt.Errorf("%s: lost: never finished", id)
			case o.state.Status != protocol.StatusCompleted:
				return fmt.Errorf("%s: %s: %v", id, o.state.Status, o.state.Failure)
			}
			if err := g.hub.ResolveState(ctx, &o.state); err != nil { // a large output is stored aside
				return fmt.Errorf("%s: %w", id, err)
			}
			var out T
			if err := json.Unmarshal(o.state.Output, &out); err != nil {
				return fmt.Errorf("%s: output %q: %w", id, o.state.Output, err)
			}
			return check(i, out)
		}()
		if err != nil {
			bad++
			if len(errs) < 5 {
				errs = append(errs, err)
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d instances wrong or lost, e.g.: %w", bad, n, errors.Join(errs...))
	}
	return nil
}
