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
		historySamples: 50,
		timeouts: map[string]time.Duration{
			"baseline": time.Minute, "baseline_serial": time.Minute,
			"W1": 3 * time.Minute, "W2": 3 * time.Minute,
			"W3": 2 * time.Minute, "W3burst": 2 * time.Minute,
			"W4": 2 * time.Minute, "W4burst": 3 * time.Minute,
			"W5": 5 * time.Minute, "W6": 10 * time.Minute,
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
		historySamples: 10,
		timeouts: map[string]time.Duration{
			"baseline": 30 * time.Second, "baseline_serial": 30 * time.Second,
			"W1": 30 * time.Second, "W2": 30 * time.Second,
			"W3": 30 * time.Second, "W3burst": 30 * time.Second,
			"W4": 30 * time.Second, "W4burst": 30 * time.Second,
			"W5": 30 * time.Second, "W6": 30 * time.Second,
		},
	}
}

// workload is one row of the benchmark.
type workload struct {
	name string
	// echo: the workload runs on the bare JetStream echo worker, not on
	// Endure's workers.
	echo bool
	run  func(ctx context.Context, g *rig, r *result) error
}

// workloadNames lists the workloads in the order they run.
var workloadNames = []string{"baseline", "baseline_serial", "W1", "W2", "W3", "W3burst", "W4", "W4burst", "W5", "W6"}

func knownWorkload(name string) bool { return slices.Contains(workloadNames, name) }

func (b *bencher) workloads() []workload {
	s := b.sizes
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
	}
}
