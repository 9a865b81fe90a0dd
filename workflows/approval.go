package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/endurehq/endure/workflow"
)

// OrchFunction is the first version of the approval scenario: it asks the
// Approval activity for an approval and then for a rejection.
func OrchFunction(ctx *workflow.Context, _ json.RawMessage) ([]string, error) {
	approved, err := workflow.CallActivity[string](ctx, "Approval", "Approved").Await()
	if err != nil {
		return nil, err
	}
	rejected, err := workflow.CallActivity[string](ctx, "Approval", "Rejected").Await()
	if err != nil {
		return nil, err
	}
	return []string{approved, rejected}, nil
}

// DefaultApprovalTimeout is how long ApprovalWorkflow waits for the manager.
const DefaultApprovalTimeout = 20 * time.Second

// ApprovalInput is ApprovalWorkflow's optional input.
type ApprovalInput struct {
	// TimeoutSeconds overrides the 20 s deadline.
	TimeoutSeconds *float64 `json:"timeoutSeconds"`
}

// ApprovalWorkflow is the human-interaction pattern: it waits for the
// external event "Approval" (raised by a person, through the client or the
// HTTP API) or a durable deadline timer, whichever comes first, and cancels
// the timer if the person answered in time. On an answer it records the
// decision with the Approval activity (event data false or "Rejected"
// records a rejection, anything else an approval); on timeout it escalates
// to the head of department.
func ApprovalWorkflow(ctx *workflow.Context, in *ApprovalInput) ([]string, error) {
	deadline := DefaultApprovalTimeout
	if in != nil && in.TimeoutSeconds != nil {
		if *in.TimeoutSeconds < 0 {
			return nil, fmt.Errorf("timeoutSeconds must not be negative, got %v", *in.TimeoutSeconds)
		}
		deadline = time.Duration(*in.TimeoutSeconds * float64(time.Second))
	}
	timer := workflow.CreateTimer(ctx, deadline)
	approval := workflow.WaitForExternalEvent[json.RawMessage](ctx, "Approval")
	if workflow.Any(ctx, approval, timer) == 0 {
		timer.Cancel()
		data, _ := approval.Await()
		decision := "Approved"
		var v any
		if json.Unmarshal(data, &v) == nil && (v == false || v == "Rejected") {
			decision = "Rejected"
		}
		out, err := workflow.CallActivity[string](ctx, "Approval", decision).Await()
		if err != nil {
			return nil, err
		}
		return []string{out}, nil
	}
	out, err := workflow.CallActivity[string](ctx, "Escalation", "Head of department").Await()
	if err != nil {
		return nil, err
	}
	return []string{out}, nil
}

// Approval records a decision on the design proposal.
func Approval(_ context.Context, decision string) (string, error) {
	return "Your project design proposal has been -  " + decision + "!", nil
}

// Escalation reassigns the proposal when the manager did not answer.
func Escalation(_ context.Context, to string) (string, error) {
	return "ESCALATION : You have not approved the project design proposal - reassigning to your Manager! " + to + "!", nil
}
