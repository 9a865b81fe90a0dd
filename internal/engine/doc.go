// Package engine is Endure's replay engine: it runs an orchestrator function
// as a coroutine, feeds it history events one at a time, checks that the
// actions the code takes match the recorded history, and collects the new
// events of each step.
//
// The engine owns determinism. It does no I/O: the orchestrator worker reads
// history, hands it to a Runtime, and commits the HistoryRecord that Step
// returns. A Runtime is used by one goroutine at a time.
package engine
