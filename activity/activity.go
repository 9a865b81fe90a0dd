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

	"github.com/endurehq/endure/pkg/protocol"
)

// ErrDuplicate is returned when a name is registered twice.
var ErrDuplicate = errors.New("already registered")

// Func is an activity as workers run it: JSON in, JSON out.
type Func func(ctx context.Context, input []byte) ([]byte, error)

// Registry holds the activities that an activity worker hosts.
type Registry struct {
	byName map[string]Func
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]Func{}} }

// Register adds an activity under name. Its JSON input decodes into In and
// its Out result is encoded as JSON; a returned error fails the call, and the
// orchestrator sees it as a *workflow.ActivityError.
func Register[In, Out any](r *Registry, name string, fn func(ctx context.Context, input In) (Out, error)) error {
	if err := protocol.ValidateName(name); err != nil {
		return err
	}
	if _, ok := r.byName[name]; ok {
		return fmt.Errorf("activity %q: %w", name, ErrDuplicate)
	}
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

// WithInfo returns a context carrying info; activity workers call it.
func WithInfo(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// GetInfo returns the Info of the activity call running in ctx.
func GetInfo(ctx context.Context) (Info, bool) {
	info, ok := ctx.Value(infoKey{}).(Info)
	return info, ok
}
