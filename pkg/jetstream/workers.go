package jetstream

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// WorkerTTL is how long an orchestrator worker counts as alive after its
// last heartbeat.
const WorkerTTL = 5 * time.Second

// Heartbeat records that the orchestrator worker is alive.
func (h *Hub) Heartbeat(ctx context.Context, workerID string) error {
	if _, err := h.workers.Put(ctx, workerID, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", workerID, err)
	}
	return nil
}

// WatchWorkers follows the orchestrator workers' heartbeats until ctx ends.
// It returns once the current heartbeats are loaded; the returned function
// lists, sorted, the workers heard from within WorkerTTL (as this process's
// clock measures it, so clocks need not agree).
func (h *Hub) WatchWorkers(ctx context.Context) (func() []string, error) {
	w, err := h.workers.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch workers: %w", err)
	}
	var mu sync.Mutex
	seen := map[string]time.Time{}
	err = follow(ctx, w, func(e jetstream.KeyValueEntry) {
		mu.Lock()
		defer mu.Unlock()
		if e.Operation() == jetstream.KeyValuePut {
			seen[e.Key()] = time.Now()
		} else {
			delete(seen, e.Key())
		}
	})
	if err != nil {
		return nil, err
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var live []string
		for id, t := range seen {
			if time.Since(t) < WorkerTTL {
				live = append(live, id)
			}
		}
		sort.Strings(live)
		return live
	}, nil
}

// Leave removes an orchestrator worker from the live set at once.
func (h *Hub) Leave(ctx context.Context, workerID string) error {
	if err := h.workers.Purge(ctx, workerID); err != nil {
		return fmt.Errorf("leave %s: %w", workerID, err)
	}
	return nil
}
