package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// runTimers is W4 (burst false) and W4burst.
//
// W4: timerInstances instances, each with one durable timer due between
// timerMin and timerMin+timerSpread after its first step, spread uniformly.
// W4burst: burstTimers instances whose timers are all due within the same
// second, burstLead after the first start.
//
// Lateness is the replay-stable time of the step that received the fired
// timer minus the due time. An early fire (negative lateness) or a lost
// timer (an instance that never finishes) fails the workload. A W4burst
// timer created after its due time (the instance's first step came too
// late) is left out of the lateness and counted as created_late.
func runTimers(ctx context.Context, g *rig, r *result, burst bool) error {
	n := g.sizes.timerInstances
	input := func(i int) any {
		return timerInput{DelayMs: (g.sizes.timerMin + g.sizes.timerSpread*time.Duration(i)/time.Duration(n)).Milliseconds()}
	}
	if burst {
		n = g.sizes.burstTimers
		dueFrom := time.Now().Add(g.sizes.burstLead)
		input = func(i int) any { return timerInput{At: dueFrom.Add(time.Second * time.Duration(i) / time.Duration(n))} }
	}
	r.N, r.Unit, r.TaskUnit = n, "timers/s", "timers/s"
	r.Latency = "timer lateness (fired - due)"
	_, _, err := g.startAll(ctx, n, orchTimer, input)
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}

	var late []time.Duration
	var firstDue, lastFired time.Time
	early, createdLate, lost := 0, 0, 0
	var earlyErrs []error
	for i := range n {
		o, ok := g.watcher.get(instanceID(i))
		if !ok || o.doneAt.IsZero() {
			lost++
			continue
		}
		var out timerOutput
		if o.state.Output == nil || json.Unmarshal(o.state.Output, &out) != nil {
			continue // verifyOutputs below says why
		}
		if firstDue.IsZero() || out.Due.Before(firstDue) {
			firstDue = out.Due
		}
		if out.Fired.After(lastFired) {
			lastFired = out.Fired
		}
		if out.Fired.Before(out.Due) {
			early++
			if len(earlyErrs) < 5 {
				earlyErrs = append(earlyErrs, fmt.Errorf("%s: timer due %s fired %v early", instanceID(i), out.Due.Format(time.RFC3339Nano), out.Due.Sub(out.Fired)))
			}
		}
		if !out.Created.Before(out.Due) {
			createdLate++
			continue
		}
		late = append(late, out.Fired.Sub(out.Due))
	}
	r.Rate = perSecond(n-lost, lastFired.Sub(firstDue))
	r.TaskRate = r.Rate
	r.Lat = summarize(late)
	r.set("early", early)
	r.set("lost", lost)
	if burst {
		r.set("created_late", createdLate)
		r.set("burst_lead_s", g.sizes.burstLead.Seconds())
	} else {
		r.set("due_after_s", fmt.Sprintf("%v-%v", g.sizes.timerMin.Seconds(), (g.sizes.timerMin+g.sizes.timerSpread).Seconds()))
	}
	if err != nil {
		return fmt.Errorf("%d timers lost: %w", lost, err)
	}
	if early > 0 {
		return fmt.Errorf("%d timers fired early, e.g.: %w", early, errors.Join(earlyErrs...))
	}
	return errors.Join(
		verifyOutputs(ctx, g, n, func(i int, out timerOutput) error {
			if out.Due.IsZero() || out.Fired.IsZero() {
				return fmt.Errorf("%s: output without due or fired time", instanceID(i))
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}
