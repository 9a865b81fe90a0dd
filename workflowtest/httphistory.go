package workflowtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// parseHistoryJSON reads a history in any JSON form ReplayJSON takes and
// returns it with the instance ID it names, if any.
func parseHistoryJSON(data []byte) (*recording, string, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, "", fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
		}
		rec, err := fromHTTPHistory(entries)
		return rec, "", err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, "", fmt.Errorf("workflowtest: %w: neither an exported history nor a status: %v", ErrBadHistory, err)
	}
	if _, ok := top["format"]; ok {
		id, records, err := parseExport(data)
		if err != nil {
			return nil, "", err
		}
		rec, err := fromRecords(records)
		return rec, id, err
	}
	raw, ok := top["historyEvents"]
	if !ok || string(raw) == "null" {
		if _, isStatus := top["runtimeStatus"]; isStatus {
			return nil, "", fmt.Errorf("workflowtest: %w: the status has no historyEvents; query it with showHistory=true&showHistoryOutput=true&showInput=true", ErrBadHistory)
		}
		return nil, "", fmt.Errorf("workflowtest: %w: neither an exported history (no \"format\") nor a status (no \"historyEvents\")", ErrBadHistory)
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, "", fmt.Errorf("workflowtest: %w: historyEvents: %v", ErrBadHistory, err)
	}
	var id string
	if b, ok := top["instanceId"]; ok {
		_ = json.Unmarshal(b, &id)
	}
	rec, err := fromHTTPHistory(entries)
	return rec, id, err
}

// httpEntry is one entry of the HTTP API's historyEvents.
type httpEntry struct {
	index  int
	fields map[string]json.RawMessage
}

func (e httpEntry) str(key string) string {
	var s string
	_ = json.Unmarshal(e.fields[key], &s)
	return s
}

// payload returns a JSON payload field, and whether the entry has it at all:
// the API leaves inputs and results out unless asked for them.
func (e httpEntry) payload(key string) ([]byte, bool) {
	b, ok := e.fields[key]
	if !ok {
		return nil, false
	}
	if string(b) == "null" {
		return nil, true
	}
	return []byte(b), true
}

func (e httpEntry) time(key string) (time.Time, error) {
	s := e.str(key)
	if s == "" {
		return time.Time{}, fmt.Errorf("historyEvents[%d] (%s): no %s", e.index, e.str("EventType"), key)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("historyEvents[%d] (%s): %s: %v", e.index, e.str("EventType"), key, err)
	}
	return t.UTC(), nil
}

func (e httpEntry) name() string {
	if n := e.str("FunctionName"); n != "" {
		return n
	}
	return e.str("Name")
}

// failure rebuilds a Failure as the HTTP API renders one: Reason is the
// message, Details the type and then the stack.
func (e httpEntry) failure() *protocol.Failure {
	f := &protocol.Failure{Message: e.str("Reason")}
	f.Type, f.Stack, _ = strings.Cut(e.str("Details"), "\n")
	return f
}

// fromHTTPHistory reads the HTTP API's historyEvents (Durable Functions'
// format: each TaskScheduled folded into the TaskCompleted or TaskFailed
// that answers it, no task IDs, times to the second). Each input becomes a
// step of its own, at its time, matched to the call it answers by name when
// it is fed; the expected actions are ordered by the time they were taken.
func fromHTTPHistory(entries []map[string]json.RawMessage) (*recording, error) {
	rec := &recording{end: running(), patches: map[string]bool{}}
	type placed struct {
		a   Action
		pos int
	}
	var actions []placed
	var last time.Time
	// reopened are the failed calls a rewind sent again: their next answer
	// folds the same call in again, which is not a new action.
	var reopened []Action
	var failedCalls []Action
	fired := map[int]bool{} // timers (by index in actions) that fired
	missing := func(e httpEntry, what, flag string) error {
		return fmt.Errorf("workflowtest: %w: historyEvents[%d] (%s) has no %s: export the history with %s=true",
			ErrBadHistory, e.index, e.str("EventType"), what, flag)
	}
	input := func(ev protocol.Event) {
		if ev.Time.Before(last) {
			ev.Time = last
		}
		last = ev.Time
		rec.steps = append(rec.steps, recordedStep{time: ev.Time, inputs: []protocol.Event{ev}})
	}
	for i, fields := range entries {
		e := httpEntry{index: i, fields: fields}
		ts, err := e.time("Timestamp")
		if err != nil {
			return nil, fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
		}
		switch typ := e.str("EventType"); typ {
		case "ExecutionStarted":
			in, ok := e.payload("Input")
			if !ok {
				return nil, missing(e, "Input", "showInput")
			}
			_, hasVersion := fields["Version"]
			if rec.name == "" {
				rec.name, rec.version, rec.versionUnknown = e.name(), e.str("Version"), !hasVersion
			}
			input(protocol.Event{Type: protocol.EventExecutionStarted, Time: ts, Name: e.name(), ExecutionID: executionID("replay"), Input: in, Version: e.str("Version")})
		case "TaskScheduled", "SubOrchestrationInstanceCreated":
			// Not answered yet, so not folded.
			kind := ActionCallActivity
			if typ == "SubOrchestrationInstanceCreated" {
				kind = ActionCallSubOrchestrator
			}
			in, _ := e.payload("Input")
			actions = append(actions, placed{Action{Kind: kind, Name: e.name(), Input: in, Time: ts}, i})
		case "TaskCompleted", "TaskFailed", "SubOrchestrationInstanceCompleted", "SubOrchestrationInstanceFailed":
			kind, evType := ActionCallActivity, map[string]protocol.EventType{
				"TaskCompleted": protocol.EventTaskCompleted, "TaskFailed": protocol.EventTaskFailed,
				"SubOrchestrationInstanceCompleted": protocol.EventSubOrchestrationCompleted,
				"SubOrchestrationInstanceFailed":    protocol.EventSubOrchestrationFailed,
			}[typ]
			if strings.HasPrefix(typ, "Sub") {
				kind = ActionCallSubOrchestrator
			}
			scheduled := ts
			if _, ok := fields["ScheduledTime"]; ok {
				if scheduled, err = e.time("ScheduledTime"); err != nil {
					return nil, fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
				}
			}
			in, _ := e.payload("Input") // Durable Functions shows it; Endure may not
			a := Action{Kind: kind, Name: e.name(), Input: in, Time: scheduled}
			if j := slices.IndexFunc(reopened, func(r Action) bool { return sameAction(r, a) && r.Time.Equal(a.Time) }); j >= 0 {
				reopened = slices.Delete(reopened, j, j+1)
			} else {
				actions = append(actions, placed{a, i})
			}
			if strings.HasSuffix(typ, "Failed") {
				failedCalls = append(failedCalls, a)
			}
			ev := protocol.Event{Type: evType, Time: ts, Name: e.name()}
			if strings.HasSuffix(typ, "Completed") {
				res, ok := e.payload("Result")
				if !ok {
					return nil, missing(e, "Result", "showHistoryOutput")
				}
				ev.Result = res
			} else {
				ev.Failure = e.failure()
			}
			input(ev)
		case "TimerCreated":
			fireAt, err := e.time("FireAt")
			if err != nil {
				return nil, fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
			}
			actions = append(actions, placed{Action{Kind: ActionCreateTimer, FireAt: fireAt, Time: ts}, i})
		case "TimerFired":
			ev := protocol.Event{Type: protocol.EventTimerFired, Time: ts}
			if _, ok := fields["FireAt"]; ok {
				if ev.FireAt, err = e.time("FireAt"); err != nil {
					return nil, fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
				}
			}
			// Settled, so that a later cancellation goes to another timer.
			for j := range actions {
				if actions[j].a.Kind == ActionCreateTimer && !actions[j].a.Canceled && !fired[j] && actions[j].a.FireAt.Equal(ev.FireAt) {
					fired[j] = true
					break
				}
			}
			input(ev)
		case "PatchApplied":
			rec.patches[e.name()] = true
		case "TimerCanceled":
			// Which timer is not said: take the oldest one still pending.
			// Replay shows cancellations but does not compare them.
			for j := range actions {
				if actions[j].a.Kind == ActionCreateTimer && !actions[j].a.Canceled && !fired[j] {
					actions[j].a.Canceled = true
					break
				}
			}
		case "EventRaised":
			data, ok := e.payload("Input")
			if !ok {
				return nil, missing(e, "Input", "showInput")
			}
			input(protocol.Event{Type: protocol.EventEventRaised, Time: ts, Name: e.name(), Input: data})
		case "EventSent":
			in, _ := e.payload("Input")
			target := e.str("InstanceId")
			if target == "" {
				target = e.str("Target")
			}
			actions = append(actions, placed{Action{Kind: ActionSendEvent, Name: e.name(), Target: target, Input: in, Time: ts}, i})
		case "ExecutionTerminated":
			input(protocol.Event{Type: protocol.EventExecutionTerminated, Time: ts, Reason: e.str("Reason")})
			rec.end = Ending{Status: protocol.StatusTerminated, Step: len(rec.steps) - 1}
		case "ExecutionSuspended":
			input(protocol.Event{Type: protocol.EventExecutionSuspended, Time: ts, Reason: e.str("Reason")})
		case "ExecutionResumed":
			input(protocol.Event{Type: protocol.EventExecutionResumed, Time: ts, Reason: e.str("Reason")})
		case "ExecutionRewound":
			input(protocol.Event{Type: protocol.EventExecutionRewound, Time: ts, Reason: e.str("Reason")})
			rec.end = running()
			reopened, failedCalls = append(reopened, failedCalls...), nil
		case "ExecutionCompleted", "ExecutionFailed", "ContinueAsNew":
			status := protocol.RuntimeStatus(e.str("OrchestrationStatus"))
			switch typ {
			case "ExecutionFailed":
				status = protocol.StatusFailed
			case "ContinueAsNew":
				status = protocol.StatusContinuedAsNew
			}
			end := Ending{Status: status, Step: len(rec.steps) - 1}
			switch status {
			case protocol.StatusCompleted, protocol.StatusContinuedAsNew, protocol.StatusTerminated:
				end.Output, _ = e.payload("Result")
			case protocol.StatusFailed:
				end.Failure = e.failure()
			default:
				return nil, fmt.Errorf("workflowtest: %w: historyEvents[%d]: unknown OrchestrationStatus %q", ErrBadHistory, i, status)
			}
			if status == protocol.StatusTerminated && rec.end.Status == protocol.StatusTerminated {
				continue // the ExecutionTerminated entry ended it already
			}
			rec.end = end
		default:
			return nil, fmt.Errorf("workflowtest: %w: historyEvents[%d]: unsupported EventType %q", ErrBadHistory, i, typ)
		}
	}
	if rec.name == "" {
		return nil, fmt.Errorf("workflowtest: %w: no ExecutionStarted entry in %d historyEvents", ErrBadHistory, len(entries))
	}
	// Actions in the order they were taken: by time, and within the same
	// second by position (which for a folded call is where its answer is).
	slices.SortStableFunc(actions, func(a, b placed) int {
		if c := a.a.Time.Compare(b.a.Time); c != 0 {
			return c
		}
		return a.pos - b.pos
	})
	for i, p := range actions {
		p.a.TaskID = int32(i)
		rec.expected = append(rec.expected, p.a)
	}
	return rec, nil
}
