// Command activity-worker hosts Endure's activity functions (the samples in
// package workflows). Start as many as you like: they share the work.
//
//	activity-worker [--nats URL] [--hub NAME] [--concurrency N] [--activity-lease D]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflows"
)

func main() {
	var common cli.Common
	var cfg worker.ActivityConfig
	var lease time.Duration
	fs := flag.NewFlagSet("activity-worker", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: activity-worker [flags]\n\nRuns Endure's activity functions against a NATS JetStream task hub.\n\nFlags:")
		fs.PrintDefaults()
	}
	common.Register(fs)
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "activity calls run at once")
	fs.DurationVar(&lease, "activity-lease", 30*time.Second, "how long a task stays with a worker that stops heart-beating before another worker gets it")
	_ = fs.Parse(os.Args[1:])

	log, err := common.Logger()
	if err != nil {
		cli.Fatal(err)
	}
	cfg.Logger = log
	ctx, stop := cli.SignalContext()
	defer stop()

	reg := activity.NewRegistry()
	if err := workflows.RegisterActivities(reg); err != nil {
		cli.Fatal(err)
	}
	nc, err := common.Connect(ctx, "endure-activity-worker", log)
	if err != nil {
		cli.Fatal(err)
	}
	defer nc.Close()
	hub, err := common.OpenHub(ctx, nc, jetstream.Config{Logger: log, ActivityLease: lease})
	if err != nil {
		cli.Fatal(err)
	}
	if err := worker.NewActivityWorker(hub, reg, cfg).Run(ctx); err != nil {
		cli.Fatal(err)
	}
}
