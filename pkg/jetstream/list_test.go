package jetstream_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// indexed writes instances' state and index entries as workers do.
func indexed(t *testing.T, hub *jetstream.Hub, ids []string, status protocol.RuntimeStatus, created time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		st := &protocol.InstanceState{InstanceID: id, Name: "X", ExecutionID: "x", Status: status, CreatedAt: created, UpdatedAt: created}
		if err := hub.IndexInstance(ctx, st, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := hub.CreateInstance(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// listAll follows cursors to the end and returns the IDs listed, the pages
// read and the most entries one page examined.
func listAll(t *testing.T, hub *jetstream.Hub, q jetstream.IndexQuery) (ids []string, pages, maxScanned int) {
	t.Helper()
	for {
		p, err := hub.ListInstances(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		maxScanned = max(maxScanned, p.Scanned)
		for _, e := range p.Instances {
			ids = append(ids, e.State.InstanceID)
		}
		if p.Next.IsZero() {
			sort.Strings(ids)
			return ids, pages, maxScanned
		}
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		q.Cursor = p.Next
	}
}

// TestListPageExaminesAtMostMaxScanEntries lists a sparse match with a small
// scan bound: pages come back short (some empty) with a cursor, never
// examining more than the bound, and together list every match once.
func TestListPageExaminesAtMostMaxScanEntries(t *testing.T) {
	hub := testnats.Hub(t, jetstream.Config{Name: "scan", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	now := time.Now().UTC()
	indexed(t, hub, names("common-", 290), protocol.StatusCompleted, now)
	indexed(t, hub, names("needle-", 3), protocol.StatusCompleted, now)
	indexed(t, hub, names("late-", 20), protocol.StatusRunning, now)

	ids, pages, maxScanned := listAll(t, hub, jetstream.IndexQuery{IDPrefix: "needle-", MaxScan: 50, Limit: 2})
	if fmt.Sprint(ids) != fmt.Sprint(names("needle-", 3)) {
		t.Fatalf("listed %v", ids)
	}
	if maxScanned > 50 || pages < 313/50 {
		t.Fatalf("%d pages, a page examined up to %d entries; want at least %d pages of at most 50", pages, maxScanned, 313/50)
	}

	// A status filter reads only that status's entries.
	ids, pages, maxScanned = listAll(t, hub, jetstream.IndexQuery{Statuses: []protocol.RuntimeStatus{protocol.StatusRunning}, Limit: 100})
	if len(ids) != 20 || pages != 1 || maxScanned != 20 {
		t.Fatalf("Running: %d listed in %d pages, %d examined; want 20 in 1 page, 20 examined", len(ids), pages, maxScanned)
	}
	// Times: everything was created now.
	for _, tc := range []struct {
		q    jetstream.IndexQuery
		want int
	}{
		{jetstream.IndexQuery{CreatedFrom: now.Add(-time.Second)}, 313},
		{jetstream.IndexQuery{CreatedFrom: now.Add(time.Second)}, 0},
		{jetstream.IndexQuery{CreatedTo: now.Add(-time.Second)}, 0},
		{jetstream.IndexQuery{CreatedFrom: now, CreatedTo: now}, 313},
		{jetstream.IndexQuery{Limit: 5000}, 313}, // clamped to MaxListLimit
	} {
		if ids, _, _ := listAll(t, hub, tc.q); len(ids) != tc.want {
			t.Errorf("%+v: listed %d, want %d", tc.q, len(ids), tc.want)
		}
	}
}
