package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// RegisterOrchestrators records that this hub's workers host these
// orchestrators, so that clients can refuse unknown names.
func (h *Hub) RegisterOrchestrators(ctx context.Context, names []string) error {
	return h.register(ctx, "orchestrator.", names)
}

// RegisterActivities records that this hub's workers host these activities.
func (h *Hub) RegisterActivities(ctx context.Context, names []string) error {
	return h.register(ctx, "activity.", names)
}

func (h *Hub) register(ctx context.Context, prefix string, names []string) error {
	for _, n := range names {
		if _, err := h.registry.Put(ctx, prefix+n, []byte("1")); err != nil {
			return fmt.Errorf("register %s%s: %w", prefix, n, err)
		}
	}
	return nil
}

// HasOrchestrator reports whether some worker of the hub has registered the
// orchestrator.
func (h *Hub) HasOrchestrator(ctx context.Context, name string) (bool, error) {
	_, err := h.registry.Get(ctx, "orchestrator."+name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up orchestrator %s: %w", name, err)
	}
	return true, nil
}
