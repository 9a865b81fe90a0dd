package protocol

import (
	"fmt"
	"time"
)

// EventType says what a history Event records.
type EventType int

// The kinds of history events. Their numeric values are part of the wire
// format: append new kinds, never renumber.
const (
	// EventExecutionStarted is the first event of an execution: name and input.
	EventExecutionStarted EventType = iota + 1
	// EventExecutionCompleted records the orchestrator's output.
	EventExecutionCompleted
	// EventExecutionFailed records the orchestrator's failure.
	EventExecutionFailed
	// EventExecutionTerminated records a terminate request and its reason.
	EventExecutionTerminated
	// EventTaskScheduled records an activity call (TaskID, Name, Input).
	EventTaskScheduled
	// EventTaskCompleted records an activity's result for TaskID.
	EventTaskCompleted
	// EventTaskFailed records an activity's failure for TaskID.
	EventTaskFailed
	// EventTimerCreated records a durable timer (TaskID, FireAt).
	EventTimerCreated
	// EventTimerFired records that timer TaskID fired.
	EventTimerFired
	// EventEventRaised records an external event (Name, Input).
	EventEventRaised
	// EventTimerCanceled records that the orchestrator cancelled timer TaskID.
	EventTimerCanceled
	// EventExecutionSuspended records a suspend request.
	EventExecutionSuspended
	// EventExecutionResumed records a resume request.
	EventExecutionResumed
	// EventExecutionRewound records a rewind request on a failed instance:
	// the failures before it are set aside and the failed work runs again.
	EventExecutionRewound
	// EventSubOrchestrationCreated records a call of another orchestrator
	// (TaskID, Name, Target = child instance ID, ExecutionID = the child's
	// execution, Input; Detached for fire-and-forget).
	EventSubOrchestrationCreated
	// EventSubOrchestrationCompleted records a child's output for TaskID.
	EventSubOrchestrationCompleted
	// EventSubOrchestrationFailed records a child's failure for TaskID.
	EventSubOrchestrationFailed
	// EventEventSent records an event sent to instance Target (Name, Input).
	EventEventSent
	// EventExecutionContinuedAsNew ends an execution that starts over with
	// Input as execution ExecutionID, carrying the Carried events.
	EventExecutionContinuedAsNew
	// EventPatchApplied records that the code took the new path of the
	// patch named Name (workflow.Context.IsPatched).
	EventPatchApplied
)

var eventTypeNames = map[EventType]string{
	EventExecutionStarted:    "ExecutionStarted",
	EventExecutionCompleted:  "ExecutionCompleted",
	EventExecutionFailed:     "ExecutionFailed",
	EventExecutionTerminated: "ExecutionTerminated",
	EventTaskScheduled:       "TaskScheduled",
	EventTaskCompleted:       "TaskCompleted",
	EventTaskFailed:          "TaskFailed",
	EventTimerCreated:        "TimerCreated",
	EventTimerFired:          "TimerFired",
	EventEventRaised:         "EventRaised",
	EventTimerCanceled:       "TimerCanceled",
	EventExecutionSuspended:  "ExecutionSuspended",
	EventExecutionResumed:    "ExecutionResumed",
	EventExecutionRewound:    "ExecutionRewound",

	EventSubOrchestrationCreated:   "SubOrchestrationInstanceCreated",
	EventSubOrchestrationCompleted: "SubOrchestrationInstanceCompleted",
	EventSubOrchestrationFailed:    "SubOrchestrationInstanceFailed",
	EventEventSent:                 "EventSent",
	EventExecutionContinuedAsNew:   "ContinueAsNew",
	EventPatchApplied:              "PatchApplied",
}

// String returns the Durable Functions name of the event type.
func (t EventType) String() string {
	if n, ok := eventTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	_, ok := eventTypeNames[t]
	return ok
}

// Failure describes why an activity or orchestration failed.
type Failure struct {
	// Type names the kind of error, e.g. the Go type of an activity's error.
	Type string `msgpack:"t,omitempty"`
	// Message is the error text.
	Message string `msgpack:"m"`
	// Stack is a stack trace, set for panics.
	Stack string `msgpack:"s,omitempty"`
}

// Error implements error so that a Failure can travel as one.
func (f *Failure) Error() string {
	if f.Type == "" {
		return f.Message
	}
	return f.Type + ": " + f.Message
}

// Event is one entry of an orchestration's history. Which fields are set
// depends on Type; payloads (Input, Result) are JSON documents.
type Event struct {
	// Type says what the event records.
	Type EventType `msgpack:"t"`
	// Time is when the event was recorded.
	Time time.Time `msgpack:"ts"`
	// TaskID is the sequence number of the action that the event schedules
	// or completes (activity calls and timers share one sequence).
	TaskID int32 `msgpack:"id,omitempty"`
	// Name is the orchestrator name (ExecutionStarted), activity name
	// (TaskScheduled) or event name (EventRaised).
	Name string `msgpack:"n,omitempty"`
	// ExecutionID identifies the execution an ExecutionStarted begins.
	ExecutionID string `msgpack:"x,omitempty"`
	// Input is the JSON input of an execution, activity call or raised event,
	// or the JSON custom status of a CustomStatusSet.
	Input []byte `msgpack:"in,omitempty"`
	// Result is the JSON output of an execution or activity.
	Result []byte `msgpack:"out,omitempty"`
	// FireAt is when a timer is due.
	FireAt time.Time `msgpack:"at,omitempty"`
	// Failure is set on TaskFailed and ExecutionFailed.
	Failure *Failure `msgpack:"f,omitempty"`
	// Reason is the text given with terminate, suspend and resume.
	Reason string `msgpack:"r,omitempty"`
	// Target is the other instance of a sub-orchestration or a sent event.
	Target string `msgpack:"tg,omitempty"`
	// Detached marks a sub-orchestration started fire-and-forget.
	Detached bool `msgpack:"dt,omitempty"`
	// Parent is set on the ExecutionStarted of a sub-orchestration.
	Parent *ParentRef `msgpack:"p,omitempty"`
	// Carried are the unprocessed events a continued-as-new execution keeps
	// (on ExecutionContinuedAsNew and the ExecutionStarted it leads to).
	Carried []Event `msgpack:"ce,omitempty"`
	// Timeout is a TaskScheduled's start-to-close timeout (0: none).
	Timeout time.Duration `msgpack:"to,omitempty"`
	// Version is the orchestrator version an execution started on (on
	// ExecutionStarted).
	Version string `msgpack:"ver,omitempty"`
	// EventID identifies a raised event or a management request (terminate,
	// suspend, resume, rewind), so that a copy delivered again (its worker
	// died before acknowledging it) is applied once.
	EventID string `msgpack:"eid,omitempty"`
	// Seen lists the IDs of the raised events consumed by the step that
	// continued as new (on ExecutionContinuedAsNew and the ExecutionStarted
	// it leads to): copies of them delivered again are not applied to the
	// new execution.
	Seen []string `msgpack:"seen,omitempty"`
}

// ParentRef names the call that started a sub-orchestration, so that its
// outcome can be reported back.
type ParentRef struct {
	// InstanceID is the parent instance.
	InstanceID string `msgpack:"i"`
	// ExecutionID is the parent execution.
	ExecutionID string `msgpack:"x"`
	// TaskID is the call's task ID in the parent's history.
	TaskID int32 `msgpack:"id"`
}

// HistoryRecord is one committed orchestration step: the events that it
// consumed (completions, raised events, fired timers) followed by the events
// that it produced (scheduled tasks, timers, the outcome). One record is one
// message on the instance's history subject.
type HistoryRecord struct {
	// V is the format version.
	V int `msgpack:"v"`
	// Time is the step's replay-stable current time.
	Time time.Time `msgpack:"ts"`
	// Events are the step's new history events, in order.
	Events []Event `msgpack:"e"`
	// CustomStatus is the custom status the step set, if it changed it
	// (JSON; "null" when cleared).
	CustomStatus []byte `msgpack:"cs,omitempty"`
}
