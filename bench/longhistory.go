package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// runLongHistory is W6: one instance running longSteps sequential
// activities. The orchestrator times each step with its replay-stable
// clock; the row compares the first and the last longWindow steps. Then
// the bench rebuilds the instance as a cold worker would: it reads the
// history and replays it (without the final record, so that the code really
// runs through every step rather than being restored as finished), and
// checks that stepping the final result in produces the recorded output.
func runLongHistory(ctx context.Context, g *rig, r *result) error {
	steps, window := g.sizes.longSteps, min(g.sizes.longWindow, g.sizes.longSteps)
	r.N, r.Unit, r.TaskUnit = steps, "steps/s", "activities/s"
	r.Latency = "step (activity call to its result, orchestrator clock)"
	begun, _, err := g.startAll(ctx, 1, orchLongHistory, func(int) any { return longHistoryInput{Steps: steps} })
	if err == nil {
		err = g.watcher.waitFinished(ctx, 1)
	}
	doneAt, missing := g.finished(1)
	r.set("lost", missing)
	if err != nil {
		return err
	}
	r.Rate = perSecond(steps, doneAt[0].Sub(begun[0]))
	r.TaskRate = r.Rate

	var out longHistoryOutput
	if err := verifyOutputs(ctx, g, 1, func(_ int, o longHistoryOutput) error {
		if o.Sum != steps || len(o.StepUs) != steps {
			return fmt.Errorf("output sum %d with %d step times, want %d and %d", o.Sum, len(o.StepUs), steps, steps)
		}
		out = o
		return nil
	}); err != nil {
		return err
	}
	all := make([]time.Duration, steps)
	for i, us := range out.StepUs {
		all[i] = time.Duration(us) * time.Microsecond
	}
	r.Lat = summarize(all)
	firstSteps, lastSteps := summarize(all[:window]), summarize(all[steps-window:])
	r.set("window", window)
	r.setLatencies("first", firstSteps)
	r.setLatencies("last", lastSteps)
	if firstSteps.mean > 0 {
		r.set("last_vs_first_mean", round3(float64(lastSteps.mean)/float64(firstSteps.mean)))
	}
	if err := g.checkHistories(ctx, 1); err != nil {
		return err
	}
	return rebuildCold(ctx, g, r)
}

// rebuildCold times reading the W6 instance's history and replaying it on
// a fresh runtime, and checks the replay against the recorded outcome.
func rebuildCold(ctx context.Context, g *rig, r *result) error {
	id := instanceID(0)
	t0 := time.Now()
	hist, err := g.hub.ReadHistory(ctx, id)
	if err != nil {
		return err
	}
	readDur := time.Since(t0)
	records := hist.Records
	if len(records) < 2 {
		return fmt.Errorf("history of %s has %d records", id, len(records))
	}
	final := records[len(records)-1]

	reg := workflow.NewRegistry()
	if err := registerOrchestrations(reg); err != nil {
		return err
	}
	rt := engine.New(id, reg.Lookup)
	defer rt.Close()
	t1 := time.Now()
	if err := rt.Replay(records[:len(records)-1]); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	replayDur := time.Since(t1)
	if rt.Status() != protocol.StatusRunning || rt.Failure() != nil {
		return fmt.Errorf("after replay the instance is %s (%v), want Running", rt.Status(), rt.Failure())
	}

	var inputs []protocol.Event
	var recorded []byte
	for _, ev := range final.Events {
		switch ev.Type {
		case protocol.EventTaskCompleted:
			inputs = append(inputs, ev)
		case protocol.EventExecutionCompleted:
			recorded = ev.Result
		}
	}
	rec, err := rt.Step(final.Time, inputs)
	if err != nil {
		return fmt.Errorf("step after replay: %w", err)
	}
	var replayed []byte
	if rec != nil {
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventExecutionCompleted {
				replayed = ev.Result
			}
		}
	}
	if recorded == nil || !bytes.Equal(replayed, recorded) {
		return fmt.Errorf("replayed instance completed with %d bytes of output, history has %d, and they differ", len(replayed), len(recorded))
	}
	r.set("history_records", len(records))
	r.set("history_read_ms", round3(ms(readDur)))
	r.set("replay_ms", round3(ms(replayDur)))
	r.set("cold_rebuild_ms", round3(ms(readDur+replayDur)))
	return nil
}
