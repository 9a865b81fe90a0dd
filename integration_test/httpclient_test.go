package integration_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
)

// The strings the sample workflows answer with (two spaces after the dash,
// as in the original Durable Functions sample).
const (
	approvedText   = "Your project design proposal has been -  Approved!"
	rejectedText   = "Your project design proposal has been -  Rejected!"
	escalationText = "ESCALATION : You have not approved the project design proposal - reassigning to your Manager! Head of department!"
)

// checkStatus is the body that answers a start.
type checkStatus struct {
	ID                    string `json:"id"`
	StatusQueryGetURI     string `json:"statusQueryGetUri"`
	SendEventPostURI      string `json:"sendEventPostUri"`
	TerminatePostURI      string `json:"terminatePostUri"`
	RewindPostURI         string `json:"rewindPostUri"`
	PurgeHistoryDeleteURI string `json:"purgeHistoryDeleteUri"`
	RestartPostURI        string `json:"restartPostUri"`
	SuspendPostURI        string `json:"suspendPostUri"`
	ResumePostURI         string `json:"resumePostUri"`
}

// eventURI fills the {eventName} placeholder of sendEventPostUri.
func (c checkStatus) eventURI(name string) string {
	return strings.Replace(c.SendEventPostURI, "{eventName}", name, 1)
}

var checkStatusFields = []string{
	"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri",
	"purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri",
}

// instanceStatus is the status object.
type instanceStatus struct {
	Name            string          `json:"name"`
	InstanceID      string          `json:"instanceId"`
	RuntimeStatus   string          `json:"runtimeStatus"`
	Input           json.RawMessage `json:"input"`
	CustomStatus    json.RawMessage `json:"customStatus"`
	Output          json.RawMessage `json:"output"`
	CreatedTime     string          `json:"createdTime"`
	LastUpdatedTime string          `json:"lastUpdatedTime"`
}

var statusFields = []string{
	"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime", "lastUpdatedTime",
}

// response is an HTTP answer, body read.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.code, r.body) }

// do sends a request to the HTTP API; an empty contentType sends none.
func (s *system) do(method, url, contentType string, body []byte) (response, error) {
	req, err := http.NewRequest(method, url, bytesReader(body))
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}, nil
}

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return strings.NewReader(string(b))
}

// mustDo is do that fails the test on a transport error.
func (s *system) mustDo(method, url, contentType string, body []byte) response {
	s.t.Helper()
	r, err := s.do(method, url, contentType, body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// startInstance starts an orchestration over HTTP (input "" for none) and
// checks the 202 answer: headers and the nine-field check-status body.
func (s *system) startInstance(name, input string) checkStatus {
	s.t.Helper()
	cs, err := s.tryStart(name, input)
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// tryStart is startInstance reporting problems as an error, for use from
// several goroutines.
func (s *system) tryStart(name, input string) (checkStatus, error) {
	var body []byte
	if input != "" {
		body = []byte(input)
	}
	url := s.url("/api/orchestrators/" + name)
	r, err := s.do(http.MethodPost, url, "application/json", body)
	if err != nil {
		return checkStatus{}, fmt.Errorf("POST %s: %v", url, err)
	}
	if r.code != http.StatusAccepted {
		return checkStatus{}, fmt.Errorf("POST %s: want 202, got %v", url, r)
	}
	if err := sameKeys(r.body, checkStatusFields); err != nil {
		return checkStatus{}, fmt.Errorf("check-status body: %v", err)
	}
	var cs checkStatus
	if err := json.Unmarshal(r.body, &cs); err != nil {
		return checkStatus{}, fmt.Errorf("check-status body: %v: %s", err, r.body)
	}
	if cs.ID == "" {
		return checkStatus{}, fmt.Errorf("check-status body without id: %s", r.body)
	}
	base := s.baseURL + "/runtime/webhooks/durabletask/instances/" + cs.ID
	q := "taskHub=" + s.hub + "&connection=Storage&code=" + s.key
	want := checkStatus{
		ID:                    cs.ID,
		StatusQueryGetURI:     base + "?" + q,
		SendEventPostURI:      base + "/raiseEvent/{eventName}?" + q,
		TerminatePostURI:      base + "/terminate?reason={text}&" + q,
		RewindPostURI:         base + "/rewind?reason={text}&" + q,
		PurgeHistoryDeleteURI: base + "?" + q,
		RestartPostURI:        base + "/restart?" + q,
		SuspendPostURI:        base + "/suspend?reason={text}&" + q,
		ResumePostURI:         base + "/resume?reason={text}&" + q,
	}
	if cs != want {
		return checkStatus{}, fmt.Errorf("check-status body:\n got %+v\nwant %+v", cs, want)
	}
	if loc := r.header.Get("Location"); loc != cs.StatusQueryGetURI {
		return checkStatus{}, fmt.Errorf("Location = %q, want statusQueryGetUri %q", loc, cs.StatusQueryGetURI)
	}
	if ra := r.header.Get("Retry-After"); ra != "10" {
		return checkStatus{}, fmt.Errorf("Retry-After = %q, want 10", ra)
	}
	return cs, nil
}

// sameKeys checks that body is a JSON object with exactly the given keys.
func sameKeys(body []byte, want []string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("not a JSON object: %v: %s", err, body)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	w := append([]string(nil), want...)
	sort.Strings(w)
	if !reflect.DeepEqual(got, w) {
		return fmt.Errorf("fields %v, want %v", got, w)
	}
	return nil
}

// getStatus reads an instance's status and checks the status object's
// shape and the headers that go with the status code.
func (s *system) getStatus(uri string) (int, instanceStatus, error) {
	r, err := s.do(http.MethodGet, uri, "", nil)
	if err != nil {
		return 0, instanceStatus{}, err
	}
	st, err := decodeStatus(uri, r)
	return r.code, st, err
}

// decodeStatus checks and decodes an answer to GET statusQueryGetUri.
func decodeStatus(uri string, r response) (instanceStatus, error) {
	if r.code != http.StatusOK && r.code != http.StatusAccepted {
		return instanceStatus{}, fmt.Errorf("GET %s: %v", uri, r)
	}
	if err := sameKeys(r.body, statusFields); err != nil {
		return instanceStatus{}, fmt.Errorf("status object: %v", err)
	}
	var st instanceStatus
	if err := json.Unmarshal(r.body, &st); err != nil {
		return instanceStatus{}, fmt.Errorf("status object: %v: %s", err, r.body)
	}
	running := st.RuntimeStatus == "Pending" || st.RuntimeStatus == "Running"
	switch {
	case r.code == http.StatusAccepted && !running:
		return st, fmt.Errorf("202 with runtimeStatus %q", st.RuntimeStatus)
	case r.code == http.StatusOK && running:
		return st, fmt.Errorf("200 with runtimeStatus %q", st.RuntimeStatus)
	case r.code == http.StatusAccepted && r.header.Get("Retry-After") != "5":
		return st, fmt.Errorf("202 with Retry-After %q, want 5", r.header.Get("Retry-After"))
	case r.code == http.StatusAccepted && r.header.Get("Location") != uri:
		return st, fmt.Errorf("202 with Location %q, want the status URI %q", r.header.Get("Location"), uri)
	}
	if err := checkTimes(st); err != nil {
		return st, err
	}
	return st, nil
}

var isoUTC = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)

// checkTimes checks that the times are ISO 8601 UTC, recent and ordered.
func checkTimes(st instanceStatus) error {
	var ts [2]time.Time
	for i, v := range []string{st.CreatedTime, st.LastUpdatedTime} {
		if !isoUTC.MatchString(v) {
			return fmt.Errorf("time %q is not ISO 8601 UTC ending in Z", v)
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("time %q: %v", v, err)
		}
		if d := time.Since(t); d < -5*time.Second || d > 10*time.Minute {
			return fmt.Errorf("time %q is %v away from now", v, d)
		}
		ts[i] = t
	}
	if ts[1].Before(ts[0]) {
		return fmt.Errorf("lastUpdatedTime %s before createdTime %s", st.LastUpdatedTime, st.CreatedTime)
	}
	return nil
}

// waitForStatus polls statusQueryGetUri until the instance reaches want.
// Transport errors are retried; so are 5xx answers while s.outage is set
// (NATS is being restarted). A finished instance in another state fails at
// once.
func (s *system) waitForStatus(uri, want string, timeout time.Duration) instanceStatus {
	s.t.Helper()
	var st instanceStatus
	testnats.Eventually(s.t, timeout, func() error {
		code, got, err := s.getStatus(uri)
		if err != nil {
			if code != 0 && !(s.outage && code >= 500) {
				s.t.Fatal(err)
			}
			return err
		}
		st = got
		if st.RuntimeStatus == want {
			return nil
		}
		switch st.RuntimeStatus {
		case "Pending", "Running":
			return fmt.Errorf("instance %s is %s, waiting for %s", st.InstanceID, st.RuntimeStatus, want)
		}
		s.t.Fatalf("instance %s is %s (output %s), want %s", st.InstanceID, st.RuntimeStatus, compact(st.Output), want)
		return nil
	})
	return st
}

// waitForCompletion waits for Completed and checks the 200 answer.
func (s *system) waitForCompletion(cs checkStatus, timeout time.Duration) instanceStatus {
	s.t.Helper()
	st := s.waitForStatus(cs.StatusQueryGetURI, "Completed", timeout)
	if st.InstanceID != cs.ID {
		s.t.Errorf("instanceId = %q, want %q", st.InstanceID, cs.ID)
	}
	return st
}

// requireOutput checks a JSON output against the JSON text want.
func requireOutput(t testing.TB, st instanceStatus, want string) {
	t.Helper()
	var got, w any
	if err := json.Unmarshal(st.Output, &got); err != nil {
		t.Fatalf("output %s: %v", st.Output, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("output = %s\n  want %s", compact(st.Output), want)
	}
}

// compact renders JSON on one line, for messages.
func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// outputJSON renders strings as the JSON array an output should be.
func outputJSON(lines ...string) string {
	b, _ := json.Marshal(lines)
	return string(b)
}
