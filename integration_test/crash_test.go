package integration_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/protocol"
	njs "github.com/nats-io/nats.go/jetstream"
)

// activityLine matches the activity worker's debug lines about one
// instance, capturing the task ID and the attempt.
func activityLine(msg, instanceID string) *regexp.Regexp {
	return regexp.MustCompile(`msg="` + msg + `" .*instance=` + regexp.QuoteMeta(instanceID) + ` task=(\d+) attempt=(\d+)`)
}

// waitForAnyLine waits until one of procs logs a line matching re and
// returns that process and the line's submatches.
func waitForAnyLine(t *testing.T, procs []*process, re *regexp.Regexp, timeout time.Duration) (*process, []string) {
	t.Helper()
	var who *process
	var m []string
	testnats.Eventually(t, timeout, func() error {
		for _, p := range procs {
			if l := p.FindLine(re); l != "" {
				who, m = p, re.FindStringSubmatch(l)
				return nil
			}
		}
		return fmt.Errorf("no process logged /%s/", re)
	})
	return who, m
}

// TestActivityRunsAgainAfterWorkerKilled kills an activity worker with
// SIGKILL in the middle of an activity. The task's lease runs out, the other
// worker runs it again, the instance completes, and its history holds the
// result of each activity call exactly once.
func TestActivityRunsAgainAfterWorkerKilled(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	workers := sys.startStandard(2, "--activity-lease", "3s")

	cs := sys.startInstance("Chaining", `{"steps": 3, "delayMs": 4000}`)
	victim, m := waitForAnyLine(t, workers, activityLine("activity started", cs.ID), 30*time.Second)
	task := m[1]
	if m[2] != "1" {
		t.Fatalf("first run of task %s is attempt %s, want 1", task, m[2])
	}
	victim.Kill()
	survivor := workers[0]
	if survivor == victim {
		survivor = workers[1]
	}
	// The activity sleeps 4 s; the victim died well inside it.
	if l := victim.FindLine(activityLine("activity done", cs.ID)); l != "" {
		t.Fatalf("killed worker finished an activity of the instance before it died: %s", l)
	}

	rerun := regexp.MustCompile(`msg="activity started" .*instance=` + regexp.QuoteMeta(cs.ID) + ` task=` + task + ` attempt=(\d+)`)
	line := survivor.WaitForLine(t, rerun.String(), 30*time.Second)
	if n, _ := strconv.Atoi(rerun.FindStringSubmatch(line)[1]); n < 2 {
		t.Errorf("task %s ran again as attempt %d, want 2 or more: %s", task, n, line)
	}

	st := sys.waitForCompletion(cs, 60*time.Second)
	requireOutput(t, st, "3")

	// Every call was scheduled once and its result recorded once, even the
	// call that ran twice.
	hub := sys.openHub()
	results, _ := requireCallsOnce(t, hub, cs.ID)
	if len(results) != 3 {
		t.Errorf("%d activity calls completed (%v), want 3", len(results), results)
	}
	want := map[int32]string{}
	for i, id := range slices.Sorted(maps.Keys(results)) {
		want[id] = strconv.Itoa(i + 1)
	}
	for id, r := range results {
		if r != want[id] {
			t.Errorf("task %d result %s, want %s", id, r, want[id])
		}
	}
	sys.requireAlive()
}

// TestTimerFiresAfterOrchestratorWorkerKilled kills the only orchestrator
// worker with SIGKILL while an instance waits on its durable 4 s timer, and
// starts a new worker process either before the deadline (the timer fires
// under the new worker) or after it (the fired timer waits in the inbox
// with no worker). Either way the instance escalates.
func TestTimerFiresAfterOrchestratorWorkerKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// restartAfter is when, after the start, the new worker starts.
		restartAfter time.Duration
	}{
		{"new worker before the deadline", 0},
		{"new worker after the deadline", 5500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := newSystem(t, sharedNATS)
			orch := sys.startOrchestratorWorker()
			sys.startActivityWorker()
			sys.startAPI()

			start := time.Now()
			cs := sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 4}`)
			sys.waitForRunning(cs)
			orch.Kill()
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("worker killed %v after the start: the 4 s timer may already have fired", d)
			}

			// With no worker the instance keeps waiting, past its deadline
			// too: a fired timer is a work item that needs a worker.
			for {
				code, st, err := sys.getStatus(cs.StatusQueryGetURI)
				if err != nil || code != http.StatusAccepted || st.RuntimeStatus != "Running" {
					t.Fatalf("with no orchestrator worker: %d %s %v, want 202 Running", code, st.RuntimeStatus, err)
				}
				if time.Since(start) >= tc.restartAfter {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}

			sys.startOrchestratorWorker()
			st := sys.waitForCompletion(cs, 60*time.Second)
			requireOutput(t, st, outputJSON(escalationText))
			if d := time.Since(start); d < 3900*time.Millisecond {
				t.Errorf("escalated after %v, before the 4 s deadline", d)
			}
			sys.requireAlive()
		})
	}
}

// TestLongHistoryReplaysAfterWorkerRestart restarts every worker while an
// instance's history is longer than one batched history read (1000
// records), so that the new orchestrator worker must read it in several
// batches to replay it. The instance completes with every result recorded
// once.
func TestLongHistoryReplaysAfterWorkerRestart(t *testing.T) {
	t.Parallel()
	const steps = 2000
	sys := newSystem(t, sharedNATS)
	orch := sys.startOrchestratorWorker()
	act := sys.startActivityWorker("--activity-lease", "2s")
	sys.startAPI()
	hub := sys.openHub()

	cs := sys.startInstance("Chaining", fmt.Sprintf(`{"steps": %d, "delayMs": 0}`, steps))
	// Task IDs count the calls from 0: past task 1100 the history holds
	// more than 1100 records. Stopping the activity worker halts the chain.
	act.WaitForLine(t, `msg="activity started" .*instance=`+regexp.QuoteMeta(cs.ID)+` task=1[1-4]\d\d `, 60*time.Second)
	act.Kill()
	// Kill the orchestrator worker once it holds no work item, so that the
	// new one does not wait out an unacknowledged item's ack wait.
	testnats.Eventually(t, 30*time.Second, func() error { return inboxIdle(hub.JetStream(), sys.hub) })
	orch.Kill()
	if _, st, err := sys.getStatus(cs.StatusQueryGetURI); err != nil || st.RuntimeStatus != "Running" {
		t.Fatalf("killed the workers too late: instance is %s (%v)", st.RuntimeStatus, err)
	}
	sys.startOrchestratorWorker()
	sys.startActivityWorker("--activity-lease", "2s")

	st := sys.waitForCompletion(cs, 90*time.Second)
	requireOutput(t, st, fmt.Sprint(steps))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hist, err := hub.ReadHistory(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	completed := map[int32]int{}
	for _, rec := range hist.Records {
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventTaskCompleted {
				completed[ev.TaskID]++
			}
		}
	}
	if len(completed) != steps {
		t.Errorf("history has results for %d tasks, want %d", len(completed), steps)
	}
	for id, n := range completed {
		if n != 1 {
			t.Errorf("task %d has %d TaskCompleted events, want 1", id, n)
		}
	}
	sys.requireAlive()
}

// inboxIdle reports whether every inbox consumer of the hub has delivered
// and settled all its messages.
func inboxIdle(js njs.JetStream, hub string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "ENDURE_"+hub+"_INBOX")
	if err != nil {
		return err
	}
	consumers := stream.ListConsumers(ctx)
	n := 0
	for info := range consumers.Info() {
		n++
		if info.NumAckPending > 0 || info.NumPending > 0 {
			return fmt.Errorf("inbox consumer %s: %d unacknowledged, %d pending", info.Name, info.NumAckPending, info.NumPending)
		}
	}
	if err := consumers.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no inbox consumers")
	}
	return nil
}

// TestOrchestratorWorkersShareAndSurviveKill runs instances on two
// orchestrator workers that share the inbox partitions, and kills one with
// SIGKILL mid-run: the survivor takes over its partitions, every instance
// completes, and every activity result is recorded exactly once.
func TestOrchestratorWorkersShareAndSurviveKill(t *testing.T) {
	t.Parallel()
	const instances, steps = 40, 5
	sys := newSystem(t, sharedNATS)
	orchA := sys.startOrchestratorWorker()
	orchB := sys.startOrchestratorWorker()
	act := sys.startActivityWorker()
	sys.startAPI()
	// Both serve some partitions once they have seen each other.
	serving := regexp.MustCompile(`msg="serving partition"`)
	handedOver := regexp.MustCompile(`msg="handed partition over"`)
	testnats.Eventually(t, 20*time.Second, func() error {
		if orchA.CountLines(handedOver) == 0 {
			return fmt.Errorf("the first worker has not handed any partition to the second")
		}
		if orchB.CountLines(serving) == 0 {
			return fmt.Errorf("the second worker serves no partition")
		}
		return nil
	})

	var started []checkStatus
	for i := 0; i < instances; i++ {
		started = append(started, sys.startInstance("Chaining", fmt.Sprintf(`{"steps": %d, "delayMs": 100}`, steps)))
	}
	// Kill the second worker once the run is well under way.
	done := regexp.MustCompile(`msg="activity done"`)
	testnats.Eventually(t, 30*time.Second, func() error {
		if n := act.CountLines(done); n < instances {
			return fmt.Errorf("%d activities done", n)
		}
		return nil
	})
	orchB.Kill()

	for _, cs := range started {
		st := sys.waitForCompletion(cs, 90*time.Second)
		requireOutput(t, st, fmt.Sprint(steps))
	}
	hub := sys.openHub()
	for _, cs := range started {
		if results, _ := requireCallsOnce(t, hub, cs.ID); len(results) != steps {
			t.Errorf("instance %s: %d calls completed, want %d", cs.ID, len(results), steps)
		}
	}
	sys.requireAlive()
}
