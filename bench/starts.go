package main

import (
	"context"
	"errors"
	"fmt"
)

// runStartBurst is W5: starts instances started as fast as the rig's
// client goroutines can send them. Each instance calls one activity. The
// rate is accepted starts per second; p50/p99/max are of the Start call;
// done_* is from the Start call to the bench seeing completion.
func runStartBurst(ctx context.Context, g *rig, r *result) error {
	n := g.sizes.starts
	r.N, r.Unit, r.TaskUnit = n, "starts/s", "starts/s"
	r.Latency = "Start call"
	begun, accepted, err := g.startAll(ctx, n, orchSequence, func(int) any { return sequenceInput{Steps: 1} })
	firstBegun, lastAccepted := span(begun, accepted)
	startCalls := sinceEach(begun, accepted)
	r.Rate = perSecond(len(startCalls), lastAccepted.Sub(firstBegun))
	r.TaskRate = r.Rate
	r.Lat = summarize(startCalls)
	if err != nil {
		return err
	}
	err = g.watcher.waitFinished(ctx, n)

	doneAt, missing := g.finished(n)
	_, lastDone := span(doneAt)
	r.set("all_accepted_s", round3(lastAccepted.Sub(firstBegun).Seconds()))
	if missing == 0 {
		r.set("all_done_s", round3(lastDone.Sub(firstBegun).Seconds()))
	}
	r.setLatencies("done", summarize(sinceEach(begun, doneAt)))
	r.set("lost", missing)
	if err != nil {
		return err
	}
	return errors.Join(
		verifyOutputs(ctx, g, n, func(i int, out int) error {
			if out != 1 {
				return fmt.Errorf("%s: output %d, want 1", instanceID(i), out)
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}
