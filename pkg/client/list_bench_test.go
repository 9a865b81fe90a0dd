package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// fillHub writes n instances straight into the instances bucket and the
// listing index, as n finished or running orchestrations would leave
// them: 70% Completed, 20% Running, 10% Failed; one ID in 100 starts with
// "rare-", the others with "inst-"; created one millisecond apart from
// base (returned), the last one about now.
func fillHub(b testing.TB, hub *jetstream.Hub, n int) (base time.Time) {
	b.Helper()
	js := hub.JetStream()
	base = time.Now().UTC().Add(-time.Duration(n) * time.Millisecond)
	for i := 0; i < n; i++ {
		st := protocol.StatusCompleted
		switch i % 10 {
		case 0, 1:
			st = protocol.StatusRunning
		case 2:
			st = protocol.StatusFailed
		}
		id := fmt.Sprintf("inst-%07d", i)
		if i%100 == 50 {
			id = fmt.Sprintf("rare-%07d", i)
		}
		created := base.Add(time.Duration(i) * time.Millisecond)
		state, err := protocol.Marshal(&protocol.InstanceState{InstanceID: id, Name: "Chaining", ExecutionID: "x",
			Status: st, Input: []byte(`{"steps":3}`), Output: []byte("3"), CreatedAt: created, UpdatedAt: created})
		must(b, err)
		entry, err := protocol.Marshal(&protocol.IndexEntry{InstanceID: id, Name: "Chaining", CreatedAt: created})
		must(b, err)
		if _, err := js.PublishAsync("$KV.ENDURE_"+hub.Name()+"_INSTANCES."+id, state); err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishAsync("endure."+hub.Name()+".index."+string(st)+"."+id, entry); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		b.Fatal("filling the hub timed out")
	}
	return base
}

// BenchmarkList100k measures one page of 100 among 100,000 instances (file
// storage), for several filters. Each op is one client.List call,
// first page; "scanned" is how many index entries the page examined.
//
//	go test ./pkg/client -run '^$' -bench List100k -benchtime 20x
func BenchmarkList100k(b *testing.B) {
	const n = 100_000
	hub := testnats.Hub(b, jetstream.Config{Name: "bench", Logger: quietLogger()})
	c := client.New(hub)
	start := time.Now()
	base := fillHub(b, hub, n)
	b.Logf("wrote %d instances in %v", n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	running := []protocol.RuntimeStatus{protocol.StatusRunning}
	for _, bc := range []struct {
		name string
		q    client.Query
	}{
		{"any-status", client.Query{}},
		{"Running", client.Query{Statuses: running}},
		{"Failed", client.Query{Statuses: []protocol.RuntimeStatus{protocol.StatusFailed}}},
		{"Running+Failed", client.Query{Statuses: []protocol.RuntimeStatus{protocol.StatusRunning, protocol.StatusFailed}}},
		{"prefix-1-in-100", client.Query{IDPrefix: "rare-"}},
		{"Running+prefix-1-in-20", client.Query{Statuses: running, IDPrefix: "rare-"}},
		// Matches only the newest instances; as every entry was stored in
		// the last seconds, the scan cannot start late (see
		// jetstream.CreatedTimeSlack) and stops at jetstream.DefaultMaxScan
		// entries with an empty page and a token.
		{"created-newest-1-in-10", client.Query{CreatedFrom: base.Add(90 * time.Second)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.q.PageSize = 100
			var listed int
			var more bool
			for b.Loop() {
				p, err := c.List(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				listed, more = len(p.Instances), p.ContinuationToken != ""
			}
			b.ReportMetric(float64(listed), "listed")
			if more {
				b.ReportMetric(1, "more")
			}
		})
	}
	// A whole listing, page after page: what purge-many and --all cost.
	b.Run("all-pages-Failed", func(b *testing.B) {
		var total int
		for b.Loop() {
			total = 0
			for _, err := range c.Instances(ctx, client.Query{PageSize: 1000, Statuses: []protocol.RuntimeStatus{protocol.StatusFailed}}) {
				if err != nil {
					b.Fatal(err)
				}
				total++
			}
		}
		b.ReportMetric(float64(total), "listed")
	})
}
