package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Effects gathers the writes that follow a committed orchestration step
// (activity tasks, timers, index moves, the instance's state) and sends
// them all at once, so a step costs one round trip for its commit and one
// for everything else. Every write is idempotent, so a batch may be sent
// again after a crash. An Effects is used by one goroutine.
type Effects struct {
	h       *Hub
	pending []pendingAck
	purges  []string // subjects to purge: cancelled timers
	err     error
	state   int // index in pending of the state update, -1 if none
}

type pendingAck struct {
	what string
	f    jetstream.PubAckFuture
}

// NewEffects starts an empty batch.
func (h *Hub) NewEffects() *Effects { return &Effects{h: h, state: -1} }

func (e *Effects) publish(what string, msg *nats.Msg, opts ...jetstream.PublishOpt) {
	if e.err != nil {
		return
	}
	f, err := e.h.js.PublishMsgAsync(msg, opts...)
	if err != nil {
		e.err = fmt.Errorf("%s: %w", what, err)
		return
	}
	e.pending = append(e.pending, pendingAck{what: what, f: f})
}

// SendTask queues an activity call for its task queue.
func (e *Effects) SendTask(t *protocol.ActivityTask) {
	if e.err == nil {
		e.err = e.h.offload(context.Background(), t.InstanceID, &t.Input)
	}
	data, err := protocol.Marshal(t)
	if err != nil {
		e.err = err
		return
	}
	msg := &nats.Msg{Subject: e.h.taskSubject(t.Name), Data: data}
	e.publish("send task "+t.Name, msg, jetstream.WithMsgID(TaskKey(t)))
}

// ScheduleTimer queues a durable timer (see Hub.ScheduleTimer).
func (e *Effects) ScheduleTimer(instanceID, executionID string, taskID int32, fireAt time.Time) {
	msg, err := e.h.timerMsg(instanceID, executionID, taskID, fireAt)
	if err != nil {
		e.err = err
		return
	}
	e.publish("schedule timer", msg)
}

// CancelTimer queues the removal of a pending timer.
func (e *Effects) CancelTimer(instanceID, executionID string, taskID int32) {
	e.purges = append(e.purges, e.h.timerSubject(instanceID, executionID, taskID))
}

// Index queues filing the instance under its status, and removing its
// entry under prev unless prev is empty or the same.
func (e *Effects) Index(st *protocol.InstanceState, prev protocol.RuntimeStatus) {
	data, err := protocol.Marshal(&protocol.IndexEntry{InstanceID: st.InstanceID, Name: st.Name, CreatedAt: st.CreatedAt})
	if err != nil {
		e.err = err
		return
	}
	e.publish("index "+st.InstanceID, &nats.Msg{Subject: e.h.indexSubject(st.Status, st.InstanceID), Data: data})
	if prev != "" && prev != st.Status {
		e.publish("unindex "+st.InstanceID, e.h.tombstone(prev, st.InstanceID), jetstream.WithMsgTTL(tombstoneTTL))
	}
}

// UpdateState queues replacing the instance's state if it is still at
// revision; Send reports the new revision, or ErrConflict.
func (e *Effects) UpdateState(st *protocol.InstanceState, revision uint64) {
	if e.err == nil {
		e.err = e.h.offloadState(context.Background(), st)
	}
	data, err := protocol.Marshal(st)
	if err != nil {
		e.err = err
		return
	}
	e.state = len(e.pending)
	msg := &nats.Msg{Subject: "$KV." + e.h.instances.Bucket() + "." + st.InstanceID, Data: data}
	e.publish("update state of "+st.InstanceID, msg, jetstream.WithExpectLastSequencePerSubject(revision))
	if e.err != nil {
		e.state = -1
	}
}

// Send sends the batch and waits for every write. It returns the state's new
// revision (0 if the batch had no state update). If only the state update
// failed its revision check, the error wraps ErrConflict.
func (e *Effects) Send(ctx context.Context) (uint64, error) {
	if e.err != nil {
		return 0, e.err
	}
	purged := make(chan error, 1)
	go func() {
		for _, subj := range e.purges {
			if err := e.h.inbox.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
				purged <- fmt.Errorf("purge %s: %w", subj, err)
				return
			}
		}
		purged <- nil
	}()
	var rev uint64
	var firstErr error
	for i, p := range e.pending {
		select {
		case ack := <-p.f.Ok():
			if i == e.state {
				rev = ack.Sequence
			}
		case err := <-p.f.Err():
			if i == e.state && isWrongLastSequence(err) {
				err = ErrConflict
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", p.what, err)
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := <-purged; err != nil && firstErr == nil {
		firstErr = err
	}
	return rev, firstErr
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// SendWork queues a work item for an instance's inbox; a non-empty msgID
// makes it idempotent within the duplicate window.
func (e *Effects) SendWork(item *protocol.WorkItem, msgID string) {
	if e.err == nil {
		e.err = e.h.offloadEvent(context.Background(), item.InstanceID, &item.Event)
	}
	data, err := protocol.Marshal(item)
	if err != nil {
		e.err = err
		return
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	e.publish("send "+item.Event.Type.String()+" to "+item.InstanceID, &nats.Msg{Subject: e.h.inboxSubject(item.InstanceID), Data: data}, opts...)
}
