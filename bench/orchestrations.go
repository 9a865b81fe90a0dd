package main

import (
	"context"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/workflow"
)

// The orchestrators and activities the workloads run. The worker child
// processes register them, and W6 registers them in the bench process too,
// to replay a recorded history.
const (
	orchSequence    = "BenchSequence"
	orchFanOut      = "BenchFanOut"
	orchWaitEvent   = "BenchWaitEvent"
	orchTimer       = "BenchTimer"
	orchLongHistory = "BenchLongHistory"

	actIncr  = "BenchIncr"
	actEcho  = "BenchEcho"
	actSleep = "BenchSleep"

	// sleepFor is how long BenchSleep sleeps: long enough that the
	// scaleout workload's throughput is set by how many calls run at once,
	// not by the CPU each costs.
	sleepFor = 50 * time.Millisecond

	// eventName is the external event BenchWaitEvent waits for.
	eventName = "Proceed"
)

func registerOrchestrations(r *workflow.Registry) error {
	for _, err := range []error{
		workflow.Register(r, orchSequence, sequence),
		workflow.Register(r, orchFanOut, fanOut),
		workflow.Register(r, orchWaitEvent, waitEvent),
		workflow.Register(r, orchTimer, timer),
		workflow.Register(r, orchLongHistory, longHistory),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func registerActivities(r *activity.Registry) error {
	for _, err := range []error{
		activity.Register(r, actIncr, func(_ context.Context, n int) (int, error) { return n + 1, nil }),
		activity.Register(r, actEcho, func(_ context.Context, n int) (int, error) { return n, nil }),
		activity.Register(r, actSleep, sleep),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// sequenceInput is BenchSequence's input.
type sequenceInput struct {
	Steps int `json:"steps"`
}

// sequence calls BenchIncr Steps times, each on the previous result, and
// returns Steps (W1, W5).
func sequence(ctx *workflow.Context, in sequenceInput) (int, error) {
	n := 0
	for i := 0; i < in.Steps; i++ {
		var err error
		if n, err = workflow.CallActivity[int](ctx, actIncr, n).Await(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// sleep sleeps for sleepFor and returns n (scaleout).
func sleep(ctx context.Context, n int) (int, error) {
	select {
	case <-time.After(sleepFor):
		return n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// fanOutInput is BenchFanOut's input.
type fanOutInput struct {
	Width    int    `json:"width"`
	Activity string `json:"activity,omitempty"` // "": BenchEcho
}

// fanOut calls Activity(i), BenchEcho(i) by default, for i in [0, Width)
// all at once, waits for all of them and returns the sum of the results:
// Width*(Width-1)/2 (W2, scaleout).
func fanOut(ctx *workflow.Context, in fanOutInput) (int, error) {
	name := in.Activity
	if name == "" {
		name = actEcho
	}
	tasks := make([]workflow.Task[int], in.Width)
	all := make([]workflow.Awaitable, in.Width)
	for i := range tasks {
		tasks[i] = workflow.CallActivity[int](ctx, name, i)
		all[i] = tasks[i]
	}
	if err := workflow.All(ctx, all...); err != nil {
		return 0, err
	}
	sum := 0
	for _, t := range tasks {
		v, err := t.Await()
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// waitEvent waits for the external event and returns its data (W3,
// memory).
func waitEvent(ctx *workflow.Context, _ struct{}) (int, error) {
	return workflow.WaitForExternalEvent[int](ctx, eventName).Await()
}

// timerInput is BenchTimer's input: a delay from the instance's first step,
// or an absolute due time, which wins when set.
type timerInput struct {
	DelayMs int64     `json:"delayMs,omitempty"`
	At      time.Time `json:"at"`
}

// timerOutput says when the timer was created, when it was due, and when
// the instance saw it fire: the replay-stable time of the step that
// received it.
type timerOutput struct {
	Created time.Time `json:"created"`
	Due     time.Time `json:"due"`
	Fired   time.Time `json:"fired"`
}

// timer waits for one durable timer (W4).
func timer(ctx *workflow.Context, in timerInput) (timerOutput, error) {
	out := timerOutput{Created: ctx.Now(), Due: in.At}
	if out.Due.IsZero() {
		out.Due = out.Created.Add(time.Duration(in.DelayMs) * time.Millisecond)
	}
	if err := workflow.CreateTimerAt(ctx, out.Due).Await(); err != nil {
		return out, err
	}
	out.Fired = ctx.Now()
	return out, nil
}

// longHistoryInput is BenchLongHistory's input.
type longHistoryInput struct {
	Steps int `json:"steps"`
}

// longHistoryOutput is the final count and, per step, the time from the
// step that called the activity to the step that got its result.
type longHistoryOutput struct {
	Sum    int     `json:"sum"`
	StepUs []int64 `json:"stepUs"`
}

// longHistory calls BenchIncr Steps times in sequence, timing each step with
// the replay-stable clock (W6).
func longHistory(ctx *workflow.Context, in longHistoryInput) (longHistoryOutput, error) {
	out := longHistoryOutput{StepUs: make([]int64, 0, in.Steps)}
	prev := ctx.Now()
	for i := 0; i < in.Steps; i++ {
		v, err := workflow.CallActivity[int](ctx, actIncr, out.Sum).Await()
		if err != nil {
			return out, err
		}
		now := ctx.Now()
		out.StepUs = append(out.StepUs, now.Sub(prev).Microseconds())
		out.Sum, prev = v, now
	}
	return out, nil
}
