// Package devserver runs an embedded nats-server with JetStream, for
// `endure dev`, tests and benchmarks. Production deployments run nats-server
// (or a cluster) themselves.
package devserver

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configures the embedded server.
type Options struct {
	// Dir holds JetStream's files; they survive restarts.
	Dir string
	// Host to listen on (default 127.0.0.1).
	Host string
	// Port to listen on; -1 picks a free port.
	Port int
}

// Start runs an embedded nats-server with JetStream and waits until it
// accepts connections.
func Start(opts Options) (*server.Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "endure-dev",
		Host:       opts.Host,
		Port:       opts.Port,
		JetStream:  true,
		StoreDir:   opts.Dir,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats-server: not ready after 30s")
	}
	return s, nil
}
