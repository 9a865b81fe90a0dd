package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// maxCell is how much of a JSON payload a table shows.
const maxCell = 60

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// short shows a JSON payload on one line, cut to maxCell characters.
func short(b []byte) string {
	var buf bytes.Buffer
	s := string(b)
	if json.Compact(&buf, b) == nil {
		s = buf.String()
	}
	if s == "" {
		return "null"
	}
	if len(s) > maxCell {
		return s[:maxCell-3] + "..."
	}
	return s
}

// printStatus writes an instance's status as a two-column table.
func printStatus(w io.Writer, st *client.Status) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("Instance", st.InstanceID)
	row("Name", st.Name)
	row("Status", string(st.RuntimeStatus))
	row("Created", formatTime(st.CreatedAt))
	row("Updated", formatTime(st.LastUpdatedAt))
	row("Input", short(st.Input))
	row("Output", short(st.Output))
	row("Custom status", short(st.CustomStatus))
	if st.Failure != nil {
		row("Failure", st.Failure.Error())
	}
	tw.Flush()
}

// printInstances writes instances as a table, one per line.
func printInstances(w io.Writer, sts []*client.Status) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tNAME\tSTATUS\tCREATED\tUPDATED")
	for _, st := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.InstanceID, st.Name, st.RuntimeStatus, formatTime(st.CreatedAt), formatTime(st.LastUpdatedAt))
	}
	tw.Flush()
}

// eventTable writes history events as rows: time, event, details. The
// columns have fixed widths, so that rows printed one at a time (by watch)
// line up.
type eventTable struct{ w io.Writer }

const eventRow = "%-20s  %-19s  %s\n"

func newEventTable(w io.Writer) *eventTable {
	fmt.Fprintf(w, eventRow, "TIME", "EVENT", "DETAILS")
	return &eventTable{w: w}
}

func (t *eventTable) add(ev client.HistoryEvent) {
	fmt.Fprintf(t.w, eventRow, formatTime(ev.Time), ev.Type, describe(ev))
}

// status writes a status change as a row.
func (t *eventTable) status(st *client.Status) {
	fmt.Fprintf(t.w, eventRow, formatTime(st.LastUpdatedAt), "(status)", st.RuntimeStatus)
}

// describe says what an event carries, in a few words.
func describe(ev client.HistoryEvent) string {
	task := fmt.Sprintf("#%d", ev.TaskID)
	failure := func() string {
		if ev.Failure == nil {
			return ""
		}
		return ev.Failure.Error()
	}
	withReason := func() string {
		if ev.Reason == "" {
			return ""
		}
		return "reason: " + ev.Reason
	}
	switch ev.Type {
	case protocol.EventExecutionStarted:
		return ev.Name + " input=" + short(ev.Input)
	case protocol.EventTaskScheduled:
		return task + " " + ev.Name + " input=" + short(ev.Input)
	case protocol.EventTaskCompleted:
		return task + " result=" + short(ev.Result)
	case protocol.EventTaskFailed:
		return task + " " + failure()
	case protocol.EventTimerCreated:
		return task + " fires at " + formatTime(ev.FireAt)
	case protocol.EventTimerFired, protocol.EventTimerCanceled:
		return task
	case protocol.EventEventRaised:
		return ev.Name + " data=" + short(ev.Input)
	case protocol.EventExecutionCompleted:
		return "output=" + short(ev.Result)
	case protocol.EventExecutionFailed:
		return failure()
	case protocol.EventSubOrchestrationFailed:
		return task + " " + failure()
	case protocol.EventSubOrchestrationCreated:
		return task + " " + ev.Name + " as " + ev.Target + " input=" + short(ev.Input)
	case protocol.EventSubOrchestrationCompleted:
		return task + " result=" + short(ev.Result)
	case protocol.EventEventSent:
		return ev.Name + " to " + ev.Target + " data=" + short(ev.Input)
	case protocol.EventExecutionContinuedAsNew:
		return "input=" + short(ev.Input)
	case protocol.EventPatchApplied:
		return ev.Name
	}
	return withReason()
}
