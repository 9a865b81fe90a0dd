package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/endurehq/endure/workflow"
)

// MonitorInput is Monitor's input, and also the state it hands to its next
// execution: Checks counts the status checks made so far.
type MonitorInput struct {
	// JobID names the job to watch (required).
	JobID string `json:"jobID"`
	// PollIntervalMs is the wait between two checks (required, positive).
	PollIntervalMs int `json:"pollIntervalMs"`
	// ExpiresAt gives up at this time (by the orchestration's clock).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// MaxChecks gives up after this many checks (0: no limit). At least one
	// of ExpiresAt and MaxChecks must be set, so that a monitor always ends.
	MaxChecks int `json:"maxChecks,omitempty"`
	// Checks is how many checks earlier executions made; callers leave it 0.
	Checks int `json:"checks,omitempty"`
}

// MonitorResult is Monitor's output.
type MonitorResult struct {
	// JobID is the watched job.
	JobID string `json:"jobID"`
	// Status is MonitorDone or MonitorExpired.
	Status string `json:"status"`
	// Checks is how many status checks were made in all.
	Checks int `json:"checks"`
}

// Monitor outcomes.
const (
	// MonitorDone means the job was seen done.
	MonitorDone = "done"
	// MonitorExpired means the monitor gave up before the job was done.
	MonitorExpired = "expired"
)

// Monitor is the monitor pattern: a recurring check that runs until a
// condition holds or the monitor expires. Each execution checks the job once
// with the CheckJobStatus activity; if the job is not done it waits
// PollIntervalMs on a durable timer and continues as new with the check
// counted. Continue-as-new is what makes an unbounded loop affordable: every
// execution starts with an empty history, so however many times the
// monitor polls, its history (and the cost of replaying it) stays the size
// of one iteration, where a plain for loop would grow it with every check.
func Monitor(ctx *workflow.Context, in MonitorInput) (MonitorResult, error) {
	if in.JobID == "" {
		return MonitorResult{}, errors.New("jobID is required")
	}
	if in.PollIntervalMs <= 0 {
		return MonitorResult{}, fmt.Errorf("pollIntervalMs must be positive, got %d", in.PollIntervalMs)
	}
	if in.ExpiresAt == nil && in.MaxChecks <= 0 {
		return MonitorResult{}, errors.New("expiresAt or maxChecks is required, so that the monitor ends")
	}
	expired := MonitorResult{JobID: in.JobID, Status: MonitorExpired, Checks: in.Checks}
	if in.ExpiresAt != nil && !ctx.Now().Before(*in.ExpiresAt) {
		return expired, nil
	}
	if in.MaxChecks > 0 && in.Checks >= in.MaxChecks {
		return expired, nil
	}

	done, err := workflow.CallActivity[bool](ctx, "CheckJobStatus", in.JobID).Await()
	if err != nil {
		return MonitorResult{}, err
	}
	in.Checks++
	if done {
		return MonitorResult{JobID: in.JobID, Status: MonitorDone, Checks: in.Checks}, nil
	}
	if err := ctx.SetCustomStatus(map[string]int{"checks": in.Checks}); err != nil {
		return MonitorResult{}, err
	}
	if err := workflow.CreateTimer(ctx, time.Duration(in.PollIntervalMs)*time.Millisecond).Await(); err != nil {
		return MonitorResult{}, err
	}
	return MonitorResult{}, workflow.ContinueAsNew(ctx, in)
}

// JobStatusCheck reports whether the job with the given ID is done. It backs
// the CheckJobStatus activity: a real deployment passes its job system's
// client to RegisterActivitiesWith, tests pass a fake.
type JobStatusCheck func(ctx context.Context, jobID string) (done bool, err error)

// SimulatedChecksUntilDone is after how many checks SimulatedJobStatus
// reports a job done.
const SimulatedChecksUntilDone = 3

var simulatedJobs = struct {
	sync.Mutex
	checks map[string]int
}{checks: map[string]int{}}

// SimulatedJobStatus stands in for a job system in the sample workers: it
// reports every job done on its SimulatedChecksUntilDone-th check in this
// process, and then forgets it.
func SimulatedJobStatus(_ context.Context, jobID string) (bool, error) {
	simulatedJobs.Lock()
	defer simulatedJobs.Unlock()
	simulatedJobs.checks[jobID]++
	if simulatedJobs.checks[jobID] < SimulatedChecksUntilDone {
		return false, nil
	}
	delete(simulatedJobs.checks, jobID)
	return true, nil
}
