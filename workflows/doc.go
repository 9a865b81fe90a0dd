// Package workflows holds Endure's sample workflows, one runnable sample per
// Durable Functions pattern, each in its own file:
//
//   - chaining.go: function chaining (Chaining);
//   - fanout.go: fan-out/fan-in (FanOutFanIn);
//   - asynchttp.go: the async HTTP API, a client that only follows 202 and
//     Location (StartAndPoll) and a long-running orchestrator (GenerateReport);
//   - monitor.go: a monitor that polls on a durable timer and continues as
//     new (Monitor);
//   - approval.go: human interaction, an approval that escalates when the
//     manager does not answer in time (ApprovalWorkflow).
//
// The worker commands register everything here, so each sample can be
// started by name over HTTP.
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
		workflow.Register(r, "FanOutFanIn", FanOutFanIn),
		workflow.Register(r, "GenerateReport", GenerateReport),
		workflow.Register(r, "Monitor", Monitor),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// RegisterActivities registers every sample activity, with
// SimulatedJobStatus answering the Monitor's status checks.
func RegisterActivities(r *activity.Registry) error {
	return RegisterActivitiesWith(r, SimulatedJobStatus)
}

// RegisterActivitiesWith registers every sample activity, with jobStatus
// answering the Monitor's status checks: a real job system's client, or a
// test's fake (nil: SimulatedJobStatus).
func RegisterActivitiesWith(r *activity.Registry, jobStatus JobStatusCheck) error {
	if jobStatus == nil {
		jobStatus = SimulatedJobStatus
	}
	for _, err := range []error{
		activity.Register(r, "Approval", Approval),
		activity.Register(r, "Escalation", Escalation),
		activity.Register(r, "Step", Step, activity.WithHeartbeatTimeout(StepHeartbeatTimeout)),
		activity.Register(r, "Square", Square),
		activity.Register(r, "RenderSection", RenderSection),
		activity.Register(r, "CheckJobStatus", jobStatus),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
