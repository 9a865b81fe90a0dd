package protocol_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
)

// FuzzUnmarshal feeds arbitrary bytes to Unmarshal for every wire type. It
// must never panic, must wrap ErrDecode when it refuses, and whatever it
// accepts must encode and decode again to an equal value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range samples() {
		b, err := marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, wt := range wireTypes {
		b, err := marshal(wt.new())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, wt := range wireTypes {
			v := wt.new()
			if err := unmarshal(data, v); err != nil {
				if !errors.Is(err, protocol.ErrDecode) {
					t.Fatalf("Unmarshal into %s = %v, want an error wrapping ErrDecode", wt.name, err)
				}
				continue
			}
			b, err := marshal(v)
			if err != nil {
				t.Fatalf("%s accepted but cannot be encoded again: %v", wt.name, err)
			}
			again := wt.new()
			if err := unmarshal(b, again); err != nil {
				t.Fatalf("%s accepted, encoded again and then refused: %v", wt.name, err)
			}
			if !reflect.DeepEqual(normalized(again), normalized(v)) {
				t.Fatalf("%s changed in a round trip:\n first  %+v\n second %+v", wt.name, v, again)
			}
		}
	})
}
