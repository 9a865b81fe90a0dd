package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/protocol"
)

func runStart(args []string) error {
	m := newMgmt("start", "start [flags] NAME", "Starts an instance of the orchestrator NAME and prints its ID. With --wait it\nwaits for the instance to finish and prints its final status; it then exits 5\nif the instance failed or was terminated.")
	id := m.fs.String("id", "", "instance ID (default: a new random one)")
	input := m.fs.String("input", "", "JSON input of the orchestration (default: null)")
	wait := m.fs.Bool("wait", false, "wait until the instance finishes")
	at := m.fs.String("at", "", "start at this time (RFC 3339, e.g. 2026-01-02T15:04:05Z) or after this long (e.g. 90s, 2h); Pending until then")
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	in, err := jsonArg("--input", *input)
	if err != nil {
		return err
	}
	startAt, err := startAtArg(*at, time.Now())
	if err != nil {
		return err
	}
	return m.run(*wait, func(ctx context.Context, c *client.Client) error {
		opts := []client.StartOption{}
		if in != nil {
			opts = append(opts, client.WithInput(in))
		}
		if *id != "" {
			opts = append(opts, client.WithInstanceID(*id))
		}
		if !startAt.IsZero() {
			opts = append(opts, client.WithStartAt(startAt))
		}
		started, err := c.Start(ctx, m.args[0], opts...)
		if err != nil {
			return err
		}
		if !*wait {
			if m.json {
				return m.printJSON(map[string]string{"instanceId": started})
			}
			fmt.Fprintln(m.stdout, started)
			return nil
		}
		st, err := c.WaitForCompletion(ctx, started)
		if err != nil {
			return err
		}
		return m.final(st, true)
	})
}

// startAtArg parses start --at: a time, or a duration from now.
func startAtArg(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, usageError{fmt.Errorf("--at %q: a duration must not be negative", s)}
		}
		return now.Add(d).UTC(), nil
	}
	return timeArg("at", s)
}

// final prints a finished instance's status (if print) and turns an
// instance that did not complete into exit code 5.
func (m *mgmt) final(st *client.Status, print bool) error {
	switch {
	case !print:
	case m.json:
		if err := m.printJSON(httpapi.RenderStatus(st, true)); err != nil {
			return err
		}
	default:
		printStatus(m.stdout, st)
	}
	if st.RuntimeStatus == protocol.StatusCompleted {
		return nil
	}
	reason := string(st.RuntimeStatus)
	if st.Failure != nil {
		reason += ": " + st.Failure.Error()
	} else if len(st.Output) > 0 {
		reason += ": " + short(st.Output)
	}
	return unsuccessfulError{fmt.Errorf("instance %s %s", st.InstanceID, reason)}
}

func runStatus(args []string) error {
	m := newMgmt("status", "status [flags] ID", "Shows an instance's status; --history adds its history events.")
	history := m.fs.Bool("history", false, "show the history events too")
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	id := m.args[0]
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		st, err := c.Status(ctx, id)
		if err != nil {
			return err
		}
		var events []client.HistoryEvent
		if *history {
			if events, err = c.History(ctx, id); err != nil {
				return err
			}
		}
		if m.json {
			out := httpapi.RenderStatus(st, true)
			if *history {
				h := httpapi.RenderHistory(events, true, true)
				out.HistoryEvents = &h
			}
			return m.printJSON(out)
		}
		printStatus(m.stdout, st)
		if *history {
			fmt.Fprintln(m.stdout)
			t := newEventTable(m.stdout)
			for _, ev := range events {
				t.add(ev)
			}
		}
		return nil
	})
}

// listFlags are the filters of list and purge.
type listFlags struct {
	from, to, status, prefix *string
}

func (m *mgmt) listFlags(withPrefix bool) listFlags {
	f := listFlags{
		from:   m.fs.String("created-from", "", "only instances created at or after this time (RFC 3339 or YYYY-MM-DD)"),
		to:     m.fs.String("created-to", "", "only instances created at or before this time"),
		status: m.fs.String("status", "", "only instances in these runtime statuses, comma-separated (e.g. Running,Failed)"),
	}
	if withPrefix {
		f.prefix = m.fs.String("prefix", "", "only instances whose ID starts with this")
	}
	return f
}

func (f listFlags) query() (client.Query, error) {
	var q client.Query
	var err error
	if q.CreatedFrom, err = timeArg("created-from", *f.from); err != nil {
		return q, err
	}
	if q.CreatedTo, err = timeArg("created-to", *f.to); err != nil {
		return q, err
	}
	if q.Statuses, err = statusesArg(*f.status); err != nil {
		return q, err
	}
	if f.prefix != nil {
		q.IDPrefix = *f.prefix
	}
	return q, nil
}

func runList(args []string) error {
	m := newMgmt("list", "list [flags]", "Lists instances, a page at a time, in the order they entered their status.\nWhen there are more, the next page's token is printed on stderr (in JSON:\n\"continuationToken\"); pass it back with --continuation-token, or use --all.")
	filters := m.listFlags(true)
	top := m.fs.Int("top", 100, "page size (at most 1000)")
	token := m.fs.String("continuation-token", "", "continue a listing from the token a previous page gave")
	all := m.fs.Bool("all", false, "list every page")
	if err := m.parse(args, 0, 0); err != nil {
		return err
	}
	q, err := filters.query()
	if err != nil {
		return err
	}
	if *top <= 0 {
		return usageError{fmt.Errorf("--top must be positive, got %d", *top)}
	}
	q.PageSize, q.ContinuationToken = *top, *token
	return m.run(*all, func(ctx context.Context, c *client.Client) error {
		var sts []*client.Status
		next := ""
		if *all {
			for st, err := range c.Instances(ctx, q) {
				if err != nil {
					return err
				}
				sts = append(sts, st)
			}
		} else {
			page, err := c.List(ctx, q)
			if err != nil {
				return err
			}
			sts, next = page.Instances, page.ContinuationToken
		}
		if m.json {
			out := struct {
				Instances         []httpapi.StatusObject `json:"instances"`
				ContinuationToken string                 `json:"continuationToken,omitempty"`
			}{Instances: make([]httpapi.StatusObject, len(sts)), ContinuationToken: next}
			for i, st := range sts {
				out.Instances[i] = httpapi.RenderStatus(st, true)
			}
			return m.printJSON(out)
		}
		printInstances(m.stdout, sts)
		if next != "" {
			fmt.Fprintf(os.Stderr, "more instances: run again with --continuation-token %s (or use --all)\n", next)
		}
		return nil
	})
}

func runRaise(args []string) error {
	m := newMgmt("raise", "raise [flags] ID EVENT [DATA]", "Raises the external event EVENT on instance ID, with DATA as its JSON data\n(default: null).")
	if err := m.parse(args, 2, 3); err != nil {
		return err
	}
	var data []byte
	if len(m.args) == 3 {
		var err error
		if data, err = jsonArg("DATA", m.args[2]); err != nil {
			return err
		}
	}
	id, name := m.args[0], m.args[1]
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		if err := c.RaiseEvent(ctx, id, name, data); err != nil {
			return err
		}
		return m.done(id, "raise", fmt.Sprintf("Raised %s on %s.", name, id))
	})
}

// done reports a request the hub accepted.
func (m *mgmt) done(id, op, text string) error {
	if m.json {
		return m.printJSON(map[string]string{"instanceId": id, "operation": op})
	}
	fmt.Fprintln(m.stdout, text)
	return nil
}

// runReasoned runs one of the operations that take an ID and a reason.
func runReasoned(args []string, name, about, done string, op func(*client.Client, context.Context, string, string) error) error {
	m := newMgmt(name, name+" [flags] ID", about)
	reason := m.fs.String("reason", "", "why, recorded in the history")
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	id := m.args[0]
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		if err := op(c, ctx, id, *reason); err != nil {
			return err
		}
		return m.done(id, name, fmt.Sprintf(done, id))
	})
}

func runTerminate(args []string) error {
	return runReasoned(args, "terminate", "Stops an instance at once: its pending timers are cancelled and results that\narrive later are ignored. The reason becomes its output.",
		"Asked %s to terminate.", (*client.Client).Terminate)
}

func runSuspend(args []string) error {
	return runReasoned(args, "suspend", "Pauses an instance: it runs nothing until resumed, and keeps what arrives\nmeanwhile (results, timers, events) for then.",
		"Asked %s to suspend.", (*client.Client).Suspend)
}

func runResume(args []string) error {
	return runReasoned(args, "resume", "Continues a suspended instance with what arrived while it was suspended.",
		"Asked %s to resume.", (*client.Client).Resume)
}

func runRewind(args []string) error {
	return runReasoned(args, "rewind", "Re-runs a Failed instance's failed activities; it carries on from there.",
		"Asked %s to rewind.", (*client.Client).Rewind)
}

func runRestart(args []string) error {
	m := newMgmt("restart", "restart [flags] ID", "Runs an instance's orchestrator again with its original input, under a new\nID (printed) or, with --same-id, under the same one (which must have finished).")
	same := m.fs.Bool("same-id", false, "restart under the same ID instead of a new one")
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		id, err := c.Restart(ctx, m.args[0], !*same)
		if err != nil {
			return err
		}
		if m.json {
			return m.printJSON(map[string]string{"instanceId": id})
		}
		fmt.Fprintln(m.stdout, id)
		return nil
	})
}

func runPurge(args []string) error {
	m := newMgmt("purge", "purge [flags] ID...\n       client purge --created-from TIME [--created-to TIME] [--status S,...]",
		"Deletes finished instances (their history, state and timers): the instances\nnamed, or every finished instance created in a time range. Running instances\nare never purged. Exits 3 if nothing was purged.")
	filters := m.listFlags(false)
	if err := m.parse(args, 0, -1); err != nil {
		return err
	}
	byFilter := *filters.from != "" || *filters.to != "" || *filters.status != ""
	switch {
	case byFilter && len(m.args) > 0:
		return usageError{fmt.Errorf("purge takes instance IDs or filters, not both")}
	case !byFilter && len(m.args) == 0:
		return usageError{fmt.Errorf("purge needs instance IDs or --created-from")}
	case byFilter && *filters.from == "":
		return usageError{fmt.Errorf("purge by filter needs --created-from")}
	}
	q, err := filters.query()
	if err != nil {
		return err
	}
	return m.run(byFilter, func(ctx context.Context, c *client.Client) error {
		n := 0
		if byFilter {
			if n, err = c.PurgeInstances(ctx, q); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("%w: no finished instance matched", client.ErrNotFound)
			}
		}
		for _, id := range m.args {
			if err := c.Purge(ctx, id); err != nil {
				return fmt.Errorf("purged %d of %d: %w", n, len(m.args), err)
			}
			n++
		}
		if m.json {
			return m.printJSON(map[string]int{"instancesDeleted": n})
		}
		fmt.Fprintf(m.stdout, "Purged %d instance%s.\n", n, plural(n))
		return nil
	})
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runWatch(args []string) error {
	m := newMgmt("watch", "watch [flags] ID", "Follows an instance: prints each new history event and each status change\nuntil it finishes, then its final status. Exits 0 if it completed, 5 if it\nfailed or was terminated. With --json it prints one JSON object per line:\n{\"event\": ...} for events, {\"status\": ...} for status changes.")
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	id := m.args[0]
	return m.run(true, func(ctx context.Context, c *client.Client) error {
		printed := 0
		var last protocol.RuntimeStatus
		var table *eventTable
		if !m.json {
			table = newEventTable(m.stdout)
		}
		for st, err := range c.Watch(ctx, id) {
			if err != nil {
				return err
			}
			events, err := c.History(ctx, id)
			if err != nil {
				return err
			}
			if len(events) < printed { // restarted under the same ID
				printed = 0
			}
			for _, ev := range events[printed:] {
				if err := m.watchEvent(table, ev); err != nil {
					return err
				}
			}
			printed = len(events)
			if st.RuntimeStatus != last {
				last = st.RuntimeStatus
				if err := m.watchStatus(table, st); err != nil {
					return err
				}
			}
			if st.RuntimeStatus.Terminal() {
				if !m.json {
					fmt.Fprintln(m.stdout)
				}
				return m.final(st, !m.json)
			}
		}
		return nil
	})
}

func (m *mgmt) watchEvent(table *eventTable, ev client.HistoryEvent) error {
	if !m.json {
		table.add(ev)
		return nil
	}
	for _, e := range httpapi.RenderHistory([]client.HistoryEvent{ev}, true, true) {
		if err := m.printLineJSON(map[string]any{"event": e}); err != nil {
			return err
		}
	}
	return nil
}

func (m *mgmt) watchStatus(table *eventTable, st *client.Status) error {
	if m.json {
		return m.printLineJSON(map[string]any{"status": httpapi.RenderStatus(st, true)})
	}
	table.status(st)
	return nil
}
