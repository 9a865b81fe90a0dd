package jetstream

import (
	"context"
	"errors"
	"fmt"
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

// LiveWorkers returns the IDs of the orchestrator workers whose heartbeat
// has not expired.
func (h *Hub) LiveWorkers(ctx context.Context) ([]string, error) {
	keys, err := h.workers.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live workers: %w", err)
	}
	return keys, nil
}

// Leave removes an orchestrator worker from the live set at once.
func (h *Hub) Leave(ctx context.Context, workerID string) error {
	if err := h.workers.Purge(ctx, workerID); err != nil {
		return fmt.Errorf("leave %s: %w", workerID, err)
	}
	return nil
}
