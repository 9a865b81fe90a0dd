package integration_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestOrchFunctionReproducesSeedTranscript runs the reference scenario end
// to end over HTTP: the start answer, then the status object of the
// completed instance field for field as the Durable Functions seed shows it.
func TestOrchFunctionReproducesSeedTranscript(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	sys.startStandard(1)

	cs := sys.startInstance("OrchFunction", "")
	st := sys.waitForCompletion(cs, 30*time.Second)

	// The final answer is a 200 (getStatus checks the code against the
	// runtime status; read once more to see it).
	code, again, err := sys.getStatus(cs.StatusQueryGetURI)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Errorf("status of a completed instance answered %d, want 200", code)
	}
	if !reflect.DeepEqual(again, st) {
		t.Errorf("status changed after completion:\n%+v\n%+v", st, again)
	}
	if st.Name != "OrchFunction" || st.InstanceID != cs.ID || st.RuntimeStatus != "Completed" {
		t.Errorf("name/instanceId/runtimeStatus = %q/%q/%q, want OrchFunction/%s/Completed", st.Name, st.InstanceID, st.RuntimeStatus, cs.ID)
	}
	if string(st.Input) != "null" || string(st.CustomStatus) != "null" {
		t.Errorf("input = %s, customStatus = %s, want null and null", st.Input, st.CustomStatus)
	}
	var out []string
	if err := json.Unmarshal(st.Output, &out); err != nil {
		t.Fatalf("output %s is not a list of strings: %v", st.Output, err)
	}
	if want := []string{approvedText, rejectedText}; !reflect.DeepEqual(out, want) {
		t.Errorf("output = %q\n  want %q", out, want)
	}
}

// waitForRunning polls the status until it is Running, checking on the way
// that a waiting instance answers 202 (with Location and Retry-After).
func (s *system) waitForRunning(cs checkStatus) instanceStatus {
	s.t.Helper()
	st := s.waitForStatus(cs.StatusQueryGetURI, "Running", 30*time.Second)
	code, st, err := s.getStatus(cs.StatusQueryGetURI)
	if err != nil {
		s.t.Fatal(err)
	}
	if code != http.StatusAccepted || st.RuntimeStatus != "Running" {
		s.t.Fatalf("waiting instance answered %d %s, want 202 Running", code, st.RuntimeStatus)
	}
	return st
}

// TestApprovalCompletesWhenApprovedInTime raises the Approval event while
// the instance waits for it, and checks the decision is recorded.
func TestApprovalCompletesWhenApprovedInTime(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	sys.startStandard(1)

	cs := sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 30}`)
	st := sys.waitForRunning(cs)
	if st.Name != "ApprovalWorkflow" || string(st.Output) != "null" {
		t.Errorf("running instance: name %q output %s, want ApprovalWorkflow and null", st.Name, st.Output)
	}
	var in map[string]any
	if err := json.Unmarshal(st.Input, &in); err != nil || !reflect.DeepEqual(in, map[string]any{"timeoutSeconds": 30.0}) {
		t.Errorf("input = %s, want {\"timeoutSeconds\": 30}", st.Input)
	}

	r := sys.mustDo(http.MethodPost, cs.eventURI("Approval"), "application/json", []byte("true"))
	if r.code != http.StatusAccepted {
		t.Fatalf("raise Approval: %v, want 202", r)
	}
	start := time.Now()
	st = sys.waitForCompletion(cs, 30*time.Second)
	requireOutput(t, st, outputJSON(approvedText))
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("completed %v after the approval: the timer, not the event, ended the wait", d)
	}
}

// TestApprovalEscalatesWhenNotApproved lets the deadline pass with no
// event: the durable timer fires and the proposal is escalated.
func TestApprovalEscalatesWhenNotApproved(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	sys.startStandard(1)

	start := time.Now()
	cs := sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 2}`)
	sys.waitForRunning(cs)
	st := sys.waitForCompletion(cs, 30*time.Second)
	requireOutput(t, st, outputJSON(escalationText))
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Errorf("escalated after %v, before the 2 s deadline", d)
	}
}
