package protocol_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/vmihailenco/msgpack/v5"
)

func TestSamplesSetEveryField(t *testing.T) {
	for _, s := range samples() {
		if zero := zeroFields(reflect.ValueOf(s), fmt.Sprintf("%T", s)); len(zero) > 0 {
			t.Errorf("the round-trip sample leaves %v unset; set it so the test shows it travels", zero)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range samples() {
		t.Run(fmt.Sprintf("%T", s), func(t *testing.T) {
			b, err := marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.New(reflect.TypeOf(s).Elem()).Interface()
			if err := unmarshal(b, got); err != nil {
				t.Fatalf("Unmarshal(Marshal(sample)): %v", err)
			}
			if !reflect.DeepEqual(normalized(got), s) {
				t.Fatalf("round trip changed the value:\n got  %+v\n want %+v", got, s)
			}
		})
	}
}

func TestMarshalStampsTheFormatVersion(t *testing.T) {
	for _, wt := range wireTypes {
		t.Run(wt.name, func(t *testing.T) {
			v := wt.new() // V is 0
			b, err := marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct {
				V int `msgpack:"v"`
			}
			if err := msgpack.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			if raw.V != protocol.FormatVersion {
				t.Fatalf("encoded version = %d, want %d", raw.V, protocol.FormatVersion)
			}
		})
	}
}

// encode writes v as msgpack without Marshal's version stamp, to build
// messages that Marshal would never produce.
func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshalRejectsUnsupportedVersions(t *testing.T) {
	for _, version := range []int{0, protocol.FormatVersion + 1, 255, 257, -255} {
		for _, s := range samples() {
			t.Run(fmt.Sprintf("%T v%d", s, version), func(t *testing.T) {
				reflect.ValueOf(s).Elem().FieldByName("V").SetInt(int64(version))
				data := encode(t, s)
				err := unmarshal(data, reflect.New(reflect.TypeOf(s).Elem()).Interface())
				if !errors.Is(err, protocol.ErrDecode) || !strings.Contains(err.Error(), "version") {
					t.Fatalf("Unmarshal = %v, want ErrDecode about the version", err)
				}
			})
		}
	}
}

func TestUnmarshalRejectsInvalidContent(t *testing.T) {
	v := protocol.FormatVersion
	valid := protocol.WorkItem{V: v, InstanceID: "order-42", ExecutionID: "exec-1", Event: protocol.Event{Type: protocol.EventEventRaised, Name: "Approve"}}
	workItem := func(change func(*protocol.WorkItem)) *protocol.WorkItem {
		w := valid
		change(&w)
		return &w
	}
	unknownType := protocol.EventType(200)
	for unknownType.Valid() {
		unknownType++
	}
	tests := []struct {
		name string
		msg  any // encoded with msgpack as is
		into any
	}{
		{"history event type 0", &protocol.HistoryRecord{V: v, Events: []protocol.Event{{Type: protocol.EventTaskScheduled}, {Type: 0}}}, &protocol.HistoryRecord{}},
		{"history event type unknown", &protocol.HistoryRecord{V: v, Events: []protocol.Event{{Type: unknownType}}}, &protocol.HistoryRecord{}},
		{"work item event type 0", workItem(func(w *protocol.WorkItem) { w.Event.Type = 0 }), &protocol.WorkItem{}},
		{"work item event type unknown", workItem(func(w *protocol.WorkItem) { w.Event.Type = unknownType }), &protocol.WorkItem{}},
		{"work item without instance ID", workItem(func(w *protocol.WorkItem) { w.InstanceID = "" }), &protocol.WorkItem{}},
		{"work item instance ID with a dot", workItem(func(w *protocol.WorkItem) { w.InstanceID = "order.42" }), &protocol.WorkItem{}},
		{"work item instance ID with a wildcard", workItem(func(w *protocol.WorkItem) { w.InstanceID = "order-*" }), &protocol.WorkItem{}},
		{"work item instance ID with '>'", workItem(func(w *protocol.WorkItem) { w.InstanceID = "order>" }), &protocol.WorkItem{}},
		{"work item instance ID with a space", workItem(func(w *protocol.WorkItem) { w.InstanceID = "order 42" }), &protocol.WorkItem{}},
		{"work item instance ID too long", workItem(func(w *protocol.WorkItem) { w.InstanceID = strings.Repeat("a", protocol.MaxNameLength+1) }), &protocol.WorkItem{}},
		{"work item bad execution ID", workItem(func(w *protocol.WorkItem) { w.ExecutionID = "exec.1" }), &protocol.WorkItem{}},
		{"work item event with bad execution ID", workItem(func(w *protocol.WorkItem) { w.Event.ExecutionID = "exec 1" }), &protocol.WorkItem{}},
		{"activity task bad instance ID", &protocol.ActivityTask{V: v, InstanceID: "a.b", Name: "SayHello"}, &protocol.ActivityTask{}},
		{"activity task bad name", &protocol.ActivityTask{V: v, InstanceID: "order-42", Name: "say.hello"}, &protocol.ActivityTask{}},
		{"activity task without name", &protocol.ActivityTask{V: v, InstanceID: "order-42"}, &protocol.ActivityTask{}},
		{"instance state bad instance ID", &protocol.InstanceState{V: v, InstanceID: "ordér"}, &protocol.InstanceState{}},
		{"index entry bad instance ID", &protocol.IndexEntry{V: v, InstanceID: ""}, &protocol.IndexEntry{}},
		{"not a map", "hello", &protocol.WorkItem{}},
		{"version of the wrong type", map[string]any{"v": "one", "i": "order-42"}, &protocol.InstanceState{}},
		{"events of the wrong type", map[string]any{"v": 1, "e": 42}, &protocol.HistoryRecord{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := unmarshal(encode(t, tt.msg), tt.into); !errors.Is(err, protocol.ErrDecode) {
				t.Fatalf("Unmarshal = %v, want an error wrapping ErrDecode", err)
			}
		})
	}

	t.Run("the valid message is accepted", func(t *testing.T) {
		if err := unmarshal(encode(t, &valid), &protocol.WorkItem{}); err != nil {
			t.Fatalf("Unmarshal = %v; the cases above must differ from it by their one defect", err)
		}
	})
}

func TestUnmarshalRejectsMalformedBytes(t *testing.T) {
	good, err := marshal(samples()[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":          {},
		"nil":            {0xc0},
		"truncated":      good[:len(good)/2],
		"reserved byte":  {0xc1},
		"map, no values": {0x82, 0xa1, 'v'},
		"huge length":    {0xdf, 0xff, 0xff, 0xff, 0xff},
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			for _, wt := range wireTypes {
				if err := unmarshal(data, wt.new()); !errors.Is(err, protocol.ErrDecode) {
					t.Errorf("Unmarshal into %s = %v, want an error wrapping ErrDecode", wt.name, err)
				}
			}
		})
	}
}
