package httpapi_test

import (
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"
)

// keys lists a history entry's keys, sorted.
func keys(ev map[string]any) []string {
	var out []string
	for k := range ev {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eventsOf reads an instance's historyEvents with the given query flags.
func (a *api) eventsOf(cs checkStatus, flags string) []map[string]any {
	a.t.Helper()
	r, st := a.get(cs.StatusQueryGetURI + "&showHistory=true" + flags)
	if r.code != http.StatusOK {
		a.t.Fatalf("status: %s", r)
	}
	return st.HistoryEvents
}

// TestHistoryEventsAsDurableFunctionsRendersThem checks historyEvents:
// PascalCase keys, scheduled tasks folded into their completions, inputs
// only with showInput and results only with showHistoryOutput.
func TestHistoryEventsAsDurableFunctionsRendersThem(t *testing.T) {
	a := newAPI(t)
	cs := a.start("OrchFunction", "")
	a.waitStatus(cs.StatusQueryGetURI, "Completed")

	plain := a.eventsOf(cs, "&showInput=false")
	var types []string
	for _, ev := range plain {
		types = append(types, ev["EventType"].(string))
	}
	if want := []string{"ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("event types %v, want %v (TaskScheduled folded in)", types, want)
	}
	wantKeys := [][]string{
		{"EventType", "FunctionName", "Timestamp"},
		{"EventType", "FunctionName", "ScheduledTime", "Timestamp"},
		{"EventType", "FunctionName", "ScheduledTime", "Timestamp"},
		{"EventType", "OrchestrationStatus", "Timestamp"},
	}
	for i, ev := range plain {
		if got := keys(ev); !reflect.DeepEqual(got, wantKeys[i]) {
			t.Errorf("event %d keys %v, want %v", i, got, wantKeys[i])
		}
	}
	if plain[0]["FunctionName"] != "OrchFunction" || plain[1]["FunctionName"] != "Approval" || plain[3]["OrchestrationStatus"] != "Completed" {
		t.Errorf("events %v", plain)
	}
	for _, ev := range plain {
		for _, k := range []string{"Timestamp", "ScheduledTime"} {
			if v, ok := ev[k]; ok {
				if _, err := time.Parse("2006-01-02T15:04:05Z", v.(string)); err != nil {
					t.Errorf("%s %v: %v", k, v, err)
				}
			}
		}
	}

	full := a.eventsOf(cs, "&showHistoryOutput=true")
	if full[0]["Input"] != nil || !hasKey(full[0], "Input") {
		t.Errorf("ExecutionStarted with showInput: %v, want Input null", full[0])
	}
	if full[1]["Result"] != approvedText || full[2]["Result"] != rejectedText {
		t.Errorf("TaskCompleted results %v / %v", full[1]["Result"], full[2]["Result"])
	}
	if out, ok := full[3]["Result"].([]any); !ok || len(out) != 2 || out[0] != approvedText {
		t.Errorf("ExecutionCompleted result %v", full[3]["Result"])
	}

	// Timers, events, failures and termination.
	appr := a.start("ApprovalWorkflow", `{"timeoutSeconds": 60}`)
	a.waitHistory(appr.StatusQueryGetURI, hasEvents(map[string]int{"TimerCreated": 1}))
	wantCode(t, "raise", a.raise(appr, "Approval", `"ok"`), http.StatusAccepted)
	a.waitStatus(appr.StatusQueryGetURI, "Completed")
	evs := a.eventsOf(appr, "&showHistoryOutput=true")
	found := map[string]map[string]any{}
	for _, ev := range evs {
		found[ev["EventType"].(string)] = ev
	}
	if ev := found["TimerCreated"]; ev == nil || ev["FireAt"] == nil {
		t.Errorf("TimerCreated %v lacks FireAt", ev)
	}
	if ev := found["EventRaised"]; ev == nil || ev["Name"] != "Approval" || ev["Input"] != "ok" {
		t.Errorf("EventRaised %v", ev)
	}
	if found["TimerCanceled"] == nil {
		t.Errorf("no TimerCanceled in %v", evs)
	}
	if ev := a.eventsOf(appr, "&showInput=false"); hasKey(ev[len(ev)-1], "Result") {
		t.Errorf("result shown without showHistoryOutput: %v", ev)
	}

	failed := a.start("Fail", "")
	a.waitStatus(failed.StatusQueryGetURI, "Failed")
	evs = a.eventsOf(failed, "")
	if last := evs[len(evs)-1]; last["EventType"] != "ExecutionCompleted" || last["OrchestrationStatus"] != "Failed" || last["Reason"] != "boom" {
		t.Errorf("last event of a failed instance %v", last)
	}

	parent := a.start("Parent", `"hi"`)
	a.waitStatus(parent.StatusQueryGetURI, "Completed")
	evs = a.eventsOf(parent, "&showHistoryOutput=true")
	if countEvents(evs, "SubOrchestrationInstanceCreated") != 0 || countEvents(evs, "SubOrchestrationInstanceCompleted") != 1 {
		t.Errorf("sub-orchestration not folded: %v", evs)
	}
	for _, ev := range evs {
		if ev["EventType"] == "SubOrchestrationInstanceCompleted" &&
			(ev["FunctionName"] != "Echo" || ev["InstanceId"] != parent.ID+"-child" || ev["Result"] != "hi" || ev["ScheduledTime"] == nil) {
			t.Errorf("SubOrchestrationInstanceCompleted %v", ev)
		}
	}

	term := a.start("WaitEvent", "")
	a.waitStatus(term.StatusQueryGetURI, "Running")
	wantCode(t, "terminate", a.post(term.TerminatePostURI, "enough"), http.StatusAccepted)
	a.waitStatus(term.StatusQueryGetURI, "Terminated")
	evs = a.eventsOf(term, "")
	n := len(evs)
	if n < 2 || evs[n-2]["EventType"] != "ExecutionTerminated" || evs[n-2]["Reason"] != "enough" ||
		evs[n-1]["OrchestrationStatus"] != "Terminated" {
		t.Errorf("history of a terminated instance %v", evs)
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
