package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflows"
)

func TestFanOutFanInRunsCallsInParallelAndSumsThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name        string
		count       int
		wantOutput  string
		wantFailure string
	}{
		// 1² + 2² + ... + 200² = 200·201·401/6
		{name: "200 calls", count: 200, wantOutput: `{"count":200,"sum":2686700}`},
		{name: "no calls", count: 0, wantOutput: `{"count":0,"sum":0}`},
		{name: "too many calls fail", count: workflows.MaxFanOut + 1,
			wantFailure: fmt.Sprintf("count must be between 0 and %d, got %d", workflows.MaxFanOut, workflows.MaxFanOut+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.start("FanOutFanIn", workflows.FanOutInput{Count: tc.count})
			if tc.wantFailure != "" {
				st := e.wait(id, 10*time.Second)
				if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || st.Failure.Message != tc.wantFailure {
					t.Fatalf("got %s %+v, want Failed with %q", st.RuntimeStatus, st.Failure, tc.wantFailure)
				}
				return
			}
			e.completed(id, 30*time.Second, tc.wantOutput)
			checkFannedOut(t, e.history(id), tc.count)
		})
	}
}

// checkFannedOut checks that all calls were scheduled in the first step,
// before any result was in, and that every one completed.
func checkFannedOut(t *testing.T, records []protocol.HistoryRecord, count int) {
	t.Helper()
	scheduledFirst, scheduled, completed := 0, 0, 0
	for i, rec := range records {
		for _, ev := range rec.Events {
			switch ev.Type {
			case protocol.EventTaskScheduled:
				scheduled++
				if i == 0 {
					scheduledFirst++
				}
			case protocol.EventTaskCompleted:
				completed++
			}
		}
	}
	if scheduledFirst != count || scheduled != count || completed != count {
		t.Fatalf("%d calls scheduled in the first step, %d in all, %d completed; want all %d at once, then %d completed",
			scheduledFirst, scheduled, completed, count, count)
	}
}
