package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/endurehq/endure/pkg/protocol"
)

// checkHistories reads the histories of a sample of the n instances (every
// one if n is small) and checks each with checkHistory.
func (g *rig) checkHistories(ctx context.Context, n int) error {
	step := max(1, n/g.sizes.historySamples)
	var errs []error
	for i := 0; i < n; i += step {
		hist, err := g.hub.ReadHistory(ctx, instanceID(i))
		if err != nil {
			return err
		}
		if err := checkHistory(hist.Records); err != nil {
			errs = append(errs, fmt.Errorf("history of %s: %w", instanceID(i), err))
		}
	}
	return errors.Join(errs...)
}

// checkHistory checks a completed instance's history: one start, one
// completion at the very end, every activity call with exactly one result
// and every timer fired at most once, none of them recorded twice.
func checkHistory(records []protocol.HistoryRecord) error {
	scheduled := map[int32]int{}
	results := map[int32]int{}
	timers := map[int32]int{}
	fired := map[int32]int{}
	var started, completed, events int
	for _, rec := range records {
		for _, ev := range rec.Events {
			events++
			if completed > 0 {
				return fmt.Errorf("%s recorded after ExecutionCompleted", ev.Type)
			}
			switch ev.Type {
			case protocol.EventExecutionStarted:
				started++
			case protocol.EventExecutionCompleted:
				completed++
			case protocol.EventExecutionFailed, protocol.EventExecutionTerminated:
				return fmt.Errorf("instance ended with %s", ev.Type)
			case protocol.EventTaskScheduled:
				scheduled[ev.TaskID]++
			case protocol.EventTaskCompleted, protocol.EventTaskFailed:
				results[ev.TaskID]++
			case protocol.EventTimerCreated:
				timers[ev.TaskID]++
			case protocol.EventTimerFired:
				fired[ev.TaskID]++
			}
		}
	}
	if started != 1 || completed != 1 {
		return fmt.Errorf("%d ExecutionStarted and %d ExecutionCompleted in %d events, want 1 and 1", started, completed, events)
	}
	for id, n := range scheduled {
		if n != 1 {
			return fmt.Errorf("activity call %d scheduled %d times", id, n)
		}
		if results[id] != 1 {
			return fmt.Errorf("activity call %d has %d results recorded, want 1", id, results[id])
		}
	}
	for id := range results {
		if scheduled[id] == 0 {
			return fmt.Errorf("result recorded for activity call %d that was never scheduled", id)
		}
	}
	for id, n := range timers {
		if n != 1 || fired[id] > 1 {
			return fmt.Errorf("timer %d created %d times and fired %d times", id, n, fired[id])
		}
	}
	for id := range fired {
		if timers[id] == 0 {
			return fmt.Errorf("timer %d fired but was never created", id)
		}
	}
	return nil
}
