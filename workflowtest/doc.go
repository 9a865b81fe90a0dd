// Package workflowtest is the test kit for workflow authors. It has two
// tools:
//
//   - Env runs an orchestrator in the test process, in virtual time, with
//     mocked activities: a three-day timer fires at once, external events
//     arrive at the virtual times the test chose, and the test then checks
//     the output and the calls the orchestrator made.
//   - Replay replays a recorded history (from the hub, the Go client, the
//     HTTP status API, ExportHistory or an Env run) against the current code
//     and reports non-determinism as a line-by-line diff of the actions the
//     history holds and the actions the code takes, so that an incompatible
//     change is caught before it is deployed.
//
// The kit drives Endure's replay engine directly, one step at a time, on the
// test goroutine: activities run synchronously between steps and nothing
// ever sleeps. It never does I/O and never talks to NATS. The companion
// static analyzer, which flags non-deterministic code in orchestrators
// before it runs, is analysis/orchestratorcheck (command cmd/endure-vet).
package workflowtest
