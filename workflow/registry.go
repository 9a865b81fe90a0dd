package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
)

// ErrDuplicate is returned when a name is registered twice.
var ErrDuplicate = errors.New("already registered")

// Registry holds the orchestrators that an orchestrator worker hosts.
type Registry struct {
	byName   map[string]engine.Orchestrator
	versions map[string]versioning
	logger   *slog.Logger
}

type versioning struct {
	current   string
	supported map[string]bool // nil: every version
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]engine.Orchestrator{}, versions: map[string]versioning{}, logger: slog.Default()}
}

// RegisterOption configures a registration.
type RegisterOption func(*versioning)

// WithVersion stamps the new instances this worker starts with version v;
// the code reads it with Context.Version and may branch on it.
func WithVersion(v string) RegisterOption {
	return func(o *versioning) { o.current = v }
}

// WithSupportedVersions limits the instances this worker runs to those
// started on the current version or one of vs. A worker meeting any other
// version leaves the instance for a worker that supports it. Without this
// option a worker runs every version.
func WithSupportedVersions(vs ...string) RegisterOption {
	return func(o *versioning) {
		if o.supported == nil {
			o.supported = map[string]bool{}
		}
		for _, v := range vs {
			o.supported[v] = true
		}
	}
}

// Version returns the version new instances of name are stamped with.
func (r *Registry) Version(name string) string { return r.versions[name].current }

// Supports reports whether this registry runs instances of name started on
// version v.
func (r *Registry) Supports(name, v string) bool {
	o, ok := r.versions[name]
	if !ok {
		return false
	}
	return o.supported == nil || v == o.current || o.supported[v]
}

// Register adds an orchestrator under name. Its JSON input decodes into In
// (a null or empty input gives In's zero value) and its Out result is
// encoded as JSON.
func Register[In, Out any](r *Registry, name string, fn func(ctx *Context, input In) (Out, error), opts ...RegisterOption) error {
	if err := protocol.ValidateName(name); err != nil {
		return err
	}
	if _, ok := r.byName[name]; ok {
		return fmt.Errorf("orchestrator %q: %w", name, ErrDuplicate)
	}
	var v versioning
	for _, opt := range opts {
		opt(&v)
	}
	r.versions[name] = v
	r.byName[name] = func(rt *engine.Runtime) ([]byte, error) {
		var in In
		if raw := rt.Input(); len(raw) > 0 {
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, fmt.Errorf("orchestrator %s: decode input into %T: %w", name, in, err)
			}
		}
		out, err := fn(&Context{rt: rt, logger: r.logger}, in)
		if err != nil {
			return nil, err // a *engine.ContinueAsNew among them
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("orchestrator %s: encode output: %w", name, err)
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

// Lookup returns the engine's view of a registered orchestrator. Workers use
// it; orchestrator code does not need it.
func (r *Registry) Lookup(name string) (engine.Orchestrator, bool) {
	fn, ok := r.byName[name]
	return fn, ok
}
