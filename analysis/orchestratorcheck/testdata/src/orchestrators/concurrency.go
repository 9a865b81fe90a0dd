package orchestrators

import (
	"github.com/endurehq/endure/workflow"
)

func StartsGoroutines(ctx *workflow.Context, _ any) (string, error) {
	done := make(chan string)
	go func() { done <- "x" }() // want `go statement in orchestrator StartsGoroutines: orchestrator code must run on one goroutine`
	return <-done, nil
}

func Selects(ctx *workflow.Context, in chan string) (string, error) {
	select { // want `select statement in orchestrator Selects: channels are not replayed; wait for the first of several tasks with workflow.Any`
	case s := <-in:
		return s, nil
	default:
		return "", nil
	}
}
