package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflows"
)

func TestApprovalWorkflowApprovesOrEscalates(t *testing.T) {
	t.Parallel()
	const escalated = `["ESCALATION : You have not approved the project design proposal - reassigning to your Manager! Head of department!"]`
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		timeout float64         // seconds
		event   json.RawMessage // raised once the workflow waits; nil: none
		want    string
	}{
		{name: "approved before the deadline", timeout: 3600, event: json.RawMessage(`true`),
			want: `["Your project design proposal has been -  Approved!"]`},
		{name: "rejected before the deadline", timeout: 3600, event: json.RawMessage(`"Rejected"`),
			want: `["Your project design proposal has been -  Rejected!"]`},
		{name: "escalated at the deadline", timeout: 0.3, want: escalated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := e.start("ApprovalWorkflow", workflows.ApprovalInput{TimeoutSeconds: &tc.timeout})
			if tc.event != nil {
				// The manager answers while the workflow waits.
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := e.client.WaitForStart(wctx, id)
				cancel()
				must(t, err)
				must(t, e.client.RaiseEvent(ctx, id, "Approval", tc.event))
			}
			st := e.completed(id, 20*time.Second, tc.want)

			if tc.event == nil {
				deadline := time.Duration(tc.timeout * float64(time.Second))
				if took := st.LastUpdatedAt.Sub(st.CreatedAt); took < deadline {
					t.Fatalf("escalated after %v, before the %v deadline", took, deadline)
				}
				// An answer after the escalation is refused.
				if err := e.client.RaiseEvent(ctx, id, "Approval", json.RawMessage(`true`)); !errors.Is(err, client.ErrFinished) {
					t.Fatalf("late approval: got %v, want ErrFinished", err)
				}
				return
			}
			// The answer cancelled the deadline before the decision was
			// recorded, and no timer is left behind.
			checkCanceledBeforeDecision(t, e.history(id))
			testnats.Eventually(t, 10*time.Second, func() error {
				n, err := e.hub.PendingTimers(ctx, id)
				if err != nil {
					return err
				}
				if n != 0 {
					return fmt.Errorf("%d timers still pending", n)
				}
				return nil
			})
		})
	}
}

// checkCanceledBeforeDecision checks that the history cancels the deadline
// timer before it schedules the Approval activity.
func checkCanceledBeforeDecision(t *testing.T, records []protocol.HistoryRecord) {
	t.Helper()
	canceled := false
	for _, rec := range records {
		for _, ev := range rec.Events {
			switch {
			case ev.Type == protocol.EventTimerCanceled:
				canceled = true
			case ev.Type == protocol.EventTaskScheduled && ev.Name == "Approval":
				if !canceled {
					t.Fatal("the Approval activity was scheduled before the deadline timer was cancelled")
				}
				return
			}
		}
	}
	t.Fatal("the history schedules no Approval activity")
}
