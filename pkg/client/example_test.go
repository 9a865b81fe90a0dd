package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/devserver"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/nats-io/nats.go"
)

// Approve waits for a manager's decision, for at most the given seconds.
func Approve(ctx *workflow.Context, timeoutSeconds int) (string, error) {
	approved, err := workflow.WaitForExternalEventWithTimeout[bool](ctx, "Approval", time.Duration(timeoutSeconds)*time.Second)
	switch {
	case errors.Is(err, workflow.ErrTimeout):
		return "escalated", nil // no decision in time
	case err != nil:
		return "", err
	case approved:
		return "approved", nil
	}
	return "rejected", nil
}

// Greet calls one activity.
func Greet(ctx *workflow.Context, name string) (string, error) {
	return workflow.CallActivity[string](ctx, "SayHello", name).Await()
}

// demo runs an embedded NATS server and both workers, and returns a client
// of their task hub and a function that stops everything. A real deployment
// runs the workers as their own processes (cmd/orchestrator-worker,
// cmd/activity-worker) against a NATS server or cluster.
func demo() (*client.Client, func()) {
	dir, err := os.MkdirTemp("", "endure-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := devserver.Start(devserver.Options{Dir: dir, Port: -1})
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: "example", Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	orchestrators, activities := workflow.NewRegistry(), activity.NewRegistry()
	if err := workflow.Register(orchestrators, "Greet", Greet); err != nil {
		log.Fatal(err)
	}
	if err := workflow.Register(orchestrators, "Approve", Approve); err != nil {
		log.Fatal(err)
	}
	if err := activity.Register(activities, "SayHello", func(_ context.Context, name string) (string, error) {
		return "Hello, " + name + "!", nil
	}); err != nil {
		log.Fatal(err)
	}
	ow := worker.NewOrchestratorWorker(hub, orchestrators, worker.OrchestratorConfig{Logger: quiet})
	aw := worker.NewActivityWorker(hub, activities, worker.ActivityConfig{Logger: quiet})
	done := make(chan struct{}, 2)
	go func() { _ = ow.Run(ctx); done <- struct{}{} }()
	go func() { _ = aw.Run(ctx); done <- struct{}{} }()
	<-ow.Ready()
	<-aw.Ready()
	return client.New(hub), func() {
		stop()
		<-done
		<-done
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
}

// Start an instance and wait for its result.
func Example() {
	c, stop := demo()
	defer stop()
	ctx := context.Background()

	id, err := c.Start(ctx, "Greet", client.WithInput("world"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.RuntimeStatus, string(st.Output))
	// Output: Completed "Hello, world!"
}

// Human interaction: the instance waits for an event that a person (here,
// the client) raises.
func ExampleClient_RaiseEvent() {
	c, stop := demo()
	defer stop()
	ctx := context.Background()

	id, err := c.Start(ctx, "Approve", client.WithInstanceID("proposal-17"), client.WithInput(3600))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.WaitForStart(ctx, id); err != nil {
		log.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, id, "Approval", json.RawMessage(`true`)); err != nil {
		log.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.InstanceID, st.RuntimeStatus, string(st.Output))
	// Output: proposal-17 Completed "approved"
}

// List the completed instances whose IDs start with a prefix, then purge
// them.
func ExampleClient_Instances() {
	c, stop := demo()
	defer stop()
	ctx := context.Background()

	for _, name := range []string{"ada", "grace", "linus"} {
		id, err := c.Start(ctx, "Greet", client.WithInstanceID("greet-"+name), client.WithInput(name))
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.WaitForCompletion(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
	q := client.Query{IDPrefix: "greet-", Statuses: []protocol.RuntimeStatus{protocol.StatusCompleted}}
	for st, err := range c.Instances(ctx, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(st.InstanceID, string(st.Output))
	}
	purged, err := c.PurgeInstances(ctx, client.Query{CreatedFrom: time.Now().Add(-time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purged", purged)
	// Unordered output:
	// greet-ada "Hello, ada!"
	// greet-grace "Hello, grace!"
	// greet-linus "Hello, linus!"
	// purged 3
}

// A recurring start: every weekday at 9:30, Paris time.
func ExampleClient_CreateSchedule() {
	c, stop := demo()
	defer stop()
	ctx := context.Background()

	err := c.CreateSchedule(ctx, "morning-greeting", "0 30 9 * * 1-5", "Greet", "team", client.WithTimeZone("Europe/Paris"))
	if err != nil {
		log.Fatal(err)
	}
	list, err := c.Schedules(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range list {
		fmt.Println(s.Name, s.Orchestrator, s.Spec, s.TimeZone, string(s.Input))
	}
	if err := c.DeleteSchedule(ctx, "morning-greeting"); err != nil {
		log.Fatal(err)
	}
	// Output: morning-greeting Greet 0 30 9 * * 1-5 Europe/Paris "team"
}
