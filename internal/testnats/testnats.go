// Package testnats starts real nats-servers and task hubs for tests: an
// embedded server with JetStream on a temporary folder and a free port.
package testnats

import (
	"context"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/devserver"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server starts an embedded nats-server with JetStream that stops when the
// test ends.
func Server(t testing.TB) *server.Server {
	t.Helper()
	s, err := devserver.Start(devserver.Options{Dir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// Connect connects to s; the connection closes when the test ends.
func Connect(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Hub starts a server and opens a task hub on it with cfg.
func Hub(t testing.TB, cfg jetstream.Config) *jetstream.Hub {
	t.Helper()
	nc := Connect(t, Server(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := jetstream.Open(ctx, nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Eventually polls cond every few milliseconds until it returns nil or
// timeout passes, then fails the test with cond's last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
