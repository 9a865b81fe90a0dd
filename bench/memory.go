package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// The memory workload's targets, printed beside its figures.
const (
	memoryTargetMiB = 256                   // orchestrator worker RSS with every instance waiting
	resumeTarget    = 20 * time.Millisecond // raise to completion of one waiting instance
)

// runMemory is the memory workload: memoryInstances instances wait for an
// external event, ten times what the orchestrator worker's instance cache
// holds. Once all are Running, the row reports the orchestrator workers'
// resident memory (summed, if there are several). Then the bench raises the
// event on memoryResumes of them, picked at random, one at a time, each
// once the last has completed, and times each from the raise to the bench
// seeing the instance complete: an instance that is not in the cache, most
// of them, is rebuilt from its history first. Last, it raises the event on
// all the others at once, notes the workers' peak memory again, and checks
// that every instance completes with its event's data.
//
// Each instance gets two inbox messages, its start and its event; any
// delivery beyond those is a redelivery of a message that waited in a
// worker for longer than the inbox consumers' AckWait. The row counts them.
func runMemory(ctx context.Context, g *rig, r *result) error {
	n := g.sizes.memoryInstances
	r.N, r.Unit, r.TaskUnit = n, "starts/s", "starts/s"
	r.Latency = "resume: raise to completion, one at a time"
	cache := "default"
	if g.sizes.memoryCacheSize > 0 {
		cache = strconv.Itoa(g.sizes.memoryCacheSize)
	}
	r.set("cache_size", cache)

	if err := startWaiting(ctx, g, r, n); err != nil {
		return err
	}
	rss, peak, err := g.workers.memory(roleOrchestrator)
	if err != nil {
		return err
	}
	r.set("orch_rss_mib", mib(rss))
	r.set("orch_hwm_mib", mib(peak))
	r.set("target_rss_mib", memoryTargetMiB)
	startDeliveries, err := inboxDeliveries(ctx, g)
	if err != nil {
		return err
	}
	r.set("redelivered_starts", startDeliveries-min(uint64(n), startDeliveries))

	resumed, err := resumeOneByOne(ctx, g, r, n)
	r.set("target_resume_ms", resumeTarget.Milliseconds())
	if err != nil {
		return err
	}
	err = resumeTheRest(ctx, g, r, n, resumed)
	if _, peak, merr := g.workers.memory(roleOrchestrator); merr == nil {
		r.set("orch_hwm_end_mib", mib(peak))
	}
	if all, derr := inboxDeliveries(ctx, g); derr == nil {
		r.set("redelivered_events", all-min(startDeliveries+uint64(n), all))
	}
	_, missing := g.finished(n)
	r.set("lost", missing)
	if err != nil {
		return err
	}
	return verifyEventOutputs(ctx, g, n)
}

// startWaiting starts n BenchWaitEvent instances and waits until all are
// Running. Taking longer than memoryStartBudget fails the workload.
func startWaiting(ctx context.Context, g *rig, r *result, n int) error {
	budget := g.sizes.memoryStartBudget
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	begun, accepted, err := g.startAll(sctx, n, orchWaitEvent, func(int) any { return nil })
	if err == nil {
		err = g.watcher.waitRunning(sctx, n)
	}
	if err != nil {
		if ctx.Err() == nil && sctx.Err() != nil {
			ok := 0
			for _, t := range accepted {
				if !t.IsZero() {
					ok++
				}
			}
			running, _ := g.watcher.counts()
			return fmt.Errorf("start budget of %v exceeded: %d of %d starts accepted, %d Running", budget, ok, n, running)
		}
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
	r.Rate = perSecond(n, allRunning.Sub(first))
	r.TaskRate = r.Rate
	r.set("start_to_all_running_s", round3(allRunning.Sub(first).Seconds()))
	return nil
}

// resumeOneByOne raises the event on memoryResumes instances picked at
// random, each once the last has completed, and sets the row's latencies
// from the raise to the completion. It returns which instances it resumed.
func resumeOneByOne(ctx context.Context, g *rig, r *result, n int) (resumed []bool, err error) {
	resumed = make([]bool, n)
	k := min(g.sizes.memoryResumes, n)
	r.set("resumes", k)
	lat := make([]time.Duration, 0, k)
	defer func() { r.Lat = summarize(lat) }()
	for _, i := range rand.Perm(n)[:k] {
		id := instanceID(i)
		raised := time.Now()
		if err := g.client.RaiseEvent(ctx, id, eventName, json.RawMessage(strconv.Itoa(i))); err != nil {
			return resumed, fmt.Errorf("raise event on %s: %w", id, err)
		}
		resumed[i] = true
		if err := g.watcher.waitDone(ctx, id); err != nil {
			return resumed, err
		}
		o, _ := g.watcher.get(id)
		lat = append(lat, o.doneAt.Sub(raised))
	}
	return resumed, nil
}

// resumeTheRest raises the event on every instance not resumed yet, with
// the rig's client goroutines, and waits for all n instances to finish.
func resumeTheRest(ctx context.Context, g *rig, r *result, n int, resumed []bool) error {
	var rest []int
	for i, done := range resumed {
		if !done {
			rest = append(rest, i)
		}
	}
	raisedAt := make([]time.Time, n)
	err := forEach(ctx, len(rest), g.clients, func(j int) error {
		i := rest[j]
		raisedAt[i] = time.Now()
		if err := g.client.RaiseEvent(ctx, instanceID(i), eventName, json.RawMessage(strconv.Itoa(i))); err != nil {
			return fmt.Errorf("raise event on %s: %w", instanceID(i), err)
		}
		return nil
	})
	if err == nil {
		err = g.watcher.waitFinished(ctx, n)
	}
	doneAt, _ := g.finished(n)
	for i, done := range resumed {
		if done {
			doneAt[i] = time.Time{} // timed one by one, before the rest
		}
	}
	first, _ := span(raisedAt)
	_, last := span(doneAt)
	r.set("rest_events_per_s", round3(perSecond(len(sinceEach(raisedAt, doneAt)), last.Sub(first))))
	return err
}

// inboxDeliveries returns how many messages the consumers of the hub's
// inbox stream have delivered, redeliveries included.
func inboxDeliveries(ctx context.Context, g *rig) (uint64, error) {
	// The stream name is part of the hub's documented layout (pkg/jetstream).
	stream, err := g.js.Stream(ctx, "ENDURE_"+g.hubName+"_INBOX")
	if err != nil {
		return 0, fmt.Errorf("inbox stream: %w", err)
	}
	var n uint64
	list := stream.ListConsumers(ctx)
	for info := range list.Info() {
		n += info.Delivered.Consumer
	}
	if err := list.Err(); err != nil {
		return 0, fmt.Errorf("inbox consumers: %w", err)
	}
	return n, nil
}
