package workflows

import (
	"context"
	"fmt"

	"github.com/endurehq/endure/workflow"
)

// MaxFanOut bounds FanOutFanIn's Count: all calls are scheduled in one step,
// and that step's history record must stay well under NATS's message size
// limit.
const MaxFanOut = 1000

// FanOutInput is FanOutFanIn's input.
type FanOutInput struct {
	// Count is how many Square activities run in parallel (0 to MaxFanOut).
	Count int `json:"count"`
}

// FanOutResult is FanOutFanIn's output.
type FanOutResult struct {
	// Count is how many activities ran.
	Count int `json:"count"`
	// Sum is the sum of their results: 1² + 2² + ... + Count².
	Sum int `json:"sum"`
}

// FanOutFanIn is the fan-out/fan-in pattern: it calls the Square activity
// for 1..Count without waiting for any of them (fan-out), so that every call
// is scheduled in the same step and activity workers run them in parallel;
// then it waits for all of them with workflow.All and sums the results
// (fan-in). Await on a finished task only reads the recorded result, so the
// aggregation costs no further round trips.
func FanOutFanIn(ctx *workflow.Context, in FanOutInput) (FanOutResult, error) {
	if in.Count < 0 || in.Count > MaxFanOut {
		return FanOutResult{}, fmt.Errorf("count must be between 0 and %d, got %d", MaxFanOut, in.Count)
	}
	tasks := make([]workflow.Task[int], in.Count)
	pending := make([]workflow.Awaitable, in.Count)
	for i := range tasks {
		tasks[i] = workflow.CallActivity[int](ctx, "Square", i+1)
		pending[i] = tasks[i]
	}
	if err := workflow.All(ctx, pending...); err != nil {
		return FanOutResult{}, err
	}
	sum := 0
	for _, t := range tasks {
		v, err := t.Await()
		if err != nil {
			return FanOutResult{}, err
		}
		sum += v
	}
	return FanOutResult{Count: in.Count, Sum: sum}, nil
}

// Square is the fan-out's unit of work: it returns n².
func Square(_ context.Context, n int) (int, error) { return n * n, nil }
