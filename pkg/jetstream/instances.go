package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// InstanceEntry is an instance's state with the KV revision it was read at.
type InstanceEntry struct {
	State    protocol.InstanceState
	Revision uint64
}

// GetInstance reads an instance's state; ErrInstanceNotFound if unknown.
func (h *Hub) GetInstance(ctx context.Context, instanceID string) (*InstanceEntry, error) {
	if err := protocol.ValidateInstanceID(instanceID); err != nil {
		return nil, err
	}
	e, err := h.instances.Get(ctx, instanceID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrInstanceNotFound, instanceID)
	}
	if err != nil {
		return nil, fmt.Errorf("get instance %s: %w", instanceID, err)
	}
	out, err := decodeEntry(e)
	if err != nil {
		return nil, err
	}
	if err := h.ResolveState(ctx, &out.State); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeEntry(e jetstream.KeyValueEntry) (*InstanceEntry, error) {
	out := &InstanceEntry{Revision: e.Revision()}
	if err := protocol.Unmarshal(e.Value(), &out.State); err != nil {
		return nil, fmt.Errorf("instance %s: %w", e.Key(), err)
	}
	return out, nil
}

// CreateInstance stores the state of a new instance; ErrInstanceExists if
// the ID is taken.
func (h *Hub) CreateInstance(ctx context.Context, st *protocol.InstanceState) (uint64, error) {
	if err := h.offloadState(ctx, st); err != nil {
		return 0, err
	}
	data, err := protocol.Marshal(st)
	if err != nil {
		return 0, err
	}
	rev, err := h.instances.Create(ctx, st.InstanceID, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("%w: %s", ErrInstanceExists, st.InstanceID)
	}
	if err != nil {
		return 0, fmt.Errorf("create instance %s: %w", st.InstanceID, err)
	}
	return rev, nil
}

// UpdateInstance replaces an instance's state if it is still at revision
// and returns the new revision; ErrConflict if it changed meanwhile.
func (h *Hub) UpdateInstance(ctx context.Context, st *protocol.InstanceState, revision uint64) (uint64, error) {
	if err := h.offloadState(ctx, st); err != nil {
		return 0, err
	}
	data, err := protocol.Marshal(st)
	if err != nil {
		return 0, err
	}
	rev, err := h.instances.Update(ctx, st.InstanceID, data, revision)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) &&
			(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)) {
			return 0, fmt.Errorf("update instance %s: %w", st.InstanceID, ErrConflict)
		}
		return 0, fmt.Errorf("update instance %s: %w", st.InstanceID, err)
	}
	return rev, nil
}

// DeleteInstance removes an instance's state.
func (h *Hub) DeleteInstance(ctx context.Context, instanceID string) error {
	if err := h.instances.Purge(ctx, instanceID); err != nil {
		return fmt.Errorf("delete instance %s: %w", instanceID, err)
	}
	return nil
}

// WatchInstance streams an instance's state changes, starting with the
// current one. Stop it with the returned watcher's Stop.
func (h *Hub) WatchInstance(ctx context.Context, instanceID string) (jetstream.KeyWatcher, error) {
	w, err := h.instances.Watch(ctx, instanceID)
	if err != nil {
		return nil, fmt.Errorf("watch instance %s: %w", instanceID, err)
	}
	return w, nil
}

// DecodeInstance decodes a watched KV entry; it returns nil for a deletion.
// Large payloads stay references: resolve them with Hub.ResolveState.
func DecodeInstance(e jetstream.KeyValueEntry) (*InstanceEntry, error) {
	if e == nil || e.Operation() != jetstream.KeyValuePut {
		return nil, nil
	}
	return decodeEntry(e)
}

// PurgeInstance deletes everything the hub holds for an instance: timers,
// history and state.
func (h *Hub) PurgeInstance(ctx context.Context, instanceID string) error {
	if err := h.inbox.Purge(ctx, jetstream.WithPurgeSubject(h.prefix+".timer."+instanceID+".>")); err != nil {
		return fmt.Errorf("purge timers of %s: %w", instanceID, err)
	}
	if err := h.PurgeHistory(ctx, instanceID); err != nil {
		return err
	}
	if err := h.DeleteInstance(ctx, instanceID); err != nil {
		return err
	}
	return h.purgePayloads(ctx, instanceID)
}

// ClaimInstance stores the state of a new instance and queues its listing
// index entry on eff, and returns the state's revision. An ID whose instance
// has finished is reused: its history is purged and its state replaced.
// Claiming again with the same execution ID is a no-op, so a crashed
// claimer may retry. It returns an error wrapping ErrInstanceExists if the
// ID belongs to an instance that has not finished.
func (h *Hub) ClaimInstance(ctx context.Context, st *protocol.InstanceState, eff *Effects) (uint64, error) {
	rev, err := h.CreateInstance(ctx, st)
	if err == nil {
		eff.Index(st, "")
		return rev, nil
	}
	if !errors.Is(err, ErrInstanceExists) {
		return 0, err
	}
	cur, err := h.GetInstance(ctx, st.InstanceID)
	if err != nil {
		return 0, err
	}
	if cur.State.ExecutionID == st.ExecutionID {
		eff.Index(&cur.State, "")
		return cur.Revision, nil
	}
	if !cur.State.Status.Terminal() {
		return 0, fmt.Errorf("%w: %s is %s", ErrInstanceExists, st.InstanceID, cur.State.Status)
	}
	if err := h.PurgeHistory(ctx, st.InstanceID); err != nil {
		return 0, err
	}
	rev, err = h.UpdateInstance(ctx, st, cur.Revision)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return 0, fmt.Errorf("%w: %s was started concurrently", ErrInstanceExists, st.InstanceID)
		}
		return 0, err
	}
	eff.Index(st, cur.State.Status)
	return rev, nil
}
