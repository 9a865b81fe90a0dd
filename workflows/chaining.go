package workflows

import (
	"context"
	"fmt"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/workflow"
)

// ChainingInput is Chaining's input.
type ChainingInput struct {
	// Steps is how many activities run one after the other.
	Steps int `json:"steps"`
	// DelayMs is how long each Step activity works.
	DelayMs int `json:"delayMs"`
}

// Chaining is the function-chaining pattern: it runs the Step activity
// Steps times in sequence, each step taking the previous one's output, and
// returns the last output (which equals Steps). Each call is awaited before
// the next is made, and each result is recorded in history, so a chain
// interrupted by a crash resumes after its last completed step instead of
// starting over.
func Chaining(ctx *workflow.Context, in ChainingInput) (int, error) {
	if in.Steps < 0 || in.Steps > 10000 {
		return 0, fmt.Errorf("steps must be between 0 and 10000, got %d", in.Steps)
	}
	n := 0
	for i := 0; i < in.Steps; i++ {
		var err error
		n, err = workflow.CallActivity[int](ctx, "Step", StepInput{Value: n, DelayMs: in.DelayMs}).Await()
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// StepInput is the Step activity's input.
type StepInput struct {
	// Value is incremented.
	Value int `json:"value"`
	// DelayMs is how long the step works before answering.
	DelayMs int `json:"delayMs"`
}

// Step works for DelayMs milliseconds, then returns Value+1.
//
// It heart-beats while it works (it is registered with
// StepHeartbeatTimeout), so a Step whose worker dies runs again on another
// worker after that timeout, however long the step is.
func Step(ctx context.Context, in StepInput) (int, error) {
	done := time.After(time.Duration(in.DelayMs) * time.Millisecond)
	beat := time.NewTicker(StepHeartbeatTimeout / 4)
	defer beat.Stop()
	for in.DelayMs > 0 {
		select {
		case <-done:
			return in.Value + 1, nil
		case <-beat.C:
			activity.Heartbeat(ctx)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return in.Value + 1, nil
}

// StepHeartbeatTimeout is how long a Step may go without a heartbeat before
// its task is given to another worker.
const StepHeartbeatTimeout = 2 * time.Second
