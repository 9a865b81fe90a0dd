package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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

// ActivityNames keeps the set of activity names registered in the hub up to
// date in memory until ctx ends. It returns once the current names are
// loaded; the returned function reports whether a name is registered, and
// how many names are.
func (h *Hub) ActivityNames(ctx context.Context) (func(name string) (known bool, total int), error) {
	w, err := h.registry.Watch(ctx, "activity.*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("watch activity registry: %w", err)
	}
	var mu sync.RWMutex
	names := map[string]bool{}
	err = follow(ctx, w, func(e jetstream.KeyValueEntry) {
		mu.Lock()
		names[strings.TrimPrefix(e.Key(), "activity.")] = true
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	return func(name string) (bool, int) {
		mu.RLock()
		defer mu.RUnlock()
		return names[name], len(names)
	}, nil
}
