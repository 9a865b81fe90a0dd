package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// requireCallsOnce reads an instance's history and checks that every
// activity call was scheduled once and completed exactly once, that no
// completion answers a call never made and that no call failed. It returns
// each call's result by task ID and the number of events raised.
func requireCallsOnce(t *testing.T, hub *jetstream.Hub, instanceID string) (results map[int32]string, raised int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hist, err := hub.ReadHistory(ctx, instanceID)
	if err != nil {
		t.Fatal(err)
	}
	scheduled, completed := map[int32]int{}, map[int32]int{}
	results = map[int32]string{}
	for _, rec := range hist.Records {
		for _, ev := range rec.Events {
			switch ev.Type {
			case protocol.EventTaskScheduled:
				scheduled[ev.TaskID]++
			case protocol.EventTaskCompleted:
				completed[ev.TaskID]++
				results[ev.TaskID] = string(ev.Result)
			case protocol.EventTaskFailed:
				t.Errorf("%s: task %d failed: %v", instanceID, ev.TaskID, ev.Failure)
			case protocol.EventEventRaised:
				raised++
			}
		}
	}
	for id, n := range scheduled {
		if n != 1 || completed[id] != 1 {
			t.Errorf("%s: task %d scheduled %d times, completed %d times; want once each", instanceID, id, n, completed[id])
		}
	}
	for id := range completed {
		if scheduled[id] == 0 {
			t.Errorf("%s: TaskCompleted for task %d that was never scheduled", instanceID, id)
		}
	}
	return results, raised
}
