package workflowtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// ActionKind says what an orchestrator did.
type ActionKind string

// The kinds of action. Each takes the next task ID of its execution, and
// replay checks each against history by kind and name, as the engine does.
const (
	// ActionCallActivity is workflow.CallActivity.
	ActionCallActivity ActionKind = "CallActivity"
	// ActionCreateTimer is workflow.CreateTimer.
	ActionCreateTimer ActionKind = "CreateTimer"
	// ActionCallSubOrchestrator is workflow.CallSubOrchestrator or
	// workflow.StartOrchestration.
	ActionCallSubOrchestrator ActionKind = "CallSubOrchestrator"
	// ActionSendEvent is workflow.SendEvent.
	ActionSendEvent ActionKind = "SendEvent"
)

// Action is one thing an orchestrator did that its history records.
type Action struct {
	// Kind says what was done.
	Kind ActionKind
	// TaskID is the action's sequence number in its execution.
	TaskID int32
	// Name is the activity, orchestrator or event name; empty for a timer.
	Name string
	// Input is the JSON input of the call or the event data. It is nil when
	// unknown (an HTTP history does not show activity inputs).
	Input json.RawMessage
	// Target is the child instance of a sub-orchestration or the recipient
	// of a sent event.
	Target string
	// FireAt is when a timer is due.
	FireAt time.Time
	// Time is the time of the step that took the action.
	Time time.Time
	// Canceled reports that a timer was cancelled before it fired.
	Canceled bool
}

// String describes the action as the orchestrator code would have written
// it, e.g. CallActivity("Approval", "Approved") or CreateTimer(20s).
func (a Action) String() string { return a.describe(true) }

// describe renders the action, with its payload when withInput is set.
func (a Action) describe(withInput bool) string {
	var args []string
	switch a.Kind {
	case ActionCreateTimer:
		switch {
		case a.FireAt.IsZero():
		case a.Time.IsZero():
			args = append(args, "at "+a.FireAt.UTC().Format(time.RFC3339))
		default:
			args = append(args, a.FireAt.Sub(a.Time).String())
		}
	case ActionSendEvent:
		args = append(args, fmt.Sprintf("%q", a.Target), fmt.Sprintf("%q", a.Name))
	default:
		args = append(args, fmt.Sprintf("%q", a.Name))
	}
	if withInput && a.Kind != ActionCreateTimer && a.Input != nil {
		args = append(args, payload(a.Input))
	}
	s := string(a.Kind) + "(" + strings.Join(args, ", ") + ")"
	if a.Canceled {
		s += ", cancelled"
	}
	return s
}

// short names the action as the engine's messages do, without payload or
// state, e.g. CallActivity("Approval") or CreateTimer(20s).
func (a Action) short() string {
	a.Canceled = false
	return a.describe(false)
}

// inputUnknown reports whether the action should have an input but its
// history does not show it.
func (a Action) inputUnknown() bool { return a.Kind != ActionCreateTimer && a.Input == nil }

// sameAction is the engine's rule: the same kind of action under the same
// name. Inputs and fire times are not compared.
func sameAction(a, b Action) bool { return a.Kind == b.Kind && a.Name == b.Name }

// actionOf returns the action an event records, if it records one.
func actionOf(ev protocol.Event) (Action, bool) {
	a := Action{TaskID: ev.TaskID, Name: ev.Name, Input: json.RawMessage(ev.Input), Target: ev.Target, Time: ev.Time}
	switch ev.Type {
	case protocol.EventTaskScheduled:
		a.Kind = ActionCallActivity
	case protocol.EventTimerCreated:
		a.Kind, a.Name, a.Input, a.FireAt = ActionCreateTimer, "", nil, ev.FireAt
	case protocol.EventSubOrchestrationCreated:
		a.Kind = ActionCallSubOrchestrator
	case protocol.EventEventSent:
		a.Kind = ActionSendEvent
	default:
		return Action{}, false
	}
	if a.Input == nil && a.Kind != ActionCreateTimer {
		a.Input = json.RawMessage("null")
	}
	return a, true
}

// collectActions adds the actions of a step's events to actions, which is
// indexed by task ID. An action whose ID is already there was taken again
// (a runtime rebuilt after a rewind) and is skipped.
func collectActions(actions []Action, events []protocol.Event) []Action {
	for _, ev := range events {
		if ev.Type == protocol.EventTimerCanceled {
			for i := range actions {
				if actions[i].TaskID == ev.TaskID && actions[i].Kind == ActionCreateTimer {
					actions[i].Canceled = true
				}
			}
			continue
		}
		a, ok := actionOf(ev)
		if !ok || hasTask(actions, a.TaskID) {
			continue
		}
		actions = append(actions, a)
	}
	return actions
}

func hasTask(actions []Action, id int32) bool {
	for _, a := range actions {
		if a.TaskID == id {
			return true
		}
	}
	return false
}

// maxPayload is how much of a JSON payload descriptions show.
const maxPayload = 60

// payload renders a JSON document compactly for a one-line description.
func payload(b []byte) string {
	if len(b) == 0 {
		return "null"
	}
	var buf bytes.Buffer
	s := string(b)
	if json.Compact(&buf, b) == nil {
		s = buf.String()
	}
	if r := []rune(s); len(r) > maxPayload {
		s = string(r[:maxPayload-1]) + "…"
	}
	return s
}

// Call is an activity call made during an Env run, with its outcome.
type Call struct {
	// InstanceID is the calling instance: the one under test or one of
	// its sub-orchestrations.
	InstanceID string
	// TaskID is the call's task ID in the caller's execution.
	TaskID int32
	// Name is the activity name.
	Name string
	// Input is the JSON input.
	Input json.RawMessage
	// Time is the virtual time of the call.
	Time time.Time
	// Result is the JSON result, if the call succeeded.
	Result json.RawMessage
	// Failure is set if the call failed.
	Failure *protocol.Failure
}

// DecodeInput decodes the call's JSON input into v.
func (c Call) DecodeInput(v any) error {
	if err := json.Unmarshal(c.Input, v); err != nil {
		return fmt.Errorf("activity %s: decode input into %T: %w", c.Name, v, err)
	}
	return nil
}

// String describes the call, e.g. Approval("Approved").
func (c Call) String() string { return c.Name + "(" + payload(c.Input) + ")" }

// Timer is a durable timer created during an Env run.
type Timer struct {
	// InstanceID is the instance that created it.
	InstanceID string
	// TaskID is the timer's task ID in its execution.
	TaskID int32
	// CreatedAt is the virtual time it was created.
	CreatedAt time.Time
	// FireAt is when it is due.
	FireAt time.Time
	// Fired reports that it fired.
	Fired bool
	// Canceled reports that the orchestrator cancelled it, or ended while
	// it was pending.
	Canceled bool
}

// Duration is how long after its creation the timer is due.
func (t Timer) Duration() time.Duration { return t.FireAt.Sub(t.CreatedAt) }
