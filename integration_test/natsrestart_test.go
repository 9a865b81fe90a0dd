package integration_test

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestInstanceCompletesAcrossNATSRestart stops the nats-server (gracefully,
// or with SIGKILL) while an instance waits on its durable timer, and starts
// it again on the same port and store. The workers and the HTTP API
// reconnect by themselves; the timer, kept in file storage, still fires; the
// instance escalates; and new instances run afterwards.
func TestInstanceCompletesAcrossNATSRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  os.Signal
		// downFor is how long after the instance's start the server stays
		// down; past 5 s the timer falls due while NATS is down.
		downFor time.Duration
	}{
		{"SIGTERM", syscall.SIGTERM, 0},
		{"SIGKILL", syscall.SIGKILL, 0},
		{"SIGTERM, down past the deadline", syscall.SIGTERM, 6500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := startNATS(t)
			sys := newSystem(t, ns)
			workers := sys.startStandard(1)

			start := time.Now()
			cs := sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 5}`)
			sys.waitForRunning(cs)

			if err := ns.proc.Stop(tc.sig, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			sys.outage = true
			// Every process notices the outage and stays up.
			for _, p := range sys.procs {
				p.WaitForLine(t, `msg="disconnected from NATS"`, 10*time.Second)
			}
			// An outage is observed, not synchronised on: nothing can
			// happen until the server is back.
			time.Sleep(time.Until(start.Add(tc.downFor)))
			ns.Restart(t)
			for _, p := range sys.procs {
				p.WaitForLine(t, `msg="reconnected to NATS"`, 30*time.Second)
			}

			st := sys.waitForCompletion(cs, 60*time.Second)
			requireOutput(t, st, outputJSON(escalationText))
			sys.outage = false

			// The whole path still works: start, activities, events.
			cs2 := sys.startInstance("OrchFunction", "")
			st = sys.waitForCompletion(cs2, 30*time.Second)
			requireOutput(t, st, outputJSON(approvedText, rejectedText))
			if n := workers[0].CountLines(activityLine("activity done", cs2.ID)); n != 2 {
				t.Errorf("activity worker ran %d activities of the new instance, want 2", n)
			}
			sys.requireAlive()
		})
	}
}
