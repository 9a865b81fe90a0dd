package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	njs "github.com/nats-io/nats.go/jetstream"
)

// ActivityConfig tunes an ActivityWorker. Zero values mean defaults.
type ActivityConfig struct {
	// Concurrency is how many activity calls run at once (default 64).
	Concurrency int
	// Logger receives the worker's logs (default slog.Default()).
	Logger *slog.Logger
}

// ActivityWorker runs activity functions. Start any number: every worker
// that hosts an activity pulls from the same durable consumer, so each task
// runs on one worker at a time. While an activity runs, the worker extends
// its lease; if the worker dies, the task goes to another worker once the
// lease (the hub's ActivityLease) runs out.
type ActivityWorker struct {
	hub   *jetstream.Hub
	reg   *activity.Registry
	cfg   ActivityConfig
	log   *slog.Logger
	sem   chan struct{}
	wg    sync.WaitGroup
	ready chan struct{}
}

// NewActivityWorker returns a worker for the activities in reg.
func NewActivityWorker(hub *jetstream.Hub, reg *activity.Registry, cfg ActivityConfig) *ActivityWorker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &ActivityWorker{
		hub:   hub,
		reg:   reg,
		cfg:   cfg,
		log:   cfg.Logger.With("role", "activity-worker", "hub", hub.Name()),
		sem:   make(chan struct{}, cfg.Concurrency),
		ready: make(chan struct{}),
	}
}

// Ready is closed once Run has registered the activities and is taking
// tasks.
func (w *ActivityWorker) Ready() <-chan struct{} { return w.ready }

// Run registers the worker's activities and runs tasks until ctx is
// cancelled; then it waits for the calls under way and returns.
func (w *ActivityWorker) Run(ctx context.Context) error {
	names := w.reg.Names()
	if err := w.hub.RegisterActivities(ctx, names); err != nil {
		return err
	}
	var consumers []njs.ConsumeContext
	defer func() {
		for _, cc := range consumers {
			cc.Stop()
			<-cc.Closed()
		}
		w.wg.Wait()
	}()
	for _, name := range names {
		fn, _ := w.reg.Lookup(name)
		c, err := w.hub.TaskConsumer(ctx, name)
		if err != nil {
			return err
		}
		cc, err := c.Consume(func(msg njs.Msg) { w.receive(ctx, fn, msg) }, njs.PullMaxMessages(w.cfg.Concurrency))
		if err != nil {
			return fmt.Errorf("consume tasks of %s: %w", name, err)
		}
		consumers = append(consumers, cc)
	}
	close(w.ready)
	w.log.Info("activity worker running", "activities", names)
	<-ctx.Done()
	return nil
}

func (w *ActivityWorker) receive(ctx context.Context, fn activity.Func, msg njs.Msg) {
	task, err := jetstream.DecodeTask(msg)
	if err != nil {
		w.log.Error("dropping undecodable task", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return // the task stays unacknowledged and is redelivered
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		w.run(ctx, fn, task, msg)
	}()
}

// run executes one task, reports its result to the calling instance, and
// acknowledges the task only once the result is stored.
func (w *ActivityWorker) run(ctx context.Context, fn activity.Func, task *protocol.ActivityTask, msg njs.Msg) {
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	actx, cancel := context.WithCancel(activity.WithInfo(ctx, activity.Info{
		InstanceID: task.InstanceID, Name: task.Name, TaskID: task.TaskID, Attempt: attempt,
	}))
	defer cancel()
	w.log.Debug("activity started", "activity", task.Name, "instance", task.InstanceID, "task", task.TaskID, "attempt", attempt)
	stopBeat := w.heartbeat(actx, msg)
	result, failure := invoke(actx, fn, task.Input)
	stopBeat()
	if ctx.Err() != nil {
		return // shutting down: let another worker take the task
	}
	ev := protocol.Event{Type: protocol.EventTaskCompleted, Time: time.Now().UTC(), TaskID: task.TaskID, Result: result}
	if failure != nil {
		ev = protocol.Event{Type: protocol.EventTaskFailed, Time: ev.Time, TaskID: task.TaskID, Failure: failure}
	}
	item := &protocol.WorkItem{InstanceID: task.InstanceID, ExecutionID: task.ExecutionID, Event: ev}
	msgID := "result/" + jetstream.TaskKey(task)
	if err := w.hub.SendWork(ctx, item, msgID); err != nil {
		w.log.Error("cannot report activity result; task will run again", "activity", task.Name, "instance", task.InstanceID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	_ = msg.Ack()
	w.log.Debug("activity done", "activity", task.Name, "instance", task.InstanceID, "task", task.TaskID, "attempt", attempt, "failed", failure != nil)
}

// heartbeat extends the task's lease while the activity runs.
func (w *ActivityWorker) heartbeat(ctx context.Context, msg njs.Msg) (stop func()) {
	every := w.hub.Config().ActivityLease / 3
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// invoke runs an activity, turning an error or a panic into a Failure.
func invoke(ctx context.Context, fn activity.Func, input []byte) (result []byte, failure *protocol.Failure) {
	defer func() {
		if r := recover(); r != nil {
			failure = &protocol.Failure{Type: "Panic", Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	out, err := fn(ctx, input)
	if err == nil {
		err = protocol.CheckPayload("activity result", out)
	}
	if err != nil {
		typ := fmt.Sprintf("%T", err)
		var nr *activity.NonRetryableError
		if errors.As(err, &nr) {
			typ = activity.NonRetryableErrorType
		}
		return nil, &protocol.Failure{Type: typ, Message: err.Error()}
	}
	return out, nil
}
