package protocol_test

import (
	"runtime"
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/vmihailenco/msgpack/v5"
)

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSmallMessagesCannotAskForHugeAllocations(t *testing.T) {
	data := []byte("\x88\xa1\x80\x01\xa1i\xa800000000\xa100\xa2000\xa1n\xa800000\x00D0\xa2in\xdb\xdb\xdb\xdb\xdb\xdb\xdb00000000000\xa100\xa2000")
	if n := allocated(func() { _ = protocol.Unmarshal(data, &protocol.ActivityTask{}) }); n > 1<<20 {
		t.Errorf("corpus: Unmarshal of a %d-byte message allocated %d MiB", len(data), n>>20)
	}
	// Minimal: {"v":1,"in": bin32 of 4 GiB - 1} with no body.
	bin := []byte{0x82, 0xa1, 'v', 0x01, 0xa2, 'i', 'n', 0xc6, 0xff, 0xff, 0xff, 0xff}
	if n := allocated(func() { _ = protocol.Unmarshal(bin, &protocol.InstanceState{}) }); n > 1<<20 {
		t.Errorf("bin32: Unmarshal of a %d-byte message allocated %d MiB", len(bin), n>>20)
	}
}

func TestHistoryRecordDeclaringBillionsOfEventsIsRejectedCheaply(t *testing.T) {
	// {"v":1,"e": array32 of 4 Gi events} with no body.
	arr := []byte{0x82, 0xa1, 'v', 0x01, 0xa1, 'e', 0xdd, 0xff, 0xff, 0xff, 0xff}
	if n := allocated(func() { _ = protocol.Unmarshal(arr, &protocol.HistoryRecord{}) }); n > 1<<20 {
		t.Errorf("array32: Unmarshal of a %d-byte message allocated %d MiB", len(arr), n>>20)
	}
}

func TestWorkItemDeclaringHugeCarriedListIsRejectedCheaply(t *testing.T) {
	// {"v":1,"i":"a","e":{"t":1,"ce": array32 of 4 Gi events}}
	data := []byte{0x83, 0xa1, 'v', 0x01, 0xa1, 'i', 0xa1, 'a', 0xa1, 'e', 0x82, 0xa1, 't', 0x01, 0xa2, 'c', 'e', 0xdd, 0xff, 0xff, 0xff, 0xff}
	if n := allocated(func() { _ = protocol.Unmarshal(data, &protocol.WorkItem{}) }); n > 1<<20 {
		t.Errorf("Unmarshal of a %d-byte work item allocated %d MiB", len(data), n>>20)
	}
}

func TestArrayLongerThanItsMessageIsRejectedCheaply(t *testing.T) {
	// {"v":1,"e": array16 of 65535 events} with no body.
	arr := []byte{0x82, 0xa1, 'v', 0x01, 0xa1, 'e', 0xdc, 0xff, 0xff}
	if n := allocated(func() { _ = protocol.Unmarshal(arr, &protocol.HistoryRecord{}) }); n > 1<<20 {
		t.Errorf("array16: Unmarshal of a %d-byte message allocated %d MiB", len(arr), n>>20)
	}
}

func TestVersionsAndTypesOutOfRangeAreRejected(t *testing.T) {
	for _, v := range []int{257, 513, -255} {
		data, _ := msgpack.Marshal(map[string]any{"v": v, "i": "order-42", "n": "SayHello"})
		var task protocol.ActivityTask
		if err := protocol.Unmarshal(data, &task); err == nil {
			t.Errorf("version %d accepted as version %d", v, task.V)
		}
	}
	data, _ := msgpack.Marshal(map[string]any{"v": 1, "e": []any{map[string]any{"t": 257}}})
	var rec protocol.HistoryRecord
	if err := protocol.Unmarshal(data, &rec); err == nil {
		t.Errorf("event type 257 accepted as %v", rec.Events[0].Type)
	}
}

func TestCarriedEventsAreChecked(t *testing.T) {
	rec := protocol.HistoryRecord{V: 1, Events: []protocol.Event{{Type: protocol.EventExecutionStarted, Carried: []protocol.Event{{Type: 200}}}}}
	data, _ := msgpack.Marshal(&rec)
	if err := protocol.Unmarshal(data, &protocol.HistoryRecord{}); err == nil {
		t.Error("a carried event of unknown type 200 is accepted")
	}
}

// FuzzUnmarshalSmallLengths is FuzzUnmarshal without 32-bit length headers,
// to look past the allocation bug.
