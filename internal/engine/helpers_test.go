package engine_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// The tests drive a Runtime the way the orchestrator worker does: Step with
// the inputs of one batch, keep the record it returns as committed history,
// and Replay that history into a fresh Runtime to check determinism.

const (
	testInstanceID  = "order-42"
	testExecutionID = "exec-1"
)

// t0 is the time of the first step of every test instance.
var t0 = time.Date(2025, time.March, 1, 9, 0, 0, 0, time.UTC)

// lookupOf registers fn under name in a new workflow.Registry and returns the
// registry's Lookup, so that tests go through the public SDK.
func lookupOf[In, Out any](t testing.TB, name string, fn func(*workflow.Context, In) (Out, error)) engine.Lookup {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, name, fn); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return reg.Lookup
}

// instance is one orchestration instance under test with its committed
// history.
type instance struct {
	t       testing.TB
	rt      *engine.Runtime
	now     time.Time // time of the next step
	records []protocol.HistoryRecord
}

func newInstance(t testing.TB, lookup engine.Lookup) *instance {
	rt := engine.New(testInstanceID, lookup)
	t.Cleanup(rt.Close)
	return &instance{t: t, rt: rt, now: t0}
}

// step runs one step at in.now, commits its record (if any), returns it and
// moves the clock on by a second.
func (in *instance) step(inputs ...protocol.Event) *protocol.HistoryRecord {
	in.t.Helper()
	return in.stepAt(in.now, inputs...)
}

func (in *instance) stepAt(now time.Time, inputs ...protocol.Event) *protocol.HistoryRecord {
	in.t.Helper()
	rec, err := in.rt.Step(now, inputs)
	if err != nil {
		in.t.Fatalf("Step(%v): %v", eventTypes(inputs), err)
	}
	if rec != nil {
		if !rec.Time.Equal(now) {
			in.t.Fatalf("record time = %v, want the step time %v", rec.Time, now)
		}
		in.records = append(in.records, *rec)
	}
	in.now = now.Add(time.Second)
	return rec
}

func newRuntime(t testing.TB, instanceID string, lookup engine.Lookup) *engine.Runtime {
	rt := engine.New(instanceID, lookup)
	t.Cleanup(rt.Close)
	return rt
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// replayInto replays records into a fresh Runtime, failing the test on error.
func replayInto(t testing.TB, lookup engine.Lookup, records []protocol.HistoryRecord) *engine.Runtime {
	t.Helper()
	rt := newRuntime(t, testInstanceID, lookup)
	if err := rt.Replay(records); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return rt
}

// Event constructors for the inputs a worker feeds to Step.

func started(name string, input any) protocol.Event {
	return protocol.Event{Type: protocol.EventExecutionStarted, Time: t0, Name: name, ExecutionID: testExecutionID, Input: jsonOf(input)}
}

func completed(id int32, result any) protocol.Event {
	return protocol.Event{Type: protocol.EventTaskCompleted, TaskID: id, Result: jsonOf(result)}
}

func taskFailed(id int32, msg string) protocol.Event {
	return protocol.Event{Type: protocol.EventTaskFailed, TaskID: id, Failure: &protocol.Failure{Type: "*errors.errorString", Message: msg}}
}

func fired(id int32) protocol.Event {
	return protocol.Event{Type: protocol.EventTimerFired, TaskID: id}
}

func raised(name string, data any) protocol.Event {
	return protocol.Event{Type: protocol.EventEventRaised, Name: name, Input: jsonOf(data)}
}

func terminated(reason string) protocol.Event {
	return protocol.Event{Type: protocol.EventExecutionTerminated, Reason: reason, Result: jsonOf(reason)}
}

// jsonOf encodes v; nil stays nil (no payload).
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

func eventTypes(events []protocol.Event) []protocol.EventType {
	types := make([]protocol.EventType, len(events))
	for i, ev := range events {
		types[i] = ev.Type
	}
	return types
}

// wantEvents fails the test unless rec holds events of exactly these types.
// No types means no record at all.
func wantEvents(t testing.TB, rec *protocol.HistoryRecord, want ...protocol.EventType) {
	t.Helper()
	if len(want) == 0 {
		if rec != nil {
			t.Fatalf("got a record with %v, want nothing to commit", eventTypes(rec.Events))
		}
		return
	}
	if rec == nil {
		t.Fatalf("got no record, want %v", want)
	}
	if got := eventTypes(rec.Events); !slices.Equal(got, want) {
		t.Fatalf("record events = %v, want %v", got, want)
	}
}

// find returns the first event of type typ in rec.
func find(t testing.TB, rec *protocol.HistoryRecord, typ protocol.EventType) protocol.Event {
	t.Helper()
	if rec != nil {
		for _, ev := range rec.Events {
			if ev.Type == typ {
				return ev
			}
		}
	}
	t.Fatalf("no %v event in record", typ)
	return protocol.Event{}
}

// wantOutput fails the test unless the instance completed with output equal
// to want as JSON.
func wantOutput(t testing.TB, rt *engine.Runtime, want any) {
	t.Helper()
	if rt.Status() != protocol.StatusCompleted {
		t.Fatalf("status = %s (failure %v), want Completed", rt.Status(), rt.Failure())
	}
	if got, w := string(rt.Output()), string(jsonOf(want)); got != w {
		t.Fatalf("output = %s, want %s", got, w)
	}
}

// state is what a worker reads from a Runtime to publish the instance.
type state struct {
	Started      bool
	Name         string
	ExecutionID  string
	Input        string
	CreatedAt    time.Time
	Status       protocol.RuntimeStatus
	Output       string
	Failure      *protocol.Failure
	CustomStatus string
	Pending      []protocol.Event
}

func stateOf(rt *engine.Runtime) state {
	pending := rt.PendingWork()
	if len(pending) == 0 {
		pending = nil
	}
	return state{
		Started:      rt.Started(),
		Name:         rt.Name(),
		ExecutionID:  rt.ExecutionID(),
		Input:        string(rt.Input()),
		CreatedAt:    rt.CreatedAt(),
		Status:       rt.Status(),
		Output:       string(rt.Output()),
		Failure:      rt.Failure(),
		CustomStatus: string(rt.CustomStatus()),
		Pending:      pending,
	}
}

// wantSameState compares the state of a replayed Runtime with the state of
// the live one. A finished instance is restored from its outcome events
// alone, without running code, so only what those events record is compared:
// calls left pending and the custom status are not part of them.
func wantSameState(t testing.TB, got, want state) {
	t.Helper()
	for _, s := range []*state{&got, &want} {
		if s.Status.Terminal() {
			s.Pending, s.CustomStatus = nil, ""
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state differs:\n got  %+v\n want %+v", got, want)
	}
}

// probe lets a test observe what orchestrator code saw. The orchestrator
// goroutine writes it only while the test goroutine waits in Step or Replay,
// so no locking is needed.
type probe struct {
	seen []observation
}

type observation struct {
	at        string // where in the code
	now       time.Time
	replaying bool
}

func (p *probe) observe(ctx *workflow.Context, at string) {
	p.seen = append(p.seen, observation{at: at, now: ctx.Now(), replaying: ctx.IsReplaying()})
}
