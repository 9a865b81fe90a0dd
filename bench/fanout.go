package main

import (
	"context"
	"errors"
	"fmt"
)

// runFanOut is W2: fanInstances instances, each calling fanWidth trivial
// activities at once and summing their results. The rate counts
// activities; latency is per instance, from Start to completion.
func runFanOut(ctx context.Context, g *rig, r *result) error {
	n, width := g.sizes.fanInstances, g.sizes.fanWidth
	begun, _, err := g.startAll(ctx, n, orchFanOut, func(int) any { return fanOutInput{Width: width} })
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}
	doneAt, missing := g.finished(n)
	first, last := span(begun, doneAt)
	r.N, r.Unit, r.TaskUnit = n*width, "activities/s", "activities/s"
	r.Rate = perSecond((n-missing)*width, last.Sub(first))
	r.TaskRate = r.Rate
	r.Latency = "instance start to completion"
	r.Lat = summarize(sinceEach(begun, doneAt))
	r.set("instances", n)
	r.set("width", width)
	r.set("lost", missing)
	if err != nil {
		return err
	}
	want := width * (width - 1) / 2
	return errors.Join(
		verifyOutputs(ctx, g, n, func(i int, sum int) error {
			if sum != want {
				return fmt.Errorf("%s: sum %d, want %d", instanceID(i), sum, want)
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}
