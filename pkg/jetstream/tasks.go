package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// SendTasks publishes activity calls to their activities' task queues, all
// in flight at once, and returns when every one is stored. Each carries a
// message ID made of instance, execution and task ID, so publishing the same
// call again (after a crash) is a no-op within the duplicate window.
func (h *Hub) SendTasks(ctx context.Context, tasks []*protocol.ActivityTask) error {
	futures := make([]jetstream.PubAckFuture, 0, len(tasks))
	for _, t := range tasks {
		data, err := protocol.Marshal(t)
		if err != nil {
			return err
		}
		msgID := TaskKey(t)
		f, err := h.js.PublishAsync(h.taskSubject(t.Name), data, jetstream.WithMsgID(msgID))
		if err != nil {
			return fmt.Errorf("send task %s #%d of %s: %w", t.Name, t.TaskID, t.InstanceID, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("send task %s #%d of %s: %w", tasks[i].Name, tasks[i].TaskID, tasks[i].InstanceID, err)
		case <-ctx.Done():
			return fmt.Errorf("send tasks: %w", ctx.Err())
		}
	}
	return nil
}

// TaskConsumer returns the durable consumer of one activity's task queue,
// creating it if needed. Every activity worker that hosts the activity shares
// it, so each task goes to one worker at a time; a task whose worker stops
// heart-beating for ActivityLease goes to another.
//
// ackWait overrides the lease for this activity (0: the hub's ActivityLease).
func (h *Hub) TaskConsumer(ctx context.Context, activity string, ackWait time.Duration) (jetstream.Consumer, error) {
	if ackWait <= 0 {
		ackWait = h.cfg.ActivityLease
	}
	if err := protocol.ValidateName(activity); err != nil {
		return nil, err
	}
	name := "activity-" + activity
	c, err := h.tasks.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: h.taskSubject(activity),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: 10000,
		Replicas:      h.cfg.Replicas,
		MemoryStorage: h.cfg.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("task consumer %s: %w", name, err)
	}
	return c, nil
}

// DecodeTask decodes a task message.
func DecodeTask(msg jetstream.Msg) (*protocol.ActivityTask, error) {
	var t protocol.ActivityTask
	if err := protocol.Unmarshal(msg.Data(), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// TaskKey identifies one activity call across redeliveries: instance,
// execution, task ID and rewind generation. Tasks and their results use it
// as message ID.
func TaskKey(t *protocol.ActivityTask) string {
	return t.InstanceID + "/" + t.ExecutionID + "/" + strconv.Itoa(int(t.TaskID)) + "/" + strconv.Itoa(int(t.Generation))
}
