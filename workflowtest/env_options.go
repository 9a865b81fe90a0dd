package workflowtest

import (
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/workflow"
)

// DefaultInstanceID is the instance ID of Env runs and of replays, unless
// WithInstanceID or ReplayAs says otherwise. Replaying an Env run's history
// with the same ID gives the code the same NewGUID values.
const DefaultInstanceID = "workflowtest"

// DefaultStartTime is the virtual time at which Env runs start, unless
// WithStartTime says otherwise.
var DefaultStartTime = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// DefaultMaxSteps bounds the steps of an Env run (see WithMaxSteps).
const DefaultMaxSteps = 100_000

// Option configures an Env.
type Option func(*config)

type config struct {
	registry   *workflow.Registry
	activities *activity.Registry
	instanceID string
	start      time.Time
	maxSteps   int
	timeLimit  time.Duration
}

// WithRegistry runs the orchestrators of reg (default: an empty registry,
// see Env.Registry). Sub-orchestrations are looked up there too.
func WithRegistry(reg *workflow.Registry) Option {
	return func(c *config) { c.registry = reg }
}

// WithActivities runs the real activities of reg for the activities that
// have no mock. Mocks set with OnActivity take precedence.
func WithActivities(reg *activity.Registry) Option {
	return func(c *config) { c.activities = reg }
}

// WithInstanceID sets the instance ID of the orchestration under test.
func WithInstanceID(id string) Option {
	return func(c *config) { c.instanceID = id }
}

// WithStartTime sets the virtual time at which runs start.
func WithStartTime(t time.Time) Option {
	return func(c *config) { c.start = t.UTC() }
}

// WithMaxSteps bounds the orchestration steps of a run (default
// DefaultMaxSteps); past it Run returns ErrStepLimit.
func WithMaxSteps(n int) Option {
	return func(c *config) { c.maxSteps = n }
}

// WithTimeLimit ends a run once virtual time would pass the start plus d,
// e.g. to test an eternal orchestration; what is due later does not happen
// and the orchestration is left Running. Zero means no limit.
func WithTimeLimit(d time.Duration) Option {
	return func(c *config) { c.timeLimit = d }
}
