package workflowtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// ReplayOption configures a replay.
type ReplayOption func(*replayConfig)

type replayConfig struct{ instanceID string }

// ReplayAs replays under the instance ID the history was recorded with
// (default DefaultInstanceID), so that workflow.Context.NewGUID and child
// instance IDs come out as recorded. A JSON history that names its
// instance needs no ReplayAs.
func ReplayAs(instanceID string) ReplayOption {
	return func(c *replayConfig) { c.instanceID = instanceID }
}

// Replay replays an execution's history records, as jetstream.Hub.ReadHistory
// or Env.History return them, against the orchestrators in reg. It returns
// nil if the code takes the actions the history holds, in the same order,
// and ends where the history ends. Otherwise it returns a
// *NonDeterminismError whose message is a line-by-line diff of the
// history's actions and the code's.
//
// Replay checks what Endure's engine checks when a worker replays an
// instance (each action's kind and name, by task ID; the code must not end
// before its history does), and more: a finished history is replayed too,
// which a worker never does, so a change can be checked against the
// histories of finished instances. Activity inputs and timer durations are
// shown but not compared, as the engine does not compare them.
//
// It returns an error wrapping ErrUnknownOrchestrator if reg does not hold
// the history's orchestrator, and one wrapping ErrBadHistory if the history
// has no start.
func Replay(reg *workflow.Registry, history []protocol.HistoryRecord, opts ...ReplayOption) error {
	rec, err := fromRecords(history)
	if err != nil {
		return err
	}
	return replay(reg, rec, opts)
}

// ReplayEvents replays an execution's history events, as client.History
// returns them, like Replay. The events do not say where one step ended
// and the next began; each run of inputs followed by the events they caused
// is taken as one step.
func ReplayEvents(reg *workflow.Registry, events []protocol.Event, opts ...ReplayOption) error {
	return Replay(reg, recordsOf(events), opts...)
}

// ReplayJSON replays a history in JSON, like Replay. data is one of:
//
//   - what ExportHistory writes;
//   - the status object of the HTTP API's status query with
//     showHistory=true&showHistoryOutput=true&showInput=true, or its
//     historyEvents array (Durable Functions' format).
//
// The HTTP format leaves out task IDs and step boundaries and rounds times
// to the second, so that replay matches results to calls by name and takes
// the order of actions from their times; actions scheduled in the same
// second may be matched in any order. Prefer ExportHistory's format where
// there is a choice. A status object names its instance, so the replay
// runs under that ID.
func ReplayJSON(reg *workflow.Registry, data []byte, opts ...ReplayOption) error {
	rec, id, err := parseHistoryJSON(data)
	if err != nil {
		return err
	}
	if id != "" {
		opts = append([]ReplayOption{ReplayAs(id)}, opts...)
	}
	return replay(reg, rec, opts)
}

// recording is an execution's history as replay needs it: the inputs of
// each step, and the actions and ending the code must reproduce.
type recording struct {
	name    string
	version string
	// versionUnknown says the history does not record the version it
	// started on (an HTTP history without it); replay assumes the current.
	versionUnknown bool
	steps          []recordedStep
	expected       []Action // in task ID order
	end            Ending
	// exact says task IDs and steps are known. Otherwise (the HTTP form)
	// inputs name the call they answer only by name, and expected actions
	// of the same time may be in any order.
	exact bool
	// records is the history itself, when there is one, for the engine's
	// own check.
	records []protocol.HistoryRecord
	// patches are the patches the history records as applied.
	patches map[string]bool
}

type recordedStep struct {
	time   time.Time
	inputs []protocol.Event
}

// Ending is how an execution ended, or that it has not.
type Ending struct {
	// Status is Completed, Failed, Terminated or ContinuedAsNew, or Running
	// if the execution has not ended.
	Status protocol.RuntimeStatus
	// Output is the JSON output of a completed execution.
	Output json.RawMessage
	// Failure is the failure of a failed execution.
	Failure *protocol.Failure
	// Step is the index of the step (history record) the execution ended
	// in, or -1.
	Step int
}

func running() Ending { return Ending{Status: protocol.StatusRunning, Step: -1} }

// endingOf returns the ending an event records, if it records one.
func endingOf(ev protocol.Event, step int) (Ending, bool) {
	switch ev.Type {
	case protocol.EventExecutionCompleted:
		return Ending{Status: protocol.StatusCompleted, Output: ev.Result, Step: step}, true
	case protocol.EventExecutionFailed:
		return Ending{Status: protocol.StatusFailed, Failure: ev.Failure, Step: step}, true
	case protocol.EventExecutionTerminated:
		return Ending{Status: protocol.StatusTerminated, Output: ev.Result, Step: step}, true
	case protocol.EventExecutionContinuedAsNew:
		return Ending{Status: protocol.StatusContinuedAsNew, Output: ev.Input, Step: step}, true
	}
	return Ending{}, false
}

// fromRecords reads what replay needs from history records.
func fromRecords(records []protocol.HistoryRecord) (*recording, error) {
	rec := &recording{end: running(), exact: true, records: records, patches: map[string]bool{}}
	for i, r := range records {
		step := recordedStep{time: r.Time}
		for _, ev := range r.Events {
			if ev.Type == protocol.EventExecutionStarted && rec.name == "" {
				rec.name, rec.version = ev.Name, ev.Version
			}
			if isInput(ev.Type) {
				step.inputs = append(step.inputs, ev)
			}
			if ev.Type == protocol.EventExecutionRewound {
				rec.end = running()
			}
			if ev.Type == protocol.EventPatchApplied {
				rec.patches[ev.Name] = true
			}
			if end, ok := endingOf(ev, i); ok {
				rec.end = end
			}
		}
		rec.expected = collectActions(rec.expected, r.Events)
		rec.steps = append(rec.steps, step)
	}
	if rec.name == "" {
		return nil, fmt.Errorf("workflowtest: %w: no ExecutionStarted event in %d records", ErrBadHistory, len(records))
	}
	return rec, nil
}

// isInput reports whether an event is something that happened to the
// instance, as opposed to something its code did.
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

// recordsOf splits a flat event list into steps: a step's inputs come
// first, then the events its code produced, stamped with the step's time.
func recordsOf(events []protocol.Event) []protocol.HistoryRecord {
	var out []protocol.HistoryRecord
	producing := true // so that the first event starts a record
	for _, ev := range events {
		input := isInput(ev.Type)
		if input && producing {
			out = append(out, protocol.HistoryRecord{V: protocol.FormatVersion, Time: ev.Time})
		}
		// A rewind ends its step: the worker rebuilds the instance after it.
		producing = !input || ev.Type == protocol.EventExecutionRewound
		if len(out) == 0 {
			out = append(out, protocol.HistoryRecord{V: protocol.FormatVersion, Time: ev.Time})
		}
		r := &out[len(out)-1]
		if input {
			r.Time = ev.Time // until a produced event gives the step's own time
		} else if isInput(r.Events[len(r.Events)-1].Type) {
			r.Time = ev.Time
		}
		r.Events = append(r.Events, ev)
	}
	return out
}

// replayer feeds a recording to the current code, step by step, as an
// orchestrator worker would have, and collects the actions the code takes.
type replayer struct {
	reg        *workflow.Registry
	instanceID string
	rec        *recording

	rt       *engine.Runtime
	fed      []fedStep
	answered map[int32]bool // calls answered, when inputs are matched by name
	actual   []Action
	end      Ending
	// newPatches are patches the code applied that the history does not
	// record: see patchedVerdict.
	newPatches []string
}

// fedStep is a step as fed to the code, kept to rebuild it after a rewind.
type fedStep struct {
	time   time.Time
	inputs []protocol.Event
	failed bool // the execution failed in this step
}

func replay(reg *workflow.Registry, rec *recording, opts []ReplayOption) error {
	cfg := replayConfig{instanceID: DefaultInstanceID}
	for _, opt := range opts {
		opt(&cfg)
	}
	if _, ok := reg.Lookup(rec.name); !ok {
		return fmt.Errorf("workflowtest: replay: %w %q (registered: %v)", ErrUnknownOrchestrator, rec.name, reg.Names())
	}
	if rec.versionUnknown {
		rec.version = reg.Version(rec.name)
		for _, st := range rec.steps {
			for i := range st.inputs {
				if st.inputs[i].Type == protocol.EventExecutionStarted {
					st.inputs[i].Version = rec.version
				}
			}
		}
	}
	if !reg.Supports(rec.name, rec.version) {
		return fmt.Errorf("workflowtest: replay: %w: %s started on version %q, which the registry does not run (it stamps %q)",
			ErrUnsupportedVersion, rec.name, rec.version, reg.Version(rec.name))
	}
	r := &replayer{reg: reg, instanceID: cfg.instanceID, rec: rec, answered: map[int32]bool{}, end: running()}
	r.rt = engine.New(r.instanceID, reg.Lookup)
	defer func() { r.rt.Close() }()
	for i, st := range rec.steps {
		inputs := make([]protocol.Event, 0, len(st.inputs))
		for _, ev := range st.inputs {
			if ev, ok := r.resolve(ev); ok {
				inputs = append(inputs, ev)
			}
		}
		out, err := r.step(st.time, inputs)
		if err != nil {
			return err
		}
		r.fed = append(r.fed, fedStep{time: st.time, inputs: inputs, failed: has(out, protocol.EventExecutionFailed)})
		if has(out, protocol.EventExecutionRewound) {
			if err := r.rebuild(); err != nil {
				return err
			}
		}
		r.noteEnd(out, i)
	}
	if len(r.newPatches) > 0 {
		return r.patchedVerdict()
	}
	engineMsg, err := r.engineCheck()
	if err != nil {
		return err
	}
	return r.verdict(engineMsg)
}

func (r *replayer) step(now time.Time, inputs []protocol.Event) (*protocol.HistoryRecord, error) {
	out, err := r.rt.Step(now, inputs)
	if err != nil {
		return nil, fmt.Errorf("workflowtest: replay: %w", err)
	}
	if out != nil {
		r.actual = collectActions(r.actual, out.Events)
		for _, ev := range out.Events {
			if ev.Type == protocol.EventPatchApplied && !r.rec.patches[ev.Name] && !slices.Contains(r.newPatches, ev.Name) {
				r.newPatches = append(r.newPatches, ev.Name)
			}
		}
	}
	return out, nil
}

// noteEnd records where the code's execution ended.
func (r *replayer) noteEnd(out *protocol.HistoryRecord, step int) {
	st := r.rt.Status()
	if !st.Terminal() && st != protocol.StatusContinuedAsNew {
		r.end = running()
		return
	}
	if r.end.Step >= 0 || out == nil {
		return
	}
	for _, ev := range out.Events {
		if end, ok := endingOf(ev, step); ok {
			r.end = end
		}
	}
}

// rebuild does what a worker does after a rewind: it rebuilds the instance
// from its history with the failures before the rewind set aside, so that
// the failed work is pending again.
func (r *replayer) rebuild() error {
	r.rt.Close()
	r.rt = engine.New(r.instanceID, r.reg.Lookup)
	r.end = running()
	for i, st := range r.fed {
		inputs := st.inputs
		if st.failed {
			inputs = nil
			for _, ev := range st.inputs {
				if ev.Type != protocol.EventTaskFailed {
					inputs = append(inputs, ev)
				}
			}
			if !r.rec.exact {
				for _, ev := range st.inputs {
					if ev.Type == protocol.EventTaskFailed {
						delete(r.answered, ev.TaskID)
					}
				}
			}
		}
		out, err := r.step(st.time, inputs)
		if err != nil {
			return err
		}
		r.fed[i].failed = st.failed || has(out, protocol.EventExecutionFailed)
	}
	return nil
}

// resolve gives an input matched by name (the HTTP form) the task ID of the
// call it answers: the code's first unanswered call of that kind and name,
// or for a timer the one due at the same second. It reports false if the
// code made no such call.
func (r *replayer) resolve(ev protocol.Event) (protocol.Event, bool) {
	if r.rec.exact {
		return ev, true
	}
	var want protocol.EventType
	switch ev.Type {
	case protocol.EventTaskCompleted, protocol.EventTaskFailed:
		want = protocol.EventTaskScheduled
	case protocol.EventSubOrchestrationCompleted, protocol.EventSubOrchestrationFailed:
		want = protocol.EventSubOrchestrationCreated
	case protocol.EventTimerFired:
		want = protocol.EventTimerCreated
	default:
		return ev, true
	}
	found, exact := false, false
	for _, p := range r.rt.PendingWork() {
		if p.Type != want || r.answered[p.TaskID] {
			continue
		}
		if want != protocol.EventTimerCreated {
			if p.Name == ev.Name {
				ev.TaskID, found = p.TaskID, true
				break
			}
			continue
		}
		if sameSecond := p.FireAt.Truncate(time.Second).Equal(ev.FireAt.Truncate(time.Second)); !found || sameSecond && !exact {
			ev.TaskID, found, exact = p.TaskID, true, sameSecond
		}
	}
	if found {
		r.answered[ev.TaskID] = true
		if want != protocol.EventTimerCreated {
			ev.Name = "" // the name only matched the call
		}
	}
	return ev, found
}

// engineCheck replays the history with the engine itself, as a worker would
// after a restart, and returns the engine's non-determinism message, if
// any. A finished history is replayed without its final step, since the
// engine does not run the code of a finished instance.
func (r *replayer) engineCheck() (string, error) {
	records := r.rec.records
	if records == nil {
		return "", nil // the HTTP form: no records to give the engine
	}
	if r.rec.end.Step >= 0 {
		records = records[:r.rec.end.Step]
	}
	if len(records) == 0 {
		return "", nil
	}
	rt := engine.New(r.instanceID, r.reg.Lookup)
	defer rt.Close()
	if err := rt.Replay(records); err != nil {
		return "", fmt.Errorf("workflowtest: replay: %w", err)
	}
	if f := rt.Failure(); rt.Status() == protocol.StatusFailed && f != nil && f.Type == engine.FailureTypeNonDeterminism {
		return f.Message, nil
	}
	return "", nil
}

// patchedVerdict judges code that asks for a patch its history predates.
// Fed step by step, the code took the patch's new path, as a new execution
// would; replayed by a worker, it takes the old path. So the engine replays
// the history itself, in three parts where the history has ended, since the
// engine never runs the code of a finished instance: the steps before the
// last, then the last without its ending, in which the code must return
// (the engine reports that as the code returning while its history goes
// on). The diff shows the actions of the step-by-step run, with a note.
func (r *replayer) patchedVerdict() error {
	if !r.rec.exact {
		return fmt.Errorf("workflowtest: replay: %w: the code asks IsPatched(%q), which this HTTP history does not record; "+
			"replay the hub's records or an ExportHistory instead", ErrBadHistory, r.newPatches[0])
	}
	replayed := func(records []protocol.HistoryRecord) (*protocol.Failure, error) {
		rt := engine.New(r.instanceID, r.reg.Lookup)
		defer rt.Close()
		if err := rt.Replay(records); err != nil {
			return nil, fmt.Errorf("workflowtest: replay: %w", err)
		}
		if f := rt.Failure(); rt.Status() == protocol.StatusFailed && f != nil && f.Type == engine.FailureTypeNonDeterminism {
			return f, nil
		}
		if rt.Status().Terminal() || rt.Status() == protocol.StatusContinuedAsNew {
			return &protocol.Failure{Message: "the code ended"}, nil
		}
		return nil, nil
	}
	records, last := r.rec.records, r.rec.end.Step
	var msg string
	if last < 0 {
		f, err := replayed(records)
		if err != nil {
			return err
		}
		if f != nil {
			msg = f.Message
		}
	} else {
		f, err := replayed(records[:last])
		if err != nil {
			return err
		}
		if f != nil {
			msg = f.Message
		} else if r.rec.end.Status != protocol.StatusTerminated {
			f, err := replayed(append(records[:last:last], withoutEnding(records[last])))
			switch {
			case err != nil:
				return err
			case f == nil:
				msg = fmt.Sprintf("the history ends at step %d but the code does not", last)
			case !strings.Contains(f.Message, "returned"):
				msg = f.Message
			}
		}
	}
	if msg == "" {
		return nil
	}
	nd := r.verdict(msg).(*NonDeterminismError)
	nd.Note = fmt.Sprintf("the history predates patch %q, so the engine replays it with IsPatched false; "+
		"the code's actions above are those of a new execution, which takes the patch", r.newPatches[0])
	return nd
}

// withoutEnding returns a record without the events that ended its
// execution (and the timer cancellations that followed them).
func withoutEnding(rec protocol.HistoryRecord) protocol.HistoryRecord {
	out := protocol.HistoryRecord{V: rec.V, Time: rec.Time}
	ended := false
	for _, ev := range rec.Events {
		if _, ok := endingOf(ev, 0); ok && ev.Type != protocol.EventExecutionTerminated {
			ended = true
			continue
		}
		if ended && ev.Type == protocol.EventTimerCanceled {
			continue
		}
		out.Events = append(out.Events, ev)
	}
	return out
}

// verdict compares what the code did with the history.
func (r *replayer) verdict(engineMsg string) error {
	expected := r.rec.expected
	if !r.rec.exact {
		expected = alignUnordered(expected, r.actual)
	}
	first := -1
	for i := 0; i < max(len(expected), len(r.actual)); i++ {
		if i >= len(expected) || i >= len(r.actual) || !sameAction(expected[i], r.actual[i]) {
			first = i
			break
		}
	}
	if first < 0 && sameEnding(r.rec.end, r.end) && engineMsg == "" {
		return nil
	}
	return &NonDeterminismError{
		Orchestrator: r.rec.name, InstanceID: r.instanceID,
		Expected: expected, Actual: r.actual, ExpectedEnd: r.rec.end, ActualEnd: r.end,
		Divergence: first, EngineMessage: engineMsg,
	}
}

// sameEnding compares endings by status and step; outputs are shown but
// not compared.
func sameEnding(a, b Ending) bool { return a.Status == b.Status && a.Step == b.Step }

// alignUnordered reorders expected actions that share a time (their order
// is unknown in the HTTP form) to follow the code's order where they match
// it, and numbers them.
func alignUnordered(expected, actual []Action) []Action {
	out := make([]Action, 0, len(expected))
	for i := 0; i < len(expected); {
		j := i + 1
		for j < len(expected) && expected[j].Time.Equal(expected[i].Time) {
			j++
		}
		group := append([]Action(nil), expected[i:j]...)
		used := make([]bool, len(group))
		for k := i; k < j; k++ {
			if k >= len(actual) {
				break
			}
			for g := range group {
				if !used[g] && sameAction(group[g], actual[k]) {
					used[g] = true
					out = append(out, group[g])
					break
				}
			}
			if len(out) < k+1 {
				break // no match for this position: keep the rest in history order
			}
		}
		for g := range group {
			if !used[g] {
				out = append(out, group[g])
			}
		}
		i = j
	}
	for i := range out {
		out[i].TaskID = int32(i)
	}
	return out
}

func has(rec *protocol.HistoryRecord, t protocol.EventType) bool {
	if rec == nil {
		return false
	}
	for _, ev := range rec.Events {
		if ev.Type == t {
			return true
		}
	}
	return false
}
