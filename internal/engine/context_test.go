package engine_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
	"github.com/google/uuid"
)

// observeSteps observes the context at the start and after each of two
// activity calls.
func observeSteps(p *probe) func(*workflow.Context, any) (string, error) {
	return func(ctx *workflow.Context, _ any) (string, error) {
		p.observe(ctx, "start")
		if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
			return "", err
		}
		p.observe(ctx, "after A")
		if _, err := workflow.CallActivity[string](ctx, "B", nil).Await(); err != nil {
			return "", err
		}
		p.observe(ctx, "after B")
		return "done", nil
	}
}

func TestNowAndIsReplaying(t *testing.T) {
	live := &probe{}
	in := newInstance(t, lookupOf(t, "Observe", observeSteps(live)))
	tokyo := time.FixedZone("JST", 9*60*60)
	in.stepAt(t0.In(tokyo), started("Observe", nil))
	in.stepAt(t0.Add(time.Minute), completed(0, "a"))

	want := []observation{
		{at: "start", now: t0, replaying: false},
		{at: "after A", now: t0.Add(time.Minute), replaying: false},
	}
	if !slices.Equal(live.seen, want) {
		t.Fatalf("live run saw %+v, want %+v", live.seen, want)
	}
	if loc := live.seen[0].now.Location(); loc != time.UTC {
		t.Errorf("Now() is in %v, want UTC", loc)
	}

	// Replay: the code sees each record's time and IsReplaying true.
	replayedProbe := &probe{}
	replayed := replayInto(t, lookupOf(t, "Observe", observeSteps(replayedProbe)), in.records)
	for i := range want {
		want[i].replaying = true
	}
	if !slices.Equal(replayedProbe.seen, want) {
		t.Fatalf("replay saw %+v, want %+v", replayedProbe.seen, want)
	}

	// After Replay, new steps run live again.
	later := t0.Add(time.Hour)
	if _, err := replayed.Step(later, []protocol.Event{completed(1, "b")}); err != nil {
		t.Fatal(err)
	}
	last := replayedProbe.seen[len(replayedProbe.seen)-1]
	if (last != observation{at: "after B", now: later, replaying: false}) {
		t.Fatalf("new step after replay saw %+v, want after B at %v, not replaying", last, later)
	}
}

func newGUIDs(ctx *workflow.Context, _ any) ([]string, error) {
	ids := []string{ctx.NewGUID(), ctx.NewGUID()}
	if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
		return nil, err
	}
	return append(ids, ctx.NewGUID()), nil
}

func TestNewGUIDIsStableAcrossReplaysAndUniquePerCall(t *testing.T) {
	lookup := lookupOf(t, "GUIDs", newGUIDs)
	in := newInstance(t, lookup)
	in.step(started("GUIDs", nil))
	last := in.step(completed(0, "a"))
	var ids []string
	mustUnmarshal(t, last.Events[len(last.Events)-1].Result, &ids)

	seen := map[string]bool{}
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			t.Errorf("NewGUID() = %q, not a UUID: %v", id, err)
		}
		if seen[id] {
			t.Errorf("NewGUID() returned %q twice", id)
		}
		seen[id] = true
	}

	// Replaying the first record and running the last step again gives the
	// same GUIDs, twice over.
	for range 2 {
		replayed := replayInto(t, lookup, in.records[:1])
		rec, err := replayed.Step(last.Time, []protocol.Event{completed(0, "a")})
		if err != nil {
			t.Fatal(err)
		}
		wantOutput(t, replayed, ids)
		if !reflect.DeepEqual(rec, last) {
			t.Fatalf("re-run step gave %+v, want %+v", rec, last)
		}
	}

	// Another instance gets other GUIDs.
	other := newRuntime(t, "order-43", lookup)
	if _, err := other.Step(t0, []protocol.Event{started("GUIDs", nil)}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Step(last.Time, []protocol.Event{completed(0, "a")}); err != nil {
		t.Fatal(err)
	}
	var otherIDs []string
	mustUnmarshal(t, other.Output(), &otherIDs)
	for _, id := range otherIDs {
		if seen[id] {
			t.Errorf("instance order-43 got GUID %s of instance %s", id, testInstanceID)
		}
	}
}

func TestCustomStatusFollowsTheCodeAndSurvivesReplay(t *testing.T) {
	type progress struct {
		Stage string `json:"stage"`
	}
	staged := func(ctx *workflow.Context, _ any) (string, error) {
		for _, stage := range []string{"A", "B"} {
			if err := ctx.SetCustomStatus(progress{Stage: stage}); err != nil {
				return "", err
			}
			if _, err := workflow.CallActivity[string](ctx, stage, nil).Await(); err != nil {
				return "", err
			}
		}
		return "done", nil
	}
	lookup := lookupOf(t, "Staged", staged)
	in := newInstance(t, lookup)
	if got := string(in.rt.CustomStatus()); got != "" {
		t.Fatalf("custom status before start = %s, want none", got)
	}
	for _, step := range []struct {
		input protocol.Event
		want  string
	}{
		{started("Staged", nil), `{"stage":"A"}`},
		{completed(0, "a"), `{"stage":"B"}`},
	} {
		in.step(step.input)
		if got := string(in.rt.CustomStatus()); got != step.want {
			t.Fatalf("custom status = %s, want %s", got, step.want)
		}
		if got := string(replayInto(t, lookup, in.records).CustomStatus()); got != step.want {
			t.Fatalf("custom status after replay = %s, want %s", got, step.want)
		}
	}
}
