package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
)

// walker is a bare HTTP client: the walk-through uses nothing else.
type walker struct {
	t    *testing.T
	http *http.Client
}

func (w walker) send(method, uri, contentType, body string) response {
	w.t.Helper()
	req, err := http.NewRequest(method, uri, strings.NewReader(body))
	must(w.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := w.http.Do(req)
	must(w.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(w.t, err)
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// follow GETs statusQueryGetUri until it answers 200, checking that every
// answer before is a 202 with Location and Retry-After, and returns the
// final body and the runtime statuses seen on the way.
func (w walker) follow(uri string, until func(status) bool) (response, []string) {
	w.t.Helper()
	var last response
	var seen []string
	testnats.Eventually(w.t, 30*time.Second, func() error {
		last = w.send("GET", uri, "", "")
		var st status
		if err := json.Unmarshal(last.body, &st); err != nil {
			w.t.Fatalf("status answer %s: %v", last, err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != st.RuntimeStatus {
			seen = append(seen, st.RuntimeStatus)
		}
		switch last.code {
		case http.StatusAccepted:
			if last.header.Get("Location") != uri || last.header.Get("Retry-After") != "5" {
				w.t.Fatalf("202 with Location %q Retry-After %q", last.header.Get("Location"), last.header.Get("Retry-After"))
			}
		case http.StatusOK:
		default:
			w.t.Fatalf("status answered %s", last)
		}
		if !until(st) {
			return fmt.Errorf("waiting; status %s", st.RuntimeStatus)
		}
		return nil
	})
	return last, seen
}

// TestSeedWalkthroughOverHTTP is the reference scenario driven as a
// Durable Functions user would: start ApprovalWorkflow, follow the URIs
// the answer gives (the key is in them), approve, and read the result.
func TestSeedWalkthroughOverHTTP(t *testing.T) {
	a := newAPI(t)
	w := walker{t: t, http: &http.Client{Timeout: 30 * time.Second}}

	r := w.send("POST", a.srv.URL+"/api/orchestrators/ApprovalWorkflow?code="+testKey, "application/json", `{"timeoutSeconds": 60}`)
	if r.code != http.StatusAccepted {
		t.Fatalf("start: %s", r)
	}
	requireKeys(t, r.body, checkStatusFields)
	cs := decode[checkStatus](t, r.body)
	if r.header.Get("Location") != cs.StatusQueryGetURI {
		t.Fatalf("Location %q is not statusQueryGetUri %q", r.header.Get("Location"), cs.StatusQueryGetURI)
	}

	// 202 while it waits for the manager.
	r, _ = w.follow(cs.StatusQueryGetURI, func(st status) bool { return st.RuntimeStatus == "Running" })
	if r.code != http.StatusAccepted {
		t.Fatalf("waiting instance answered %s, want 202", r)
	}

	// Approve through sendEventPostUri, {eventName} filled in.
	r = w.send("POST", strings.Replace(cs.SendEventPostURI, "{eventName}", "Approval", 1), "application/json", "true")
	if r.code != http.StatusAccepted {
		t.Fatalf("raise Approval: %s", r)
	}

	r, seen := w.follow(cs.StatusQueryGetURI, func(st status) bool { return st.RuntimeStatus != "Running" && st.RuntimeStatus != "Pending" })
	if r.code != http.StatusOK {
		t.Fatalf("finished instance answered %s, want 200", r)
	}
	requireKeys(t, r.body, statusFields)
	st := decode[status](t, r.body)
	if st.Name != "ApprovalWorkflow" || st.InstanceID != cs.ID || st.RuntimeStatus != "Completed" ||
		string(st.CustomStatus) != "null" || !jsonEq(st.Input, `{"timeoutSeconds": 60}`) {
		t.Errorf("final status %+v (statuses seen %v)", st, seen)
	}
	if out := output[[]string](t, st); !reflect.DeepEqual(out, []string{approvedText}) {
		t.Errorf("output %q, want [%q]", out, approvedText)
	}
	created, err1 := time.Parse("2006-01-02T15:04:05Z", st.CreatedTime)
	updated, err2 := time.Parse("2006-01-02T15:04:05Z", st.LastUpdatedTime)
	if err1 != nil || err2 != nil || updated.Before(created) || time.Since(created) > time.Minute {
		t.Errorf("createdTime %q lastUpdatedTime %q", st.CreatedTime, st.LastUpdatedTime)
	}
}

// TestSeedTranscriptsOverHTTP reproduces the seed's two transcripts field
// for field: OrchFunction's approval and rejection, and the escalation
// when nobody answers in time.
func TestSeedTranscriptsOverHTTP(t *testing.T) {
	a := newAPI(t)
	for _, tc := range []struct {
		name, path, input string
		want              []string
	}{
		{"OrchFunction", "/api/orchestrators/OrchFunction", "", []string{approvedText, rejectedText}},
		{"escalation", "/api/orchestrators/ApprovalWorkflow", `{"timeoutSeconds": 0.2}`, []string{escalationText}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := walker{t: t, http: &http.Client{Timeout: 30 * time.Second}}
			r := w.send("POST", a.srv.URL+tc.path+"?code="+testKey, "application/json", tc.input)
			if r.code != http.StatusAccepted {
				t.Fatalf("start: %s", r)
			}
			cs := decode[checkStatus](t, r.body)
			r, _ = w.follow(cs.StatusQueryGetURI, func(st status) bool { return st.RuntimeStatus == "Completed" })
			requireKeys(t, r.body, statusFields)
			st := decode[status](t, r.body)
			if out := output[[]string](t, st); !reflect.DeepEqual(out, tc.want) {
				t.Errorf("output %q, want %q", out, tc.want)
			}
			if tc.input == "" && string(st.Input) != "null" {
				t.Errorf("input %s, want null", st.Input)
			}
			if string(st.CustomStatus) != "null" {
				t.Errorf("customStatus %s, want null", st.CustomStatus)
			}
		})
	}
}
