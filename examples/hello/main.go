// Command hello is the smallest complete Endure program: an orchestrator
// and an activity, both workers, a client that starts an instance and
// prints its result. It needs a NATS server with JetStream (ENDURE_NATS_URL,
// default nats://127.0.0.1:4222), e.g. the one `go run ./cmd/client dev` starts.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/nats-io/nats.go"
)

// Greet is the orchestrator: it calls one activity and returns its result.
func Greet(ctx *workflow.Context, name string) (string, error) {
	return workflow.CallActivity[string](ctx, "SayHello", name).Await()
}

// SayHello is the activity: where real work (I/O) would happen.
func SayHello(_ context.Context, name string) (string, error) { return "Hello, " + name + "!", nil }

func main() {
	ctx := context.Background()
	url := os.Getenv("ENDURE_NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: "hello"})
	if err != nil {
		log.Fatal(err)
	}
	orchestrators, activities := workflow.NewRegistry(), activity.NewRegistry()
	_ = workflow.Register(orchestrators, "Greet", Greet)
	_ = activity.Register(activities, "SayHello", SayHello)
	ow := worker.NewOrchestratorWorker(hub, orchestrators, worker.OrchestratorConfig{})
	go ow.Run(ctx)
	go worker.NewActivityWorker(hub, activities, worker.ActivityConfig{}).Run(ctx)
	<-ow.Ready()

	c := client.New(hub)
	id, err := c.Start(ctx, "Greet", client.WithInput("world"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.RuntimeStatus, string(st.Output)) // Completed "Hello, world!"
}
