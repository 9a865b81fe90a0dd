package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/endurehq/endure/pkg/client"
)

const scheduleAbout = `Manages recurring starts. At every occurrence of a schedule, JetStream
releases a start and an orchestrator worker starts an instance of the
schedule's orchestrator, named <NAME>-<UTC time of the occurrence>.
Schedules live in JetStream and survive restarts of every process.

  client schedule create [--input JSON] [--time-zone TZ] NAME ORCHESTRATOR SPEC
      create the schedule NAME, or replace it. SPEC is "@every <duration>"
      (at least 1s), @hourly, @daily, @weekly, @monthly, @yearly, or a
      6-field cron expression, seconds first ("0 30 9 * * 1-5": 9:30 UTC
      on weekdays). Cron is read in UTC unless --time-zone names an IANA
      zone (Europe/Paris). Quote a SPEC that has spaces.
  client schedule list
      list the schedules
  client schedule delete NAME
      delete a schedule; the instances it started stay (exit 3 if unknown)`

func runSchedule(args []string) error {
	action := ""
	if len(args) > 0 && (args[0] == "create" || args[0] == "list" || args[0] == "delete") {
		action, args = args[0], args[1:]
	}
	switch action {
	case "create":
		return runScheduleCreate(args)
	case "list":
		return runScheduleList(args)
	case "delete":
		return runScheduleDelete(args)
	}
	m := newMgmt("schedule", "schedule create|list|delete [flags] ...", scheduleAbout)
	if err := m.parse(args, 0, -1); err != nil {
		return err
	}
	return usageError{fmt.Errorf("schedule: want create, list or delete (see --help)")}
}

func runScheduleCreate(args []string) error {
	m := newMgmt("schedule create", "schedule create [flags] NAME ORCHESTRATOR SPEC", scheduleAbout)
	input := m.fs.String("input", "", "JSON input of every instance (default: null)")
	tz := m.fs.String("time-zone", "", "IANA time zone a cron SPEC is read in (default: UTC)")
	if err := m.parse(args, 3, 3); err != nil {
		return err
	}
	in, err := jsonArg("--input", *input)
	if err != nil {
		return err
	}
	name, orchestrator, spec := m.args[0], m.args[1], m.args[2]
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		var opts []client.ScheduleOption
		if *tz != "" {
			opts = append(opts, client.WithTimeZone(*tz))
		}
		if err := c.CreateSchedule(ctx, name, spec, orchestrator, in, opts...); err != nil {
			return err
		}
		if m.json {
			return m.printJSON(scheduleJSON(client.Schedule{Name: name, Spec: spec, Orchestrator: orchestrator, Input: in, TimeZone: *tz}))
		}
		zone := ""
		if *tz != "" {
			zone = " (" + *tz + ")"
		}
		fmt.Fprintf(m.stdout, "Schedule %s starts %s %s%s.\n", name, orchestrator, spec, zone)
		return nil
	})
}

func runScheduleList(args []string) error {
	m := newMgmt("schedule list", "schedule list [flags]", scheduleAbout)
	if err := m.parse(args, 0, 0); err != nil {
		return err
	}
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		list, err := c.Schedules(ctx)
		if err != nil {
			return err
		}
		if m.json {
			out := make([]any, 0, len(list))
			for _, s := range list {
				out = append(out, scheduleJSON(s))
			}
			return m.printJSON(out)
		}
		tw := tabwriter.NewWriter(m.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tORCHESTRATOR\tSPEC\tTIME ZONE\tINPUT")
		for _, s := range list {
			zone := s.TimeZone
			if zone == "" {
				zone = "UTC"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Orchestrator, s.Spec, zone, short(s.Input))
		}
		return tw.Flush()
	})
}

func runScheduleDelete(args []string) error {
	m := newMgmt("schedule delete", "schedule delete [flags] NAME", scheduleAbout)
	if err := m.parse(args, 1, 1); err != nil {
		return err
	}
	return m.run(false, func(ctx context.Context, c *client.Client) error {
		if err := c.DeleteSchedule(ctx, m.args[0]); err != nil {
			return err
		}
		if m.json {
			return m.printJSON(map[string]string{"deleted": m.args[0]})
		}
		fmt.Fprintf(m.stdout, "Deleted schedule %s.\n", m.args[0])
		return nil
	})
}

// scheduleJSON is a schedule as --json prints it.
func scheduleJSON(s client.Schedule) map[string]any {
	zone := s.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	out := map[string]any{"name": s.Name, "orchestrator": s.Orchestrator, "spec": s.Spec, "timeZone": zone, "input": nil}
	if len(s.Input) > 0 {
		out["input"] = json.RawMessage(s.Input)
	}
	return out
}
