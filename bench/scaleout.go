package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// scaleTarget is the speed-up wanted from scaleWorkers activity worker
// processes over one.
const scaleTarget = 3.5

// runScaleOut is the scaleout workload: the same fan-out of BenchSleep
// calls, each sleeping sleepFor, runs first on the rig's one activity
// worker process, then on a fresh rig with scaleWorkers of them, every
// process running up to concurrency calls at once. Since the calls only
// sleep, k processes should finish them k times as fast: the row's rate is
// the second phase's, scale_ratio divides it by the first's. The row's
// cpu_s sums both phases' workers; its rss_MiB is the larger phase's.
func (b *bencher) runScaleOut(ctx context.Context, g *rig, r *result, concurrency int) error {
	s := b.sizes
	n, width, procs := s.scaleInstances, s.scaleWidth, s.scaleWorkers
	r.N, r.Unit, r.TaskUnit = n*width, "activities/s", "activities/s"
	r.Latency = fmt.Sprintf("instance start to completion, %d processes", procs)
	r.set("instances", n)
	r.set("width", width)
	r.set("sleep_ms", sleepFor.Milliseconds())
	r.set("concurrency", concurrency)

	one, err := runSleepFanOut(ctx, g, n, width)
	one.report(r, 1, concurrency)
	if err != nil {
		return fmt.Errorf("1 process: %w", err)
	}

	// A hub of its own, whose workers start while the first rig's run: the
	// server race newRig avoids is between streams and consumers of one hub.
	var many sleepPhase
	err = b.onOwnRig(ctx, workload{name: fmt.Sprintf("%s_%dp", r.Workload, procs), actWorkers: procs, actConcurrency: concurrency}, r,
		func(g *rig) (err error) {
			many, err = runSleepFanOut(ctx, g, n, width)
			return err
		})
	many.report(r, procs, concurrency)
	r.Rate, r.TaskRate, r.Lat = many.rate, many.rate, many.lat
	if one.rate > 0 {
		r.set("scale_ratio", round3(many.rate/one.rate))
	}
	r.set("target_ratio", scaleTarget)
	r.set("lost", one.lost+many.lost)
	if err != nil {
		return fmt.Errorf("%d processes: %w", procs, err)
	}
	return nil
}

// onOwnRig runs fn on a rig of its own for w, adds that rig's workers' CPU
// and peak RSS to r, and tears the rig down.
func (b *bencher) onOwnRig(ctx context.Context, w workload, r *result, fn func(g *rig) error) (err error) {
	g, err := b.newRig(ctx, w)
	if err != nil {
		return fmt.Errorf("set-up: %w", err)
	}
	defer func() { err = errors.Join(err, g.close()) }()
	err = fn(g)
	u, uerr := g.workers.usage() // before close stops them
	r.WorkerCPU += u.cpu
	r.PeakRSS = max(r.PeakRSS, u.peakRSS)
	return errors.Join(err, g.workers.exited(), uerr)
}

// sleepPhase is what one phase of scaleout measured.
type sleepPhase struct {
	rate      float64       // activities/s, from the first Start to the last completion
	wall      time.Duration // that span
	workerCPU time.Duration // the rig's worker processes, since they were ready
	benchCPU  time.Duration // the bench process, with the nats-server unless --nats
	lat       latencies     // per instance, from Start to completion
	lost      int
}

// report adds the phase's figures to the row, suffixed with its process
// count.
func (p sleepPhase) report(r *result, procs, concurrency int) {
	suffix := fmt.Sprintf("_%dp", procs)
	r.set("rate"+suffix, round3(p.rate))
	r.set("ideal_rate"+suffix, round3(float64(procs*concurrency)/sleepFor.Seconds()))
	// CPU seconds per second of the workers and the bench together: near
	// the machine's cores, the phase was short of CPU rather than of
	// activity workers.
	if p.wall > 0 {
		r.set("busy_cores"+suffix, round3((p.workerCPU+p.benchCPU).Seconds()/p.wall.Seconds()))
	}
}

// runSleepFanOut starts n BenchFanOut instances, each calling BenchSleep
// width times at once, waits for them and checks their outputs and a
// sample of their histories.
func runSleepFanOut(ctx context.Context, g *rig, n, width int) (p sleepPhase, err error) {
	selfBefore, _, _ := procUsage("self")
	begun, _, err := g.startAll(ctx, n, orchFanOut, func(int) any { return fanOutInput{Width: width, Activity: actSleep} })
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}
	doneAt, missing := g.finished(n)
	first, last := span(begun, doneAt)
	p.wall, p.lost = last.Sub(first), missing
	p.rate = perSecond((n-missing)*width, p.wall)
	p.lat = summarize(sinceEach(begun, doneAt))
	selfAfter, _, _ := procUsage("self")
	p.benchCPU = selfAfter - selfBefore
	u, uerr := g.workers.usage()
	p.workerCPU = u.cpu
	if err = errors.Join(err, uerr); err != nil {
		return p, err
	}
	want := width * (width - 1) / 2
	return p, errors.Join(
		verifyOutputs(ctx, g, n, func(i int, sum int) error {
			if sum != want {
				return fmt.Errorf("%s: sum %d, want %d", instanceID(i), sum, want)
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}
