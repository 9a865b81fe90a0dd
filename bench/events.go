package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// runEvents is W3 (burst false) and W3burst: eventInstances instances wait
// for an external event; once all are Running, the bench raises one event
// per instance, at eventRate per second or all at once. Latency is from
// the RaiseEvent call to the bench seeing the instance complete.
func runEvents(ctx context.Context, g *rig, r *result, burst bool) error {
	n := g.sizes.eventInstances
	r.N, r.Unit, r.TaskUnit = n, "events/s", "events/s"
	r.Latency = "raise to completion"
	begun, _, err := g.startAll(ctx, n, orchWaitEvent, func(int) any { return nil })
	if err != nil {
		return err
	}
	if err := g.watcher.waitRunning(ctx, n); err != nil {
		return err
	}
	var allRunning time.Time
	for i := range n {
		o, _ := g.watcher.get(instanceID(i))
		if o.runningAt.After(allRunning) {
			allRunning = o.runningAt
		}
	}
	first, _ := span(begun)
	r.set("start_to_all_running_s", round3(allRunning.Sub(first).Seconds()))

	raisedAt := make([]time.Time, n)
	raise := func(i int) error {
		raisedAt[i] = time.Now()
		if err := g.client.RaiseEvent(ctx, instanceID(i), eventName, json.RawMessage(strconv.Itoa(i))); err != nil {
			return fmt.Errorf("raise event on %s: %w", instanceID(i), err)
		}
		return nil
	}
	if burst {
		err = forEach(ctx, n, g.clients, raise)
	} else {
		err = raisePaced(ctx, n, g.sizes.eventRate, g.clients, raise)
	}
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}

	doneAt, missing := g.finished(n)
	firstRaise, lastRaise := span(raisedAt)
	_, lastDone := span(doneAt)
	r.Rate = perSecond(n-missing, lastDone.Sub(firstRaise))
	r.TaskRate = r.Rate
	r.Lat = summarize(sinceEach(raisedAt, doneAt))
	if !burst {
		r.set("target_raise_rate", g.sizes.eventRate)
	}
	r.set("raise_rate", round3(perSecond(n-1, lastRaise.Sub(firstRaise))))
	r.set("lost", missing)
	if err != nil {
		return err
	}
	return verifyEventOutputs(ctx, g, n)
}

// verifyEventOutputs checks that each of n instances output the data of
// the event it waited for, and samples their histories.
func verifyEventOutputs(ctx context.Context, g *rig, n int) error {
	return errors.Join(
		verifyOutputs(ctx, g, n, func(i int, out int) error {
			if out != i {
				return fmt.Errorf("%s: output %d, want its event's data %d", instanceID(i), out, i)
			}
			return nil
		}),
		g.checkHistories(ctx, n),
	)
}

// raisePaced calls raise(i) for every i in [0, n), the i-th no earlier
// than i/rate seconds after the first, on up to workers goroutines. When
// the goroutines fall behind, the pace slips; raise_rate shows by how much.
func raisePaced(ctx context.Context, n int, rate float64, workers int, raise func(i int) error) error {
	start := time.Now()
	return forEach(ctx, n, workers, func(i int) error {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return raise(i)
	})
}
