package workflowtest

import (
	"fmt"
	"strings"

	"github.com/endurehq/endure/pkg/protocol"
)

// NonDeterminismError reports that replayed code did not do what its
// history says it did. Its message is a summary of the first divergence
// followed by Diff.
type NonDeterminismError struct {
	// Orchestrator is the orchestrator's name.
	Orchestrator string
	// InstanceID is the instance ID the history was replayed under.
	InstanceID string
	// Expected are the actions in the history, in task ID order.
	Expected []Action
	// Actual are the actions the code took, in task ID order.
	Actual []Action
	// ExpectedEnd is how the history ends.
	ExpectedEnd Ending
	// ActualEnd is how the code ended.
	ActualEnd Ending
	// Divergence is the index in Expected and Actual of the first action
	// that differs in kind or name or is missing on one side, or -1 when the
	// actions agree and the endings differ.
	Divergence int
	// EngineMessage is what the engine said when it replayed the history as
	// a worker would, if it found the history non-deterministic.
	EngineMessage string
	// Note explains anything else the reader needs to know, if anything.
	Note string
}

// Unwrap returns ErrNonDeterminism.
func (e *NonDeterminismError) Unwrap() error { return ErrNonDeterminism }

// Error returns the summary and the diff.
func (e *NonDeterminismError) Error() string {
	return fmt.Sprintf("workflowtest: replay of %q (instance %s) is not deterministic: %s\n%s",
		e.Orchestrator, e.InstanceID, e.summary(), e.Diff())
}

// summary says in one sentence where the code first diverged.
func (e *NonDeterminismError) summary() string {
	i := e.Divergence
	switch {
	case e.Note != "" && e.EngineMessage != "":
		// The step-by-step run is only indicative (see Note): the engine's
		// own replay has the last word.
		return "replaying the history as a worker would, the engine reports: " +
			strings.TrimPrefix(e.EngineMessage, ErrNonDeterminism.Error()+": ")
	case i >= 0 && i < len(e.Expected) && i < len(e.Actual):
		return fmt.Sprintf("at action #%d the history has %s but the code took %s", i, e.Expected[i].short(), e.Actual[i].short())
	case i >= 0 && i < len(e.Expected):
		return fmt.Sprintf("the history has %s as action #%d but the code did not take it", e.Expected[i].short(), i)
	case i >= 0 && i < len(e.Actual):
		return fmt.Sprintf("the code took %s as action #%d, which the history does not have", e.Actual[i].short(), i)
	case !sameEnding(e.ExpectedEnd, e.ActualEnd):
		return fmt.Sprintf("the history %s but the code %s", endPhrase(e.ExpectedEnd), endPhrase(e.ActualEnd))
	}
	return "the engine's replay failed"
}

// detailsOnly notes a pair of lines that differ only where replay does not
// compare: inputs, outputs, durations, cancellations.
const detailsOnly = "   (differs only in details, which replay does not compare)"

// contextLines is how many unchanged lines Diff keeps next to a change.
const contextLines = 3

// Diff renders the history's actions and the code's line by line, in task
// ID order and then the ending: a line both share is shown once, a line
// that differs is shown as a "-" line (history, expected) and a "+" line
// (code, actual), and the first divergence is marked. Long runs of shared
// lines are elided.
func (e *NonDeterminismError) Diff() string {
	type entry struct {
		lines []string
		same  bool
	}
	var entries []entry
	for i := 0; i < max(len(e.Expected), len(e.Actual)); i++ {
		var exp, act *Action
		if i < len(e.Expected) {
			exp = &e.Expected[i]
		}
		if i < len(e.Actual) {
			act = &e.Actual[i]
		}
		// Inputs are shown only where both sides know them.
		withInput := (exp == nil || !exp.inputUnknown()) && (act == nil || !act.inputUnknown())
		var es, as string
		if exp != nil {
			es = fmt.Sprintf("#%d %s", exp.TaskID, exp.describe(withInput))
		}
		if act != nil {
			as = fmt.Sprintf("#%d %s", act.TaskID, act.describe(withInput))
		}
		if exp != nil && act != nil && es == as {
			entries = append(entries, entry{lines: []string{"  " + es}, same: true})
			continue
		}
		var note string
		switch {
		case i == e.Divergence:
			note = "   <== first divergence"
		case exp != nil && act != nil && sameAction(*exp, *act):
			note = detailsOnly
		}
		var ent entry
		if exp != nil {
			ent.lines = append(ent.lines, "- "+es+note)
			note = ""
		}
		if act != nil {
			ent.lines = append(ent.lines, "+ "+as+note)
		}
		entries = append(entries, ent)
	}
	if es, as := endLine(e.ExpectedEnd), endLine(e.ActualEnd); es == as {
		entries = append(entries, entry{lines: []string{"  " + es}, same: true})
	} else {
		note := detailsOnly
		if !sameEnding(e.ExpectedEnd, e.ActualEnd) {
			note = ""
			if e.Divergence < 0 {
				note = "   <== first divergence"
			}
		}
		entries = append(entries, entry{lines: []string{"- " + es + note, "+ " + as}})
	}

	var b strings.Builder
	b.WriteString("--- history (expected)\n+++ code (actual)\n")
	near := func(i int) bool {
		for j := max(0, i-contextLines); j <= min(len(entries)-1, i+contextLines); j++ {
			if !entries[j].same {
				return true
			}
		}
		return false
	}
	skipped := 0
	for i, ent := range entries {
		if ent.same && !near(i) && i < len(entries)-1 {
			skipped++
			continue
		}
		if skipped > 0 {
			fmt.Fprintf(&b, "  ... %d identical actions ...\n", skipped)
			skipped = 0
		}
		for _, l := range ent.lines {
			b.WriteString(l + "\n")
		}
	}
	if e.EngineMessage != "" {
		b.WriteString("engine: " + e.EngineMessage + "\n")
	}
	if e.Note != "" {
		b.WriteString("note: " + e.Note + "\n")
	}
	return b.String()
}

// endLine renders an ending as the last line of a diff.
func endLine(e Ending) string {
	switch e.Status {
	case protocol.StatusCompleted:
		return fmt.Sprintf("end: completed at step %d with %s", e.Step, payload(e.Output))
	case protocol.StatusFailed:
		return fmt.Sprintf("end: failed at step %d: %s", e.Step, failureText(e.Failure))
	case protocol.StatusTerminated:
		return fmt.Sprintf("end: terminated at step %d", e.Step)
	case protocol.StatusContinuedAsNew:
		return fmt.Sprintf("end: continued as new at step %d with %s", e.Step, payload(e.Output))
	}
	return "end: still running"
}

// endPhrase describes an ending for the summary.
func endPhrase(e Ending) string {
	switch e.Status {
	case protocol.StatusCompleted:
		return fmt.Sprintf("completes at step %d", e.Step)
	case protocol.StatusFailed:
		return fmt.Sprintf("fails at step %d (%s)", e.Step, failureText(e.Failure))
	case protocol.StatusTerminated:
		return fmt.Sprintf("is terminated at step %d", e.Step)
	case protocol.StatusContinuedAsNew:
		return fmt.Sprintf("continues as new at step %d", e.Step)
	}
	return "is still running after the last step"
}

func failureText(f *protocol.Failure) string {
	if f == nil {
		return "no details"
	}
	s := f.Error()
	if r := []rune(s); len(r) > 2*maxPayload {
		s = string(r[:2*maxPayload-1]) + "…"
	}
	return s
}
