package integration_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
)

// TestBadRequestsAreRejected sends the HTTP API requests it must refuse and
// checks each answer's status code and JSON error message; afterwards every
// process is still up, nothing reached the waiting instance, and a normal
// orchestration still completes.
func TestBadRequestsAreRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	sys.startStandard(1)

	// Fixtures: an instance that waits for an event, one that finished.
	waiting := sys.startInstance("ApprovalWorkflow", `{"timeoutSeconds": 600}`)
	sys.waitForRunning(waiting)
	finished := sys.startInstance("OrchFunction", "")
	sys.waitForCompletion(finished, 30*time.Second)

	// Hand-made URLs carry the access key; the check-status URIs have it.
	start := func(path string) string { return sys.url("/api/orchestrators/" + path) }
	instance := func(path string) string { return sys.url("/runtime/webhooks/durabletask/instances/" + path) }
	// Valid JSON just over the hub's cap on one payload. (Payloads over
	// 256 KiB but under the cap are accepted: see TestLargePayloadsRoundTrip.)
	tooBig := `"` + strings.Repeat("x", jetstream.DefaultMaxPayload) + `"`
	const jsonType = "application/json"

	for _, tc := range []struct {
		name        string
		method, url string
		contentType string
		body        string
		want        int
	}{
		{"unknown orchestrator", "POST", start("NoSuchOrchestrator"), jsonType, "", 400},
		{"orchestrator name with a dot", "POST", start("Orch.Function"), jsonType, "", 400},
		{"malformed JSON input", "POST", start("OrchFunction"), jsonType, `{"timeoutSeconds": `, 400},
		{"input that is not JSON", "POST", start("OrchFunction"), "text/plain", "hello", 400},
		{"instance ID with a dot", "POST", start("OrchFunction/a.b"), jsonType, "", 400},
		{"instance ID with a star", "POST", start("OrchFunction/a*b"), jsonType, "", 400},
		{"instance ID with a greater-than", "POST", start("OrchFunction/a>b"), jsonType, "", 400},
		{"instance ID with a space", "POST", start("OrchFunction/a%20b"), jsonType, "", 400},
		{"instance ID with an escaped slash", "POST", start("OrchFunction/a%2Fb"), jsonType, "", 400},
		{"instance ID too long", "POST", start("OrchFunction/" + strings.Repeat("a", 300)), jsonType, "", 400},
		{"instance ID already running", "POST", start("ApprovalWorkflow/" + waiting.ID), jsonType, "", 409},
		{"input over the payload cap", "POST", start("OrchFunction"), jsonType, tooBig, 413},
		{"status of unknown instance", "GET", instance("nosuchinstance"), "", "", 404},
		{"status of invalid instance ID", "GET", instance("a.b"), "", "", 400},
		{"status with bad showInput", "GET", instance(waiting.ID + "?showInput=maybe"), "", "", 400},
		{"raise event without Content-Type", "POST", waiting.eventURI("Approval"), "", "true", 400},
		{"raise event as text/plain", "POST", waiting.eventURI("Approval"), "text/plain", "true", 400},
		{"raise event with malformed JSON", "POST", waiting.eventURI("Approval"), jsonType, "{", 400},
		{"raise event with a dot in its name", "POST", waiting.eventURI("Appro.val"), jsonType, "true", 400},
		{"raise event over the payload cap", "POST", waiting.eventURI("Approval"), jsonType, tooBig, 413},
		{"raise event on unknown instance", "POST", instance("nosuchinstance/raiseEvent/Approval"), jsonType, "true", 404},
		{"raise event on completed instance", "POST", finished.eventURI("Approval"), jsonType, "true", 410},
		{"terminate completed instance", "POST", strings.Replace(finished.TerminatePostURI, "{text}", "late", 1), "", "", 410},
		{"start without the access key", "POST", sys.baseURL + "/api/orchestrators/OrchFunction", jsonType, "", 401},
		{"status with a wrong access key", "GET", strings.Replace(finished.StatusQueryGetURI, "code="+sys.key, "code=wrong", 1), "", "", 401},
		{"unknown endpoint", "GET", sys.url("/api/nothing-here"), "", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r, err := sys.do(tc.method, tc.url, tc.contentType, body)
			if err != nil {
				t.Fatalf("%s %.120s: %v", tc.method, tc.url, err)
			}
			if r.code != tc.want {
				t.Errorf("%s %.120s: got %d %.300s, want %d", tc.method, tc.url, r.code, r.body, tc.want)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var msg struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal(r.body, &msg); err != nil || msg.Message == "" {
				t.Errorf("body %.300q is not a JSON object with a message (%v)", r.body, err)
			}
		})
	}

	sys.requireAlive()
	// None of the refused events reached the waiting instance.
	if code, st, err := sys.getStatus(waiting.StatusQueryGetURI); err != nil || code != http.StatusAccepted || st.RuntimeStatus != "Running" {
		t.Fatalf("waiting instance after the bad requests: %d %s %v, want 202 Running", code, st.RuntimeStatus, err)
	}
	// The refused starts left nothing behind under their IDs.
	for _, id := range []string{"a.b", "nosuchinstance"} {
		if r := sys.mustDo("GET", instance(id), "", nil); r.code == http.StatusOK || r.code == http.StatusAccepted {
			t.Errorf("instance %q exists after refused requests: %v", id, r)
		}
	}
	// The system still works: a good event and a new orchestration.
	if r := sys.mustDo("POST", waiting.eventURI("Approval"), "application/json; charset=utf-8", []byte(`"Rejected"`)); r.code != http.StatusAccepted {
		t.Fatalf("good raise event: %v, want 202", r)
	}
	st := sys.waitForCompletion(waiting, 30*time.Second)
	requireOutput(t, st, outputJSON(rejectedText))
	cs := sys.startInstance("OrchFunction", "")
	st = sys.waitForCompletion(cs, 30*time.Second)
	requireOutput(t, st, outputJSON(approvedText, rejectedText))
	sys.requireAlive()
}
