package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/protocol"
)

// post sends a management request to a URI of the check-status body,
// {text} filled with reason.
func (a *api) post(uri, reason string) response {
	a.t.Helper()
	return a.do("POST", fill(uri, "{text}", reason), "", "")
}

func (a *api) raise(cs checkStatus, event, data string) response {
	a.t.Helper()
	return a.do("POST", fill(cs.SendEventPostURI, "{eventName}", event), "application/json", data)
}

func wantCode(t *testing.T, what string, r response, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s answered %s, want %d", what, r, code)
	}
}

// TestSuspendHoldsTimersAndEventsUntilResumed suspends an approval that
// waits for an event or a timer: while suspended, the timer fires and then
// the event arrives; both are recorded, nothing runs and the status stays
// Suspended. Resumed, the instance takes them in arrival order: the timer
// won, so it escalates.
func TestSuspendHoldsTimersAndEventsUntilResumed(t *testing.T) {
	a := newAPI(t)
	cs := a.start("ApprovalWorkflow", `{"timeoutSeconds": 1}`)
	a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"TimerCreated": 1}))

	wantCode(t, "suspend", a.post(cs.SuspendPostURI, "waiting for the board"), http.StatusAccepted)
	r, _ := a.waitStatus(cs.StatusQueryGetURI, "Suspended")
	wantCode(t, "status of a suspended instance", r, http.StatusAccepted)

	// The timer (due 1 s after the start) fires while suspended.
	st := a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"TimerFired": 1}))
	if st.RuntimeStatus != "Suspended" {
		t.Fatalf("status %s after the timer fired, want Suspended", st.RuntimeStatus)
	}
	wantCode(t, "raise while suspended", a.raise(cs, "Approval", "true"), http.StatusAccepted)
	st = a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"EventRaised": 1}))
	if st.RuntimeStatus != "Suspended" {
		t.Fatalf("status %s after the event, want Suspended", st.RuntimeStatus)
	}
	if n := countEvents(st.HistoryEvents, "TaskCompleted") + countEvents(st.HistoryEvents, "TaskScheduled"); n != 0 {
		t.Fatalf("a suspended instance scheduled work: %v", st.HistoryEvents)
	}
	// Suspending again is accepted and changes nothing.
	wantCode(t, "suspend a suspended instance", a.post(cs.SuspendPostURI, "again"), http.StatusAccepted)

	wantCode(t, "resume", a.post(cs.ResumePostURI, "board agreed"), http.StatusAccepted)
	r, st = a.waitStatus(cs.StatusQueryGetURI, "Completed")
	wantCode(t, "status after resume", r, http.StatusOK)
	if out := output[[]string](t, st); !reflect.DeepEqual(out, []string{escalationText}) {
		t.Fatalf("output %q, want [%q]", out, escalationText)
	}
	st = a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"ExecutionSuspended": 1, "ExecutionResumed": 1}))
	for _, ev := range st.HistoryEvents {
		if ev["EventType"] == "ExecutionSuspended" && ev["Reason"] != "waiting for the board" {
			t.Errorf("suspend event %v lacks the reason", ev)
		}
	}
	wantCode(t, "resume a completed instance", a.post(cs.ResumePostURI, "x"), http.StatusGone)
	wantCode(t, "suspend a completed instance", a.post(cs.SuspendPostURI, "x"), http.StatusGone)
}

// TestSuspendedInstanceGetsEventOnResume raises the event an instance
// waits for while it is suspended: it completes with it once resumed.
func TestSuspendedInstanceGetsEventOnResume(t *testing.T) {
	a := newAPI(t)
	cs := a.start("WaitEvent", "")
	a.waitStatus(cs.StatusQueryGetURI, "Running")
	wantCode(t, "suspend", a.post(cs.SuspendPostURI, ""), http.StatusAccepted)
	a.waitStatus(cs.StatusQueryGetURI, "Suspended")
	wantCode(t, "raise while suspended", a.raise(cs, "go", `{"v": 1}`), http.StatusAccepted)
	a.waitQuiet(cs.ID)
	if st := a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"EventRaised": 1})); st.RuntimeStatus != "Suspended" {
		t.Fatalf("status %s after the event, want Suspended", st.RuntimeStatus)
	}
	wantCode(t, "resume", a.post(cs.ResumePostURI, ""), http.StatusAccepted)
	if _, st := a.waitStatus(cs.StatusQueryGetURI, "Completed"); !jsonEq(st.Output, `{"v":1}`) {
		t.Fatalf("output %s", st.Output)
	}
}

// TestSuspendedInstanceHoldsActivityResult suspends an instance while its
// activity runs: the result is recorded but not acted on until resume.
func TestSuspendedInstanceHoldsActivityResult(t *testing.T) {
	a := newAPI(t)
	cs := a.start("Gated", "")
	testnats.Eventually(t, 20*time.Second, func() error {
		if a.gateCalls.Load() == 0 {
			return errors.New("activity not started")
		}
		return nil
	})
	wantCode(t, "suspend", a.post(cs.SuspendPostURI, "hold"), http.StatusAccepted)
	a.waitStatus(cs.StatusQueryGetURI, "Suspended")
	a.openGate()
	a.waitQuiet(cs.ID)
	st := a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"TaskCompleted": 1}))
	if st.RuntimeStatus != "Suspended" || string(st.Output) != "null" {
		t.Fatalf("after the result arrived: %s %s, want Suspended with no output", st.RuntimeStatus, st.Output)
	}
	wantCode(t, "resume", a.post(cs.ResumePostURI, "go"), http.StatusAccepted)
	if _, st = a.waitStatus(cs.StatusQueryGetURI, "Completed"); string(st.Output) != `"gate opened"` {
		t.Fatalf("output %s", st.Output)
	}
}

// TestTerminateCancelsTimersAndAnswersGone terminates an approval waiting
// on a one-hour timer: it stops at once with the reason as output, its
// timer is cancelled, and later requests answer 410.
func TestTerminateCancelsTimersAndAnswersGone(t *testing.T) {
	a := newAPI(t)
	cs := a.start("ApprovalWorkflow", `{"timeoutSeconds": 3600}`)
	a.waitPendingTimers(cs.ID, 1)

	wantCode(t, "terminate", a.post(cs.TerminatePostURI, "no longer needed"), http.StatusAccepted)
	r, st := a.waitStatus(cs.StatusQueryGetURI, "Terminated")
	wantCode(t, "status of a terminated instance", r, http.StatusOK)
	if string(st.Output) != `"no longer needed"` {
		t.Fatalf("output %s, want the reason", st.Output)
	}
	a.waitPendingTimers(cs.ID, 0)
	st = a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"TimerCanceled": 1, "ExecutionTerminated": 1}))
	for _, ev := range st.HistoryEvents {
		if ev["EventType"] == "ExecutionTerminated" && ev["Reason"] != "no longer needed" {
			t.Errorf("terminate event %v lacks the reason", ev)
		}
	}

	wantCode(t, "raise after terminate", a.raise(cs, "Approval", "true"), http.StatusGone)
	for name, uri := range map[string]string{"terminate": cs.TerminatePostURI, "suspend": cs.SuspendPostURI, "resume": cs.ResumePostURI} {
		wantCode(t, name+" after terminate", a.post(uri, "again"), http.StatusGone)
	}
	if _, st = a.get(cs.StatusQueryGetURI); st.RuntimeStatus != "Terminated" || string(st.Output) != `"no longer needed"` {
		t.Fatalf("status changed: %+v", st)
	}
}

// TestTerminateIgnoresLateResults terminates an instance while its
// activity runs; the result that arrives afterwards is dropped.
func TestTerminateIgnoresLateResults(t *testing.T) {
	a := newAPI(t)
	cs := a.start("Gated", "")
	testnats.Eventually(t, 20*time.Second, func() error {
		if a.gateCalls.Load() == 0 {
			return errors.New("activity not started")
		}
		return nil
	})
	wantCode(t, "terminate", a.post(cs.TerminatePostURI, "stop"), http.StatusAccepted)
	a.waitStatus(cs.StatusQueryGetURI, "Terminated")

	a.openGate() // the activity finishes and reports a result
	a.waitQuiet(cs.ID)
	_, st := a.get(cs.StatusQueryGetURI + "&showHistory=true")
	if st.RuntimeStatus != "Terminated" || string(st.Output) != `"stop"` {
		t.Fatalf("after the late result: %s %s, want Terminated \"stop\"", st.RuntimeStatus, st.Output)
	}
	if n := countEvents(st.HistoryEvents, "TaskCompleted"); n != 0 {
		t.Fatalf("the late result was recorded: %v", st.HistoryEvents)
	}
}

// TestRewindRerunsFailedActivity rewinds an instance whose activity failed:
// the activity runs again and the instance completes.
func TestRewindRerunsFailedActivity(t *testing.T) {
	a := newAPI(t)
	cs := a.start("Flaky", "5")
	r, st := a.waitStatus(cs.StatusQueryGetURI, "Failed")
	wantCode(t, "status of the failed instance", r, http.StatusOK)
	wantCode(t, "status with returnInternalServerErrorOnFailure", a.do("GET", cs.StatusQueryGetURI+"&returnInternalServerErrorOnFailure=true", "", ""), http.StatusInternalServerError)
	if string(st.Output) == "null" {
		t.Fatal("failed instance has no failure in its output")
	}
	st = a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"TaskFailed": 1}))
	for _, ev := range st.HistoryEvents {
		if ev["EventType"] == "TaskFailed" && (ev["Reason"] != "database unavailable" || ev["FunctionName"] != "Flaky") {
			t.Errorf("TaskFailed %v", ev)
		}
	}

	wantCode(t, "rewind", a.post(cs.RewindPostURI, "database is back"), http.StatusAccepted)
	r, st = a.waitStatus(cs.StatusQueryGetURI, "Completed")
	wantCode(t, "status after rewind", r, http.StatusOK)
	if string(st.Output) != "10" {
		t.Fatalf("output %s, want 10", st.Output)
	}
	if n := a.flakyCalls.Load(); n != 2 {
		t.Fatalf("Flaky ran %d times, want 2", n)
	}
	a.waitHistory(cs.StatusQueryGetURI, hasEvents(map[string]int{"ExecutionRewound": 1, "TaskCompleted": 1}))
	wantCode(t, "rewind a completed instance", a.post(cs.RewindPostURI, "again"), http.StatusGone)
}

// TestRestartRunsAgainWithOriginalInput restarts a finished instance under
// a new ID and under its own.
func TestRestartRunsAgainWithOriginalInput(t *testing.T) {
	a := newAPI(t)
	cs := a.start("Echo", `{"n": 7}`)
	_, first := a.waitStatus(cs.StatusQueryGetURI, "Completed")

	r := a.post(cs.RestartPostURI, "")
	wantCode(t, "restart", r, http.StatusAccepted)
	requireKeys(t, r.body, checkStatusFields)
	fresh := decode[checkStatus](t, r.body)
	if fresh.ID == cs.ID {
		t.Fatalf("restart kept the ID %s", cs.ID)
	}
	_, st := a.waitStatus(fresh.StatusQueryGetURI, "Completed")
	if !jsonEq(st.Input, `{"n":7}`) || !jsonEq(st.Output, `{"n":7}`) || st.Name != "Echo" {
		t.Fatalf("restarted instance %+v", st)
	}

	// A running instance can be restarted under a new ID, not its own.
	running := a.start("WaitEvent", `"x"`)
	a.waitStatus(running.StatusQueryGetURI, "Running")
	wantCode(t, "restart a running instance under its ID", a.post(running.RestartPostURI+"&restartWithNewInstanceId=false", ""), http.StatusConflict)

	r = a.post(cs.RestartPostURI+"&restartWithNewInstanceId=false", "")
	wantCode(t, "restart under the same ID", r, http.StatusAccepted)
	if same := decode[checkStatus](t, r.body); same.ID != cs.ID {
		t.Fatalf("restart under the same ID gave %s", same.ID)
	}
	testnats.Eventually(t, 20*time.Second, func() error {
		_, st := a.get(cs.StatusQueryGetURI + "&showHistory=true")
		if st.RuntimeStatus != "Completed" || countEvents(st.HistoryEvents, "ExecutionStarted") != 1 {
			return fmt.Errorf("status %s, history %v", st.RuntimeStatus, st.HistoryEvents)
		}
		return nil
	})
	if _, again := a.get(cs.StatusQueryGetURI); !jsonEq(again.Output, `{"n":7}`) || again.CreatedTime < first.CreatedTime {
		t.Fatalf("second run %+v, first %+v", again, first)
	}
}

// TestPurgeDeletesFinishedInstances purges one instance, then many, and
// checks that running instances are kept.
func TestPurgeDeletesFinishedInstances(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)

	cs := a.start("ApprovalWorkflow", `{"timeoutSeconds": 3600}`)
	a.waitPendingTimers(cs.ID, 1)
	wantCode(t, "purge a running instance", a.do("DELETE", cs.PurgeHistoryDeleteURI, "", ""), http.StatusConflict)
	if _, st := a.get(cs.StatusQueryGetURI); st.RuntimeStatus != "Running" {
		t.Fatalf("refused purge changed the instance: %s", st.RuntimeStatus)
	}
	a.waitPendingTimers(cs.ID, 1)

	wantCode(t, "terminate", a.post(cs.TerminatePostURI, "done"), http.StatusAccepted)
	a.waitStatus(cs.StatusQueryGetURI, "Terminated")
	// A timer left behind (as a crash between a cancel and its record
	// could leave one) goes with the instance too.
	must(t, a.hub.ScheduleTimer(ctx, cs.ID, "leftover", 99, time.Now().Add(time.Hour)))
	a.waitPendingTimers(cs.ID, 1)
	r := a.do("DELETE", cs.PurgeHistoryDeleteURI, "", "")
	wantCode(t, "purge", r, http.StatusOK)
	if !jsonEq(r.body, `{"instancesDeleted": 1}`) {
		t.Fatalf("purge answered %s", r.body)
	}
	wantCode(t, "status after purge", a.do("GET", cs.StatusQueryGetURI, "", ""), http.StatusNotFound)
	wantCode(t, "raise after purge", a.raise(cs, "Approval", "true"), http.StatusNotFound)
	wantCode(t, "purge again", a.do("DELETE", cs.PurgeHistoryDeleteURI, "", ""), http.StatusNotFound)
	h, err := a.hub.ReadHistory(ctx, cs.ID)
	must(t, err)
	if len(h.Records) != 0 {
		t.Fatalf("%d history records left", len(h.Records))
	}
	a.waitPendingTimers(cs.ID, 0)

	// Purge many: three completed and one failed instance go; a running
	// one stays.
	var finished []checkStatus
	for i := 0; i < 3; i++ {
		finished = append(finished, a.start("Echo", fmt.Sprint(i)))
	}
	finished = append(finished, a.start("Fail", ""))
	keep := a.start("WaitEvent", "")
	for _, f := range finished {
		a.waitFor(f.ID, func(s protocol.RuntimeStatus) bool { return s.Terminal() })
	}
	a.waitStatus(keep.StatusQueryGetURI, "Running")

	many := a.url(mgmt("/instances?createdTimeFrom=" + since + "&runtimeStatus=Failed"))
	r = a.do("DELETE", many, "", "")
	wantCode(t, "purge the failed ones", r, http.StatusOK)
	if !jsonEq(r.body, `{"instancesDeleted": 1}`) {
		t.Fatalf("purge of Failed answered %s", r.body)
	}
	r = a.do("DELETE", a.url(mgmt("/instances?createdTimeFrom="+since)), "", "")
	wantCode(t, "purge many", r, http.StatusOK)
	if !jsonEq(r.body, `{"instancesDeleted": 3}`) {
		t.Fatalf("purge many answered %s", r.body)
	}
	for _, f := range finished {
		wantCode(t, "status of a purged instance", a.do("GET", f.StatusQueryGetURI, "", ""), http.StatusNotFound)
	}
	wantCode(t, "status of the running instance", a.do("GET", keep.StatusQueryGetURI, "", ""), http.StatusAccepted)
	wantCode(t, "purge many again", a.do("DELETE", a.url(mgmt("/instances?createdTimeFrom="+since)), "", ""), http.StatusNotFound)
}
