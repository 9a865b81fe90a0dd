package jetstream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/devserver"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestListWaitsForStateAndEntryToAgree lists instances caught in the middle
// of a status change, whose state and index entry are written concurrently:
// one whose state is ahead of its entry, one whose entry is ahead of its
// state. The writes land while the listing waits; each instance is listed
// once, under its new status.
func TestListWaitsForStateAndEntryToAgree(t *testing.T) {
	// internal/testnats imports this package, so start the server by hand.
	srv, err := devserver.Start(devserver.Options{Dir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := context.Background()
	hub, err := Open(ctx, nc, Config{Name: "settle", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	state := func(id string, s protocol.RuntimeStatus) *protocol.InstanceState {
		return &protocol.InstanceState{InstanceID: id, Name: "X", ExecutionID: "x", Status: s, CreatedAt: now, UpdatedAt: now}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	setState := func(st *protocol.InstanceState) {
		t.Helper()
		data, err := protocol.Marshal(st)
		must(err)
		_, err = hub.instances.Put(ctx, st.InstanceID, data)
		must(err)
	}
	// state-ahead: the state says Running; the entry is still under Pending.
	setState(state("state-ahead", protocol.StatusRunning))
	must(hub.IndexInstance(ctx, state("state-ahead", protocol.StatusPending), ""))
	// entry-ahead: filed under Running; the state still says Pending.
	setState(state("entry-ahead", protocol.StatusPending))
	must(hub.IndexInstance(ctx, state("entry-ahead", protocol.StatusRunning), ""))

	// The writes that were in flight land while the listing waits.
	waited := map[string]int{}
	settleHook = func(id string) {
		waited[id]++
		if waited[id] > 1 {
			return
		}
		switch id {
		case "state-ahead":
			must(hub.IndexInstance(ctx, state(id, protocol.StatusRunning), ""))
			_, err := hub.js.PublishMsg(ctx, hub.tombstone(protocol.StatusPending, id), jetstream.WithMsgTTL(tombstoneTTL))
			must(err)
		case "entry-ahead":
			setState(state(id, protocol.StatusRunning))
		}
	}
	t.Cleanup(func() { settleHook = nil })

	for _, statuses := range [][]protocol.RuntimeStatus{nil, {protocol.StatusRunning}, {protocol.StatusPending, protocol.StatusRunning}} {
		got := map[string]int{}
		q := IndexQuery{Statuses: statuses, Limit: 1}
		for pages := 0; ; pages++ {
			p, err := hub.ListInstances(ctx, q)
			must(err)
			for _, e := range p.Instances {
				if e.State.Status != protocol.StatusRunning {
					t.Errorf("%s listed as %s", e.State.InstanceID, e.State.Status)
				}
				got[e.State.InstanceID]++
			}
			if p.Next.IsZero() || pages > 10 {
				break
			}
			q.Cursor = p.Next
		}
		if fmt.Sprint(got) != "map[entry-ahead:1 state-ahead:1]" {
			t.Errorf("statuses %v: listed %v, want each instance once", statuses, got)
		}
	}
	if waited["state-ahead"] == 0 || waited["entry-ahead"] == 0 {
		t.Fatalf("the listing never waited (%v): the test proves nothing", waited)
	}
}
