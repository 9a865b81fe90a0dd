// Package orchestrators shows each construct the analyzer reports (one
// file per kind, each report marked with want) and, in clean.go, code it
// must leave alone.
package orchestrators

import (
	"time"

	"github.com/endurehq/endure/workflow"
)

func ReadsTheClock(ctx *workflow.Context, _ any) (string, error) {
	start := time.Now()   // want `time.Now in orchestrator ReadsTheClock is not deterministic: use ctx.Now\(\)`
	_ = time.Since(start) // want `time.Since in orchestrator ReadsTheClock`
	_ = time.Until(start) // want `time.Until in orchestrator ReadsTheClock`
	now := time.Now       // want `time.Now in orchestrator ReadsTheClock`
	return now().String(), nil
}

func Sleeps(ctx *workflow.Context, _ any) (string, error) {
	time.Sleep(time.Minute) // want `time.Sleep in orchestrator Sleeps is not deterministic: wait with workflow.CreateTimer`
	return "", nil
}

func WaitsOnTheClock(ctx *workflow.Context, _ any) (string, error) {
	<-time.After(time.Minute)        // want `time.After in orchestrator WaitsOnTheClock is not deterministic: use workflow.CreateTimer`
	<-time.Tick(time.Minute)         // want `time.Tick in orchestrator WaitsOnTheClock`
	t := time.NewTimer(time.Minute)  // want `time.NewTimer in orchestrator WaitsOnTheClock`
	k := time.NewTicker(time.Minute) // want `time.NewTicker in orchestrator WaitsOnTheClock`
	time.AfterFunc(time.Minute, nil) // want `time.AfterFunc in orchestrator WaitsOnTheClock`
	t.Stop()
	k.Stop()
	return "", nil
}
