// Package workflows holds Endure's sample workflows, starting with the
// reference scenario: a design-proposal approval that escalates when the
// manager does not answer in time. The worker commands register everything
// here, so each sample can be started by name over HTTP.
package workflows

import (
	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/workflow"
)

// RegisterOrchestrators registers every sample orchestrator.
func RegisterOrchestrators(r *workflow.Registry) error {
	for _, err := range []error{
		workflow.Register(r, "OrchFunction", OrchFunction),
		workflow.Register(r, "ApprovalWorkflow", ApprovalWorkflow),
		workflow.Register(r, "Chaining", Chaining),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// RegisterActivities registers every sample activity.
func RegisterActivities(r *activity.Registry) error {
	for _, err := range []error{
		activity.Register(r, "Approval", Approval),
		activity.Register(r, "Escalation", Escalation),
		activity.Register(r, "Step", Step),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
