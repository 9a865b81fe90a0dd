package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func (h *Hub) indexSubject(status protocol.RuntimeStatus, instanceID string) string {
	return h.prefix + ".index." + string(status) + "." + instanceID
}

// IndexInstance files the instance under its current status and removes
// the entry it had under prev (empty for a new instance). Call it before
// writing the instance's state: if the writer dies between the two, the
// next writer reads prev from the old state and finishes the move.
func (h *Hub) IndexInstance(ctx context.Context, st *protocol.InstanceState, prev protocol.RuntimeStatus) error {
	if prev == st.Status {
		return nil
	}
	data, err := protocol.Marshal(&protocol.IndexEntry{InstanceID: st.InstanceID, Name: st.Name, CreatedAt: st.CreatedAt})
	if err != nil {
		return err
	}
	if _, err := h.js.Publish(ctx, h.indexSubject(st.Status, st.InstanceID), data); err != nil {
		return fmt.Errorf("index %s as %s: %w", st.InstanceID, st.Status, err)
	}
	if prev != "" {
		return h.UnindexInstance(ctx, st.InstanceID, prev)
	}
	return nil
}

// tombstoneTTL is how long a tombstone stays in the index: long enough to
// have replaced the entry it removes, then it expires by itself.
const tombstoneTTL = time.Minute

// tombstone is an empty index message that replaces an instance's entry
// under status (the stream keeps one message per subject); listing skips it.
// Publishing one is as cheap as any publish, where purging a subject is an
// API round trip.
func (h *Hub) tombstone(status protocol.RuntimeStatus, instanceID string) *nats.Msg {
	return &nats.Msg{Subject: h.indexSubject(status, instanceID)}
}

// UnindexInstance removes the instance's entry under status.
func (h *Hub) UnindexInstance(ctx context.Context, instanceID string, status protocol.RuntimeStatus) error {
	if err := h.index.Purge(ctx, jetstream.WithPurgeSubject(h.indexSubject(status, instanceID))); err != nil {
		return fmt.Errorf("unindex %s from %s: %w", instanceID, status, err)
	}
	return nil
}
