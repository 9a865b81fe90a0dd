package main

import (
	"context"
	"slices"
	"time"
)

// sizes are how big each workload is.
type sizes struct {
	baselineInFlight   int // round trips in flight in row "baseline"
	baselineConcurrent int // round trips in row "baseline"
	baselineSerial     int // round trips in row "baseline_serial"

	seqInstances, seqSteps int // W1
	fanInstances, fanWidth int // W2

	eventInstances int     // W3, W3burst
	eventRate      float64 // W3: events raised per second

	timerInstances int           // W4
	timerMin       time.Duration // W4: the earliest delay
	timerSpread    time.Duration // W4: delays spread uniformly over [min, min+spread)
	burstTimers    int           // W4burst: all due within one second...
	burstLead      time.Duration // ...starting this long after the first start

	starts int // W5

	longSteps, longWindow int // W6: steps; first and last steps compared

	memoryInstances   int           // memory: instances waiting for an event
	memoryResumes     int           // memory: of them, resumed one at a time and timed
	memoryCacheSize   int           // memory: the orchestrator worker's instance cache (0: its default)
	memoryStartBudget time.Duration // memory: time allowed to start them all and see them Running

	scaleInstances, scaleWidth int // scaleout: the fan-out each phase runs
	scaleConcurrency           int // scaleout: activity calls at once per worker process
	scaleWorkers               int // scaleout: activity worker processes of the second phase

	historySamples int // histories checked per workload

	// timeouts per workload; on timeout the workload fails.
	timeouts map[string]time.Duration
}

func fullSizes() sizes {
	return sizes{
		baselineInFlight: 128, baselineConcurrent: 30000, baselineSerial: 3000,
		seqInstances: 1000, seqSteps: 5,
		fanInstances: 10, fanWidth: 1000,
		eventInstances: 1000, eventRate: 500,
		timerInstances: 1000, timerMin: time.Second, timerSpread: 2 * time.Second,
		// The lead leaves time to start 10,000 instances and run their
		// first steps before the first timer is due; a timer created after
		// its due time is reported as created_late.
		burstTimers: 10000, burstLead: 20 * time.Second,
		starts:    10000,
		longSteps: 10000, longWindow: 1000,
		// The cache holds a tenth of the instances (the worker's default of
		// 10,000), so most resumes rebuild their instance from history.
		memoryInstances: 100000, memoryResumes: 100, memoryStartBudget: 2 * time.Minute,
		// 8,000 calls of 50 ms: about 25 s on one process of 16 calls at
		// once, 6 s on four.
		scaleInstances: 40, scaleWidth: 200, scaleConcurrency: 16, scaleWorkers: 4,
		historySamples: 50,
		timeouts: map[string]time.Duration{
			"baseline": time.Minute, "baseline_serial": time.Minute,
			"W1": 3 * time.Minute, "W2": 3 * time.Minute,
			"W3": 2 * time.Minute, "W3burst": 2 * time.Minute,
			"W4": 2 * time.Minute, "W4burst": 3 * time.Minute,
			"W5": 5 * time.Minute, "W6": 10 * time.Minute,
			"memory": 8 * time.Minute, "scaleout": 3 * time.Minute,
		},
	}
}

func quickSizes() sizes {
	return sizes{
		baselineInFlight: 128, baselineConcurrent: 2000, baselineSerial: 200,
		seqInstances: 20, seqSteps: 5,
		fanInstances: 2, fanWidth: 50,
		eventInstances: 20, eventRate: 500,
		timerInstances: 20, timerMin: 500 * time.Millisecond, timerSpread: time.Second,
		burstTimers: 200, burstLead: 1500 * time.Millisecond,
		starts:    200,
		longSteps: 200, longWindow: 50,
		// A cache of a tenth of the instances, as at full size, so that the
		// quick run rebuilds instances from history too.
		memoryInstances: 2000, memoryResumes: 20, memoryCacheSize: 200, memoryStartBudget: 20 * time.Second,
		scaleInstances: 4, scaleWidth: 40, scaleConcurrency: 16, scaleWorkers: 4,
		historySamples: 10,
		timeouts: map[string]time.Duration{
			"baseline": 30 * time.Second, "baseline_serial": 30 * time.Second,
			"W1": 30 * time.Second, "W2": 30 * time.Second,
			"W3": 30 * time.Second, "W3burst": 30 * time.Second,
			"W4": 30 * time.Second, "W4burst": 30 * time.Second,
			"W5": 30 * time.Second, "W6": 30 * time.Second,
			"memory": 30 * time.Second, "scaleout": 30 * time.Second,
		},
	}
}

// workload is one row of the benchmark.
type workload struct {
	name string
	// echo: the workload runs on the bare JetStream echo worker, not on
	// Endure's workers.
	echo bool
	// The workload's own worker settings; zero leaves each to its flag or
	// to the worker's default.
	actWorkers     int // overrides --activity-workers
	actConcurrency int // overrides --activity-concurrency
	orchCacheSize  int // worker.OrchestratorConfig.CacheSize
	run            func(ctx context.Context, g *rig, r *result) error
}

// workloadNames lists the workloads in the order they run.
var workloadNames = []string{"baseline", "baseline_serial", "W1", "W2", "W3", "W3burst", "W4", "W4burst", "W5", "W6", "memory", "scaleout"}

func knownWorkload(name string) bool { return slices.Contains(workloadNames, name) }

func (b *bencher) workloads() []workload {
	s := b.sizes
	scaleConcurrency := s.scaleConcurrency
	if b.opts.actConcurrency > 0 {
		scaleConcurrency = b.opts.actConcurrency
	}
	return []workload{
		{name: "baseline", echo: true, run: func(ctx context.Context, g *rig, r *result) error {
			return runRoundTrips(ctx, g, r, s.baselineInFlight, s.baselineConcurrent)
		}},
		{name: "baseline_serial", echo: true, run: func(ctx context.Context, g *rig, r *result) error {
			return runRoundTrips(ctx, g, r, 1, s.baselineSerial)
		}},
		{name: "W1", run: runSequence},
		{name: "W2", run: runFanOut},
		{name: "W3", run: func(ctx context.Context, g *rig, r *result) error { return runEvents(ctx, g, r, false) }},
		{name: "W3burst", run: func(ctx context.Context, g *rig, r *result) error { return runEvents(ctx, g, r, true) }},
		{name: "W4", run: func(ctx context.Context, g *rig, r *result) error { return runTimers(ctx, g, r, false) }},
		{name: "W4burst", run: func(ctx context.Context, g *rig, r *result) error { return runTimers(ctx, g, r, true) }},
		{name: "W5", run: runStartBurst},
		{name: "W6", run: runLongHistory},
		{name: "memory", orchCacheSize: s.memoryCacheSize, run: runMemory},
		// Both phases on the same number of calls at once per process:
		// --activity-concurrency if given, else scaleConcurrency.
		{name: "scaleout", actWorkers: 1, actConcurrency: scaleConcurrency, run: func(ctx context.Context, g *rig, r *result) error {
			return b.runScaleOut(ctx, g, r, scaleConcurrency)
		}},
	}
}
