package integration_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLargePayloadsRoundTrip sends an input and event data larger than the
// 256 KiB that messages carry inline: they are accepted, reach the
// orchestration, and the status answers the input exactly as sent.
func TestLargePayloadsRoundTrip(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, sharedNATS)
	sys.startStandard(1)
	pad := strings.Repeat("0123456789abcdef", 300<<10/16) // 300 KiB

	input := fmt.Sprintf(`{"timeoutSeconds": 30, "pad": %q}`, pad)
	cs := sys.startInstance("ApprovalWorkflow", input)
	st := sys.waitForRunning(cs)
	requireSameJSON(t, "input", st.Input, input)

	event, _ := json.Marshal("Approved " + pad)
	if r := sys.mustDo(http.MethodPost, cs.eventURI("Approval"), "application/json", event); r.code != http.StatusAccepted {
		t.Fatalf("raise a 300 KiB event: %v, want 202", r)
	}
	st = sys.waitForCompletion(cs, 30*time.Second)
	requireOutput(t, st, outputJSON(approvedText))
	requireSameJSON(t, "input", st.Input, input)

	// The input is left out on request, and shown again by default.
	if code, st, err := sys.getStatus(cs.StatusQueryGetURI + "&showInput=false"); err != nil || code != http.StatusOK || string(st.Input) != "null" {
		t.Errorf("showInput=false: %d input %.40s %v, want 200 and null", code, st.Input, err)
	}
	sys.requireAlive()
}

// requireSameJSON checks that got is the JSON document want.
func requireSameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s %.80s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s (%d bytes) is not the %d bytes sent: %.80s...", what, len(got), len(want), got)
	}
}
