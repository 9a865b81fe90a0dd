// Package workflow is the SDK for writing orchestrator functions: plain Go
// functions that Endure runs, and re-runs, from their recorded history.
//
// An orchestrator must be deterministic: on replay it has to take the same
// actions in the same order. So it talks to the outside world only through
// this package: CallActivity instead of doing I/O, CreateTimer instead of
// time.Sleep, Context.Now instead of time.Now, Context.NewGUID instead of a
// random UUID, Any and All instead of goroutines and select. Everything
// else an orchestrator does must depend only on its input and on the results
// these calls return.
//
//	func Greet(ctx *workflow.Context, name string) (string, error) {
//		return workflow.CallActivity[string](ctx, "SayHello", name).Await()
//	}
package workflow
