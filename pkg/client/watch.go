package client

import (
	"context"
	"fmt"
	"iter"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// Watch yields the instance's status now and after each change, until the
// caller stops iterating or ctx ends (yielding ctx's error). It yields
// ErrNotFound if the instance is unknown or gets purged. The hub tells of
// changes as they are stored: nothing is polled.
func (c *Client) Watch(ctx context.Context, id string) iter.Seq2[*Status, error] {
	return func(yield func(*Status, error) bool) {
		if err := protocol.ValidateInstanceID(id); err != nil {
			yield(nil, err)
			return
		}
		w, err := c.hub.WatchInstance(ctx, id)
		if err != nil {
			yield(nil, err)
			return
		}
		defer w.Stop()
		seen := false
		for {
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case e, ok := <-w.Updates():
				if !ok {
					yield(nil, fmt.Errorf("watch %s: watcher closed", id))
					return
				}
				if e == nil { // initial values delivered
					if seen {
						continue
					}
					// The watcher can report its start before it has seen a
					// key written just before it: ask the bucket itself.
					cur, err := c.hub.GetInstance(ctx, id)
					if err != nil {
						yield(nil, err)
						return
					}
					seen = true
					if !yield(statusFrom(&cur.State), nil) {
						return
					}
					continue
				}
				st, err := jetstream.DecodeInstance(e)
				if err != nil {
					yield(nil, err)
					return
				}
				if st == nil {
					yield(nil, fmt.Errorf("%w: %s was purged", ErrNotFound, id))
					return
				}
				if err := c.hub.ResolveState(ctx, &st.State); err != nil { // large payloads are stored aside
					yield(nil, err)
					return
				}
				seen = true
				if !yield(statusFrom(&st.State), nil) {
					return
				}
			}
		}
	}
}
