package main

import (
	"flag"
	"fmt"
	"net"

	"github.com/endurehq/endure/internal/cli"
	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/jetstream"
)

func runServe(args []string) error {
	var common cli.Common
	fs := flag.NewFlagSet("client serve", flag.ExitOnError)
	common.Register(fs)
	listen := fs.String("listen", ":7071", "address of the HTTP API")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: client serve [flags]\n\nServes the Durable Functions HTTP API against a task hub.\n\nFlags:")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	log, err := common.Logger()
	if err != nil {
		return err
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
	return httpapi.Serve(ctx, ln, httpapi.New(client.New(hub), httpapi.Config{Logger: log}))
}
