package workflows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflows"
)

func TestChainingRunsStepsOneAfterAnother(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name        string
		in          workflows.ChainingInput
		wantOutput  string
		wantFailure string
	}{
		{name: "five steps", in: workflows.ChainingInput{Steps: 5, DelayMs: 5}, wantOutput: "5"},
		{name: "no steps", in: workflows.ChainingInput{Steps: 0}, wantOutput: "0"},
		{name: "negative steps fail", in: workflows.ChainingInput{Steps: -1}, wantFailure: "steps must be between 0 and 10000, got -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.start("Chaining", tc.in)
			if tc.wantFailure != "" {
				st := e.wait(id, 10*time.Second)
				if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || st.Failure.Message != tc.wantFailure {
					t.Fatalf("got %s %+v, want Failed with %q", st.RuntimeStatus, st.Failure, tc.wantFailure)
				}
				return
			}
			e.completed(id, 20*time.Second, tc.wantOutput)
			checkChained(t, e.history(id), tc.in.Steps)
		})
	}
}

// checkChained checks that each Step call was scheduled only after the
// previous one completed, and was given its output.
func checkChained(t *testing.T, records []protocol.HistoryRecord, steps int) {
	t.Helper()
	scheduled, completed := 0, 0
	for _, rec := range records {
		for _, ev := range rec.Events {
			switch ev.Type {
			case protocol.EventTaskScheduled:
				if scheduled != completed {
					t.Fatalf("step %d was scheduled while step %d was still running", scheduled+1, scheduled)
				}
				var in workflows.StepInput
				if err := json.Unmarshal(ev.Input, &in); err != nil || ev.Name != "Step" || in.Value != scheduled {
					t.Fatalf("call %d is %s(%s), want Step with value %d", scheduled+1, ev.Name, ev.Input, scheduled)
				}
				scheduled++
			case protocol.EventTaskCompleted:
				completed++
			}
		}
	}
	if scheduled != steps || completed != steps {
		t.Fatalf("%d steps scheduled and %d completed, want %d", scheduled, completed, steps)
	}
}
