package jetstream

import (
	"context"

	"github.com/nats-io/nats.go"
)

// replyInbox receives the answers to batched Direct Get requests. Its
// channel holds one batch: a synchronous subscription would allocate
// nats.go's default 64k-slot channel (512 KiB) for every history read.
type replyInbox struct {
	subject string
	sub     *nats.Subscription
	ch      chan *nats.Msg
}

// newReplyInbox subscribes a fresh inbox for batches of at most batch
// messages (plus the end-of-batch marker).
func (h *Hub) newReplyInbox(batch int) (*replyInbox, error) {
	r := &replyInbox{subject: nats.NewInbox(), ch: make(chan *nats.Msg, batch+2)}
	sub, err := h.nc.ChanSubscribe(r.subject, r.ch)
	if err != nil {
		return nil, err
	}
	r.sub = sub
	return r, nil
}

// next returns the next reply, or ctx's error.
func (r *replyInbox) next(ctx context.Context) (*nats.Msg, error) {
	select {
	case m := <-r.ch:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *replyInbox) close() { _ = r.sub.Unsubscribe() }
