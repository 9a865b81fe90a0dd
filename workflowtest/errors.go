package workflowtest

import (
	"errors"

	"github.com/endurehq/endure/internal/engine"
)

var (
	// ErrNonDeterminism is wrapped by every *NonDeterminismError: the code
	// no longer takes the actions its recorded history holds.
	ErrNonDeterminism = engine.ErrNonDeterminism
	// ErrUnknownOrchestrator is returned when a run or a history names an
	// orchestrator that the registry does not hold.
	ErrUnknownOrchestrator = engine.ErrUnknownOrchestrator
	// ErrUnsupportedVersion is returned by the Replay functions for a
	// history started on an orchestrator version that the registry does not
	// run (see workflow.WithSupportedVersions): a worker would leave such an
	// instance to another worker, so replaying it proves nothing.
	ErrUnsupportedVersion = errors.New("orchestrator version not supported")
	// ErrNoActivity is returned by Env.Run when the orchestrator called an
	// activity that has neither a mock nor an implementation. The call
	// failed, and the orchestrator saw it as a *workflow.ActivityError.
	ErrNoActivity = errors.New("no mock or implementation for activity")
	// ErrStepLimit is returned by Env.Run when the orchestrator took more
	// steps than the limit (see WithMaxSteps), e.g. in an endless loop.
	ErrStepLimit = errors.New("step limit reached")
	// ErrNotFinished is wrapped by Result.Err and Result.Decode when the
	// orchestrator has not finished: it waits for something the test did not
	// provide, or the run reached its time limit.
	ErrNotFinished = errors.New("orchestration has not finished")
	// ErrBadHistory is wrapped by the errors of Replay functions for a
	// history they cannot replay: empty, without its start, in an unknown
	// format, or exported without the inputs and results replay needs.
	ErrBadHistory = errors.New("cannot replay history")
)
