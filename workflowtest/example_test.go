package workflowtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	"github.com/endurehq/endure/workflowtest"
)

// A test of the approval sample when nobody approves: the 20-second
// deadline passes in virtual time, and the orchestrator escalates.
func Example() {
	env := workflowtest.New()
	_ = workflow.Register(env.Registry(), "ApprovalWorkflow", workflows.ApprovalWorkflow)
	env.OnActivity("Escalation", workflows.Escalation)

	res, err := env.Run("ApprovalWorkflow", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	var out []string
	if err := res.Decode(&out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(env.Calls())
	fmt.Println(out[0])
	fmt.Println("virtual time:", res.Elapsed())
	// Output:
	// [Escalation("Head of department")]
	// ESCALATION : You have not approved the project design proposal - reassigning to your Manager! Head of department!
	// virtual time: 20s
}

// External events arrive at the virtual times the test chooses.
func ExampleEnv_RaiseEventAfter() {
	env := workflowtest.New()
	_ = workflow.Register(env.Registry(), "ApprovalWorkflow", workflows.ApprovalWorkflow)
	env.OnActivity("Approval", func(_ context.Context, decision string) (string, error) {
		return "recorded: " + decision, nil
	})
	env.RaiseEventAfter("Approval", 5*time.Second, "Rejected")

	res, err := env.Run("ApprovalWorkflow", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, string(res.Output), res.Elapsed())
	for _, timer := range env.Timers() {
		fmt.Printf("timer of %v: fired %v, cancelled %v\n", timer.Duration(), timer.Fired, timer.Canceled)
	}
	// Output:
	// Completed ["recorded: Rejected"] 5s
	// timer of 20s: fired false, cancelled true
}

// Mocks can return fixed results or errors; a failed activity reaches the
// orchestrator as a *workflow.ActivityError.
func ExampleEnv_OnActivity() {
	env := workflowtest.New()
	_ = workflow.Register(env.Registry(), "Signup", func(ctx *workflow.Context, email string) (string, error) {
		if _, err := workflow.CallActivity[string](ctx, "SendWelcome", email).Await(); err != nil {
			return "welcome mail failed: " + err.Error(), nil
		}
		return "welcomed", nil
	})
	env.OnActivity("SendWelcome", fmt.Errorf("mailbox full"))

	res, _ := env.Run("Signup", "ada@example.com")
	fmt.Println(string(res.Output))
	// Output:
	// "welcome mail failed: activity SendWelcome failed: mailbox full"
}

// Replay checks a changed orchestrator against a history recorded with the
// old code, here by an Env run; a history read from the hub, the Go client
// or the HTTP API is checked the same way.
func ExampleReplay() {
	env := workflowtest.New()
	_ = workflow.Register(env.Registry(), "ApprovalWorkflow", workflows.ApprovalWorkflow)
	env.OnActivity("Approval", "ok")
	env.RaiseEventAfter("Approval", 5*time.Second, true)
	if _, err := env.Run("ApprovalWorkflow", nil); err != nil {
		fmt.Println(err)
		return
	}
	history := env.History()

	// The new version records approvals with another activity.
	changed := workflow.NewRegistry()
	_ = workflow.Register(changed, "ApprovalWorkflow", func(ctx *workflow.Context, _ any) (string, error) {
		timer := workflow.CreateTimer(ctx, 20*time.Second)
		approval := workflow.WaitForExternalEvent[json.RawMessage](ctx, "Approval")
		if workflow.Any(ctx, approval, timer) == 0 {
			timer.Cancel()
			return workflow.CallActivity[string](ctx, "RecordApproval", "Approved").Await()
		}
		return workflow.CallActivity[string](ctx, "Escalation", "Head of department").Await()
	})

	fmt.Println(workflowtest.Replay(env.Registry(), history))
	fmt.Println(workflowtest.Replay(changed, history))
	// Output:
	// <nil>
	// workflowtest: replay of "ApprovalWorkflow" (instance workflowtest) is not deterministic: at action #1 the history has CallActivity("Approval") but the code took CallActivity("RecordApproval")
	// --- history (expected)
	// +++ code (actual)
	//   #0 CreateTimer(20s), cancelled
	// - #1 CallActivity("Approval", "Approved")   <== first divergence
	// + #1 CallActivity("RecordApproval", "Approved")
	// - end: completed at step 2 with ["ok"]   (differs only in details, which replay does not compare)
	// + end: completed at step 2 with "ok"
	// engine: non-deterministic orchestrator: history has CallActivity("Approval") as action #1, but the code took CallActivity("RecordApproval") as action #1
}
