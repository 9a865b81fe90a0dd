package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
)

// TestLargeEventsQueuedWhileNoWorkerRuns raises several events of almost
// 256 KiB each (the largest payload carried inline) while no orchestrator
// worker runs, so that the next worker takes them all in one step. Every
// payload is valid on its own, so the step must commit at its first try,
// and the instance must then go on as usual.
func TestLargeEventsQueuedWhileNoWorkerRuns(t *testing.T) {
	t.Parallel()
	const notes = 8
	sys := newSystem(t, sharedNATS)
	orch := sys.startOrchestratorWorker()
	sys.startActivityWorker()
	sys.startAPI()
	// A graceful stop leaves the hub's worker set at once, so the next
	// worker serves every partition without waiting for a lease to expire.
	if err := orch.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	pad := strings.Repeat("x", 250<<10)
	cs := sys.startInstance("ApprovalWorkflow", fmt.Sprintf(`{"timeoutSeconds": 600, "pad": %q}`, pad))
	note, _ := json.Marshal(pad)
	for i := 0; i < notes; i++ {
		if r := sys.mustDo(http.MethodPost, cs.eventURI("Note"), "application/json", note); r.code != http.StatusAccepted {
			t.Fatalf("raise Note: %v, want 202", r)
		}
	}
	if r := sys.mustDo(http.MethodPost, cs.eventURI("Approval"), "application/json", []byte("true")); r.code != http.StatusAccepted {
		t.Fatalf("raise Approval: %v, want 202", r)
	}

	next := sys.startOrchestratorWorker()
	st := sys.waitForCompletion(cs, 30*time.Second)
	requireOutput(t, st, outputJSON(approvedText))
	if n := next.CountLines(regexp.MustCompile(`msg="step failed`)); n > 0 {
		t.Errorf("the orchestrator worker failed %d steps of valid work; first: %s", n, next.FindLine(regexp.MustCompile(`msg="step failed`)))
	}

	hub := sys.openHub()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hist, err := hub.ReadHistory(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	raised := map[string]int{}
	for _, rec := range hist.Records {
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventEventRaised {
				raised[ev.Name]++
				if ev.Name == "Note" && string(ev.Input) != string(note) {
					t.Errorf("a Note event's data is %d bytes, want the %d sent", len(ev.Input), len(note))
				}
			}
		}
	}
	if raised["Note"] != notes || raised["Approval"] != 1 {
		t.Errorf("history records events %v, want %d Note and 1 Approval", raised, notes)
	}
	sys.requireAlive()
}
