package jetstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// InlineLimit is the largest payload carried inside messages and history;
// larger ones are stored in the hub's object store and referenced.
const InlineLimit = 256 << 10

// DefaultMaxPayload is the default hard cap on one payload.
const DefaultMaxPayload = 16 << 20

// refPrefix starts a payload that refers to an object; JSON never starts
// with a NUL byte, so a reference cannot be mistaken for a payload.
const refPrefix = "\x00endure-ref:"

// objectName names a payload of an instance by its content, so storing the
// same payload again is a no-op and purging an instance finds its objects.
func objectName(instanceID string, p []byte) string {
	sum := sha256.Sum256(p)
	return instanceID + "/" + hex.EncodeToString(sum[:])
}

// payloadRefSubject is where the index stream records that an instance has
// the object name: an empty message per object, found by subject when the
// instance is purged (the object store can only list every object).
func (h *Hub) payloadRefSubject(instanceID, name string) string {
	return h.prefix + ".payload." + instanceID + "." + strings.TrimPrefix(name, instanceID+"/")
}

// offload replaces a payload larger than InlineLimit by a reference to an
// object holding it. It refuses payloads over the hub's MaxPayload.
func (h *Hub) offload(ctx context.Context, instanceID string, p *[]byte) error {
	return h.offloadOver(ctx, instanceID, p, InlineLimit)
}

// offloadOver is offload with another size limit.
func (h *Hub) offloadOver(ctx context.Context, instanceID string, p *[]byte, limit int) error {
	if len(*p) <= limit || bytes.HasPrefix(*p, []byte(refPrefix)) {
		return nil
	}
	if len(*p) > h.cfg.MaxPayload {
		return fmt.Errorf("%w: %d bytes, the hub's limit is %d", protocol.ErrPayloadTooLarge, len(*p), h.cfg.MaxPayload)
	}
	name := objectName(instanceID, *p)
	// Names are content hashes, so an object already stored under the name
	// holds this payload. Storing it again would not be a no-op: the object
	// store writes new chunks and then deletes the old ones, which a reader
	// of the old ones would wait on until it timed out.
	if info, err := h.payloads.GetInfo(ctx, name); err == nil && info.Size == uint64(len(*p)) {
		*p = []byte(refPrefix + name)
		return nil
	} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("look up payload %s: %w", name, err)
	}
	// Record the object under its instance first, so that purging the
	// instance finds it even if this process dies right after storing it.
	if _, err := h.js.Publish(ctx, h.payloadRefSubject(instanceID, name), nil); err != nil {
		return fmt.Errorf("record payload %s: %w", name, err)
	}
	if _, err := h.payloads.PutBytes(ctx, name, *p); err != nil {
		return fmt.Errorf("store payload %s: %w", name, err)
	}
	*p = []byte(refPrefix + name)
	return nil
}

// ResolvePayload returns the payload a reference stands for, or p itself.
func (h *Hub) ResolvePayload(ctx context.Context, p []byte) ([]byte, error) {
	if !bytes.HasPrefix(p, []byte(refPrefix)) {
		return p, nil
	}
	name := string(p[len(refPrefix):])
	var data []byte
	var err error
	// Two writers storing the same new payload at once replace one's chunks
	// by the other's; a read that began on the replaced chunks fails, and
	// reading again finds the ones that stay.
	for attempt := 0; attempt < 3; attempt++ {
		data, err = h.payloads.GetBytes(ctx, name)
		if err == nil || errors.Is(err, jetstream.ErrObjectNotFound) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load payload %s: %w", name, err)
	}
	return data, nil
}

func (h *Hub) offloadEvent(ctx context.Context, instanceID string, ev *protocol.Event) error {
	return h.offloadEventOver(ctx, instanceID, ev, InlineLimit)
}

func (h *Hub) offloadEventOver(ctx context.Context, instanceID string, ev *protocol.Event, limit int) error {
	for _, p := range []*[]byte{&ev.Input, &ev.Result} {
		if err := h.offloadOver(ctx, instanceID, p, limit); err != nil {
			return err
		}
	}
	for i := range ev.Carried {
		if err := h.offloadEventOver(ctx, instanceID, &ev.Carried[i], limit); err != nil {
			return err
		}
	}
	return nil
}

// ResolveEvent replaces references in an event's payloads by the payloads.
func (h *Hub) ResolveEvent(ctx context.Context, ev *protocol.Event) error {
	var err error
	if ev.Input, err = h.ResolvePayload(ctx, ev.Input); err != nil {
		return err
	}
	if ev.Result, err = h.ResolvePayload(ctx, ev.Result); err != nil {
		return err
	}
	for i := range ev.Carried {
		if err := h.ResolveEvent(ctx, &ev.Carried[i]); err != nil {
			return err
		}
	}
	return nil
}

func (h *Hub) offloadState(ctx context.Context, st *protocol.InstanceState) error {
	for _, p := range []*[]byte{&st.Input, &st.Output, &st.CustomStatus} {
		if err := h.offload(ctx, st.InstanceID, p); err != nil {
			return err
		}
	}
	return nil
}

// ResolveState replaces references in an instance state's payloads.
func (h *Hub) ResolveState(ctx context.Context, st *protocol.InstanceState) error {
	for _, p := range []*[]byte{&st.Input, &st.Output, &st.CustomStatus} {
		v, err := h.ResolvePayload(ctx, *p)
		if err != nil {
			return err
		}
		*p = v
	}
	return nil
}

// purgePayloads deletes the objects of an instance, as recorded under its
// payload subjects, and then those records.
func (h *Hub) purgePayloads(ctx context.Context, instanceID string) error {
	filter := h.prefix + ".payload." + instanceID + ".*"
	info, err := h.index.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return fmt.Errorf("list payloads of %s: %w", instanceID, err)
	}
	if len(info.State.Subjects) == 0 {
		return nil
	}
	for subject := range info.State.Subjects {
		name := instanceID + "/" + subject[strings.LastIndexByte(subject, '.')+1:]
		if err := h.payloads.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return fmt.Errorf("delete payload %s: %w", name, err)
		}
	}
	if err := h.index.Purge(ctx, jetstream.WithPurgeSubject(filter)); err != nil {
		return fmt.Errorf("purge payload records of %s: %w", instanceID, err)
	}
	return nil
}
