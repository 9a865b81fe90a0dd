package jetstream

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// follow hands every entry a KV watcher delivers to apply, on a goroutine of
// its own, until ctx ends, and returns once the entries present when it
// started have been applied.
func follow(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry)) error {
	loaded := make(chan struct{})
	go func() {
		defer w.Stop()
		initial := true
		for e := range w.Updates() {
			if e == nil {
				if initial {
					initial = false
					close(loaded)
				}
				continue
			}
			apply(e)
		}
	}()
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
