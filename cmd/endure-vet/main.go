// Command endure-vet reports non-deterministic code in Endure orchestrator
// functions: clock reads and waits, goroutines, select, map iteration,
// random numbers and direct I/O (see analysis/orchestratorcheck). Run it on
// its own or as a vet tool:
//
//	endure-vet ./...
//	go vet -vettool=$(which endure-vet) ./...
package main

import (
	"github.com/endurehq/endure/analysis/orchestratorcheck"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(orchestratorcheck.Analyzer) }
