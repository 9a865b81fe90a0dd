package httpapi

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// StatusObject is the status object of Durable Functions' API, as the
// status and list endpoints answer it.
type StatusObject struct {
	Name            string          `json:"name"`
	InstanceID      string          `json:"instanceId"`
	RuntimeStatus   string          `json:"runtimeStatus"`
	Input           json.RawMessage `json:"input"`
	CustomStatus    json.RawMessage `json:"customStatus"`
	Output          json.RawMessage `json:"output"`
	CreatedTime     string          `json:"createdTime"`
	LastUpdatedTime string          `json:"lastUpdatedTime"`
	// HistoryEvents is set only when asked for (showHistory=true).
	HistoryEvents *[]HistoryEvent `json:"historyEvents,omitempty"`
}

// timeFormat is how Durable Functions writes times: UTC, whole seconds.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

var null = json.RawMessage("null")

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return null
	}
	return b
}

// RenderStatus renders an instance's status as the API does; the input is
// null unless showInput.
func RenderStatus(st *client.Status, showInput bool) StatusObject {
	out := StatusObject{
		Name: st.Name, InstanceID: st.InstanceID, RuntimeStatus: string(st.RuntimeStatus),
		Input: null, CustomStatus: orNull(st.CustomStatus), Output: renderOutput(st),
		CreatedTime:     formatTime(st.CreatedAt),
		LastUpdatedTime: formatTime(st.LastUpdatedAt),
	}
	if showInput {
		out.Input = orNull(st.Input)
	}
	return out
}

// renderOutput is the output field: a failed instance's is the failure
// message, as Durable Functions words it.
func renderOutput(st *client.Status) json.RawMessage {
	if st.Failure != nil {
		msg, _ := json.Marshal(fmt.Sprintf("Orchestrator function '%s' failed: %s", st.Name, st.Failure.Message))
		return msg
	}
	return orNull(st.Output)
}

// HistoryEvent is one entry of a status object's historyEvents. A map, so
// that each entry has only the keys its event type has; they come out in
// alphabetical order, as Durable Functions writes them.
type HistoryEvent map[string]any

// RenderHistory renders history events as Durable Functions does: PascalCase
// keys, each TaskScheduled folded into the TaskCompleted or TaskFailed that
// answers it, inputs only with showInput, results only with showOutput.
func RenderHistory(events []client.HistoryEvent, showInput, showOutput bool) []HistoryEvent {
	scheduled := map[int32]protocol.Event{} // activity calls and sub-orchestrations, by task ID
	answered := map[int32]bool{}
	for _, ev := range events {
		switch ev.Type {
		case protocol.EventTaskScheduled, protocol.EventSubOrchestrationCreated:
			scheduled[ev.TaskID] = ev
		case protocol.EventTaskCompleted, protocol.EventTaskFailed,
			protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
			answered[ev.TaskID] = true
		}
	}
	out := make([]HistoryEvent, 0, len(events))
	for _, ev := range events {
		e := HistoryEvent{"EventType": ev.Type.String(), "Timestamp": formatTime(ev.Time)}
		payload := func(key string, b []byte, show bool) {
			if show {
				e[key] = orNull(b)
			}
		}
		switch ev.Type {
		case protocol.EventExecutionStarted:
			e["FunctionName"] = ev.Name
			payload("Input", ev.Input, showInput)
		case protocol.EventTaskScheduled, protocol.EventSubOrchestrationCreated:
			if answered[ev.TaskID] {
				continue // folded into its answer
			}
			e["FunctionName"] = ev.Name
			if ev.Target != "" {
				e["InstanceId"] = ev.Target
			}
			payload("Input", ev.Input, showInput)
		case protocol.EventTaskCompleted, protocol.EventTaskFailed,
			protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
			if s, ok := scheduled[ev.TaskID]; ok {
				e["FunctionName"] = s.Name
				e["ScheduledTime"] = formatTime(s.Time)
				if s.Target != "" {
					e["InstanceId"] = s.Target
				}
			}
			if ev.Type == protocol.EventTaskCompleted || ev.Type == protocol.EventSubOrchestrationCompleted {
				payload("Result", ev.Result, showOutput)
			} else {
				addFailure(e, ev.Failure)
			}
		case protocol.EventTimerCreated, protocol.EventTimerFired:
			if !ev.FireAt.IsZero() {
				e["FireAt"] = formatTime(ev.FireAt)
			}
		case protocol.EventTimerCanceled:
		case protocol.EventEventRaised:
			e["Name"] = ev.Name
			payload("Input", ev.Input, showInput)
		case protocol.EventEventSent:
			e["Name"] = ev.Name
			e["InstanceId"] = ev.Target
			payload("Input", ev.Input, showInput)
		case protocol.EventExecutionContinuedAsNew:
			e["OrchestrationStatus"] = string(protocol.StatusContinuedAsNew)
			payload("Input", ev.Input, showInput)
		case protocol.EventExecutionCompleted:
			e["OrchestrationStatus"] = string(protocol.StatusCompleted)
			payload("Result", ev.Result, showOutput)
		case protocol.EventExecutionFailed:
			// Durable Functions records a failed execution as an
			// ExecutionCompleted whose status is Failed.
			e["EventType"] = "ExecutionCompleted"
			e["OrchestrationStatus"] = string(protocol.StatusFailed)
			addFailure(e, ev.Failure)
		case protocol.EventExecutionTerminated:
			e["Reason"] = ev.Reason
			out = append(out, e)
			e = HistoryEvent{"EventType": "ExecutionCompleted", "Timestamp": formatTime(ev.Time),
				"OrchestrationStatus": string(protocol.StatusTerminated)}
			payload("Result", ev.Result, showOutput)
		case protocol.EventExecutionSuspended, protocol.EventExecutionResumed, protocol.EventExecutionRewound:
			if ev.Reason != "" {
				e["Reason"] = ev.Reason
			}
		default:
			continue // bookkeeping (PatchApplied, and kinds newer than this code)
		}
		out = append(out, e)
	}
	return out
}

func addFailure(e HistoryEvent, f *protocol.Failure) {
	if f == nil {
		return
	}
	e["Reason"] = f.Message
	details := f.Type
	if f.Stack != "" {
		details += "\n" + f.Stack
	}
	if details != "" {
		e["Details"] = details
	}
}
