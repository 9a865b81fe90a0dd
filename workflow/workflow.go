package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
)

// ErrCanceled is returned by Await on a timer that was cancelled.
var ErrCanceled = engine.ErrCanceled

// Context is an orchestration's view of its own execution. It is valid only
// inside the orchestrator function and only on the goroutine that runs it.
type Context struct {
	rt     *engine.Runtime
	logger *slog.Logger
}

// InstanceID returns the ID of the running instance.
func (c *Context) InstanceID() string { return c.rt.InstanceID() }

// Name returns the orchestrator's registered name.
func (c *Context) Name() string { return c.rt.Name() }

// Now returns the current time in UTC as recorded in history. Use it instead
// of time.Now: it returns the same value every time the code is replayed.
func (c *Context) Now() time.Time { return c.rt.Now().UTC() }

// Version returns the orchestrator version this instance started on (see
// WithVersion). Branch on it to change an orchestrator without breaking
// instances that started on an older version.
func (c *Context) Version() string { return c.rt.Version() }

// IsPatched reports whether the code should take the new path of the change
// named id. Running instances that passed this point before the change keep
// the old path (false) for the rest of their execution; every other
// execution takes the new one (true):
//
//	if ctx.IsPatched("send-receipt") {
//		workflow.CallActivity[string](ctx, "SendReceipt", order).Await()
//	}
func (c *Context) IsPatched(id string) bool { return c.rt.IsPatched(id) }

// IsReplaying reports whether the code is re-running steps that already
// happened, e.g. to skip logging on replay.
func (c *Context) IsReplaying() bool { return c.rt.IsReplaying() }

// NewGUID returns a new UUID that is the same on every replay. Use it instead
// of a random UUID.
func (c *Context) NewGUID() string { return c.rt.NewGUID() }

// SetCustomStatus sets the JSON-encodable value shown as customStatus by
// status queries.
func (c *Context) SetCustomStatus(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("custom status: %w", err)
	}
	if err := c.rt.CheckPayload("custom status", b); err != nil {
		return err
	}
	c.rt.SetCustomStatus(b)
	return nil
}

// Logger returns a logger that writes nothing while the code replays, so each
// line appears once however often the orchestrator is re-run.
func (c *Context) Logger() *slog.Logger {
	if c.rt.IsReplaying() {
		return slog.New(slog.DiscardHandler)
	}
	return c.logger.With("instance", c.rt.InstanceID())
}

// Awaitable is any pending result: a Task or a Timer. Any and All take them.
type Awaitable interface {
	future() *engine.Future
}

// Task is the pending result of an activity call or external event, typed by
// the value it yields.
type Task[T any] struct {
	ctx *Context
	f   *engine.Future
}

func (t Task[T]) future() *engine.Future { return t.f }

// Done reports whether the result is in, without blocking.
func (t Task[T]) Done() bool { return t.f.Done() }

// Await blocks the orchestration until the result is in and returns it. An
// activity's failure comes back as an *ActivityError.
func (t Task[T]) Await() (T, error) {
	var v T
	t.ctx.rt.Wait(t.f.Done)
	data, err := t.f.Result()
	if err != nil {
		return v, asTaskError(t.f, err)
	}
	if len(data) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("decode result into %T: %w", v, err)
	}
	return v, nil
}

// ActivityError is how an activity's failure reaches the orchestrator.
type ActivityError struct {
	// Name is the activity name.
	Name string
	// Type names the kind of error the activity returned.
	Type string
	// Message is the error text.
	Message string
	// Stack is set when the activity panicked.
	Stack string
}

// Error implements error.
func (e *ActivityError) Error() string {
	return fmt.Sprintf("activity %s failed: %s", e.Name, e.Message)
}

// CallOption configures an activity call.
type CallOption func(*callOptions)

type callOptions struct{ timeout time.Duration }

// WithStartToCloseTimeout fails an attempt of the call that has not finished
// d after it started on a worker; the orchestrator sees an *ActivityError
// of Type "Timeout" (which a retry policy may retry).
func WithStartToCloseTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = d }
}

// CallActivity schedules the activity registered under name with the
// JSON-encodable input. T is the type its JSON result decodes into.
func CallActivity[T any](ctx *Context, name string, input any, opts ...CallOption) Task[T] {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	b, err := json.Marshal(input)
	if err == nil {
		err = ctx.rt.CheckPayload("activity input", b)
	}
	if err != nil {
		return Task[T]{ctx: ctx, f: engine.FailedFuture(fmt.Errorf("activity %s: input: %w", name, err))}
	}
	return Task[T]{ctx: ctx, f: ctx.rt.CallActivity(name, b, o.timeout)}
}

// WaitForExternalEvent returns a task for the next event raised on this
// instance with the given name; its JSON data decodes into T. Events raised
// before the wait are kept and delivered first-in first-out.
//
// A wait stays in line until an event answers it, even if the code stops
// looking at its task (say, after Any chose a timer instead): the next event
// of that name then goes to it. To wait with a deadline in a loop, use
// WaitForExternalEventWithTimeout, which withdraws the wait on timeout.
func WaitForExternalEvent[T any](ctx *Context, name string) Task[T] {
	if err := protocol.ValidateEventName(name); err != nil {
		return Task[T]{ctx: ctx, f: engine.FailedFuture(err)}
	}
	return Task[T]{ctx: ctx, f: ctx.rt.WaitForEvent(name)}
}

// ErrTimeout is returned by WaitForExternalEventWithTimeout when no event
// arrived in time.
var ErrTimeout = errors.New("timed out")

// WaitForExternalEventWithTimeout waits for the next event with the given
// name for at most timeout (a durable timer). It returns ErrTimeout if none
// arrived; a later event of that name then waits for a later wait.
func WaitForExternalEventWithTimeout[T any](ctx *Context, name string, timeout time.Duration) (T, error) {
	ev := WaitForExternalEvent[T](ctx, name)
	if ev.Done() {
		return ev.Await()
	}
	timer := CreateTimer(ctx, timeout)
	if Any(ctx, ev, timer) == 0 {
		timer.Cancel()
		return ev.Await()
	}
	ctx.rt.CancelEventWait(ev.f)
	var zero T
	return zero, ErrTimeout
}

// Timer is a pending durable timer.
type Timer struct {
	ctx *Context
	f   *engine.Future
}

func (t Timer) future() *engine.Future { return t.f }

// Done reports whether the timer fired or was cancelled.
func (t Timer) Done() bool { return t.f.Done() }

// Await blocks until the timer fires. It returns ErrCanceled if the timer was
// cancelled.
func (t Timer) Await() error {
	t.ctx.rt.Wait(t.f.Done)
	_, err := t.f.Result()
	return err
}

// Cancel cancels the timer if it has not fired: it will not fire, and Await
// returns ErrCanceled.
func (t Timer) Cancel() { t.ctx.rt.CancelTimer(t.f) }

// CreateTimer starts a durable timer that fires after d. Use it instead of
// time.Sleep: it survives restarts of every process.
func CreateTimer(ctx *Context, d time.Duration) Timer {
	return CreateTimerAt(ctx, ctx.Now().Add(d))
}

// CreateTimerAt starts a durable timer that fires at t.
func CreateTimerAt(ctx *Context, t time.Time) Timer {
	return Timer{ctx: ctx, f: ctx.rt.CreateTimer(t)}
}

// Any blocks until at least one of the tasks is done and returns the index
// of the first done one, in argument order. Use it instead of select.
func Any(ctx *Context, tasks ...Awaitable) int {
	if len(tasks) == 0 {
		return -1
	}
	first := func() int {
		for i, t := range tasks {
			if t.future().Done() {
				return i
			}
		}
		return -1
	}
	ctx.rt.Wait(func() bool { return first() >= 0 })
	return first()
}

// All blocks until every task is done. It returns the first error among them
// in argument order, if any; each task's own result stays available through
// its Await.
func All(ctx *Context, tasks ...Awaitable) error {
	ctx.rt.Wait(func() bool {
		for _, t := range tasks {
			if !t.future().Done() {
				return false
			}
		}
		return true
	})
	for _, t := range tasks {
		if _, err := t.future().Result(); err != nil {
			return asTaskError(t.future(), err)
		}
	}
	return nil
}
