package protocol_test

import (
	"fmt"
	"reflect"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// marshal and unmarshal call protocol.Marshal and protocol.Unmarshal on a
// value held as any: their parameter type is unexported.
func marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case *protocol.HistoryRecord:
		return protocol.Marshal(v)
	case *protocol.WorkItem:
		return protocol.Marshal(v)
	case *protocol.ActivityTask:
		return protocol.Marshal(v)
	case *protocol.InstanceState:
		return protocol.Marshal(v)
	case *protocol.IndexEntry:
		return protocol.Marshal(v)
	}
	panic(fmt.Sprintf("marshal: add %T", v))
}

func unmarshal(data []byte, v any) error {
	switch v := v.(type) {
	case *protocol.HistoryRecord:
		return protocol.Unmarshal(data, v)
	case *protocol.WorkItem:
		return protocol.Unmarshal(data, v)
	case *protocol.ActivityTask:
		return protocol.Unmarshal(data, v)
	case *protocol.InstanceState:
		return protocol.Unmarshal(data, v)
	case *protocol.IndexEntry:
		return protocol.Unmarshal(data, v)
	}
	panic(fmt.Sprintf("unmarshal: add %T", v))
}

// wireTypes makes an empty value of every top-level wire type.
var wireTypes = []struct {
	name string
	new  func() any
}{
	{"HistoryRecord", func() any { return &protocol.HistoryRecord{} }},
	{"WorkItem", func() any { return &protocol.WorkItem{} }},
	{"ActivityTask", func() any { return &protocol.ActivityTask{} }},
	{"InstanceState", func() any { return &protocol.InstanceState{} }},
	{"IndexEntry", func() any { return &protocol.IndexEntry{} }},
}

var ts = time.Date(2025, time.March, 1, 9, 0, 0, 123456789, time.UTC)

// sampleEvent sets every field of an Event.
func sampleEvent() protocol.Event {
	return protocol.Event{
		Type:        protocol.EventTaskScheduled,
		Time:        ts,
		TaskID:      7,
		Name:        "SayHello",
		ExecutionID: "exec-1",
		Input:       []byte(`"Tokyo"`),
		Result:      []byte(`"Hello Tokyo!"`),
		FireAt:      ts.Add(time.Hour),
		Failure:     &protocol.Failure{Type: "*errors.errorString", Message: "boom", Stack: "goroutine 1 [running]:"},
		Reason:      "operator request",
		Target:      "child-1",
		Detached:    true,
		Parent:      &protocol.ParentRef{InstanceID: "parent-1", ExecutionID: "exec-0", TaskID: 3},
		Carried:     []protocol.Event{{Type: protocol.EventEventRaised, Time: ts, Name: "Approve", Input: []byte(`true`)}},
		Timeout:     90 * time.Second,
		Version:     "v2",
		EventID:     "4f1c2b",
		Seen:        []string{"4f1c2a"},
	}
}

// samples holds one value of every wire type with every field set, so that
// a round trip shows that each field travels.
func samples() []any {
	other := sampleEvent()
	other.Type, other.TaskID = protocol.EventTaskCompleted, 8
	return []any{
		&protocol.HistoryRecord{V: protocol.FormatVersion, Time: ts, Events: []protocol.Event{sampleEvent(), other}, CustomStatus: []byte(`"step 3 of 5"`)},
		&protocol.WorkItem{V: protocol.FormatVersion, InstanceID: "order-42", ExecutionID: "exec-1", Event: sampleEvent(), StateRevision: 7, Schedule: "@every 1m"},
		&protocol.ActivityTask{V: protocol.FormatVersion, InstanceID: "order-42", ExecutionID: "exec-1", TaskID: 7,
			Name: "SayHello", Input: []byte(`{"city":"Tokyo"}`), Generation: 2, Timeout: time.Minute},
		&protocol.InstanceState{V: protocol.FormatVersion, InstanceID: "order-42", Name: "Greet", ExecutionID: "exec-1",
			Status: protocol.StatusFailed, Input: []byte(`"Tokyo"`), Output: []byte(`"Hello"`), CustomStatus: []byte(`{"stage":2}`),
			Failure: &protocol.Failure{Type: "Panic", Message: "boom", Stack: "stack"}, CreatedAt: ts, UpdatedAt: ts.Add(time.Minute),
			HistorySeq: 42, StartAt: ts.Add(time.Hour)},
		&protocol.IndexEntry{V: protocol.FormatVersion, InstanceID: "order-42", Name: "Greet", CreatedAt: ts},
	}
}

// zeroFields lists the fields of v (a pointer to struct) left at their zero
// value, looking into nested structs and pointers to structs.
func zeroFields(v reflect.Value, path string) []string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []string{path}
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == reflect.TypeFor[time.Time]() {
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
	var zero []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		zero = append(zero, zeroFields(v.Field(i), path+"."+f.Name)...)
	}
	return zero
}

// normalize rewrites a decoded value into a canonical form for comparison:
// times in UTC, empty byte strings and slices as nil. Decoding yields times
// in the local zone, and an empty payload and no payload mean the same.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	}
}

func normalized(v any) any {
	normalize(reflect.ValueOf(v))
	return v
}
