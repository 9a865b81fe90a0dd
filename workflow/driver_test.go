package workflow_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
)

// These helpers run orchestrators on the replay engine directly, as the
// orchestrator worker does, without NATS: one Step per batch of inputs.

var t0 = time.Date(2025, time.March, 1, 9, 0, 0, 0, time.UTC)

// instance is an orchestration instance with its committed history.
type instance struct {
	t       testing.TB
	rt      *engine.Runtime
	now     time.Time
	records []protocol.HistoryRecord
}

// start runs the first step of a new instance; configure runs before it.
func start(t testing.TB, lookup engine.Lookup, name string, input any, configure ...func(*engine.Runtime)) (*instance, *protocol.HistoryRecord) {
	t.Helper()
	in := &instance{t: t, rt: engine.New("order-42", lookup), now: t0}
	t.Cleanup(in.rt.Close)
	for _, c := range configure {
		c(in.rt)
	}
	return in, in.step(protocol.Event{Type: protocol.EventExecutionStarted, Time: t0, Name: name, ExecutionID: "exec-1", Input: jsonOf(input)})
}

func (in *instance) step(inputs ...protocol.Event) *protocol.HistoryRecord {
	in.t.Helper()
	rec, err := in.rt.Step(in.now, inputs)
	if err != nil {
		in.t.Fatalf("Step: %v", err)
	}
	if rec != nil {
		in.records = append(in.records, *rec)
	}
	in.now = in.now.Add(time.Second)
	return rec
}

func completed(id int32, result any) protocol.Event {
	return protocol.Event{Type: protocol.EventTaskCompleted, TaskID: id, Result: jsonOf(result)}
}

func jsonOf(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// describe writes one line per event, the way the examples print history.
func describe(rec *protocol.HistoryRecord) string {
	if rec == nil {
		return "(nothing to commit)"
	}
	var lines []string
	for _, ev := range rec.Events {
		line := ev.Type.String()
		switch ev.Type {
		case protocol.EventTaskScheduled:
			line += fmt.Sprintf(" #%d %s(%s)", ev.TaskID, ev.Name, ev.Input)
		case protocol.EventTaskCompleted:
			line += fmt.Sprintf(" #%d %s", ev.TaskID, ev.Result)
		case protocol.EventTaskFailed:
			line += fmt.Sprintf(" #%d %s", ev.TaskID, ev.Failure.Message)
		case protocol.EventTimerCreated:
			line += fmt.Sprintf(" #%d at %s", ev.TaskID, ev.FireAt.Format(time.TimeOnly))
		case protocol.EventTimerFired, protocol.EventTimerCanceled:
			line += fmt.Sprintf(" #%d", ev.TaskID)
		case protocol.EventEventRaised:
			line += fmt.Sprintf(" %s %s", ev.Name, ev.Input)
		case protocol.EventExecutionStarted:
			line += fmt.Sprintf(" %s(%s)", ev.Name, ev.Input)
		case protocol.EventExecutionCompleted:
			line += " " + string(ev.Result)
		case protocol.EventExecutionFailed:
			line += " " + ev.Failure.Message
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
