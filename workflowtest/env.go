package workflowtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// Env runs orchestrators in the test process, in virtual time. Set it up
// (orchestrators, activity mocks, external events), call Run, then inspect
// the Result and what the orchestrator did: Calls, Timers, Actions, History.
//
// Virtual time: the orchestrator's clock (workflow.Context.Now) starts at
// the start time and moves only when the orchestrator is blocked and the
// next thing due is later, a timer or a scheduled event. So a three-day
// timer fires at once, and Now reads three days later. Activities run
// synchronously, on the test goroutine, right after the step that called
// them, and their results come back at the same virtual time.
//
// An Env is not safe for concurrent use; each test should have its own.
type Env struct {
	cfg    config
	mocks  map[string]activity.Func
	events []scheduledEvent

	// The state of the last run.
	root     *instance
	runtimes []*engine.Runtime
	calls    []Call
	timers   []Timer
	seq      uint64
	steps    int
	deadline time.Time
	runErr   error
}

// scheduledEvent is an external event the test raises at a virtual time.
type scheduledEvent struct {
	name  string
	after time.Duration
	data  any
}

// New returns an Env. Without WithRegistry it has an empty registry: add
// the orchestrator under test with workflow.Register(env.Registry(), ...).
func New(opts ...Option) *Env {
	cfg := config{instanceID: DefaultInstanceID, start: DefaultStartTime, maxSteps: DefaultMaxSteps}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.registry == nil {
		cfg.registry = workflow.NewRegistry()
	}
	return &Env{cfg: cfg, mocks: map[string]activity.Func{}}
}

// Registry returns the registry whose orchestrators Run runs.
func (e *Env) Registry() *workflow.Registry { return e.cfg.registry }

// InstanceID returns the instance ID of the orchestration under test.
func (e *Env) InstanceID() string { return e.cfg.instanceID }

// OnActivity mocks the activity registered under name; a later call for the
// same name replaces the mock. impl is one of:
//
//   - a function func(context.Context, In) (Out, error), called with the
//     call's input decoded into In; its Out is encoded as the result, its
//     error fails the call (ctx carries an activity.Info);
//   - an activity.Func or func(context.Context, []byte) ([]byte, error),
//     called with the raw JSON input;
//   - an error: every call fails with it;
//   - any other value: every call returns it, encoded as JSON.
//
// A failed call reaches the orchestrator as a *workflow.ActivityError, with
// the Type an activity worker would give it. OnActivity panics if impl is a
// function of another shape or a value that does not encode as JSON.
func (e *Env) OnActivity(name string, impl any) {
	e.mocks[name] = mockOf(name, impl)
}

// RaiseEvent raises the external event name with data (encoded as JSON)
// right after the orchestrator starts.
func (e *Env) RaiseEvent(name string, data any) { e.RaiseEventAfter(name, 0, data) }

// RaiseEventAfter raises the external event name with data (encoded as
// JSON) at the virtual time after the start. Inputs due at the same virtual
// time arrive in the order they were scheduled, and events raised by the
// test are scheduled before anything the orchestrator does.
func (e *Env) RaiseEventAfter(name string, after time.Duration, data any) {
	e.events = append(e.events, scheduledEvent{name: name, after: max(after, 0), data: data})
}

// Result is the outcome of a Run.
type Result struct {
	// InstanceID is the instance that ran.
	InstanceID string
	// Status is Completed or Failed if the orchestrator finished, Running
	// if it still waits for something (see Err).
	Status protocol.RuntimeStatus
	// Output is the orchestrator's JSON output, once completed.
	Output json.RawMessage
	// Failure is the orchestrator's failure, once failed.
	Failure *protocol.Failure
	// CustomStatus is the last JSON custom status the orchestrator set.
	CustomStatus json.RawMessage
	// StartedAt is the virtual start time.
	StartedAt time.Time
	// EndedAt is the virtual time of the last step.
	EndedAt time.Time
	// ContinuedAsNew counts the executions that ended with
	// workflow.ContinueAsNew; the Result describes the last one.
	ContinuedAsNew int
}

// Elapsed is the virtual time the run took.
func (r *Result) Elapsed() time.Duration { return r.EndedAt.Sub(r.StartedAt) }

// Err returns nil if the orchestrator completed, its failure (a
// *protocol.Failure) if it failed, and an error wrapping ErrNotFinished if
// it still waits.
func (r *Result) Err() error {
	switch {
	case r.Status == protocol.StatusCompleted:
		return nil
	case r.Status == protocol.StatusFailed && r.Failure != nil:
		return r.Failure
	case !r.Status.Terminal():
		return fmt.Errorf("%w: instance %s is %s after %v of virtual time, waiting for something the test did not provide",
			ErrNotFinished, r.InstanceID, r.Status, r.Elapsed())
	}
	return fmt.Errorf("instance %s ended %s", r.InstanceID, r.Status)
}

// Decode decodes the output into v. It returns Err instead if the
// orchestrator did not complete.
func (r *Result) Decode(v any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(r.Output, v); err != nil {
		return fmt.Errorf("decode output into %T: %w", v, err)
	}
	return nil
}

// Run starts the orchestrator registered under name with input (encoded as
// JSON; nil for none) and runs it in virtual time until it finishes or
// nothing more is due: a Result with Status Running means it waits for
// something the test did not provide.
//
// Run returns an error when the run could not go as the test set it up:
// the orchestrator is not registered, an activity has neither mock nor
// implementation (ErrNoActivity), a sub-orchestration is not registered,
// a payload does not encode, or the step limit was reached. The Result is
// returned with the error whenever the orchestrator ran.
//
// Each Run starts afresh; Calls, Timers, Actions and History then describe
// the last run.
func (e *Env) Run(name string, input any) (*Result, error) {
	e.reset()
	defer e.closeRuntimes()
	if _, ok := e.cfg.registry.Lookup(name); !ok {
		return nil, fmt.Errorf("workflowtest: %w %q (registered: %v)", ErrUnknownOrchestrator, name, e.cfg.registry.Names())
	}
	raw, err := encode("orchestrator input", input)
	if err != nil {
		return nil, fmt.Errorf("workflowtest: %w", err)
	}
	var external []due
	for _, ev := range e.events {
		data, err := encode("event "+ev.name, ev.data)
		if err != nil {
			return nil, fmt.Errorf("workflowtest: %w", err)
		}
		at := e.cfg.start.Add(ev.after)
		external = append(external, due{at: at, seq: e.nextSeq(), external: true,
			ev: protocol.Event{Type: protocol.EventEventRaised, Time: at, Name: ev.name, Input: data}})
	}
	root, err := e.run(e.cfg.instanceID, name, executionID(e.cfg.instanceID), raw, nil, e.cfg.start, external)
	e.root = root
	res := root.result(e.cfg.start)
	if err == nil {
		err = e.runErr
	}
	if err != nil {
		return res, fmt.Errorf("workflowtest: run %s: %w", name, err)
	}
	return res, nil
}

// Calls returns the activity calls of the last run, the orchestrator's and
// its sub-orchestrations', in the order they were made.
func (e *Env) Calls() []Call { return slices.Clone(e.calls) }

// Timers returns the timers of the last run in the order they were
// created.
func (e *Env) Timers() []Timer { return slices.Clone(e.timers) }

// Actions returns the actions of the last run's (last) execution in task
// ID order, as Replay compares them.
func (e *Env) Actions() []Action {
	if e.root == nil {
		return nil
	}
	return slices.Clone(e.root.actions)
}

// History returns the history records of the last run's (last) execution,
// as the hub would hold them. Replay takes them.
func (e *Env) History() []protocol.HistoryRecord {
	if e.root == nil {
		return nil
	}
	return slices.Clone(e.root.records)
}

func (e *Env) reset() {
	e.root, e.runtimes, e.calls, e.timers, e.seq, e.steps, e.runErr = nil, nil, nil, nil, 0, 0, nil
	e.deadline = time.Time{}
	if e.cfg.timeLimit > 0 {
		e.deadline = e.cfg.start.Add(e.cfg.timeLimit)
	}
}

func (e *Env) closeRuntimes() {
	for _, rt := range e.runtimes {
		rt.Close()
	}
	e.runtimes = nil
}

func (e *Env) nextSeq() uint64 {
	e.seq++
	return e.seq
}

// fail records a problem with the test's setup; Run returns the first.
func (e *Env) fail(err error) {
	if e.runErr == nil {
		e.runErr = err
	}
}

// encode encodes a payload the test gave; nil stays empty.
func encode(what string, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := protocol.CheckPayload(what, b); err != nil {
		return nil, err
	}
	return b, nil
}
