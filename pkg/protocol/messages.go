package protocol

import "time"

// FormatVersion is the wire format version written by this build. Decoding
// accepts versions from 1 up to it.
const FormatVersion = 1

// WorkItem is a message on an orchestration instance's inbox: something that
// happened to the instance (started, an activity result, a fired timer, a
// raised event, a management request) and must become part of its history.
type WorkItem struct {
	// V is the format version.
	V int `msgpack:"v"`
	// InstanceID names the target instance.
	InstanceID string `msgpack:"i"`
	// ExecutionID names the target execution; results addressed to an older
	// execution are dropped.
	ExecutionID string `msgpack:"x,omitempty"`
	// Event is the event to add to the history.
	Event Event `msgpack:"e"`
	// StateRevision, on a start, is the revision of the instance state the
	// starter created, so the worker can update it without reading it.
	StateRevision uint64 `msgpack:"sr,omitempty"`
	// Schedule is set on the copies a recurring schedule releases: each
	// asks for a new instance of Event.Name, named after the schedule and
	// the release time. InstanceID is then the schedule's name.
	Schedule string `msgpack:"sch,omitempty"`
}

// ActivityTask asks an activity worker to run one activity call.
type ActivityTask struct {
	// V is the format version.
	V int `msgpack:"v"`
	// InstanceID is the calling instance; the result goes to its inbox.
	InstanceID string `msgpack:"i"`
	// ExecutionID is the calling execution.
	ExecutionID string `msgpack:"x"`
	// TaskID is the call's sequence number in the caller's history.
	TaskID int32 `msgpack:"id"`
	// Name is the activity name.
	Name string `msgpack:"n"`
	// Input is the JSON input.
	Input []byte `msgpack:"in,omitempty"`
	// Generation counts the caller's rewinds, so that a task sent again after
	// a rewind, and its result, are not mistaken for duplicates.
	Generation int32 `msgpack:"g,omitempty"`
	// Timeout is the start-to-close timeout of one attempt (0: none).
	Timeout time.Duration `msgpack:"to,omitempty"`
}

// RuntimeStatus is an instance's status, named as Durable Functions names it.
type RuntimeStatus string

// The runtime statuses.
const (
	StatusPending        RuntimeStatus = "Pending"
	StatusRunning        RuntimeStatus = "Running"
	StatusCompleted      RuntimeStatus = "Completed"
	StatusContinuedAsNew RuntimeStatus = "ContinuedAsNew"
	StatusFailed         RuntimeStatus = "Failed"
	StatusCanceled       RuntimeStatus = "Canceled"
	StatusTerminated     RuntimeStatus = "Terminated"
	StatusSuspended      RuntimeStatus = "Suspended"
)

// Terminal reports whether the status is final: nothing more will run.
func (s RuntimeStatus) Terminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusCanceled, StatusTerminated:
		return true
	}
	return false
}

// InstanceState is the queryable summary of an instance, kept in the
// instances KV bucket under the instance ID.
type InstanceState struct {
	// V is the format version.
	V int `msgpack:"v"`
	// InstanceID is the instance's ID.
	InstanceID string `msgpack:"i"`
	// Name is the orchestrator name.
	Name string `msgpack:"n"`
	// ExecutionID is the current execution.
	ExecutionID string `msgpack:"x"`
	// Status is the runtime status.
	Status RuntimeStatus `msgpack:"s"`
	// Input is the JSON input.
	Input []byte `msgpack:"in,omitempty"`
	// Output is the JSON output, once completed.
	Output []byte `msgpack:"out,omitempty"`
	// CustomStatus is the JSON custom status.
	CustomStatus []byte `msgpack:"cs,omitempty"`
	// Failure is set once failed.
	Failure *Failure `msgpack:"f,omitempty"`
	// CreatedAt is when the instance was started.
	CreatedAt time.Time `msgpack:"c"`
	// UpdatedAt is when the state last changed.
	UpdatedAt time.Time `msgpack:"u"`
	// HistorySeq is the history sequence this state reflects, so that a
	// late writer never overwrites a newer state.
	HistorySeq uint64 `msgpack:"hs,omitempty"`
	// StartAt is when a scheduled instance is to start (zero: at once), kept
	// so that a start message lost with a crashed client can be sent again
	// for the same time.
	StartAt time.Time `msgpack:"sa,omitempty"`
}

// IndexEntry is an instance's entry in the listing index: what listing
// filters on without reading the instance's state.
type IndexEntry struct {
	// V is the format version.
	V int `msgpack:"v"`
	// InstanceID is the instance's ID.
	InstanceID string `msgpack:"i"`
	// Name is the orchestrator name.
	Name string `msgpack:"n"`
	// CreatedAt is when the instance was started.
	CreatedAt time.Time `msgpack:"c"`
}
