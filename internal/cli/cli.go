// Package cli holds what Endure's commands share: the connection flags,
// logging set-up and signal handling.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
)

// DefaultNATS is the NATS URL used when neither flag nor env gives one.
const DefaultNATS = "nats://127.0.0.1:4222"

// Common are the flags every Endure process takes.
type Common struct {
	NATS       string
	Hub        string
	LogLevel   string
	Replicas   int
	MaxPayload int
}

// Register adds the common flags to fs, with defaults from the environment
// (ENDURE_NATS_URL, ENDURE_HUB, ENDURE_LOG_LEVEL).
func (c *Common) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.NATS, "nats", env("ENDURE_NATS_URL", DefaultNATS), "NATS server URL (env ENDURE_NATS_URL)")
	fs.StringVar(&c.Hub, "hub", env("ENDURE_HUB", jetstream.DefaultHub), "task hub name (env ENDURE_HUB)")
	fs.StringVar(&c.LogLevel, "log-level", env("ENDURE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env ENDURE_LOG_LEVEL)")
	fs.IntVar(&c.Replicas, "replicas", 1, "replicas of every stream and bucket (3 on a NATS cluster)")
	maxPayload := jetstream.DefaultMaxPayload
	if v, err := strconv.Atoi(os.Getenv("ENDURE_MAX_PAYLOAD")); err == nil && v > 0 {
		maxPayload = v
	}
	fs.IntVar(&c.MaxPayload, "max-payload", maxPayload, "largest payload (input, output, event data, activity result) in bytes; give every process the same (env ENDURE_MAX_PAYLOAD)")
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Logger returns a text logger on stderr at the chosen level.
func (c *Common) Logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: %w", c.LogLevel, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// Connect connects to NATS, retrying until the server is reachable or ctx
// ends, and reconnecting for ever afterwards: a worker outlives restarts of
// its server.
func (c *Common) Connect(ctx context.Context, name string, log *slog.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", nc.ConnectedUrl()) }),
	}
	nc, err := nats.Connect(c.NATS, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.NATS, err)
	}
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			nc.Close()
			return nil, fmt.Errorf("connect to %s: %w", c.NATS, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nc, nil
}

// OpenHub opens the task hub, retrying while JetStream is not yet available
// (a server that is still starting).
func (c *Common) OpenHub(ctx context.Context, nc *nats.Conn, cfg jetstream.Config) (*jetstream.Hub, error) {
	cfg.Name, cfg.Replicas, cfg.MaxPayload = c.Hub, c.Replicas, c.MaxPayload
	for {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		hub, err := jetstream.Open(octx, nc, cfg)
		cancel()
		if err == nil {
			return hub, nil
		}
		if ctx.Err() != nil || errors.Is(err, protocol.ErrInvalidName) {
			return nil, err
		}
		if cfg.Logger == nil {
			cfg.Logger = slog.Default()
		}
		cfg.Logger.Warn("task hub not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// SignalContext returns a context cancelled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Fatal prints a one-line reason and exits with status 1.
func Fatal(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
