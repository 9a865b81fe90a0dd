package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
		c, err := w.hub.TaskConsumer(ctx, name, w.reg.OptionsOf(name).HeartbeatTimeout)
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
	opts := w.reg.OptionsOf(task.Name)
	actx, cancel := context.WithCancel(activity.WithInfo(ctx, activity.Info{
		InstanceID: task.InstanceID, Name: task.Name, TaskID: task.TaskID, Attempt: attempt,
	}))
	defer cancel()
	if task.Timeout > 0 {
		var cancelTimeout context.CancelFunc
		actx, cancelTimeout = context.WithTimeout(actx, task.Timeout)
		defer cancelTimeout()
	}
	w.log.Debug("activity started", "activity", task.Name, "instance", task.InstanceID, "task", task.TaskID, "attempt", attempt)
	lease := w.keepLease(actx, cancel, msg, opts.HeartbeatTimeout)
	actx = activity.WithHeartbeat(actx, lease.beat)

	type outcome struct {
		result  []byte
		failure *protocol.Failure
	}
	input, err := w.hub.ResolvePayload(ctx, task.Input)
	if err != nil {
		lease.stop()
		w.log.Error("cannot load activity input; task will run again", "activity", task.Name, "instance", task.InstanceID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	done := make(chan outcome, 1)
	go func() {
		r, f := invoke(actx, fn, input, w.hub.Config().MaxPayload)
		done <- outcome{r, f}
	}()
	var out outcome
	finished := false
	select {
	case out = <-done:
		finished = true
	case <-actx.Done():
	}
	lease.stop()
	switch {
	case ctx.Err() != nil:
		return // shutting down: let another worker take the task
	case lease.lost():
		w.log.Warn("activity stopped heart-beating; its task goes to another worker",
			"activity", task.Name, "instance", task.InstanceID, "task", task.TaskID, "timeout", opts.HeartbeatTimeout)
		return // its lease (the heartbeat timeout) has run out: JetStream redelivers it
	case task.Timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded):
		out = outcome{failure: &protocol.Failure{Type: "Timeout",
			Message: fmt.Sprintf("activity %s did not finish within its start-to-close timeout of %v", task.Name, task.Timeout)}}
	case !finished:
		out = <-done
	}
	ev := protocol.Event{Type: protocol.EventTaskCompleted, Time: time.Now().UTC(), TaskID: task.TaskID, Result: out.result}
	if out.failure != nil {
		ev = protocol.Event{Type: protocol.EventTaskFailed, Time: ev.Time, TaskID: task.TaskID, Failure: out.failure}
	}
	item := &protocol.WorkItem{InstanceID: task.InstanceID, ExecutionID: task.ExecutionID, Event: ev}
	if err := w.hub.SendWork(ctx, item, "result/"+jetstream.TaskKey(task)); err != nil {
		w.log.Error("cannot report activity result; task will run again", "activity", task.Name, "instance", task.InstanceID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	_ = msg.Ack()
	w.log.Debug("activity done", "activity", task.Name, "instance", task.InstanceID, "task", task.TaskID, "attempt", attempt, "failed", out.failure != nil)
}

// taskLease keeps a task assigned to this worker while its activity runs.
type taskLease struct {
	beats    chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	isLost   atomic.Bool
}

func (l *taskLease) beat() {
	select {
	case l.beats <- struct{}{}:
	default:
	}
}

func (l *taskLease) stop()      { l.stopOnce.Do(func() { close(l.done) }) }
func (l *taskLease) lost() bool { return l.isLost.Load() }

// keepLease extends the task's lease while the activity runs. With a
// heartbeat timeout, only the activity's own heartbeats extend it, and if
// none comes for that long the lease is given up and cancel is called.
// Without one, the worker extends it every third of the hub's lease.
func (w *ActivityWorker) keepLease(ctx context.Context, cancel context.CancelFunc, msg njs.Msg, heartbeatTimeout time.Duration) *taskLease {
	l := &taskLease{beats: make(chan struct{}, 1), done: make(chan struct{})}
	every := w.hub.Config().ActivityLease / 3
	if heartbeatTimeout > 0 {
		every = heartbeatTimeout / 4
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-l.beats:
				last = time.Now()
				_ = msg.InProgress()
			case <-t.C:
				if heartbeatTimeout == 0 {
					_ = msg.InProgress()
				} else if time.Since(last) > heartbeatTimeout {
					l.isLost.Store(true)
					cancel()
					return
				}
			case <-l.done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return l
}

// invoke runs an activity, turning an error or a panic into a Failure.
func invoke(ctx context.Context, fn activity.Func, input []byte, maxPayload int) (result []byte, failure *protocol.Failure) {
	defer func() {
		if r := recover(); r != nil {
			failure = &protocol.Failure{Type: "Panic", Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	out, err := fn(ctx, input)
	if err == nil {
		err = protocol.CheckPayloadLimit("activity result", out, maxPayload)
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
