package workflowtest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// filled returns an event of type t with every field set, by reflection,
// so that a field added to protocol.Event is covered without editing this
// test.
func filled(t *testing.T, typ protocol.EventType, depth int) protocol.Event {
	t.Helper()
	ev := protocol.Event{}
	v := reflect.ValueOf(&ev).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case name == "Type":
			f.Set(reflect.ValueOf(typ))
		case name == "TaskID":
			if hasTaskID(typ) { // not carried by types without one
				f.SetInt(7)
			}
		case name == "Input" || name == "Result":
			f.SetBytes([]byte(`{"field":"` + name + `"}`))
		case name == "Carried":
			if depth == 0 {
				f.Set(reflect.ValueOf([]protocol.Event{filled(t, protocol.EventEventRaised, 1)}))
			}
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Date(2025, 3, 1, 9, 0, i, 123456789, time.UTC)))
		case f.Type() == reflect.TypeFor[time.Duration]():
			f.SetInt(int64(90 * time.Second))
		case f.Type() == reflect.TypeFor[[]string]():
			f.Set(reflect.ValueOf([]string{name + "-1", name + "-2"}))
		case f.Kind() == reflect.String:
			f.SetString(name + "-value")
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Type() == reflect.TypeFor[*protocol.Failure]():
			f.Set(reflect.ValueOf(&protocol.Failure{Type: "T", Message: "M", Stack: "S"}))
		case f.Type() == reflect.TypeFor[*protocol.ParentRef]():
			f.Set(reflect.ValueOf(&protocol.ParentRef{InstanceID: "p", ExecutionID: "x", TaskID: 3}))
		default:
			t.Fatalf("protocol.Event.%s (%s) is new: teach ExportHistory and this test about it", name, f.Type())
		}
	}
	return ev
}

func TestExportHistoryRoundTripsEveryField(t *testing.T) {
	var records []protocol.HistoryRecord
	for typ := protocol.EventType(1); typ.Valid(); typ++ {
		ev := filled(t, typ, 0)
		records = append(records, protocol.HistoryRecord{V: protocol.FormatVersion, Time: ev.Time, Events: []protocol.Event{ev}})
	}
	data, err := ExportHistory("order-42", records)
	if err != nil {
		t.Fatal(err)
	}
	id, got, err := parseExport(data)
	if err != nil {
		t.Fatal(err)
	}
	// Payloads come back as the same JSON, not necessarily the same bytes:
	// the export is indented for people to read.
	for i := range got {
		compactPayloads(t, got[i].Events)
	}
	if id != "order-42" {
		t.Errorf("instance ID = %q, want order-42", id)
	}
	if !reflect.DeepEqual(got, records) {
		for i := range records {
			if !reflect.DeepEqual(got[i], records[i]) {
				t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], records[i])
			}
		}
	}
}

func compactPayloads(t *testing.T, events []protocol.Event) {
	t.Helper()
	for i := range events {
		for _, p := range []*[]byte{&events[i].Input, &events[i].Result} {
			var b bytes.Buffer
			if err := json.Compact(&b, *p); err != nil {
				t.Fatal(err)
			}
			*p = b.Bytes()
		}
		compactPayloads(t, events[i].Carried)
	}
}

func TestExportHistoryRefusesPayloadsThatAreNotJSON(t *testing.T) {
	rec := protocol.HistoryRecord{Events: []protocol.Event{{Type: protocol.EventExecutionStarted, Name: "X", Input: []byte("{not json")}}}
	if _, err := ExportHistory("", []protocol.HistoryRecord{rec}); err == nil {
		t.Error("ExportHistory of a non-JSON input succeeded")
	}
}

// The flat events of client.History are split back into the steps the
// records held, a rewind ending its step as the worker ends it.
func TestRecordsOfSplitsEventsIntoSteps(t *testing.T) {
	at := func(s int) time.Time { return DefaultStartTime.Add(time.Duration(s) * time.Second) }
	records := []protocol.HistoryRecord{
		{Time: at(0), Events: []protocol.Event{
			{Type: protocol.EventExecutionStarted, Time: at(0), Name: "X"},
			{Type: protocol.EventTaskScheduled, Time: at(0), Name: "A"},
		}},
		{Time: at(2), Events: []protocol.Event{
			{Type: protocol.EventTaskFailed, Time: at(1)},
			{Type: protocol.EventExecutionFailed, Time: at(2)},
		}},
		{Time: at(3), Events: []protocol.Event{{Type: protocol.EventExecutionRewound, Time: at(3)}}},
		{Time: at(5), Events: []protocol.Event{
			{Type: protocol.EventTaskCompleted, Time: at(4)},
			{Type: protocol.EventExecutionCompleted, Time: at(5)},
		}},
	}
	var flat []protocol.Event
	for _, r := range records {
		flat = append(flat, r.Events...)
	}
	got := recordsOf(flat)
	if len(got) != len(records) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(records), got)
	}
	for i := range records {
		if !got[i].Time.Equal(records[i].Time) || !reflect.DeepEqual(got[i].Events, records[i].Events) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], records[i])
		}
	}
}
