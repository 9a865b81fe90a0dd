package workflow_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

// The examples run orchestrators on the replay engine the way a worker does
// and print the history each step commits: one Step per batch of results.

type exampleRun struct {
	rt      *engine.Runtime
	now     time.Time
	step    int
	records []protocol.HistoryRecord
}

func startExample(reg *workflow.Registry, name string, input any) *exampleRun {
	r := &exampleRun{rt: engine.New("order-42", reg.Lookup), now: t0}
	r.send(protocol.Event{Type: protocol.EventExecutionStarted, Time: t0, Name: name, ExecutionID: "exec-1", Input: jsonOf(input)})
	return r
}

// send commits the inputs as one step, d after the previous one.
func (r *exampleRun) sendAfter(d time.Duration, inputs ...protocol.Event) {
	r.now = r.now.Add(d)
	r.send(inputs...)
}

func (r *exampleRun) send(inputs ...protocol.Event) {
	rec, err := r.rt.Step(r.now, inputs)
	if err != nil {
		panic(err)
	}
	if rec != nil {
		r.records = append(r.records, *rec)
	}
	r.step++
	fmt.Printf("step %d\n  %s\n", r.step, strings.ReplaceAll(describe(rec), "\n", "\n  "))
}

func ExampleRegister() {
	reg := workflow.NewRegistry()
	greet := func(ctx *workflow.Context, city string) (string, error) {
		return workflow.CallActivity[string](ctx, "SayHello", city).Await()
	}
	if err := workflow.Register(reg, "Greet", greet); err != nil {
		fmt.Println(err)
	}
	fmt.Println(reg.Names())
	fmt.Println(errors.Is(workflow.Register(reg, "Greet", greet), workflow.ErrDuplicate))
	fmt.Println(errors.Is(workflow.Register(reg, "greet.v2", greet), protocol.ErrInvalidName))

	run := startExample(reg, "Greet", "Tokyo")
	defer run.rt.Close()
	run.send(completed(0, "Hello Tokyo!"))
	// Output:
	// [Greet]
	// true
	// true
	// step 1
	//   ExecutionStarted Greet("Tokyo")
	//   TaskScheduled #0 SayHello("Tokyo")
	// step 2
	//   TaskCompleted #0 "Hello Tokyo!"
	//   ExecutionCompleted "Hello Tokyo!"
}

func ExampleCallActivity() {
	// Function chaining: each call starts when the previous one returned.
	helloCities := func(ctx *workflow.Context, cities []string) ([]string, error) {
		var greetings []string
		for _, city := range cities {
			g, err := workflow.CallActivity[string](ctx, "SayHello", city).Await()
			if err != nil {
				return nil, err
			}
			greetings = append(greetings, g)
		}
		return greetings, nil
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "HelloCities", helloCities); err != nil {
		panic(err)
	}
	run := startExample(reg, "HelloCities", []string{"Tokyo", "Seattle"})
	defer run.rt.Close()
	run.send(completed(0, "Hello Tokyo!"))
	run.send(completed(1, "Hello Seattle!"))
	// Output:
	// step 1
	//   ExecutionStarted HelloCities(["Tokyo","Seattle"])
	//   TaskScheduled #0 SayHello("Tokyo")
	// step 2
	//   TaskCompleted #0 "Hello Tokyo!"
	//   TaskScheduled #1 SayHello("Seattle")
	// step 3
	//   TaskCompleted #1 "Hello Seattle!"
	//   ExecutionCompleted ["Hello Tokyo!","Hello Seattle!"]
}

func ExampleActivityError() {
	charge := func(ctx *workflow.Context, amount int) (string, error) {
		_, err := workflow.CallActivity[string](ctx, "Charge", amount).Await()
		var failed *workflow.ActivityError
		if errors.As(err, &failed) {
			return "refunded after: " + failed.Message, nil
		}
		return "charged", err
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Pay", charge); err != nil {
		panic(err)
	}
	run := startExample(reg, "Pay", 100)
	defer run.rt.Close()
	run.send(protocol.Event{Type: protocol.EventTaskFailed, TaskID: 0, Failure: &protocol.Failure{Message: "card declined"}})
	// Output:
	// step 1
	//   ExecutionStarted Pay(100)
	//   TaskScheduled #0 Charge(100)
	// step 2
	//   TaskFailed #0 card declined
	//   ExecutionCompleted "refunded after: card declined"
}

func ExampleAll() {
	// Fan-out/fan-in: the calls run in parallel; All waits for every one.
	fanOut := func(ctx *workflow.Context, cities []string) ([]string, error) {
		tasks := make([]workflow.Task[string], len(cities))
		awaitables := make([]workflow.Awaitable, len(cities))
		for i, city := range cities {
			tasks[i] = workflow.CallActivity[string](ctx, "SayHello", city)
			awaitables[i] = tasks[i]
		}
		if err := workflow.All(ctx, awaitables...); err != nil {
			return nil, err
		}
		greetings := make([]string, len(tasks))
		for i, task := range tasks {
			greetings[i], _ = task.Await()
		}
		return greetings, nil
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "FanOut", fanOut); err != nil {
		panic(err)
	}
	run := startExample(reg, "FanOut", []string{"Tokyo", "London"})
	defer run.rt.Close()
	run.send(completed(1, "Hello London!"))
	run.send(completed(0, "Hello Tokyo!"))
	// Output:
	// step 1
	//   ExecutionStarted FanOut(["Tokyo","London"])
	//   TaskScheduled #0 SayHello("Tokyo")
	//   TaskScheduled #1 SayHello("London")
	// step 2
	//   TaskCompleted #1 "Hello London!"
	// step 3
	//   TaskCompleted #0 "Hello Tokyo!"
	//   ExecutionCompleted ["Hello Tokyo!","Hello London!"]
}

func ExampleAny() {
	// A deadline: whichever finishes first wins. Finishing cancels the
	// timer that is still pending.
	withDeadline := func(ctx *workflow.Context, _ any) (string, error) {
		report := workflow.CallActivity[string](ctx, "BuildReport", nil)
		deadline := workflow.CreateTimer(ctx, 30*time.Minute)
		if workflow.Any(ctx, report, deadline) == 1 {
			return "too slow", nil
		}
		return report.Await()
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "WithDeadline", withDeadline); err != nil {
		panic(err)
	}
	run := startExample(reg, "WithDeadline", nil)
	defer run.rt.Close()
	run.sendAfter(10*time.Minute, completed(0, "report.pdf"))
	// Output:
	// step 1
	//   ExecutionStarted WithDeadline()
	//   TaskScheduled #0 BuildReport(null)
	//   TimerCreated #1 at 09:30:00
	// step 2
	//   TaskCompleted #0 "report.pdf"
	//   ExecutionCompleted "report.pdf"
	//   TimerCanceled #1
}

func ExampleCreateTimer() {
	// A durable sleep: the worker may restart in between.
	remindTomorrow := func(ctx *workflow.Context, _ any) (string, error) {
		if err := workflow.CreateTimer(ctx, 24*time.Hour).Await(); err != nil {
			return "", err
		}
		return "reminded at " + ctx.Now().Format(time.DateTime), nil
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Remind", remindTomorrow); err != nil {
		panic(err)
	}
	run := startExample(reg, "Remind", nil)
	defer run.rt.Close()
	run.sendAfter(24*time.Hour, protocol.Event{Type: protocol.EventTimerFired, TaskID: 0})
	// Output:
	// step 1
	//   ExecutionStarted Remind()
	//   TimerCreated #0 at 09:00:00
	// step 2
	//   TimerFired #0
	//   ExecutionCompleted "reminded at 2025-03-02 09:00:00"
}

func ExampleTimer_Cancel() {
	approval := func(ctx *workflow.Context, _ any) (string, error) {
		timeout := workflow.CreateTimer(ctx, time.Hour)
		decision := workflow.WaitForExternalEvent[string](ctx, "Decision")
		if workflow.Any(ctx, decision, timeout) == 0 {
			timeout.Cancel()
			fmt.Println("timer:", timeout.Await())
			return decision.Await()
		}
		return "escalated", nil
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Approval", approval); err != nil {
		panic(err)
	}
	run := startExample(reg, "Approval", nil)
	defer run.rt.Close()
	run.send(protocol.Event{Type: protocol.EventEventRaised, Name: "Decision", Input: jsonOf("approved")})
	// Output:
	// step 1
	//   ExecutionStarted Approval()
	//   TimerCreated #0 at 10:00:00
	// timer: canceled
	// step 2
	//   EventRaised Decision "approved"
	//   TimerCanceled #0
	//   ExecutionCompleted "approved"
}

func ExampleWaitForExternalEvent() {
	// Events raised before the code waits are kept, first in first out.
	collect := func(ctx *workflow.Context, _ any) ([]int, error) {
		if _, err := workflow.CallActivity[string](ctx, "Prepare", nil).Await(); err != nil {
			return nil, err
		}
		var votes []int
		for range 3 {
			v, err := workflow.WaitForExternalEvent[int](ctx, "Vote").Await()
			if err != nil {
				return nil, err
			}
			votes = append(votes, v)
		}
		return votes, nil
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Collect", collect); err != nil {
		panic(err)
	}
	vote := func(v int) protocol.Event {
		return protocol.Event{Type: protocol.EventEventRaised, Name: "Vote", Input: jsonOf(v)}
	}
	run := startExample(reg, "Collect", nil)
	defer run.rt.Close()
	run.send(vote(3), vote(1))
	run.send(completed(0, "ready"))
	run.send(vote(2))
	// Output:
	// step 1
	//   ExecutionStarted Collect()
	//   TaskScheduled #0 Prepare(null)
	// step 2
	//   EventRaised Vote 3
	//   EventRaised Vote 1
	// step 3
	//   TaskCompleted #0 "ready"
	// step 4
	//   EventRaised Vote 2
	//   ExecutionCompleted [3,1,2]
}

func ExampleContext_NewGUID() {
	// NewGUID and Now return the same values when the code is replayed, so
	// that the orchestrator takes the same actions.
	order := func(ctx *workflow.Context, _ any) (string, error) {
		id := ctx.NewGUID()
		fmt.Printf("replaying=%v: order %s at %s\n", ctx.IsReplaying(), id, ctx.Now().Format(time.TimeOnly))
		return workflow.CallActivity[string](ctx, "PlaceOrder", id).Await()
	}
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Order", order); err != nil {
		panic(err)
	}
	first := startExample(reg, "Order", nil)
	defer first.rt.Close()

	// A worker that restarts rebuilds the instance from its history; the
	// code runs again, takes the same GUID and finds its call in history.
	again := engine.New("order-42", reg.Lookup)
	defer again.Close()
	if err := again.Replay(first.records); err != nil {
		panic(err)
	}
	fmt.Println("replayed:", again.Status())
	// Output:
	// replaying=false: order 7b9910b3-3a66-564a-bf47-629e2aed28ae at 09:00:00
	// step 1
	//   ExecutionStarted Order()
	//   TaskScheduled #0 PlaceOrder("7b9910b3-3a66-564a-bf47-629e2aed28ae")
	// replaying=true: order 7b9910b3-3a66-564a-bf47-629e2aed28ae at 09:00:00
	// replayed: Running
}
