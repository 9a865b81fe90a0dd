package workflow

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
)

// SubOrchestrationError is how a sub-orchestration's failure reaches its
// parent.
type SubOrchestrationError struct {
	// Name is the child's orchestrator name.
	Name string
	// InstanceID is the child's instance ID.
	InstanceID string
	// Type names the kind of failure.
	Type string
	// Message is the failure text.
	Message string
}

// Error implements error.
func (e *SubOrchestrationError) Error() string {
	return fmt.Sprintf("sub-orchestration %s (%s) failed: %s", e.Name, e.InstanceID, e.Message)
}

// SubOption configures a sub-orchestration call.
type SubOption func(*subOptions)

type subOptions struct{ id string }

// WithSubInstanceID gives the child a chosen instance ID instead of one
// derived from the parent's.
func WithSubInstanceID(id string) SubOption { return func(o *subOptions) { o.id = id } }

// CallSubOrchestrator runs the orchestrator registered under name as a child
// instance and returns a task for its output, which decodes into T. The
// child's failure comes back as a *SubOrchestrationError.
func CallSubOrchestrator[T any](ctx *Context, name string, input any, opts ...SubOption) Task[T] {
	f, err := ctx.subOrchestration(name, input, false, opts)
	if err != nil {
		return Task[T]{ctx: ctx, f: engine.FailedFuture(err)}
	}
	return Task[T]{ctx: ctx, f: f}
}

// StartOrchestration starts the orchestrator registered under name as an
// independent instance (fire-and-forget) and returns its instance ID. The
// caller does not wait for it and is not told how it ends.
func StartOrchestration(ctx *Context, name string, input any, opts ...SubOption) (string, error) {
	f, err := ctx.subOrchestration(name, input, true, opts)
	if err != nil {
		return "", err
	}
	data, err := f.Result()
	if err != nil {
		return "", err
	}
	var id string
	if err := json.Unmarshal(data, &id); err != nil {
		return "", err
	}
	return id, nil
}

func (c *Context) subOrchestration(name string, input any, detached bool, opts []SubOption) (*engine.Future, error) {
	var o subOptions
	for _, opt := range opts {
		opt(&o)
	}
	b, err := json.Marshal(input)
	if err == nil {
		err = c.rt.CheckPayload("sub-orchestration input", b)
	}
	if err != nil {
		return nil, fmt.Errorf("sub-orchestration %s: input: %w", name, err)
	}
	return c.rt.CallSubOrchestrator(name, o.id, b, detached), nil
}

// CallSubOrchestratorWithRetry calls a sub-orchestration like
// CallSubOrchestrator and, when it fails, calls it again as policy says
// (each attempt is a new child instance). It blocks until the last attempt
// is done.
func CallSubOrchestratorWithRetry[T any](ctx *Context, name string, policy RetryPolicy, input any) (T, error) {
	return withRetry(ctx, policy, func() Task[T] { return CallSubOrchestrator[T](ctx, name, input) })
}

// SendEvent raises an external event on another instance. Like every
// action it is recorded, so it is sent once however often the code replays.
func SendEvent(ctx *Context, instanceID, eventName string, data any) error {
	b, err := json.Marshal(data)
	if err == nil {
		err = ctx.rt.CheckPayload("event data", b)
	}
	if err != nil {
		return fmt.Errorf("send event %s: %w", eventName, err)
	}
	return ctx.rt.SendEvent(instanceID, eventName, b)
}

// ContinueOption configures ContinueAsNew.
type ContinueOption func(*engine.ContinueAsNew)

// KeepUnprocessedEvents carries external events that arrived but were not
// yet waited for over to the new execution.
func KeepUnprocessedEvents() ContinueOption {
	return func(c *engine.ContinueAsNew) { c.KeepEvents = true }
}

// ContinueAsNew ends this execution and starts the orchestrator afresh,
// under the same instance ID, with a new input and an empty history. Return
// its result as the orchestrator's error:
//
//	return 0, workflow.ContinueAsNew(ctx, state)
//
// Use it for loops that run for ever (monitors, eternal orchestrations), so
// that history and replay cost stay bounded.
func ContinueAsNew(ctx *Context, input any, opts ...ContinueOption) error {
	b, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("continue as new: input: %w", err)
	}
	c := &engine.ContinueAsNew{Input: b}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// asTaskError turns a future's failure into the error the SDK promises.
func asTaskError(f *engine.Future, err error) error {
	var fl *protocol.Failure
	if !errors.As(err, &fl) {
		return err
	}
	if id := f.SubInstanceID(); id != "" {
		return &SubOrchestrationError{Name: f.Name(), InstanceID: id, Type: fl.Type, Message: fl.Message}
	}
	return &ActivityError{Name: f.Name(), Type: fl.Type, Message: fl.Message, Stack: fl.Stack}
}
