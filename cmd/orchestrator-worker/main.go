// Command orchestrator-worker hosts Endure's orchestrator functions (the
// samples in package workflows): it takes work items from the task hub's
// inbox, replays and steps instances, and commits their history.
//
//	orchestrator-worker [--nats URL] [--hub NAME] [--cache-size N] [--concurrency N]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
)

func main() {
	var common cli.Common
	var cfg worker.OrchestratorConfig
	fs := flag.NewFlagSet("orchestrator-worker", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: orchestrator-worker [flags]\n\nRuns Endure's orchestrator functions against a NATS JetStream task hub.\n\nFlags:")
		fs.PrintDefaults()
	}
	common.Register(fs)
	fs.IntVar(&cfg.CacheSize, "cache-size", 10000, "instances kept in memory between steps")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "instances stepped at once")
	_ = fs.Parse(os.Args[1:])

	log, err := common.Logger()
	if err != nil {
		cli.Fatal(err)
	}
	cfg.Logger = log
	ctx, stop := cli.SignalContext()
	defer stop()

	reg := workflow.NewRegistry()
	if err := workflows.RegisterOrchestrators(reg); err != nil {
		cli.Fatal(err)
	}
	nc, err := common.Connect(ctx, "endure-orchestrator-worker", log)
	if err != nil {
		cli.Fatal(err)
	}
	defer nc.Close()
	hub, err := common.OpenHub(ctx, nc, jetstream.Config{Logger: log})
	if err != nil {
		cli.Fatal(err)
	}
	if err := worker.NewOrchestratorWorker(hub, reg, cfg).Run(ctx); err != nil {
		cli.Fatal(err)
	}
}
