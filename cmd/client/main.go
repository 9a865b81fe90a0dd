// Command client starts and manages Endure orchestrations.
//
//	client dev     run everything on this machine: an embedded NATS server,
//	               an orchestrator worker, an activity worker and the HTTP API
//	client serve   serve the Durable Functions HTTP API against a task hub
//
// Run "client COMMAND --help" for a command's flags.
package main

import (
	"fmt"
	"os"

	"github.com/endurehq/endure/internal/cli"
)

type command struct {
	name    string
	summary string
	run     func(args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run an embedded NATS server, both workers and the HTTP API on this machine", runDev},
		{"serve", "serve the Durable Functions HTTP API against a task hub", runServe},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: client COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun \"client COMMAND --help\" for a command's flags.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	for _, c := range commands() {
		if c.name == os.Args[1] {
			if err := c.run(os.Args[2:]); err != nil {
				cli.Fatal(err)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "error: unknown command %q\n\n", os.Args[1])
	usage()
	os.Exit(2)
}
