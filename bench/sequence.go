package main

import (
	"context"
	"errors"
	"fmt"
)

// runSequence is W1: seqInstances instances, each calling seqSteps trivial
// activities one after the other, all started at once. Latency is per
// instance, from the Start call to the bench seeing it complete.
func runSequence(ctx context.Context, g *rig, r *result) error {
	n, steps := g.sizes.seqInstances, g.sizes.seqSteps
	begun, _, err := g.startAll(ctx, n, orchSequence, func(int) any { return sequenceInput{Steps: steps} })
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}
	doneAt, missing := g.finished(n)
	first, last := span(begun, doneAt)
	r.N, r.Unit, r.TaskUnit = n, "instances/s", "activities/s"
	r.Rate = perSecond(n-missing, last.Sub(first))
	r.TaskRate = perSecond((n-missing)*steps, last.Sub(first))
	r.Latency = "instance start to completion"
	r.Lat = summarize(sinceEach(begun, doneAt))
	r.set("steps", steps)
	r.set("lost", missing)
	if err != nil {
		return err
	}
	return errors.Join(
		verifyOutputs(ctx, g, n, func(i int, out int) error {
			if out != steps {
				return fmt.Errorf("%s: output %d, want %d", instanceID(i), out, steps)
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}
