package workflowtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// ExportFormat names the JSON format of ExportHistory.
const ExportFormat = "endure-history/v1"

// ExportHistory writes an execution's history records as JSON that
// ReplayJSON reads back: the records in order, each event with its type
// name and fields, payloads as JSON. Unlike the HTTP API's history it keeps
// task IDs, step boundaries and exact times, so that a replay of it is
// exact. instanceID may be empty; if set, ReplayJSON replays under it.
func ExportHistory(instanceID string, records []protocol.HistoryRecord) ([]byte, error) {
	out := exportedHistory{Format: ExportFormat, InstanceID: instanceID, Records: make([]exportedRecord, len(records))}
	for i, rec := range records {
		out.Records[i] = exportedRecord{Time: rec.Time, Events: make([]exportedEvent, len(rec.Events))}
		for j, ev := range rec.Events {
			x, err := exportEvent(ev)
			if err != nil {
				return nil, fmt.Errorf("workflowtest: export record %d event %d: %w", i, j, err)
			}
			out.Records[i].Events[j] = x
		}
	}
	return json.MarshalIndent(out, "", "  ")
}

type exportedHistory struct {
	Format     string           `json:"format"`
	InstanceID string           `json:"instanceId,omitempty"`
	Records    []exportedRecord `json:"records"`
}

type exportedRecord struct {
	Time   time.Time       `json:"time"`
	Events []exportedEvent `json:"events"`
}

type exportedEvent struct {
	Type        string           `json:"type"`
	Time        time.Time        `json:"time"`
	TaskID      *int32           `json:"taskId,omitempty"`
	Name        string           `json:"name,omitempty"`
	ExecutionID string           `json:"executionId,omitempty"`
	Input       json.RawMessage  `json:"input,omitempty"`
	Result      json.RawMessage  `json:"result,omitempty"`
	FireAt      *time.Time       `json:"fireAt,omitempty"`
	Failure     *exportedFailure `json:"failure,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Target      string           `json:"target,omitempty"`
	Detached    bool             `json:"detached,omitempty"`
	Parent      *exportedParent  `json:"parent,omitempty"`
	Carried     []exportedEvent  `json:"carried,omitempty"`
	Timeout     string           `json:"timeout,omitempty"`
	Version     string           `json:"version,omitempty"`
	EventID     string           `json:"eventId,omitempty"`
	Seen        []string         `json:"seen,omitempty"`
}

type exportedFailure struct {
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

type exportedParent struct {
	InstanceID  string `json:"instanceId"`
	ExecutionID string `json:"executionId"`
	TaskID      int32  `json:"taskId"`
}

// hasTaskID reports whether events of type t carry a task ID.
func hasTaskID(t protocol.EventType) bool {
	switch t {
	case protocol.EventTaskScheduled, protocol.EventTaskCompleted, protocol.EventTaskFailed,
		protocol.EventTimerCreated, protocol.EventTimerFired, protocol.EventTimerCanceled,
		protocol.EventSubOrchestrationCreated, protocol.EventSubOrchestrationCompleted,
		protocol.EventSubOrchestrationFailed, protocol.EventEventSent:
		return true
	}
	return false
}

func exportEvent(ev protocol.Event) (exportedEvent, error) {
	if !ev.Type.Valid() {
		return exportedEvent{}, fmt.Errorf("unknown event type %d", ev.Type)
	}
	x := exportedEvent{
		Type: ev.Type.String(), Time: ev.Time, Name: ev.Name, ExecutionID: ev.ExecutionID,
		Reason: ev.Reason, Target: ev.Target, Detached: ev.Detached, Version: ev.Version,
		EventID: ev.EventID, Seen: ev.Seen,
	}
	if ev.Timeout != 0 {
		x.Timeout = ev.Timeout.String()
	}
	if hasTaskID(ev.Type) {
		id := ev.TaskID
		x.TaskID = &id
	}
	for _, p := range []struct {
		what string
		src  []byte
		dst  *json.RawMessage
	}{{"input", ev.Input, &x.Input}, {"result", ev.Result, &x.Result}} {
		if len(p.src) == 0 {
			continue
		}
		if !json.Valid(p.src) {
			return exportedEvent{}, fmt.Errorf("%s %s is not JSON", ev.Type, p.what)
		}
		*p.dst = json.RawMessage(p.src)
	}
	if !ev.FireAt.IsZero() {
		at := ev.FireAt
		x.FireAt = &at
	}
	if f := ev.Failure; f != nil {
		x.Failure = &exportedFailure{Type: f.Type, Message: f.Message, Stack: f.Stack}
	}
	if p := ev.Parent; p != nil {
		x.Parent = &exportedParent{InstanceID: p.InstanceID, ExecutionID: p.ExecutionID, TaskID: p.TaskID}
	}
	for _, c := range ev.Carried {
		cx, err := exportEvent(c)
		if err != nil {
			return exportedEvent{}, fmt.Errorf("carried event: %w", err)
		}
		x.Carried = append(x.Carried, cx)
	}
	return x, nil
}

// eventTypeByName maps the names ExportHistory writes back to types.
var eventTypeByName = func() map[string]protocol.EventType {
	m := map[string]protocol.EventType{}
	for t := protocol.EventType(1); t.Valid(); t++ { // numbered from 1 without gaps
		m[t.String()] = t
	}
	return m
}()

// parseExport reads what ExportHistory wrote.
func parseExport(data []byte) (string, []protocol.HistoryRecord, error) {
	var in exportedHistory
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return "", nil, fmt.Errorf("workflowtest: %w: %v", ErrBadHistory, err)
	}
	if in.Format != ExportFormat {
		return "", nil, fmt.Errorf("workflowtest: %w: format %q, want %q", ErrBadHistory, in.Format, ExportFormat)
	}
	records := make([]protocol.HistoryRecord, len(in.Records))
	for i, r := range in.Records {
		records[i] = protocol.HistoryRecord{V: protocol.FormatVersion, Time: r.Time, Events: make([]protocol.Event, len(r.Events))}
		for j, x := range r.Events {
			ev, err := importEvent(x)
			if err != nil {
				return "", nil, fmt.Errorf("workflowtest: %w: record %d event %d: %v", ErrBadHistory, i, j, err)
			}
			records[i].Events[j] = ev
		}
	}
	return in.InstanceID, records, nil
}

func importEvent(x exportedEvent) (protocol.Event, error) {
	t, ok := eventTypeByName[x.Type]
	if !ok {
		return protocol.Event{}, fmt.Errorf("unknown event type %q", x.Type)
	}
	ev := protocol.Event{
		Type: t, Time: x.Time, Name: x.Name, ExecutionID: x.ExecutionID, Input: []byte(x.Input), Result: []byte(x.Result),
		Reason: x.Reason, Target: x.Target, Detached: x.Detached, Version: x.Version,
		EventID: x.EventID, Seen: x.Seen,
	}
	if x.Timeout != "" {
		d, err := time.ParseDuration(x.Timeout)
		if err != nil {
			return protocol.Event{}, fmt.Errorf("timeout: %v", err)
		}
		ev.Timeout = d
	}
	if x.TaskID != nil {
		ev.TaskID = *x.TaskID
	}
	if x.FireAt != nil {
		ev.FireAt = *x.FireAt
	}
	if f := x.Failure; f != nil {
		ev.Failure = &protocol.Failure{Type: f.Type, Message: f.Message, Stack: f.Stack}
	}
	if p := x.Parent; p != nil {
		ev.Parent = &protocol.ParentRef{InstanceID: p.InstanceID, ExecutionID: p.ExecutionID, TaskID: p.TaskID}
	}
	for _, c := range x.Carried {
		cev, err := importEvent(c)
		if err != nil {
			return protocol.Event{}, fmt.Errorf("carried event: %w", err)
		}
		ev.Carried = append(ev.Carried, cev)
	}
	return ev, nil
}
