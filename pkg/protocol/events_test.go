package protocol_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/endurehq/endure/pkg/protocol"
)

func TestEventTypeNamesAreUniqueAndOnlyForKnownTypes(t *testing.T) {
	seen := map[string]protocol.EventType{}
	for i := 0; i <= 255; i++ {
		typ := protocol.EventType(i)
		name := typ.String()
		if !typ.Valid() {
			if want := "EventType(" + strconv.Itoa(i) + ")"; name != want {
				t.Errorf("String() of unknown type %d = %q, want %q", i, name, want)
			}
			continue
		}
		if i == 0 {
			t.Error("EventType(0) is valid; the zero value must mean 'not set'")
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("types %d and %d are both named %q", prev, i, name)
		}
		seen[name] = typ
	}
	if len(seen) == 0 {
		t.Fatal("no valid event type")
	}
	// The numbering is the wire format: the first kinds never move.
	for typ, name := range map[protocol.EventType]string{
		1: "ExecutionStarted", 2: "ExecutionCompleted", 3: "ExecutionFailed", 4: "ExecutionTerminated",
		5: "TaskScheduled", 6: "TaskCompleted", 7: "TaskFailed", 8: "TimerCreated", 9: "TimerFired",
		10: "EventRaised", 11: "TimerCanceled", 12: "ExecutionSuspended", 13: "ExecutionResumed",
	} {
		if got := typ.String(); got != name {
			t.Errorf("EventType(%d) = %s, want %s: renumbering breaks stored histories", typ, got, name)
		}
	}
	if protocol.EventExecutionStarted != 1 || protocol.EventTimerCanceled != 11 || protocol.EventExecutionResumed != 13 {
		t.Errorf("constants moved: ExecutionStarted = %d, TimerCanceled = %d, ExecutionResumed = %d",
			protocol.EventExecutionStarted, protocol.EventTimerCanceled, protocol.EventExecutionResumed)
	}
}

func TestRuntimeStatusTerminal(t *testing.T) {
	tests := map[protocol.RuntimeStatus]bool{
		protocol.StatusPending:        false,
		protocol.StatusRunning:        false,
		protocol.StatusSuspended:      false,
		protocol.StatusContinuedAsNew: false,
		protocol.StatusCompleted:      true,
		protocol.StatusFailed:         true,
		protocol.StatusCanceled:       true,
		protocol.StatusTerminated:     true,
		"":                            false,
	}
	for status, want := range tests {
		if got := status.Terminal(); got != want {
			t.Errorf("%q.Terminal() = %v, want %v", status, got, want)
		}
	}
}

func TestFailureIsAnError(t *testing.T) {
	tests := []struct {
		f    protocol.Failure
		want string
	}{
		{protocol.Failure{Type: "Panic", Message: "boom", Stack: "ignored"}, "Panic: boom"},
		{protocol.Failure{Message: "boom"}, "boom"},
	}
	for _, tt := range tests {
		var err error = &tt.f
		if got := err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		var f *protocol.Failure
		if !errors.As(wrap(err), &f) || f != &tt.f {
			t.Errorf("errors.As does not find the *Failure through wrapping")
		}
	}
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestCheckPayload(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		limit   int // 0: CheckPayload, else CheckPayloadLimit
		wantErr bool
	}{
		{name: "empty", size: 0},
		{name: "at MaxPayload", size: protocol.MaxPayload},
		{name: "over MaxPayload", size: protocol.MaxPayload + 1, wantErr: true},
		{name: "at a lower limit", size: 1024, limit: 1024},
		{name: "over a lower limit", size: 1025, limit: 1024, wantErr: true},
		{name: "negative limit means MaxPayload", size: protocol.MaxPayload, limit: -1},
		{name: "limit above MaxPayload is capped", size: protocol.MaxPayload + 1, limit: protocol.MaxPayload * 2, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := make([]byte, tt.size)
			var err error
			if tt.limit == 0 {
				err = protocol.CheckPayload("activity input", p)
			} else {
				err = protocol.CheckPayloadLimit("activity input", p, tt.limit)
			}
			if tt.wantErr != (err != nil) {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && (!errors.Is(err, protocol.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "activity input")) {
				t.Errorf("error %q does not wrap ErrPayloadTooLarge and name the payload", err)
			}
		})
	}
}
