package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflowtest"
)

// The orchestrator, tested in-process with the test kit.
func TestGreet(t *testing.T) {
	env := workflowtest.New()
	if err := workflow.Register(env.Registry(), "Greet", Greet); err != nil {
		t.Fatal(err)
	}
	env.OnActivity("SayHello", SayHello)
	res, err := env.Run("Greet", "world")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != `"Hello, world!"` {
		t.Fatalf("output %s", res.Output)
	}
}

// The whole program, run against a real server.
func TestHelloProgram(t *testing.T) {
	srv := testnats.Server(t)
	cmd := exec.CommandContext(context.Background(), "go", "run", ".")
	cmd.Env = append(os.Environ(), "ENDURE_NATS_URL="+srv.ClientURL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, `Completed "Hello, world!"`) {
		t.Fatalf("output %q", got)
	}
}
