package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// pageThrough lists every page of q, pageSize at a time, calling between
// after each page, and counts how often each ID was listed.
func pageThrough(t *testing.T, c *client.Client, q client.Query, between func()) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for pages := 0; ; pages++ {
		p, err := c.List(context.Background(), q)
		must(t, err)
		if len(p.Instances) > q.PageSize {
			t.Fatalf("page of %d, page size %d", len(p.Instances), q.PageSize)
		}
		for _, st := range p.Instances {
			seen[st.InstanceID]++
		}
		if p.ContinuationToken == "" {
			return seen
		}
		if pages > 10000 {
			t.Fatal("listing does not end")
		}
		q.ContinuationToken = p.ContinuationToken
		between()
	}
}

// TestListMissesAndRepeatsNothingWhileInstancesAreCreated pages through
// the hub's instances, seven at a time, while other instances are being
// started: every instance that existed before is listed exactly once, and
// none is listed twice.
func TestListMissesAndRepeatsNothingWhileInstancesAreCreated(t *testing.T) {
	hub, c := newHub(t)
	ctx := context.Background()
	// No worker runs them: the instances stay Pending.
	must(t, hub.RegisterOrchestrators(ctx, []string{"Idle"}))
	before := map[string]bool{}
	for i := 0; i < 200; i++ {
		id, err := c.Start(ctx, "Idle", client.WithInstanceID(fmt.Sprintf("before-%03d", i)))
		must(t, err)
		before[id] = true
	}

	created := 0
	seen := pageThrough(t, c, client.Query{PageSize: 7}, func() {
		for j := 0; j < 5; j++ { // five new instances per page read
			_, err := c.Start(ctx, "Idle", client.WithInstanceID(fmt.Sprintf("during-%03d", created)))
			must(t, err)
			created++
		}
	})
	for id := range before {
		if seen[id] != 1 {
			t.Errorf("%s listed %d times, want once", id, seen[id])
		}
	}
	during := 0
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s listed %d times", id, n)
		}
		if !before[id] {
			during++
		}
	}
	if created == 0 || during == 0 {
		t.Fatalf("created %d instances during the listing, %d of them listed: the test proves nothing", created, during)
	}
	t.Logf("%d instances before, %d created during the listing, %d of them listed", len(before), created, during)
}

// TestListByStatusWhileInstancesStartRunning lists Running instances while
// new ones are started and move from Pending to Running under a real
// worker: every instance running all along is listed once, none twice.
func TestListByStatusWhileInstancesStartRunning(t *testing.T) {
	hub, c := newHub(t)
	runWorkers(t, hub)
	ctx := context.Background()
	running := map[string]bool{}
	var ids []string
	for i := 0; i < 100; i++ {
		id, err := c.Start(ctx, "WaitEvent")
		must(t, err)
		ids = append(ids, id)
		running[id] = true
	}
	for _, id := range ids {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := c.WaitForStart(wctx, id)
		cancel()
		must(t, err)
	}
	started := 0
	seen := pageThrough(t, c, client.Query{PageSize: 6, Statuses: []protocol.RuntimeStatus{protocol.StatusRunning}}, func() {
		for j := 0; j < 3; j++ {
			_, err := c.Start(ctx, "WaitEvent")
			must(t, err)
			started++
		}
	})
	for id := range running {
		if seen[id] != 1 {
			t.Errorf("%s listed %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
	t.Logf("%d running before, %d started during the listing, %d listed", len(running), started, len(seen))
}

// TestListTrustsStateOverIndex writes index entries that disagree with the
// instances' state, as crashes can leave them, and checks what is listed.
func TestListTrustsStateOverIndex(t *testing.T) {
	hub, c := newHub(t)
	ctx := context.Background()
	now := time.Now().UTC()
	state := func(id string, s protocol.RuntimeStatus) *protocol.InstanceState {
		return &protocol.InstanceState{InstanceID: id, Name: "X", ExecutionID: "x", Status: s, CreatedAt: now, UpdatedAt: now}
	}
	// purged: an entry whose state is gone.
	must(t, hub.IndexInstance(ctx, state("purged", protocol.StatusCompleted), ""))
	// leftover: filed under Completed (the state) and, stale, Running.
	must(t, hub.IndexInstance(ctx, state("leftover", protocol.StatusRunning), ""))
	must(t, hub.IndexInstance(ctx, state("leftover", protocol.StatusCompleted), ""))
	must(t, hub.IndexInstance(ctx, state("leftover", protocol.StatusRunning), ""))
	_, err := hub.CreateInstance(ctx, state("leftover", protocol.StatusCompleted))
	must(t, err)
	// stuck: its entry moved to Running, its state still says Pending and
	// stays so (the writer died between the two; until a worker redoes
	// the step, the instance is not listed).
	_, err = hub.CreateInstance(ctx, state("stuck", protocol.StatusPending))
	must(t, err)
	must(t, hub.IndexInstance(ctx, state("stuck", protocol.StatusRunning), ""))
	// fine: entry and state agree.
	_, err = hub.CreateInstance(ctx, state("fine", protocol.StatusRunning))
	must(t, err)
	must(t, hub.IndexInstance(ctx, state("fine", protocol.StatusRunning), ""))

	for _, tc := range []struct {
		statuses []protocol.RuntimeStatus
		want     map[string]protocol.RuntimeStatus
	}{
		{nil, map[string]protocol.RuntimeStatus{"leftover": "Completed", "fine": "Running"}},
		{[]protocol.RuntimeStatus{"Running"}, map[string]protocol.RuntimeStatus{"fine": "Running"}},
		{[]protocol.RuntimeStatus{"Completed"}, map[string]protocol.RuntimeStatus{"leftover": "Completed"}},
		{[]protocol.RuntimeStatus{"Pending", "Running"}, map[string]protocol.RuntimeStatus{"fine": "Running"}},
	} {
		t.Run(fmt.Sprint(tc.statuses), func(t *testing.T) {
			for _, size := range []int{1, 100} {
				got := map[string]protocol.RuntimeStatus{}
				for st, err := range c.Instances(ctx, client.Query{Statuses: tc.statuses, PageSize: size}) {
					must(t, err)
					if _, dup := got[st.InstanceID]; dup {
						t.Errorf("page size %d: %s listed twice", size, st.InstanceID)
					}
					got[st.InstanceID] = st.RuntimeStatus
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("page size %d: listed %v, want %v", size, got, tc.want)
				}
			}
		})
	}
}

// TestListRejectsBadQueries checks the errors of List and PurgeInstances.
func TestListRejectsBadQueries(t *testing.T) {
	_, c := newHub(t)
	ctx := context.Background()
	now := time.Now()
	for name, q := range map[string]client.Query{
		"unknown status":     {Statuses: []protocol.RuntimeStatus{"Sleeping"}},
		"negative page size": {PageSize: -1},
		"to before from":     {CreatedFrom: now, CreatedTo: now.Add(-time.Hour)},
		"forged token":       {ContinuationToken: "abc"},
		"token of nothing":   {ContinuationToken: "ZTE6MDow"},
	} {
		if _, err := c.List(ctx, q); !errors.Is(err, client.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if _, err := c.PurgeInstances(ctx, client.Query{Statuses: []protocol.RuntimeStatus{protocol.StatusRunning}}); !errors.Is(err, client.ErrInvalidInput) {
		t.Errorf("purge of running instances: %v, want ErrInvalidInput", err)
	}
}

// TestPurgeInstancesKeepsRunningOnes purges by filter.
func TestPurgeInstancesKeepsRunningOnes(t *testing.T) {
	hub, c := newHub(t)
	runWorkers(t, hub)
	ctx := context.Background()
	from := time.Now().Add(-time.Minute)
	var done []string
	for i := 0; i < 5; i++ {
		id, err := c.Start(ctx, "Echo", client.WithInput(i))
		must(t, err)
		done = append(done, id)
	}
	live, err := c.Start(ctx, "WaitEvent")
	must(t, err)
	for _, id := range done {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := c.WaitForCompletion(wctx, id)
		cancel()
		must(t, err)
	}
	n, err := c.PurgeInstances(ctx, client.Query{CreatedFrom: from})
	must(t, err)
	if n != 5 {
		t.Fatalf("purged %d, want 5", n)
	}
	for _, id := range done {
		if _, err := c.Status(ctx, id); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("%s after purge: %v", id, err)
		}
	}
	if _, err := c.Status(ctx, live); err != nil {
		t.Fatalf("running instance: %v", err)
	}
	if n, err := c.PurgeInstances(ctx, client.Query{CreatedFrom: from}); err != nil || n != 0 {
		t.Fatalf("second purge: %d %v", n, err)
	}
}

// TestWaitRespectsContext checks WaitForStart and WaitForCompletion: they
// return the status when it comes, and ctx's error when ctx ends first.
func TestWaitRespectsContext(t *testing.T) {
	hub, c := newHub(t)
	ctx := context.Background()
	must(t, hub.RegisterOrchestrators(ctx, []string{"WaitEvent", "Echo"}))
	id, err := c.Start(ctx, "WaitEvent") // no worker yet: stays Pending
	must(t, err)

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := c.WaitForStart(short, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForStart of a pending instance: %v, want DeadlineExceeded", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := c.WaitForCompletion(cctx, id)
		errc <- err
	}()
	cancel2()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitForCompletion after cancel: %v, want Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForCompletion ignored the cancellation")
	}
	if _, err := c.WaitForCompletion(ctx, "no-such-instance"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("WaitForCompletion of an unknown instance: %v", err)
	}

	runWorkers(t, hub)
	wctx, cancel3 := context.WithTimeout(ctx, 20*time.Second)
	defer cancel3()
	st, err := c.WaitForStart(wctx, id)
	must(t, err)
	if st.RuntimeStatus != protocol.StatusRunning {
		t.Fatalf("WaitForStart gave %s", st.RuntimeStatus)
	}
	must(t, c.RaiseEvent(ctx, id, "go", json.RawMessage(`"done"`)))
	st, err = c.WaitForCompletion(wctx, id)
	must(t, err)
	if st.RuntimeStatus != protocol.StatusCompleted || string(st.Output) != `"done"` {
		t.Fatalf("WaitForCompletion gave %s %s", st.RuntimeStatus, st.Output)
	}
}
