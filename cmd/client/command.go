package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
)

// opTimeout bounds a management command that does not wait on purpose.
const opTimeout = 30 * time.Second

// mgmt is what every management command shares: the connection flags,
// --json, and the positional arguments.
type mgmt struct {
	fs     *flag.FlagSet
	common cli.Common
	json   bool
	args   []string
	stdout io.Writer
}

// newMgmt prepares a command's flags; usage is its synopsis after
// "client", about says what it does.
func newMgmt(name, synopsis, about string) *mgmt {
	m := &mgmt{fs: flag.NewFlagSet("client "+name, flag.ContinueOnError), stdout: os.Stdout}
	m.common.Register(m.fs)
	m.fs.BoolVar(&m.json, "json", false, "print JSON instead of text, for scripts")
	m.fs.Usage = func() {
		fmt.Fprintf(m.fs.Output(), "usage: client %s\n\n%s\n\nFlags:\n", synopsis, about)
		m.fs.PrintDefaults()
	}
	return m
}

// parse parses flags, which may come before, between or after the
// positional arguments, and checks the number of the latter.
func (m *mgmt) parse(args []string, minArgs, maxArgs int) error {
	for {
		if err := m.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		rest := m.fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			m.args = append(m.args, rest...)
			break
		}
		m.args = append(m.args, rest[0])
		args = rest[1:]
	}
	switch {
	case len(m.args) < minArgs:
		return usageError{fmt.Errorf("%s: missing arguments (see --help)", m.fs.Name())}
	case maxArgs >= 0 && len(m.args) > maxArgs:
		return usageError{fmt.Errorf("%s: too many arguments %q (see --help)", m.fs.Name(), m.args[maxArgs:])}
	}
	return nil
}

// open connects to NATS and opens the hub. The connection fails at once
// if the server is unreachable: a command is not a long-running worker.
func (m *mgmt) open(ctx context.Context) (*client.Client, func(), error) {
	log, err := m.common.Logger()
	if err != nil {
		return nil, nil, usageError{err}
	}
	nc, err := nats.Connect(m.common.NATS, nats.Name("endure-cli"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", m.common.NATS, err)
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hub, err := jetstream.Open(octx, nc, jetstream.Config{Name: m.common.Hub, Replicas: m.common.Replicas, Logger: log})
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("open task hub %s: %w", m.common.Hub, err)
	}
	return client.New(hub), nc.Close, nil
}

// run opens the hub and runs fn with a context that ends on Ctrl+C or,
// unless wait, after opTimeout.
func (m *mgmt) run(wait bool, fn func(ctx context.Context, c *client.Client) error) error {
	ctx, stop := cli.SignalContext()
	defer stop()
	if !wait {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opTimeout)
		defer cancel()
	}
	c, closeConn, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	return fn(ctx, c)
}

// printJSON writes v as indented JSON.
func (m *mgmt) printJSON(v any) error {
	enc := json.NewEncoder(m.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printLineJSON writes v as one line of JSON (for streams of objects).
func (m *mgmt) printLineJSON(v any) error {
	enc := json.NewEncoder(m.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonArg parses a JSON argument; empty means none.
func jsonArg(what, s string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if !json.Valid([]byte(s)) {
		return nil, usageError{fmt.Errorf("%s is not valid JSON: %s", what, s)}
	}
	return json.RawMessage(s), nil
}

// timeArg parses an RFC 3339 time or a date; empty means none.
func timeArg(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("--%s %q: want a time such as 2026-01-02T15:04:05Z or 2026-01-02", flagName, s)}
}

// statusesArg parses a comma-separated list of runtime statuses.
func statusesArg(s string) ([]protocol.RuntimeStatus, error) {
	if s == "" {
		return nil, nil
	}
	var out []protocol.RuntimeStatus
	for _, name := range strings.Split(s, ",") {
		st, err := client.ParseRuntimeStatus(strings.TrimSpace(name))
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, st)
	}
	return out, nil
}
