package orchestrators

import (
	"time"

	"github.com/endurehq/endure/workflow"
)

// Which functions are orchestrators: registered literals, closures inside
// orchestrators, methods.

// Registered literals are named after their registration.
func register(reg *workflow.Registry) {
	_ = workflow.Register(reg, "Inline", func(ctx *workflow.Context, _ any) (string, error) {
		return time.Now().String(), nil // want `time.Now in orchestrator Inline is not deterministic`
	})
}

// A closure inside an orchestrator runs as part of it.
func ClosureInside(ctx *workflow.Context, _ any) (string, error) {
	stamp := func() string {
		return time.Now().String() // want `time.Now in orchestrator ClosureInside is not deterministic`
	}
	defer func() {
		time.Sleep(time.Second) // want `time.Sleep in orchestrator ClosureInside`
	}()
	return stamp(), nil
}

// Methods with a *workflow.Context first are orchestrators too.
type Service struct{}

func (Service) Approve(ctx *workflow.Context, _ any) (string, error) {
	return time.Now().String(), nil // want `time.Now in orchestrator Approve`
}
