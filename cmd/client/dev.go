package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/internal/devserver"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	"golang.org/x/sync/errgroup"
)

func runDev(args []string) error {
	var common cli.Common
	fs := flag.NewFlagSet("client dev", flag.ExitOnError)
	common.Register(fs)
	data := fs.String("data", ".endure-data", "folder for the embedded NATS server's files (kept across restarts)")
	natsPort := fs.Int("nats-port", 4222, "port of the embedded NATS server")
	listen := fs.String("listen", ":7071", "address of the HTTP API")
	keyFlag := registerKey(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: client dev [flags]\n\nRuns an embedded NATS server, an orchestrator worker, an activity worker and\nthe HTTP API in this one process, with the sample workflows.\n\nFlags:")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("client dev takes no arguments, got %q", fs.Args())}
	}
	log, err := common.Logger()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ns, err := devserver.Start(devserver.Options{Dir: dir, Port: *natsPort})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	common.NATS = ns.ClientURL()

	ctx, stop := cli.SignalContext()
	defer stop()
	nc, err := common.Connect(ctx, "endure-dev", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	hub, err := common.OpenHub(ctx, nc, jetstream.Config{Logger: log})
	if err != nil {
		return err
	}
	orchestrators := workflow.NewRegistry()
	if err := workflows.RegisterOrchestrators(orchestrators); err != nil {
		return err
	}
	activities := activity.NewRegistry()
	if err := workflows.RegisterActivities(activities); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	key, err := devKey(*keyFlag, dir)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return worker.NewOrchestratorWorker(hub, orchestrators, worker.OrchestratorConfig{Logger: log}).Run(gctx)
	})
	g.Go(func() error {
		return worker.NewActivityWorker(hub, activities, worker.ActivityConfig{Logger: log}).Run(gctx)
	})
	g.Go(func() error {
		return httpapi.Serve(gctx, ln, httpapi.New(client.New(hub), httpapi.Config{Key: key, Logger: log}))
	})
	printWelcome(ln.Addr(), ns.ClientURL(), dir, key, common.Hub)
	err = g.Wait()
	if err != nil && err != context.Canceled {
		return err
	}
	return nil
}

func printWelcome(addr net.Addr, natsURL, dir, key, hub string) {
	port := addr.(*net.TCPAddr).Port
	base := fmt.Sprintf("http://localhost:%d", port)
	code := "code=" + url.QueryEscape(key)
	fmt.Printf(`Endure dev is running.
  NATS JetStream  %s (data in %s)
  HTTP API        %s

API key: %s
Every HTTP request needs it, as ?%s or an x-functions-key header.

Start an approval (the manager has 60 s before it escalates):
  curl -s -X POST '%s/api/orchestrators/ApprovalWorkflow?%s' -H 'Content-Type: application/json' -d '{"timeoutSeconds": 60}'

Read its status (use the "id" from the answer, or follow its statusQueryGetUri):
  curl -s '%s/runtime/webhooks/durabletask/instances/ID?%s'

Approve it:
  curl -s -X POST '%s/runtime/webhooks/durabletask/instances/ID/raiseEvent/Approval?%s' -H 'Content-Type: application/json' -d 'true'

List the instances, or follow one from the command line:
  curl -s '%s/runtime/webhooks/durabletask/instances?%s'
  client list --nats %s --hub %s
  client watch --nats %s --hub %s ID

Press Ctrl+C to stop.
`, natsURL, dir, base, key, code, base, code, base, code, base, code, base, code, natsURL, hub, natsURL, hub)
}

// devKey returns the configured key or the dev key kept in the data folder,
// made on first use, so that scripts and bookmarks survive restarts of dev.
func devKey(flagValue, dir string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	path := filepath.Join(dir, "api-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	key, _ := apiKey("")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store the dev API key: %w", err)
	}
	return key, nil
}
