// Command bench measures Endure on real processes and compares it with the
// bare JetStream task round trip measured in the same run.
//
// It starts an embedded nats-server with file storage in a temporary folder
// (or uses --nats URL) and, for each workload, a fresh task hub and fresh
// worker child processes: the bench binary re-executed as
// `bench -worker orchestrator|activity|echo --nats URL --hub H`, running the
// real workers of pkg/worker with the bench's own orchestrators and
// activities. cpu_s and peak_rss_mib are those children's, from /proc.
//
//	go run ./bench                      # every workload, full size (minutes)
//	go run ./bench --quick              # every workload, tiny (seconds)
//	go run ./bench --only W1,W3 --json  # a subset, JSON lines only
//	go run ./bench --only memory,scaleout
//	go run ./bench --cpuprofile /tmp/p  # CPU profiles of every process, per workload
//
// Workloads: baseline and baseline_serial (bare JetStream round trips, 128
// and 1 in flight), W1 sequence, W2 fan-out/fan-in, W3 and W3burst external
// events, W4 and W4burst timers, W5 start burst, W6 long history, memory
// (the orchestrator worker's RSS with 100,000 instances waiting for an
// event, and the latency of resuming one of them) and scaleout (sleeping
// activities on 1 and on 4 activity worker processes). Every workload
// checks its instances' outputs and a sample of their histories; a failure
// or timeout is printed and makes the exit status non-zero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if isWorkerInvocation(os.Args[1:]) {
		os.Exit(workerMain(os.Args[1:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	only            map[string]bool // nil: every workload
	quick           bool
	natsURL         string
	jsonOnly        bool
	cpuProfileDir   string
	orchWorkers     int
	actWorkers      int
	orchConcurrency int
	actConcurrency  int
	clients         int
	timeout         time.Duration // 0: each workload's own
}

func parseOptions(args []string, out io.Writer) (options, error) {
	var o options
	var only string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: go run ./bench [flags]\n\nMeasures Endure against the bare JetStream task round trip.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&only, "only", "", "comma-separated workloads to run (baseline always runs): "+strings.Join(workloadNames, ","))
	fs.BoolVar(&o.quick, "quick", false, "tiny sizes: every workload in seconds")
	fs.StringVar(&o.natsURL, "nats", "", "use this NATS server instead of an embedded one")
	fs.BoolVar(&o.jsonOnly, "json", false, "print JSON lines only")
	fs.StringVar(&o.cpuProfileDir, "cpuprofile", "", "write CPU profiles of the bench and of every worker child into this folder, per workload")
	fs.IntVar(&o.orchWorkers, "orchestrator-workers", 1, "orchestrator worker processes per workload")
	fs.IntVar(&o.actWorkers, "activity-workers", 1, "activity worker processes per workload (scaleout starts its own 1, then 4)")
	fs.IntVar(&o.orchConcurrency, "orch-concurrency", 0, "worker.OrchestratorConfig.Concurrency (0: its default)")
	fs.IntVar(&o.actConcurrency, "activity-concurrency", 0, "worker.ActivityConfig.Concurrency (0: its default; scaleout's 16)")
	fs.IntVar(&o.clients, "clients", 64, "client goroutines that start instances and raise events")
	fs.DurationVar(&o.timeout, "timeout", 0, "per-workload timeout (0: each workload's default)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, name := range strings.Split(only, ",") {
			name = strings.TrimSpace(name)
			if !knownWorkload(name) {
				return o, fmt.Errorf("--only: unknown workload %q (known: %s)", name, strings.Join(workloadNames, ","))
			}
			o.only[name] = true
		}
	}
	if o.orchWorkers < 1 || o.actWorkers < 1 || o.clients < 1 {
		return o, errors.New("--orchestrator-workers, --activity-workers and --clients must be at least 1")
	}
	if o.cpuProfileDir != "" {
		if err := os.MkdirAll(o.cpuProfileDir, 0o755); err != nil {
			return o, err
		}
	}
	return o, nil
}

// selected reports whether a workload runs. The baselines always do: every
// ratio needs them.
func (o options) selected(name string) bool {
	return o.only == nil || o.only[name] || strings.HasPrefix(name, "baseline")
}

// run runs the benchmark with the given arguments, printing to stdout. It
// returns an error if any workload failed or timed out.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseOptions(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	srv, err := startServer(opts.natsURL)
	if err != nil {
		return err
	}
	defer srv.close()

	b := &bencher{opts: opts, sizes: fullSizes(), natsURL: srv.url, runID: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)}
	mode := "full"
	if opts.quick {
		b.sizes, mode = quickSizes(), "quick"
	}
	rep := &reporter{w: stdout, jsonOnly: opts.jsonOnly}
	rep.header([]field{
		{"cores", runtime.NumCPU()},
		{"gomaxprocs", runtime.GOMAXPROCS(0)},
		{"go", runtime.Version()},
		{"os_arch", runtime.GOOS + "/" + runtime.GOARCH},
		{"nats", srv.desc},
		{"mode", mode},
		{"orchestrator_workers", opts.orchWorkers},
		{"activity_workers", opts.actWorkers},
		{"clients", opts.clients},
		{"baseline_ratio_base", "baseline (128 in flight)"},
	})

	var failed []string
	var baselineRate float64
	for _, w := range b.workloads() {
		if !opts.selected(w.name) {
			continue
		}
		r := b.runWorkload(ctx, w)
		if w.name == "baseline" && r.OK {
			baselineRate = r.Rate
		}
		// Every ratio divides by row "baseline": the bare JetStream task
		// round trip with 128 in flight, measured at the start of this run.
		if baselineRate > 0 {
			r.BaselineRatio = r.TaskRate / baselineRate
		}
		rep.row(r)
		if !r.OK {
			failed = append(failed, r.Workload)
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep.close()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d workload(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
