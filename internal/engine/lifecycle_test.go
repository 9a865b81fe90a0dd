package engine_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// parkedInstance starts an orchestrator that parks on an activity and
// reports on unwound when its goroutine unwinds.
func parkedInstance(t testing.TB, lookup engine.Lookup) *engine.Runtime {
	t.Helper()
	rt := engine.New(testInstanceID, lookup)
	t.Cleanup(rt.Close)
	if _, err := rt.Step(t0, []protocol.Event{started("Park", nil)}); err != nil {
		t.Fatal(err)
	}
	if rt.Status() != protocol.StatusRunning {
		t.Fatalf("status = %s, want Running", rt.Status())
	}
	return rt
}

func parkOn(unwound chan<- struct{}) func(*workflow.Context, any) (string, error) {
	return func(ctx *workflow.Context, _ any) (string, error) {
		defer func() { unwound <- struct{}{} }()
		return workflow.CallActivity[string](ctx, "Forever", nil).Await()
	}
}

func TestParkedCodeIsUnwound(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, rt *engine.Runtime, lookup engine.Lookup)
	}{
		{"Close", func(_ *testing.T, rt *engine.Runtime, _ engine.Lookup) { rt.Close() }},
		{"Close twice", func(_ *testing.T, rt *engine.Runtime, _ engine.Lookup) { rt.Close(); rt.Close() }},
		{"terminate", func(t *testing.T, rt *engine.Runtime, _ engine.Lookup) {
			if _, err := rt.Step(t0, []protocol.Event{terminated("stop")}); err != nil {
				t.Fatal(err)
			}
			rt.Close() // harmless after terminate
		}},
		{"completion", func(t *testing.T, rt *engine.Runtime, _ engine.Lookup) {
			if _, err := rt.Step(t0, []protocol.Event{completed(0, "done")}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unwound := make(chan struct{}, 1)
			lookup := lookupOf(t, "Park", parkOn(unwound))
			rt := parkedInstance(t, lookup)
			tt.end(t, rt, lookup)
			select {
			case <-unwound:
			case <-time.After(5 * time.Second):
				t.Fatal("orchestrator goroutine did not unwind")
			}
		})
	}

	t.Run("non-determinism found after the code parked", func(t *testing.T) {
		// The history has two calls; code that makes one parks on it and is
		// unwound when Replay finds the second missing.
		history := []protocol.HistoryRecord{{V: 1, Time: t0, Events: []protocol.Event{
			started("Park", nil),
			{Type: protocol.EventTaskScheduled, Time: t0, TaskID: 0, Name: "Forever"},
			{Type: protocol.EventTaskScheduled, Time: t0, TaskID: 1, Name: "Other"},
		}}}
		unwound := make(chan struct{}, 1)
		rt := replayInto(t, lookupOf(t, "Park", parkOn(unwound)), history)
		if rt.Status() != protocol.StatusFailed {
			t.Fatalf("status = %s, want Failed", rt.Status())
		}
		select {
		case <-unwound:
		case <-time.After(5 * time.Second):
			t.Fatal("orchestrator goroutine did not unwind")
		}
	})
}

func TestCloseDoesNotLeakGoroutines(t *testing.T) {
	const n = 50
	unwound := make(chan struct{}, n)
	lookup := lookupOf(t, "Park", parkOn(unwound))
	base := runtime.NumGoroutine() // may still count goroutines of earlier tests that are exiting

	rts := make([]*engine.Runtime, n)
	for i := range rts {
		rts[i] = parkedInstance(t, lookup)
	}
	parked := runtime.NumGoroutine()
	for _, rt := range rts {
		rt.Close()
	}
	target := min(base, parked-n)
	eventually(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= target },
		"goroutines did not settle to %d after closing %d parked instances (%d before, %d while parked)", target, n, base, parked)
	if len(unwound) != n {
		t.Fatalf("%d of %d orchestrators unwound", len(unwound), n)
	}
}
