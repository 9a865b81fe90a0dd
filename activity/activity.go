// Package activity is the SDK for writing activity functions: plain Go
// functions that do an orchestration's real work (I/O, calls to other
// systems). Endure runs each activity call at least once and records its
// result exactly once, so activities should be idempotent or tolerate a
// repeat after a worker crash.
package activity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// ErrDuplicate is returned when a name is registered twice.
var ErrDuplicate = errors.New("already registered")

// Func is an activity as workers run it: JSON in, JSON out.
type Func func(ctx context.Context, input []byte) ([]byte, error)

// Registry holds the activities that an activity worker hosts.
type Registry struct {
	byName  map[string]Func
	options map[string]Options
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]Func{}, options: map[string]Options{}}
}

// Options are an activity's settings, given at registration.
type Options struct {
	// HeartbeatTimeout, if set, makes the activity responsible for its own
	// liveness: it must call Heartbeat at least this often, or its task is
	// given to another worker (and its context here is cancelled). A task
	// whose worker dies runs again after this long. Without it, the worker
	// keeps the task for as long as the function runs, and a task whose
	// worker dies runs again after the hub's activity lease.
	HeartbeatTimeout time.Duration
}

// Option sets one of an activity's Options.
type Option func(*Options)

// WithHeartbeatTimeout sets Options.HeartbeatTimeout.
func WithHeartbeatTimeout(d time.Duration) Option {
	return func(o *Options) { o.HeartbeatTimeout = d }
}

// Register adds an activity under name. Its JSON input decodes into In and
// its Out result is encoded as JSON; a returned error fails the call, and the
// orchestrator sees it as a *workflow.ActivityError.
func Register[In, Out any](r *Registry, name string, fn func(ctx context.Context, input In) (Out, error), opts ...Option) error {
	if err := protocol.ValidateName(name); err != nil {
		return err
	}
	if _, ok := r.byName[name]; ok {
		return fmt.Errorf("activity %q: %w", name, ErrDuplicate)
	}
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	r.options[name] = o
	r.byName[name] = func(ctx context.Context, raw []byte) ([]byte, error) {
		var in In
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, fmt.Errorf("activity %s: decode input into %T: %w", name, in, err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("activity %s: encode output: %w", name, err)
		}
		return b, nil
	}
	return nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the activity registered under name.
func (r *Registry) Lookup(name string) (Func, bool) {
	fn, ok := r.byName[name]
	return fn, ok
}

// OptionsOf returns the options the activity was registered with.
func (r *Registry) OptionsOf(name string) Options { return r.options[name] }

// Info describes the activity call being run.
type Info struct {
	// InstanceID is the calling orchestration instance.
	InstanceID string
	// Name is the activity name.
	Name string
	// TaskID is the call's sequence number in the caller's history.
	TaskID int32
	// Attempt counts deliveries of this call, from 1; above 1 means an
	// earlier attempt's worker died or lost its lease.
	Attempt int
}

type infoKey struct{}

type heartbeatKey struct{}

// WithHeartbeat returns a context whose Heartbeat calls beat; activity
// workers call it.
func WithHeartbeat(ctx context.Context, beat func()) context.Context {
	return context.WithValue(ctx, heartbeatKey{}, beat)
}

// Heartbeat tells Endure that the activity running in ctx is alive and
// making progress. Activities registered with a HeartbeatTimeout must call
// it at least that often; for others it is harmless.
func Heartbeat(ctx context.Context) {
	if beat, ok := ctx.Value(heartbeatKey{}).(func()); ok {
		beat()
	}
}

// WithInfo returns a context carrying info; activity workers call it.
func WithInfo(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// GetInfo returns the Info of the activity call running in ctx.
func GetInfo(ctx context.Context) (Info, bool) {
	info, ok := ctx.Value(infoKey{}).(Info)
	return info, ok
}
