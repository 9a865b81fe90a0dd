package integration_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
)

// TestEveryInstanceFinishesWhileWorkersAreKilled kills the orchestrator
// worker and the activity workers with SIGKILL, one at a time at moments a
// seeded random source picks, while chains, fan-outs and approvals run and
// approvals are raised, and starts each killed process again at once.
// Every instance completes with its right output, every activity call is
// recorded completed exactly once, and every approval event is recorded
// exactly once.
func TestEveryInstanceFinishesWhileWorkersAreKilled(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const (
		chains, steps  = 20, 12
		fanouts, width = 4, 40
		approvals      = 10
		rounds         = 5
	)
	sys := newSystem(t, sharedNATS)
	// A short lease, so that the tasks a killed activity worker held come
	// back within seconds.
	actFlags := []string{"--activity-lease", "3s"}
	orch := sys.startOrchestratorWorker()
	acts := []*process{sys.startActivityWorker(actFlags...), sys.startActivityWorker(actFlags...)}
	everyAct := append([]*process(nil), acts...)
	sys.startAPI()

	var chained, fanned, approving []checkStatus
	for range chains {
		chained = append(chained, sys.startInstance("Chaining", fmt.Sprintf(`{"steps": %d, "delayMs": 100}`, steps)))
	}
	for range fanouts {
		fanned = append(fanned, sys.startInstance("FanOutFanIn", fmt.Sprintf(`{"count": %d}`, width)))
	}
	for range approvals {
		approving = append(approving, sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 600}`))
	}
	raised := 0
	raise := func(n int) {
		for ; n > 0 && raised < len(approving); n-- {
			cs := approving[raised]
			sys.waitForStatus(cs.StatusQueryGetURI, "Running", 60*time.Second)
			if r := sys.mustDo(http.MethodPost, cs.eventURI("Approval"), "application/json", []byte("true")); r.code != http.StatusAccepted {
				t.Fatalf("raise Approval on %s: %v", cs.ID, r)
			}
			raised++
		}
	}

	done := regexp.MustCompile(`msg="activity done"`)
	activitiesDone := func() int {
		n := 0
		for _, p := range everyAct {
			n += p.CountLines(done)
		}
		return n
	}
	for round := range rounds {
		// Let the run make some progress, then kill one process (once every
		// chain and fan-out activity is done, kills hit an idle system).
		target := min(activitiesDone()+5+rng.IntN(30), chains*steps+fanouts*width)
		testnats.Eventually(t, 60*time.Second, func() error {
			if n := activitiesDone(); n < target {
				return fmt.Errorf("round %d: %d activities done, waiting for %d", round, n, target)
			}
			return nil
		})
		raise(2)
		switch victim := rng.IntN(3); victim {
		case 0:
			t.Logf("round %d: killing %s", round, orch.name)
			orch.Kill()
			orch = sys.startOrchestratorWorker()
		default:
			a := acts[victim-1]
			t.Logf("round %d: killing %s", round, a.name)
			a.Kill()
			acts[victim-1] = sys.startActivityWorker(actFlags...)
			everyAct = append(everyAct, acts[victim-1])
		}
	}
	raise(approvals)

	for _, cs := range chained {
		requireOutput(t, sys.waitForCompletion(cs, 120*time.Second), fmt.Sprint(steps))
	}
	sum := 0
	for i := 1; i <= width; i++ {
		sum += i * i
	}
	for _, cs := range fanned {
		requireOutput(t, sys.waitForCompletion(cs, 120*time.Second), fmt.Sprintf(`{"count":%d,"sum":%d}`, width, sum))
	}
	for _, cs := range approving {
		requireOutput(t, sys.waitForCompletion(cs, 120*time.Second), outputJSON(approvedText))
	}

	// The histories: each call completed once, each approval taken once.
	hub := sys.openHub()
	for _, cs := range append(chained, fanned...) {
		if _, raised := requireCallsOnce(t, hub, cs.ID); raised != 0 {
			t.Errorf("%s: %d events recorded, want none", cs.ID, raised)
		}
	}
	for _, cs := range approving {
		if _, raised := requireCallsOnce(t, hub, cs.ID); raised != 1 {
			t.Errorf("%s: %d approval events recorded, want exactly 1", cs.ID, raised)
		}
	}
	sys.requireAlive()
}
