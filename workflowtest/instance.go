package workflowtest

import (
	"context"
	"fmt"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/google/uuid"
)

// instance is one orchestration instance of an Env run: its runtime, its
// virtual clock and the inputs due to reach it. It plays the parts of the
// orchestrator worker, the activity workers and the timer scheduler.
type instance struct {
	env    *Env
	id     string
	name   string
	parent *protocol.ParentRef
	rt     *engine.Runtime
	now    time.Time
	agenda []due

	records   []protocol.HistoryRecord // the current execution's history
	actions   []Action                 // the current execution's actions
	timerIdx  map[int32]int            // the current execution's timers in env.timers
	restart   *protocol.Event          // the start of the execution that continues this one
	continued int
}

// due is an input due to reach the instance at a virtual time.
type due struct {
	at  time.Time
	seq uint64
	ev  protocol.Event
	// external marks an event raised by the test: it is addressed to the
	// instance, so it survives a continue-as-new.
	external bool
}

// executionID derives a stable execution ID for an instance.
func executionID(instanceID string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("workflowtest/"+instanceID)).String()
}

// run runs an instance from its start until it finishes, nothing more is
// due, or the run's time limit is reached.
func (e *Env) run(id, name, execID string, input []byte, parent *protocol.ParentRef, start time.Time, external []due) (*instance, error) {
	in := &instance{env: e, id: id, name: name, parent: parent, now: start, agenda: external}
	in.restart = &protocol.Event{Type: protocol.EventExecutionStarted, Time: start, Name: name,
		ExecutionID: execID, Input: input, Parent: parent}
	for {
		if ev := in.restart; ev != nil {
			in.restart = nil
			if err := in.begin(*ev); err != nil {
				return in, err
			}
			continue
		}
		if in.rt.Status().Terminal() {
			return in, nil
		}
		i := in.next()
		if i < 0 {
			return in, nil // blocked: nothing more will happen
		}
		d := in.agenda[i]
		if !e.deadline.IsZero() && d.at.After(e.deadline) {
			return in, nil
		}
		in.agenda = append(in.agenda[:i], in.agenda[i+1:]...)
		if d.at.After(in.now) {
			in.now = d.at
		}
		if err := in.step(d.ev); err != nil {
			return in, err
		}
	}
}

// begin starts an execution on a fresh runtime.
func (in *instance) begin(start protocol.Event) error {
	in.rt = engine.New(in.id, in.env.cfg.registry.Lookup)
	in.env.runtimes = append(in.env.runtimes, in.rt)
	in.records, in.actions, in.timerIdx = nil, nil, map[int32]int{}
	if start.Version == "" {
		start.Version = in.env.cfg.registry.Version(in.name) // as the worker that starts it stamps it
	}
	if err := in.step(start); err != nil {
		return err
	}
	if !in.rt.Started() {
		return fmt.Errorf("%w %q", ErrUnknownOrchestrator, in.name)
	}
	return nil
}

// next returns the index of the input due first, or -1.
func (in *instance) next() int {
	best := -1
	for i, d := range in.agenda {
		if best < 0 || d.at.Before(in.agenda[best].at) || d.at.Equal(in.agenda[best].at) && d.seq < in.agenda[best].seq {
			best = i
		}
	}
	return best
}

func (in *instance) push(at time.Time, ev protocol.Event) {
	if at.Before(in.now) {
		at = in.now
	}
	in.agenda = append(in.agenda, due{at: at, seq: in.env.nextSeq(), ev: ev})
}

// step runs one orchestration step and carries out what it asks for.
func (in *instance) step(inputs ...protocol.Event) error {
	e := in.env
	if e.steps++; e.steps > e.cfg.maxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrStepLimit, e.cfg.maxSteps)
	}
	rec, err := in.rt.Step(in.now, inputs)
	if err != nil || rec == nil {
		return err
	}
	in.records = append(in.records, *rec)
	in.actions = collectActions(in.actions, rec.Events)
	for _, ev := range rec.Events {
		if err := in.handle(ev); err != nil {
			return err
		}
	}
	return nil
}

// handle carries out one event of a committed step.
func (in *instance) handle(ev protocol.Event) error {
	e := in.env
	switch ev.Type {
	case protocol.EventTaskScheduled:
		in.callActivity(ev)
	case protocol.EventTimerCreated:
		in.timerIdx[ev.TaskID] = len(e.timers)
		e.timers = append(e.timers, Timer{InstanceID: in.id, TaskID: ev.TaskID, CreatedAt: in.now, FireAt: ev.FireAt})
		in.push(ev.FireAt, protocol.Event{Type: protocol.EventTimerFired, Time: ev.FireAt, TaskID: ev.TaskID, FireAt: ev.FireAt})
	case protocol.EventTimerFired:
		if i, ok := in.timerIdx[ev.TaskID]; ok {
			e.timers[i].Fired = true
		}
	case protocol.EventTimerCanceled:
		if i, ok := in.timerIdx[ev.TaskID]; ok {
			e.timers[i].Canceled = true
		}
		in.drop(func(d due) bool { return d.ev.Type == protocol.EventTimerFired && d.ev.TaskID == ev.TaskID })
	case protocol.EventSubOrchestrationCreated:
		return in.callSubOrchestrator(ev)
	case protocol.EventExecutionContinuedAsNew:
		// What was due to this execution is dropped; events raised by the
		// test are addressed to the instance and stay.
		in.drop(func(d due) bool { return !d.external })
		in.continued++
		in.restart = &protocol.Event{Type: protocol.EventExecutionStarted, Time: in.now, Name: in.name,
			ExecutionID: ev.ExecutionID, Input: ev.Input, Parent: in.parent, Carried: ev.Carried}
	}
	return nil
}

func (in *instance) drop(match func(due) bool) {
	kept := in.agenda[:0]
	for _, d := range in.agenda {
		if !match(d) {
			kept = append(kept, d)
		}
	}
	in.agenda = kept
}

// callActivity runs an activity call at once, as an activity worker would,
// and schedules its result for the current virtual time.
func (in *instance) callActivity(ev protocol.Event) {
	e := in.env
	fn, ok := e.mocks[ev.Name]
	if !ok && e.cfg.activities != nil {
		fn, ok = e.cfg.activities.Lookup(ev.Name)
	}
	var result []byte
	var failure *protocol.Failure
	if ok {
		ctx := activity.WithInfo(context.Background(), activity.Info{InstanceID: in.id, Name: ev.Name, TaskID: ev.TaskID, Attempt: 1})
		result, failure = invoke(ctx, fn, ev.Input)
	} else {
		e.fail(fmt.Errorf("%w %q (instance %s, task %d): mock it with Env.OnActivity", ErrNoActivity, ev.Name, in.id, ev.TaskID))
		failure = &protocol.Failure{Type: "workflowtest.NoActivity", Message: fmt.Sprintf("no mock or implementation for activity %q", ev.Name)}
	}
	e.calls = append(e.calls, Call{InstanceID: in.id, TaskID: ev.TaskID, Name: ev.Name, Input: ev.Input, Time: in.now, Result: result, Failure: failure})
	reply := protocol.Event{Type: protocol.EventTaskCompleted, Time: in.now, TaskID: ev.TaskID, Result: result}
	if failure != nil {
		reply = protocol.Event{Type: protocol.EventTaskFailed, Time: in.now, TaskID: ev.TaskID, Failure: failure}
	}
	in.push(in.now, reply)
}

// callSubOrchestrator runs a child instance to its end, on its own virtual
// clock, and schedules its outcome for the virtual time it ended.
func (in *instance) callSubOrchestrator(ev protocol.Event) error {
	e := in.env
	if _, ok := e.cfg.registry.Lookup(ev.Name); !ok {
		e.fail(fmt.Errorf("%w %q (sub-orchestration of %s, task %d): register it in Env.Registry", ErrUnknownOrchestrator, ev.Name, in.id, ev.TaskID))
		if !ev.Detached {
			in.push(in.now, protocol.Event{Type: protocol.EventSubOrchestrationFailed, Time: in.now, TaskID: ev.TaskID,
				Failure: &protocol.Failure{Type: "StartFailed", Message: fmt.Sprintf("unknown orchestrator %q", ev.Name)}})
		}
		return nil
	}
	var parent *protocol.ParentRef
	if !ev.Detached {
		parent = &protocol.ParentRef{InstanceID: in.id, ExecutionID: in.rt.ExecutionID(), TaskID: ev.TaskID}
	}
	child, err := e.run(ev.Target, ev.Name, ev.ExecutionID, ev.Input, parent, in.now, nil)
	if err != nil || ev.Detached {
		return err
	}
	switch child.rt.Status() {
	case protocol.StatusCompleted:
		in.push(child.now, protocol.Event{Type: protocol.EventSubOrchestrationCompleted, Time: child.now, TaskID: ev.TaskID, Result: child.rt.Output()})
	case protocol.StatusFailed:
		in.push(child.now, protocol.Event{Type: protocol.EventSubOrchestrationFailed, Time: child.now, TaskID: ev.TaskID, Failure: child.rt.Failure()})
	}
	return nil
}

// result describes the instance's current execution.
func (in *instance) result(start time.Time) *Result {
	if in == nil || in.rt == nil {
		return nil
	}
	return &Result{
		InstanceID: in.id, Status: in.rt.Status(), Output: in.rt.Output(), Failure: in.rt.Failure(),
		CustomStatus: in.rt.CustomStatus(), StartedAt: start, EndedAt: in.now, ContinuedAsNew: in.continued,
	}
}
