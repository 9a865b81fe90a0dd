package worker_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
)

func TestLargePayloadsTravelOutOfLine(t *testing.T) {
	e := newEnvWith(t, jetstream.Config{MaxPayload: 2 << 20})
	must(t, activity.Register(e.acts, "Blow", func(_ context.Context, n int) (string, error) {
		return strings.Repeat("x", n), nil
	}))
	must(t, workflow.Register(e.orch, "Big", func(ctx *workflow.Context, in string) (int, error) {
		s, err := workflow.CallActivity[string](ctx, "Blow", len(in)+(1<<20)).Await()
		if err != nil {
			return 0, err
		}
		return len(s), nil
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()
	input := strings.Repeat("i", 600<<10) // over the inline limit
	id, err := e.client.Start(ctx, "Big", client.WithInput(input))
	must(t, err)
	st := e.wait(id)
	want := len(input) + 1<<20
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != itoa(want) {
		t.Fatalf("got %s %s %+v, want Completed %d", st.RuntimeStatus, st.Output, st.Failure, want)
	}
	// The history holds references, not the payloads.
	stream, err := e.hub.JetStream().Stream(ctx, "ENDURE_test_HISTORY")
	must(t, err)
	raw, err := stream.GetLastMsgForSubject(ctx, "endure.test.history."+id)
	must(t, err)
	if len(raw.Data) > jetstream.InlineLimit {
		t.Fatalf("last history record is %d bytes: the 1 MiB result was stored inline", len(raw.Data))
	}
	got, err := e.client.Status(ctx, id)
	must(t, err)
	if len(got.Input) != len(input)+2 { // the JSON string's quotes
		t.Fatalf("status input has %d bytes, want %d", len(got.Input), len(input)+2)
	}

	// Purging deletes the instance's objects, and no other instance's.
	other, err := e.client.Start(ctx, "Big", client.WithInput(strings.Repeat("o", 600<<10)))
	must(t, err)
	e.wait(other)
	objects := func(instanceID string) int {
		t.Helper()
		obs, err := e.hub.JetStream().ObjectStore(ctx, "ENDURE_test_PAYLOADS")
		must(t, err)
		list, err := obs.List(ctx)
		must(t, err)
		n := 0
		for _, info := range list {
			if strings.HasPrefix(info.Name, instanceID+"/") {
				n++
			}
		}
		return n
	}
	if n := objects(id); n < 2 {
		t.Fatalf("%d objects stored for %s, want its input and its activity's result at least", n, id)
	}
	before := objects(other)
	must(t, e.client.Purge(ctx, id))
	if n := objects(id); n != 0 {
		t.Fatalf("%d objects of %s left after purging it", n, id)
	}
	if n := objects(other); n != before {
		t.Fatalf("purging %s took %s's objects from %d to %d", id, other, before, n)
	}
	if st, err := e.client.Status(ctx, other); err != nil || len(st.Input) != 600<<10+2 {
		t.Fatalf("status of the other instance after the purge: %v", err)
	}
}

func TestOversizedPayloadsFailCleanly(t *testing.T) {
	e := newEnvWith(t, jetstream.Config{MaxPayload: 1 << 20})
	must(t, activity.Register(e.acts, "Blow", func(_ context.Context, n int) (string, error) {
		return strings.Repeat("x", n), nil
	}))
	must(t, workflow.Register(e.orch, "TooBig", func(ctx *workflow.Context, _ any) (int, error) {
		s, err := workflow.CallActivity[string](ctx, "Blow", 2<<20).Await()
		return len(s), err
	}))
	e.startOrchestrators(worker.OrchestratorConfig{})
	e.startActivities()
	ctx := context.Background()

	if _, err := e.client.Start(ctx, "TooBig", client.WithInput(strings.Repeat("i", 2<<20))); !errors.Is(err, protocol.ErrPayloadTooLarge) {
		t.Fatalf("start with an oversized input: %v, want ErrPayloadTooLarge", err)
	}
	id, err := e.client.Start(ctx, "TooBig")
	must(t, err)
	st := e.wait(id)
	if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || !strings.Contains(st.Failure.Message, "payload too large") {
		t.Fatalf("got %s %+v, want Failed for a payload too large", st.RuntimeStatus, st.Failure)
	}
	must(t, e.client.Purge(ctx, id))
	if _, err := e.client.Status(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("status after purge: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
