package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/google/uuid"
)

// Orchestrator is an orchestrator function as the engine runs it: it reads
// its input from the Runtime, acts through it, and returns JSON output.
type Orchestrator func(rt *Runtime) (output []byte, err error)

// Lookup finds the orchestrator registered under a name.
type Lookup func(name string) (Orchestrator, bool)

var (
	// ErrNonDeterminism is wrapped by the failure of an instance whose code
	// no longer matches its recorded history.
	ErrNonDeterminism = errors.New("non-deterministic orchestrator")
	// ErrUnknownOrchestrator is returned when a history names an orchestrator
	// this process does not host; the instance belongs to another worker.
	ErrUnknownOrchestrator = errors.New("unknown orchestrator")
	// ErrCanceled is the result of a timer that was cancelled.
	ErrCanceled = errors.New("canceled")
)

// FailureTypeNonDeterminism is the Failure.Type of a non-determinism failure.
const FailureTypeNonDeterminism = "NonDeterminismError"

// FailureTypePanic is the Failure.Type of a panic in orchestrator code.
const FailureTypePanic = "Panic"

type futureKind uint8

const (
	kindActivity futureKind = iota + 1
	kindTimer
	kindEvent
	kindSub
)

// Future is the pending result of an activity call, timer or external event.
type Future struct {
	kind      futureKind
	id        int32
	name      string
	scheduled protocol.Event // the TaskScheduled or TimerCreated event
	done      bool
	result    []byte
	failure   *protocol.Failure
	err       error
	canceled  bool
	target    string // child instance ID of a sub-orchestration
}

// SubInstanceID returns the child instance ID of a sub-orchestration
// future, or "".
func (f *Future) SubInstanceID() string { return f.target }

// Done reports whether the result is in.
func (f *Future) Done() bool { return f.done }

// Result returns the JSON result, or the error: a *protocol.Failure for a
// failed activity, ErrCanceled for a cancelled timer, or a validation error.
func (f *Future) Result() ([]byte, error) {
	switch {
	case f.err != nil:
		return nil, f.err
	case f.failure != nil:
		return nil, f.failure
	}
	return f.result, nil
}

func (f *Future) resolve(result []byte, failure *protocol.Failure) {
	f.done, f.result, f.failure = true, result, failure
}

// nondeterminism unwinds orchestrator code whose actions disagree with history.
type nondeterminism struct{ msg string }

// Runtime is one orchestration instance in memory: its replayed state and,
// while it runs, the coroutine executing its code. Create one with New, feed
// it the committed history with Replay, then drive it with Step.
type Runtime struct {
	instanceID string
	lookup     Lookup

	started      bool
	fn           Orchestrator
	version      string
	parent       *protocol.ParentRef
	name         string
	executionID  string
	input        []byte
	createdAt    time.Time
	status       protocol.RuntimeStatus
	output       []byte
	failure      *protocol.Failure
	customStatus []byte
	// recordedStatus is the custom status as of the last record; a finished
	// instance is restored from records without running its code.
	recordedStatus []byte

	nextID   int32
	pending  map[int32]*Future // activity calls and timers awaiting a result
	waiters  map[string][]*Future
	buffered map[string][][]byte
	seen     map[string]bool // IDs of the raised events and requests this execution has taken

	keepEvents bool // continued as new with KeepUnprocessedEvents
	suspended  bool
	held       []protocol.Event // inputs received while suspended, in order
	heldIDs    map[int32]bool   // task IDs whose result is held
	rewinds    int32

	expected        map[int32]protocol.Event // actions in history not yet taken again by the code
	expectedCancels map[int32]bool
	patched         map[string]bool // patches applied, as far as replay has reached
	unpatched       map[string]bool // patches this execution has answered false

	maxPayload int // the hub's cap on one payload; 0: protocol.MaxPayload

	now       time.Time
	replaying bool
	out       []protocol.Event // events produced by the current step
	co        *coroutine
	guidSeq   int
}

// New returns an empty runtime for an instance.
func New(instanceID string, lookup Lookup) *Runtime {
	return &Runtime{
		instanceID:      instanceID,
		lookup:          lookup,
		status:          protocol.StatusPending,
		pending:         map[int32]*Future{},
		waiters:         map[string][]*Future{},
		buffered:        map[string][][]byte{},
		seen:            map[string]bool{},
		expected:        map[int32]protocol.Event{},
		expectedCancels: map[int32]bool{},
		heldIDs:         map[int32]bool{},
		patched:         map[string]bool{},
		unpatched:       map[string]bool{},
	}
}

// Replay rebuilds the runtime from committed history records. A finished
// instance is rebuilt without running its code. If the code disagrees with
// the history, the runtime ends up Failed and the next Step returns the
// failure to commit. It returns ErrUnknownOrchestrator if the history names an
// orchestrator that Lookup does not know.
func (r *Runtime) Replay(records []protocol.HistoryRecord) error {
	records, r.rewinds = setAsideRewound(records)
	terminal := false
	for _, rec := range records {
		for _, ev := range rec.Events {
			switch ev.Type {
			case protocol.EventTaskScheduled, protocol.EventTimerCreated:
				r.expected[ev.TaskID] = ev
			case protocol.EventTimerCanceled:
				r.expectedCancels[ev.TaskID] = true
			case protocol.EventExecutionCompleted, protocol.EventExecutionFailed, protocol.EventExecutionTerminated,
				protocol.EventExecutionContinuedAsNew:
				terminal = true
			case protocol.EventSubOrchestrationCreated, protocol.EventEventSent:
				r.expected[ev.TaskID] = ev
			}
		}
	}
	if terminal {
		r.restoreFinished(records)
		return nil
	}
	r.replaying = true
	defer func() { r.replaying = false }()
	for _, rec := range records {
		r.now = rec.Time
		if rec.CustomStatus != nil {
			r.recordedStatus = rec.CustomStatus
			if string(rec.CustomStatus) == "null" {
				r.recordedStatus = nil
			}
		}
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventPatchApplied {
				r.patched[ev.Name] = true
			}
		}
		for _, ev := range rec.Events {
			if !isInput(ev.Type) || r.done() {
				continue
			}
			if _, err := r.apply(ev); err != nil {
				return err
			}
		}
	}
	if !r.done() && len(r.expectedCancels) > 0 {
		ids := make([]int, 0, len(r.expectedCancels))
		for id := range r.expectedCancels {
			ids = append(ids, int(id))
		}
		sort.Ints(ids)
		r.fail(&protocol.Failure{
			Type:    FailureTypeNonDeterminism,
			Message: fmt.Sprintf("%v: history cancels timer #%d but the code did not", ErrNonDeterminism, ids[0]),
		})
	}
	if !r.done() && len(r.expected) > 0 {
		ids := make([]int, 0, len(r.expected))
		for id := range r.expected {
			ids = append(ids, int(id))
		}
		sort.Ints(ids)
		ev := r.expected[int32(ids[0])]
		r.fail(&protocol.Failure{
			Type:    FailureTypeNonDeterminism,
			Message: fmt.Sprintf("%v: history has %s but the code did not take it", ErrNonDeterminism, describe(ev)),
		})
	}
	r.expected = map[int32]protocol.Event{}
	r.expectedCancels = map[int32]bool{}
	return nil
}

// restoreFinished sets the state of a finished instance from its history.
func (r *Runtime) restoreFinished(records []protocol.HistoryRecord) {
	for _, rec := range records {
		if rec.CustomStatus != nil {
			r.customStatus = rec.CustomStatus
			if string(rec.CustomStatus) == "null" {
				r.customStatus = nil
			}
			r.recordedStatus = r.customStatus
		}
		for _, ev := range rec.Events {
			switch ev.Type {
			case protocol.EventExecutionStarted:
				r.started, r.parent, r.version = true, ev.Parent, ev.Version
				r.name, r.executionID, r.input, r.createdAt = ev.Name, ev.ExecutionID, ev.Input, ev.Time
			case protocol.EventExecutionCompleted:
				r.status, r.output = protocol.StatusCompleted, ev.Result
			case protocol.EventExecutionFailed:
				r.status, r.failure = protocol.StatusFailed, ev.Failure
			case protocol.EventExecutionTerminated:
				r.status, r.output = protocol.StatusTerminated, ev.Result
			case protocol.EventExecutionContinuedAsNew:
				r.status = protocol.StatusContinuedAsNew
			}
		}
	}
	r.expected = map[int32]protocol.Event{}
	r.expectedCancels = map[int32]bool{}
}

// Step applies new events at time now and returns the history record to
// commit: the events it accepted (duplicates and results for finished work are
// dropped) followed by the events the code produced. It returns nil when
// there is nothing to commit. After a failed commit the Runtime must be
// discarded, since its state is ahead of the stored history.
func (r *Runtime) Step(now time.Time, inputs []protocol.Event) (*protocol.HistoryRecord, error) {
	r.now = now
	var accepted []protocol.Event
	for _, ev := range inputs {
		if ev.Type == protocol.EventEventRaised && r.carrying() {
			// Arrived with the step that continued as new: it belongs to the
			// next execution.
			if !r.firstSight(ev) {
				continue
			}
			can := &r.out[len(r.out)-1]
			can.Carried = append(can.Carried, protocol.Event{Type: ev.Type, Time: ev.Time, Name: ev.Name, Input: ev.Input, EventID: ev.EventID})
			continue
		}
		if r.done() && (ev.Type != protocol.EventExecutionRewound || r.status != protocol.StatusFailed) {
			continue
		}
		ok, err := r.apply(ev)
		if err != nil {
			return nil, err
		}
		if ok {
			accepted = append(accepted, ev)
		}
	}
	if n := len(r.out); n > 0 && r.out[n-1].Type == protocol.EventExecutionContinuedAsNew {
		// The messages of this step's events may be delivered again, to the
		// next execution, if their acknowledgement is lost.
		for _, ev := range accepted {
			if ev.Type == protocol.EventEventRaised && ev.EventID != "" {
				r.out[n-1].Seen = append(r.out[n-1].Seen, ev.EventID)
			}
		}
	}
	events := append(accepted, r.out...)
	r.out = nil
	if len(events) == 0 {
		return nil, nil
	}
	rec := &protocol.HistoryRecord{Time: now, Events: events}
	if !bytes.Equal(r.customStatus, r.recordedStatus) {
		rec.CustomStatus = r.customStatus
		if rec.CustomStatus == nil {
			rec.CustomStatus = []byte("null")
		}
		r.recordedStatus = r.customStatus
	}
	return rec, nil
}

// Close stops the coroutine of a runtime that is no longer needed.
func (r *Runtime) Close() {
	if r.co != nil {
		r.co.stop()
	}
}

func isInput(t protocol.EventType) bool {
	switch t {
	case protocol.EventExecutionStarted, protocol.EventTaskCompleted, protocol.EventTaskFailed,
		protocol.EventTimerFired, protocol.EventEventRaised, protocol.EventExecutionTerminated,
		protocol.EventExecutionSuspended, protocol.EventExecutionResumed, protocol.EventExecutionRewound,
		protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
		return true
	}
	return false
}

// done reports whether the execution has ended: finished, or continued as a
// new execution.
func (r *Runtime) done() bool {
	return r.status.Terminal() || r.status == protocol.StatusContinuedAsNew
}

// setAsideRewound prepares a history for replay after rewinds: from every
// record before the last ExecutionRewound it drops the failure that ended
// the execution (the step's failed tasks, its ExecutionFailed and the timer
// cancellations that followed), so the failed work is pending again. It also
// counts the rewinds.
func setAsideRewound(records []protocol.HistoryRecord) ([]protocol.HistoryRecord, int32) {
	last, rewinds := -1, int32(0)
	for i, rec := range records {
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventExecutionRewound {
				last, rewinds = i, rewinds+1
			}
		}
	}
	if last < 0 {
		return records, 0
	}
	out := make([]protocol.HistoryRecord, len(records))
	for i, rec := range records {
		out[i] = rec
		if i > last || !hasEvent(rec, protocol.EventExecutionFailed) {
			continue
		}
		kept := make([]protocol.Event, 0, len(rec.Events))
		failed := false
		for _, ev := range rec.Events {
			switch {
			case ev.Type == protocol.EventExecutionFailed:
				failed = true
				continue
			case ev.Type == protocol.EventTaskFailed, ev.Type == protocol.EventTimerCanceled && failed:
				continue
			}
			kept = append(kept, ev)
		}
		out[i].Events = kept
	}
	return out, rewinds
}

func hasEvent(rec protocol.HistoryRecord, t protocol.EventType) bool {
	for _, ev := range rec.Events {
		if ev.Type == t {
			return true
		}
	}
	return false
}

// apply feeds one input event to the instance and reports whether it was
// accepted into the history.
func (r *Runtime) apply(ev protocol.Event) (bool, error) {
	switch ev.Type {
	case protocol.EventExecutionStarted:
		if r.started {
			return false, nil
		}
		fn, ok := r.lookup(ev.Name)
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrUnknownOrchestrator, ev.Name)
		}
		r.started, r.parent, r.version = true, ev.Parent, ev.Version
		r.name, r.executionID, r.input, r.createdAt = ev.Name, ev.ExecutionID, ev.Input, ev.Time
		for _, c := range ev.Carried {
			r.buffered[c.Name] = append(r.buffered[c.Name], c.Input)
			r.firstSight(c)
		}
		for _, id := range ev.Seen {
			r.seen[id] = true
		}
		r.fn = fn
		if ev.FireAt.After(r.now) {
			// A scheduled start: the instance exists, Pending, and its code
			// runs when a durable timer fires.
			f := &Future{kind: kindTimer, id: startTimerID}
			f.scheduled = protocol.Event{Type: protocol.EventTimerCreated, TaskID: startTimerID, FireAt: ev.FireAt.UTC()}
			r.take(f.scheduled)
			r.pending[startTimerID] = f
			return true, nil
		}
		r.begin()
		return true, nil
	case protocol.EventTaskCompleted, protocol.EventTaskFailed, protocol.EventTimerFired, protocol.EventEventRaised,
		protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
		if !r.accepts(ev) || !r.firstSight(ev) {
			return false, nil
		}
		if r.suspended {
			r.held = append(r.held, ev)
			if ev.Type != protocol.EventEventRaised {
				r.heldIDs[ev.TaskID] = true
			}
			return true, nil
		}
		r.deliver(ev)
		return true, nil
	case protocol.EventExecutionTerminated:
		if !r.started || !r.firstSight(ev) {
			return false, nil
		}
		if r.co != nil {
			r.co.stop()
		}
		r.status, r.output = protocol.StatusTerminated, ev.Result
		r.held, r.suspended = nil, false
		r.cancelPendingTimers()
		return true, nil
	case protocol.EventExecutionSuspended:
		if !r.started || r.suspended || !r.firstSight(ev) {
			return false, nil
		}
		r.suspended, r.status = true, protocol.StatusSuspended
		return true, nil
	case protocol.EventExecutionResumed:
		if !r.suspended || !r.firstSight(ev) {
			return false, nil
		}
		r.suspended, r.status = false, protocol.StatusRunning
		held := r.held
		r.held = nil
		for _, h := range held {
			if h.Type != protocol.EventEventRaised {
				delete(r.heldIDs, h.TaskID)
				if _, ok := r.pending[h.TaskID]; !ok {
					continue // cancelled by the code while it took an earlier held input
				}
			}
			if !r.done() {
				r.deliver(h)
			}
		}
		return true, nil
	case protocol.EventExecutionRewound:
		// Replayed, the marker is a no-op: setAsideRewound did its work.
		if r.replaying {
			r.firstSight(ev)
			return true, nil
		}
		if r.status != protocol.StatusFailed || !r.firstSight(ev) {
			return false, nil
		}
		r.rewinds++
		return true, nil
	}
	return false, nil
}

// accepts reports whether a result or event input belongs in the history: a
// result must answer a pending call or timer and not repeat one held.
func (r *Runtime) accepts(ev protocol.Event) bool {
	if !r.started {
		return false
	}
	if ev.Type == protocol.EventEventRaised {
		return true
	}
	want := kindActivity
	switch ev.Type {
	case protocol.EventTimerFired:
		want = kindTimer
	case protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
		want = kindSub
	}
	f, ok := r.pending[ev.TaskID]
	return ok && f.kind == want && !r.heldIDs[ev.TaskID]
}

// firstSight reports whether ev (a raised event or a management request)
// has not been taken before, and remembers its ID. Events without an ID
// (from older clients) are always new.
func (r *Runtime) firstSight(ev protocol.Event) bool {
	if ev.EventID == "" {
		return true
	}
	if r.seen[ev.EventID] {
		return false
	}
	r.seen[ev.EventID] = true
	return true
}

// deliver hands an accepted result or event to the code.
func (r *Runtime) deliver(ev protocol.Event) {
	if ev.Type == protocol.EventEventRaised {
		if q := r.waiters[ev.Name]; len(q) > 0 {
			r.waiters[ev.Name] = q[1:]
			q[0].resolve(ev.Input, nil)
			r.co.runIfReady()
		} else {
			r.buffered[ev.Name] = append(r.buffered[ev.Name], ev.Input)
		}
		return
	}
	f := r.pending[ev.TaskID]
	delete(r.pending, ev.TaskID)
	f.resolve(ev.Result, ev.Failure)
	if ev.TaskID == startTimerID {
		r.begin()
		return
	}
	r.co.runIfReady()
}

// startTimerID is the task ID of a scheduled start's timer; the code's own
// actions are numbered from 0.
const startTimerID = -1

// begin runs the orchestrator code until it first blocks.
func (r *Runtime) begin() {
	r.status = protocol.StatusRunning
	fn := r.fn
	r.co = startCoroutine(func() {
		out, err := fn(r)
		r.finish(out, err)
	}, r.crashed)
	r.co.run()
}

// finish records the code's return; it runs on the orchestrator goroutine.
func (r *Runtime) finish(out []byte, err error) {
	if r.replaying {
		r.failed(&protocol.Failure{
			Type:    FailureTypeNonDeterminism,
			Message: fmt.Sprintf("%v: the orchestrator returned, but its history goes on", ErrNonDeterminism),
		})
		return
	}
	var can *ContinueAsNew
	if errors.As(err, &can) {
		r.continueAsNew(can)
		return
	}
	if err == nil {
		err = r.CheckPayload("orchestrator output", out)
	}
	if err != nil {
		r.failed(toFailure(err))
		return
	}
	r.status, r.output = protocol.StatusCompleted, out
	r.out = append(r.out, protocol.Event{Type: protocol.EventExecutionCompleted, Time: r.now, Result: out})
	r.cancelPendingTimers()
}

// ContinueAsNew, returned as the orchestrator's error, ends the execution
// and starts a new one of the same instance with Input. With KeepEvents,
// external events that arrived but were not yet waited for carry over.
type ContinueAsNew struct {
	Input      []byte
	KeepEvents bool
}

// Error implements error.
func (c *ContinueAsNew) Error() string { return "continue as new" }

func (r *Runtime) continueAsNew(c *ContinueAsNew) {
	if err := r.CheckPayload("continue-as-new input", c.Input); err != nil {
		r.failed(toFailure(err))
		return
	}
	ev := protocol.Event{
		Type: protocol.EventExecutionContinuedAsNew, Time: r.now, Input: c.Input,
		ExecutionID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(r.executionID+"/continue")).String(),
	}
	if c.KeepEvents {
		names := make([]string, 0, len(r.buffered))
		for n := range r.buffered {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, data := range r.buffered[n] {
				ev.Carried = append(ev.Carried, protocol.Event{Type: protocol.EventEventRaised, Time: r.now, Name: n, Input: data})
			}
		}
	}
	r.status = protocol.StatusContinuedAsNew
	r.cancelPendingTimers()
	r.out = append(r.out, ev)
	r.keepEvents = c.KeepEvents
}

// carrying reports whether this step continued as new keeping events, so
// that events still arriving in it are carried over.
func (r *Runtime) carrying() bool {
	return r.status == protocol.StatusContinuedAsNew && r.keepEvents && len(r.out) > 0 &&
		r.out[len(r.out)-1].Type == protocol.EventExecutionContinuedAsNew
}

// crashed records a panic in orchestrator code (or a non-determinism unwind).
func (r *Runtime) crashed(p *panicFailure) {
	if p == nil {
		return
	}
	if nd, ok := p.value.(nondeterminism); ok {
		r.failed(&protocol.Failure{Type: FailureTypeNonDeterminism, Message: nd.msg})
		return
	}
	r.failed(&protocol.Failure{Type: FailureTypePanic, Message: fmt.Sprint(p.value), Stack: p.stack})
}

// fail ends the execution with a failure found by the executor (replay
// found a mismatch): it unwinds the parked code first.
func (r *Runtime) fail(f *protocol.Failure) {
	if r.co != nil {
		r.co.stop()
	}
	r.failed(f)
}

// failed records the execution's failure; on the orchestrator goroutine
// (the code returned an error, panicked or diverged) it is called directly.
func (r *Runtime) failed(f *protocol.Failure) {
	r.status, r.failure = protocol.StatusFailed, f
	r.out = append(r.out, protocol.Event{Type: protocol.EventExecutionFailed, Time: r.now, Failure: f})
	r.cancelPendingTimers()
}

func (r *Runtime) cancelPendingTimers() {
	ids := make([]int, 0, len(r.pending))
	for id, f := range r.pending {
		if f.kind == kindTimer {
			ids = append(ids, int(id))
		}
	}
	sort.Ints(ids)
	for _, id := range ids {
		r.out = append(r.out, protocol.Event{Type: protocol.EventTimerCanceled, Time: r.now, TaskID: int32(id)})
		delete(r.pending, int32(id))
	}
}

func toFailure(err error) *protocol.Failure {
	var f *protocol.Failure
	if errors.As(err, &f) {
		return f
	}
	return &protocol.Failure{Type: fmt.Sprintf("%T", err), Message: err.Error()}
}

// describe names an action for non-determinism messages.
func describe(ev protocol.Event) string {
	switch ev.Type {
	case protocol.EventTaskScheduled:
		return fmt.Sprintf("CallActivity(%q) as action #%d", ev.Name, ev.TaskID)
	case protocol.EventTimerCreated:
		return fmt.Sprintf("CreateTimer as action #%d", ev.TaskID)
	case protocol.EventSubOrchestrationCreated:
		return fmt.Sprintf("CallSubOrchestrator(%q) as action #%d", ev.Name, ev.TaskID)
	case protocol.EventEventSent:
		return fmt.Sprintf("SendEvent(%q) as action #%d", ev.Name, ev.TaskID)
	}
	return fmt.Sprintf("%s as action #%d", ev.Type, ev.TaskID)
}

// take records an action taken by the code, checking it against history
// while replaying. It runs on the orchestrator goroutine.
func (r *Runtime) take(ev protocol.Event) {
	if exp, ok := r.expected[ev.TaskID]; ok {
		delete(r.expected, ev.TaskID)
		if exp.Type != ev.Type || exp.Name != ev.Name {
			panic(nondeterminism{msg: fmt.Sprintf("%v: history has %s, but the code took %s",
				ErrNonDeterminism, describe(exp), describe(ev))})
		}
		return
	}
	if r.replaying {
		panic(nondeterminism{msg: fmt.Sprintf("%v: history has no action #%d, but the code took %s",
			ErrNonDeterminism, ev.TaskID, describe(ev))})
	}
	ev.Time = r.now
	r.out = append(r.out, ev)
}

// The methods below are the orchestrator code's view of the runtime. They run
// on the orchestrator goroutine; the workflow package wraps them.

// InstanceID returns the instance's ID.
func (r *Runtime) InstanceID() string { return r.instanceID }

// Name returns the orchestrator name.
func (r *Runtime) Name() string { return r.name }

// ExecutionID returns the current execution's ID.
func (r *Runtime) ExecutionID() string { return r.executionID }

// Input returns the JSON input.
func (r *Runtime) Input() []byte { return r.input }

// Now returns the replay-stable current time: the time of the step being run.
func (r *Runtime) Now() time.Time { return r.now }

// IsReplaying reports whether the code is re-running recorded steps.
func (r *Runtime) IsReplaying() bool { return r.replaying }

// NewGUID returns a UUID that is the same on every replay.
func (r *Runtime) NewGUID() string {
	r.guidSeq++
	name := r.instanceID + "_" + r.now.UTC().Format(time.RFC3339Nano) + "_" + strconv.Itoa(r.guidSeq)
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String()
}

// SetCustomStatus sets the JSON custom status shown by status queries.
func (r *Runtime) SetCustomStatus(status []byte) { r.customStatus = status }

// CallActivity schedules an activity call; timeout is its start-to-close
// timeout (0: none).
func (r *Runtime) CallActivity(name string, input []byte, timeout time.Duration) *Future {
	f := &Future{kind: kindActivity, name: name}
	if err := protocol.ValidateName(name); err != nil {
		f.done, f.err = true, err
		return f
	}
	f.id = r.nextID
	r.nextID++
	f.scheduled = protocol.Event{Type: protocol.EventTaskScheduled, TaskID: f.id, Name: name, Input: input, Timeout: timeout}
	r.take(f.scheduled)
	r.pending[f.id] = f
	return f
}

// CreateTimer schedules a durable timer due at fireAt.
func (r *Runtime) CreateTimer(fireAt time.Time) *Future {
	f := &Future{kind: kindTimer, id: r.nextID}
	r.nextID++
	f.scheduled = protocol.Event{Type: protocol.EventTimerCreated, TaskID: f.id, FireAt: fireAt.UTC()}
	r.take(f.scheduled)
	r.pending[f.id] = f
	return f
}

// CancelTimer cancels a pending timer; its future completes with ErrCanceled.
// Cancelling a timer that already fired does nothing.
func (r *Runtime) CancelTimer(f *Future) {
	if f.kind != kindTimer || f.done {
		return
	}
	delete(r.pending, f.id)
	f.done, f.canceled, f.err = true, true, ErrCanceled
	if r.expectedCancels[f.id] {
		delete(r.expectedCancels, f.id)
		return
	}
	if r.replaying {
		panic(nondeterminism{msg: fmt.Sprintf("%v: history does not cancel timer #%d, but the code did", ErrNonDeterminism, f.id)})
	}
	r.out = append(r.out, protocol.Event{Type: protocol.EventTimerCanceled, Time: r.now, TaskID: f.id})
}

// WaitForEvent returns a future for the next external event with this name.
// Events that arrived before the wait are delivered first-in first-out.
func (r *Runtime) WaitForEvent(name string) *Future {
	f := &Future{kind: kindEvent, name: name}
	if q := r.buffered[name]; len(q) > 0 {
		r.buffered[name] = q[1:]
		f.resolve(q[0], nil)
		return f
	}
	r.waiters[name] = append(r.waiters[name], f)
	return f
}

// CallSubOrchestrator starts orchestrator name as a child instance with ID
// id (empty: derived from this instance and the call) and returns a future
// for its output. With detached the child runs on its own: the future is
// done at once with the child's ID as a JSON string.
func (r *Runtime) CallSubOrchestrator(name, id string, input []byte, detached bool) *Future {
	f := &Future{kind: kindSub, name: name}
	if err := protocol.ValidateName(name); err != nil {
		f.done, f.err = true, err
		return f
	}
	f.id = r.nextID
	r.nextID++
	if id == "" {
		x := r.executionID
		if len(x) > 8 {
			x = x[:8]
		}
		id = r.instanceID + "_" + x + "_" + strconv.Itoa(int(f.id))
	}
	if err := protocol.ValidateInstanceID(id); err != nil {
		f.done, f.err = true, err
		return f
	}
	f.target = id
	f.scheduled = protocol.Event{
		Type: protocol.EventSubOrchestrationCreated, TaskID: f.id, Name: name, Target: id, Input: input, Detached: detached,
		ExecutionID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(r.executionID+"/"+strconv.Itoa(int(f.id)))).String(),
	}
	r.take(f.scheduled)
	if detached {
		b, _ := json.Marshal(id)
		f.resolve(b, nil)
		return f
	}
	r.pending[f.id] = f
	return f
}

// SendEvent sends an external event to another instance.
func (r *Runtime) SendEvent(target, name string, data []byte) error {
	if err := protocol.ValidateInstanceID(target); err != nil {
		return err
	}
	if err := protocol.ValidateEventName(name); err != nil {
		return err
	}
	id := r.nextID
	r.nextID++
	r.take(protocol.Event{Type: protocol.EventEventSent, TaskID: id, Name: name, Target: target, Input: data})
	return nil
}

// CancelEventWait withdraws a wait for an external event that has not been
// answered, so that the next event of that name goes to a later wait.
func (r *Runtime) CancelEventWait(f *Future) {
	if f.kind != kindEvent || f.done {
		return
	}
	q := r.waiters[f.name]
	for i, w := range q {
		if w == f {
			r.waiters[f.name] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	f.done, f.canceled, f.err = true, true, ErrCanceled
}

// Wait parks the code until ready reports true. ready must only look at
// futures of this runtime.
func (r *Runtime) Wait(ready func() bool) { r.co.wait(ready) }

// The accessors below describe the instance to the worker.

// Started reports whether the instance has an ExecutionStarted event.
func (r *Runtime) Started() bool { return r.started }

// Status returns the runtime status.
func (r *Runtime) Status() protocol.RuntimeStatus { return r.status }

// Output returns the JSON output of a completed (or terminated) instance.
func (r *Runtime) Output() []byte { return r.output }

// Failure returns the failure of a failed instance.
func (r *Runtime) Failure() *protocol.Failure { return r.failure }

// CustomStatus returns the JSON custom status.
func (r *Runtime) CustomStatus() []byte { return r.customStatus }

// PendingWork returns the TaskScheduled and TimerCreated events of the
// activity calls and timers still awaiting a result, by task ID.
func (r *Runtime) PendingWork() []protocol.Event {
	ids := make([]int, 0, len(r.pending))
	for id := range r.pending {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	out := make([]protocol.Event, len(ids))
	for i, id := range ids {
		out[i] = r.pending[int32(id)].scheduled
	}
	return out
}

// IsPatched reports whether the code should take the new path of a patch.
// A new execution takes it (and records that it did); an execution that
// ran this point before the patch existed keeps its old path for good.
func (r *Runtime) IsPatched(id string) bool {
	if r.patched[id] {
		return true
	}
	if r.replaying || r.unpatched[id] {
		r.unpatched[id] = true
		return false
	}
	r.patched[id] = true
	r.out = append(r.out, protocol.Event{Type: protocol.EventPatchApplied, Time: r.now, Name: id})
	return true
}

// SetMaxPayload sets the cap on one payload the code may produce (the task
// hub's); larger ones fail the action, or the instance, with an error
// wrapping protocol.ErrPayloadTooLarge.
func (r *Runtime) SetMaxPayload(n int) { r.maxPayload = n }

// CheckPayload checks a payload the code produces against the cap.
func (r *Runtime) CheckPayload(what string, p []byte) error {
	return protocol.CheckPayloadLimit(what, p, r.maxPayload)
}

// Version returns the orchestrator version the execution started on.
func (r *Runtime) Version() string { return r.version }

// Parent returns the call that started this instance as a
// sub-orchestration, or nil.
func (r *Runtime) Parent() *protocol.ParentRef { return r.parent }

// Generation counts the rewinds of the instance; activity tasks carry it.
func (r *Runtime) Generation() int32 { return r.rewinds }

// CreatedAt returns when the instance was started.
func (r *Runtime) CreatedAt() time.Time { return r.createdAt }

// FailedFuture returns a future that is already done with err.
func FailedFuture(err error) *Future { return &Future{done: true, err: err} }

// Name returns the activity or event name the future waits for.
func (f *Future) Name() string { return f.name }
