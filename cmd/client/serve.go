package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/jetstream"
)

// registerKey adds the --key flag, defaulting to ENDURE_API_KEY.
func registerKey(fs *flag.FlagSet) *string {
	return fs.String("key", os.Getenv("ENDURE_API_KEY"),
		"access key every HTTP request must carry as code=<key> or an x-functions-key header (env ENDURE_API_KEY; default: a random key, printed at start)")
}

// apiKey returns the configured key, or a new random one and true.
func apiKey(flagValue string) (string, bool) {
	if flagValue != "" {
		return flagValue, false
	}
	return httpapi.NewKey(), true
}

func runServe(args []string) error {
	var common cli.Common
	fs := flag.NewFlagSet("client serve", flag.ExitOnError)
	common.Register(fs)
	listen := fs.String("listen", ":7071", "address of the HTTP API")
	keyFlag := registerKey(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: client serve [flags]\n\nServes the Durable Functions HTTP API against a task hub. Every request needs\nthe access key, as the code query parameter or an x-functions-key header.\n\nFlags:")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("client serve takes no arguments, got %q", fs.Args())}
	}
	log, err := common.Logger()
	if err != nil {
		return err
	}
	key, generated := apiKey(*keyFlag)
	if generated {
		fmt.Printf("API key: %s\n", key)
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	nc, err := common.Connect(ctx, "endure-client", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	hub, err := common.OpenHub(ctx, nc, jetstream.Config{Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Info("HTTP API listening", "addr", ln.Addr().String(), "hub", hub.Name())
	return httpapi.Serve(ctx, ln, httpapi.New(client.New(hub), httpapi.Config{Key: key, Logger: log}))
}
