package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SendWork publishes a work item to its instance's inbox. A non-empty msgID
// makes the publish idempotent within the stream's duplicate window.
func (h *Hub) SendWork(ctx context.Context, item *protocol.WorkItem, msgID string) error {
	if err := h.offloadEvent(ctx, item.InstanceID, &item.Event); err != nil {
		return err
	}
	data, err := protocol.Marshal(item)
	if err != nil {
		return err
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := h.js.Publish(ctx, h.inboxSubject(item.InstanceID), data, opts...); err != nil {
		return fmt.Errorf("send %s to %s: %w", item.Event.Type, item.InstanceID, err)
	}
	return nil
}

// InboxAckWait is how long an orchestrator worker may hold an inbox
// message before JetStream delivers it again.
const InboxAckWait = 15 * time.Second

// InboxConsumer returns the durable consumer of one inbox partition, creating
// it if needed. All orchestrator workers share these consumers.
func (h *Hub) InboxConsumer(ctx context.Context, partition int) (jetstream.Consumer, error) {
	p := strconv.Itoa(partition)
	return h.inboxConsumer(ctx, "orchestrators-"+p, h.prefix+".inbox."+p+".>")
}

// ReclaimInboxPartition makes the messages of a partition that a dead
// worker had taken, and not acknowledged, deliverable again at once instead
// of after the ack wait (15 s): it resets the partition's consumer to its
// acknowledgement floor. Call it only when no live worker consumes the
// partition; a worker still finishing messages would see them again (which
// is safe, only wasteful). With a server too old for the operation, the
// ack wait applies.
func (h *Hub) ReclaimInboxPartition(ctx context.Context, partition int) error {
	name := "orchestrators-" + strconv.Itoa(partition)
	if _, err := h.inbox.ResetConsumer(ctx, name); err != nil {
		return fmt.Errorf("reclaim inbox partition %d: %w", partition, err)
	}
	return nil
}

func (h *Hub) inboxConsumer(ctx context.Context, name, filter string) (jetstream.Consumer, error) {
	c, err := h.inbox.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       InboxAckWait,
		MaxAckPending: 10000,
		Replicas:      h.cfg.Replicas,
		MemoryStorage: h.cfg.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("inbox consumer %s: %w", name, err)
	}
	return c, nil
}

// DecodeWork decodes an inbox message.
func DecodeWork(msg jetstream.Msg) (*protocol.WorkItem, error) {
	var item protocol.WorkItem
	if err := protocol.Unmarshal(msg.Data(), &item); err != nil {
		return nil, err
	}
	return &item, nil
}

// ScheduleTimer stores a durable timer: a scheduled message that JetStream
// copies into the instance's inbox as a TimerFired work item at fireAt.
// Scheduling the same timer again replaces it.
func (h *Hub) ScheduleTimer(ctx context.Context, instanceID, executionID string, taskID int32, fireAt time.Time) error {
	msg, err := h.timerMsg(instanceID, executionID, taskID, fireAt)
	if err != nil {
		return err
	}
	if _, err := h.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("schedule timer %d of %s: %w", taskID, instanceID, err)
	}
	return nil
}

// TimerLead is how long before its due time JetStream releases a timer. The
// server's scheduler may fire up to ~250 ms late; releasing early and
// holding the message in the orchestrator worker until the due time makes
// timers fire on time.
const TimerLead = 300 * time.Millisecond

func (h *Hub) timerMsg(instanceID, executionID string, taskID int32, fireAt time.Time) (*nats.Msg, error) {
	item := &protocol.WorkItem{
		InstanceID:  instanceID,
		ExecutionID: executionID,
		Event:       protocol.Event{Type: protocol.EventTimerFired, TaskID: taskID, FireAt: fireAt},
	}
	data, err := protocol.Marshal(item)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(h.timerSubject(instanceID, executionID, taskID))
	msg.Data = data
	// Written by hand: jetstream.WithScheduleAt truncates to whole seconds.
	msg.Header.Set("Nats-Schedule", "@at "+fireAt.Add(-TimerLead).UTC().Format(time.RFC3339Nano))
	msg.Header.Set("Nats-Schedule-Target", h.inboxSubject(instanceID))
	return msg, nil
}

// CancelTimer removes a pending timer; cancelling a fired or unknown timer
// does nothing.
func (h *Hub) CancelTimer(ctx context.Context, instanceID, executionID string, taskID int32) error {
	if err := h.inbox.Purge(ctx, jetstream.WithPurgeSubject(h.timerSubject(instanceID, executionID, taskID))); err != nil {
		return fmt.Errorf("cancel timer %d of %s: %w", taskID, instanceID, err)
	}
	return nil
}

// PendingTimers returns how many timers of an instance are scheduled and
// not yet fired or cancelled.
func (h *Hub) PendingTimers(ctx context.Context, instanceID string) (int, error) {
	info, err := h.inbox.Info(ctx, jetstream.WithSubjectFilter(h.prefix+".timer."+instanceID+".>"))
	if err != nil {
		return 0, fmt.Errorf("pending timers of %s: %w", instanceID, err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n, nil
}

// sharedPartition names the inbox subjects that every orchestrator worker
// consumes, whatever partitions it owns: work that the owner of an
// instance's partition cannot run (an orchestrator or version it does not
// host) is forwarded there for a worker that can.
const sharedPartition = "any"

// ForwardWork republishes an inbox message's data to the shared inbox, for
// any orchestrator worker to take. msgID makes the forward idempotent.
func (h *Hub) ForwardWork(ctx context.Context, instanceID string, data []byte, msgID string) error {
	subject := h.prefix + ".inbox." + sharedPartition + "." + instanceID
	if _, err := h.js.Publish(ctx, subject, data, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("forward work for %s: %w", instanceID, err)
	}
	return nil
}

// IsShared reports whether an inbox message came from the shared inbox.
func (h *Hub) IsShared(subject string) bool {
	return strings.HasPrefix(subject, h.prefix+".inbox."+sharedPartition+".")
}

// SharedInboxConsumer returns the durable consumer of the shared inbox.
func (h *Hub) SharedInboxConsumer(ctx context.Context) (jetstream.Consumer, error) {
	return h.inboxConsumer(ctx, "orchestrators-"+sharedPartition, h.prefix+".inbox."+sharedPartition+".>")
}
