// Command client starts and manages Endure orchestrations.
//
//	client dev        run everything on this machine: an embedded NATS server,
//	                  an orchestrator worker, an activity worker and the HTTP API
//	client serve      serve the Durable Functions HTTP API against a task hub
//	client start      start an instance            client status   show one
//	client list       list instances               client watch    follow one
//	client raise      raise an event               client terminate, suspend,
//	client resume, rewind, restart, purge          manage instances
//	client schedule   create, list and delete recurring starts
//
// The management commands talk to the task hub in NATS JetStream directly
// (--nats, --hub), not through the HTTP API. They print tables for people
// by default and JSON with --json, and exit 0 on success; on failure they
// print one line "error: <reason>" on stderr and exit with a code that
// says what went wrong (see "client --help").
//
// Run "client COMMAND --help" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	_ "time/tzdata" // schedules' time zones, and dev's embedded server, work where the system has no zone database
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
		{"start", "start an orchestration instance", runStart},
		{"status", "show an instance's status (and history with --history)", runStatus},
		{"list", "list instances, with filters and paging", runList},
		{"watch", "follow an instance: each new history event, until it finishes", runWatch},
		{"raise", "raise an external event on an instance", runRaise},
		{"terminate", "stop an instance at once", runTerminate},
		{"suspend", "pause an instance until it is resumed", runSuspend},
		{"resume", "continue a suspended instance", runResume},
		{"rewind", "re-run a failed instance's failed activities", runRewind},
		{"restart", "run an instance again with its original input", runRestart},
		{"purge", "delete finished instances: by ID, or by creation time", runPurge},
		{"schedule", "create, list and delete recurring starts (cron or @every)", runSchedule},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: client COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(os.Stderr, `
Run "client COMMAND --help" for a command's flags.

Exit codes:
  0  done
  1  error (NATS unreachable, ...)
  2  bad usage or input (unknown flag, bad JSON, unknown orchestrator, ...)
  3  instance not found (or nothing matched)
  4  the instance is in the wrong state for the operation (finished, still
     running, not failed, ID taken)
  5  the instance watched or waited for ended Failed, Terminated or Canceled
`)
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			fmt.Fprintln(os.Stderr, "error: no command given")
			os.Exit(exitUsage)
		}
		return
	}
	for _, c := range commands() {
		if c.name == os.Args[1] {
			err := c.run(os.Args[2:])
			if errors.Is(err, flag.ErrHelp) {
				return
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "error:", strings.ReplaceAll(err.Error(), "\n", " "))
				os.Exit(exitCode(err))
			}
			return
		}
	}
	usage()
	fmt.Fprintf(os.Stderr, "error: unknown command %q\n", os.Args[1])
	os.Exit(exitUsage)
}
