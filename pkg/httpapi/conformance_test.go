package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/httpapi"
	"github.com/endurehq/endure/pkg/protocol"
)

// fixture makes an instance in some state for a row and returns its ID.
type fixture func(a *api) string

func startVia(a *api, name string, input any, until func(protocol.RuntimeStatus) bool) string {
	a.t.Helper()
	opts := []client.StartOption{}
	if input != nil {
		opts = append(opts, client.WithInput(input))
	}
	id, err := a.client.Start(context.Background(), name, opts...)
	must(a.t, err)
	a.waitFor(id, until)
	return id
}

// waitFor polls the instance's status (through the client) until until
// holds.
func (a *api) waitFor(id string, until func(protocol.RuntimeStatus) bool) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for st, err := range a.client.Watch(ctx, id) {
		must(a.t, err)
		if until(st.RuntimeStatus) {
			return
		}
	}
}

func is(s protocol.RuntimeStatus) func(protocol.RuntimeStatus) bool {
	return func(got protocol.RuntimeStatus) bool { return got == s }
}

var (
	running fixture = func(a *api) string { return startVia(a, "WaitEvent", nil, is(protocol.StatusRunning)) }
	// completed ran Echo with input {"x":1}.
	completed fixture = func(a *api) string {
		return startVia(a, "Echo", json.RawMessage(`{"x":1}`), is(protocol.StatusCompleted))
	}
	failed     fixture = func(a *api) string { return startVia(a, "Fail", nil, is(protocol.StatusFailed)) }
	terminated fixture = func(a *api) string {
		id := running(a)
		must(a.t, a.client.Terminate(context.Background(), id, "stop"))
		a.waitFor(id, is(protocol.StatusTerminated))
		return id
	}
	suspended fixture = func(a *api) string {
		id := running(a)
		must(a.t, a.client.Suspend(context.Background(), id, "hold"))
		a.waitFor(id, is(protocol.StatusSuspended))
		return id
	}
	unknown fixture = func(*api) string { return "no-such-instance" }
	none    fixture = func(*api) string { return "" }
)

// row is one request of the conformance table and what must answer it.
type row struct {
	name   string
	given  fixture // instance the path's {id} names
	method string
	path   string // under the server, {id} filled in; the key is added unless noKey
	ctype  string // Content-Type, if any
	body   string
	header []string // extra headers, name/value pairs
	noKey  bool
	want   int
	// check inspects the answer beyond its status code.
	check func(t *testing.T, a *api, id string, r response)
}

// TestHTTPConformance sends every request of the reference's tables to a
// real server and checks status codes, headers and bodies.
func TestHTTPConformance(t *testing.T) {
	a := newAPI(t)
	inst := mgmt("/instances/{id}")
	rows := []row{
		// Start.
		{name: "start answers 202, Location, Retry-After and the check-status body", given: none,
			method: "POST", path: "/api/orchestrators/Echo", ctype: "application/json", body: `{"a":1}`, want: 202,
			check: checkStartAnswer},
		{name: "start under a chosen ID", given: none, method: "POST", path: "/api/orchestrators/Echo/chosen-id-1",
			want: 202, check: func(t *testing.T, a *api, _ string, r response) {
				if cs := decode[checkStatus](t, r.body); cs.ID != "chosen-id-1" {
					t.Errorf("id %q, want chosen-id-1", cs.ID)
				}
			}},
		{name: "start with an empty body has a null input", given: none, method: "POST", path: "/api/orchestrators/Echo?timeout=20",
			want: 200, check: bodyIs("null")},
		{name: "start with timeout answers 200 and the output when it completes in time", given: none,
			method: "POST", path: "/api/orchestrators/Echo?timeout=20&pollingInterval=1", ctype: "application/json",
			body: `{"a": [1, 2]}`, want: 200, check: bodyIs(`{"a":[1,2]}`)},
		{name: "start with timeout answers 202 when it does not complete in time", given: none,
			method: "POST", path: "/api/orchestrators/WaitEvent?timeout=0.3&pollingInterval=0.1", want: 202,
			check: func(t *testing.T, a *api, _ string, r response) {
				if r.header.Get("Location") == "" || r.header.Get("Retry-After") != "10" {
					t.Errorf("headers %v, want Location and Retry-After: 10", r.header)
				}
				requireKeys(t, r.body, checkStatusFields)
			}},
		{name: "start with timeout of a failing orchestrator answers its status", given: none,
			method: "POST", path: "/api/orchestrators/Fail?timeout=20", want: 200, check: runtimeStatusIs("Failed")},
		{name: "start with timeout and returnInternalServerErrorOnFailure answers 500 for Failed", given: none,
			method: "POST", path: "/api/orchestrators/Fail?timeout=20&returnInternalServerErrorOnFailure=true", want: 500,
			check: runtimeStatusIs("Failed")},
		{name: "start with bad JSON", given: none, method: "POST", path: "/api/orchestrators/Echo", ctype: "application/json",
			body: `{"a":`, want: 400, check: messageContains("JSON")},
		{name: "start of an unknown orchestrator", given: none, method: "POST", path: "/api/orchestrators/NoSuchThing", want: 400,
			check: messageContains("NoSuchThing")},
		{name: "start with a bad timeout", given: none, method: "POST", path: "/api/orchestrators/Echo?timeout=soon", want: 400,
			check: messageContains("timeout")},
		{name: "start with an instance ID that cannot be carried", given: none, method: "POST", path: "/api/orchestrators/Echo/bad.id",
			want: 400},
		{name: "start under the ID of a running instance", given: running, method: "POST", path: "/api/orchestrators/WaitEvent/{id}",
			want: 409},
		{name: "start under the ID of a finished instance replaces it", given: completed, method: "POST", path: "/api/orchestrators/Echo/{id}",
			want: 202},

		// Status.
		{name: "status of a running instance answers 202 with Location and Retry-After", given: running, method: "GET", path: inst,
			want: 202, check: func(t *testing.T, a *api, id string, r response) {
				requireKeys(t, r.body, statusFields)
				if r.header.Get("Retry-After") != "5" {
					t.Errorf("Retry-After %q, want 5", r.header.Get("Retry-After"))
				}
				if loc := r.header.Get("Location"); loc != a.url(strings.ReplaceAll(inst, "{id}", id)) {
					t.Errorf("Location %q, want the status URI", loc)
				}
				if st := decode[status](t, r.body); st.RuntimeStatus != "Running" || st.Name != "WaitEvent" || st.InstanceID != id {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "status of a suspended instance answers 202", given: suspended, method: "GET", path: inst, want: 202,
			check: runtimeStatusIs("Suspended")},
		{name: "status of a completed instance answers 200 with input and output", given: completed, method: "GET", path: inst,
			want: 200, check: func(t *testing.T, a *api, id string, r response) {
				requireKeys(t, r.body, statusFields)
				st := decode[status](t, r.body)
				if st.RuntimeStatus != "Completed" || !jsonEq(st.Input, `{"x":1}`) || !jsonEq(st.Output, `{"x":1}`) ||
					string(st.CustomStatus) != "null" {
					t.Errorf("status %+v", st)
				}
				for _, ts := range []string{st.CreatedTime, st.LastUpdatedTime} {
					if _, err := time.Parse("2006-01-02T15:04:05Z", ts); err != nil {
						t.Errorf("time %q is not ISO 8601 UTC: %v", ts, err)
					}
				}
			}},
		{name: "status with showInput=false hides the input", given: completed, method: "GET", path: inst + "?showInput=false",
			want: 200, check: func(t *testing.T, a *api, id string, r response) {
				if st := decode[status](t, r.body); string(st.Input) != "null" {
					t.Errorf("input %s, want null", st.Input)
				}
			}},
		{name: "status of a failed instance answers 200", given: failed, method: "GET", path: inst, want: 200,
			check: func(t *testing.T, a *api, id string, r response) {
				if st := decode[status](t, r.body); st.RuntimeStatus != "Failed" || !bytes.Contains(st.Output, []byte("boom")) {
					t.Errorf("status %+v, want Failed with the reason in output", st)
				}
			}},
		{name: "status of a failed instance with returnInternalServerErrorOnFailure answers 500", given: failed, method: "GET",
			path: inst + "?returnInternalServerErrorOnFailure=true", want: 500, check: runtimeStatusIs("Failed")},
		{name: "status of a completed instance with returnInternalServerErrorOnFailure answers 200", given: completed, method: "GET",
			path: inst + "?returnInternalServerErrorOnFailure=true", want: 200},
		{name: "status of a terminated instance answers 200 with the reason", given: terminated, method: "GET", path: inst, want: 200,
			check: func(t *testing.T, a *api, id string, r response) {
				if st := decode[status](t, r.body); st.RuntimeStatus != "Terminated" || string(st.Output) != `"stop"` {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "status with showHistory adds historyEvents", given: completed, method: "GET", path: inst + "?showHistory=true",
			want: 200, check: func(t *testing.T, a *api, id string, r response) {
				requireKeys(t, r.body, append(statusFields, "historyEvents"))
			}},
		{name: "status of an unknown instance", given: unknown, method: "GET", path: inst, want: 404},
		{name: "status with a bad flag", given: completed, method: "GET", path: inst + "?showHistory=maybe", want: 400,
			check: messageContains("showHistory")},

		// List.
		{name: "list answers a JSON array of status objects", given: completed, method: "GET", path: mgmt("/instances"), want: 200,
			check: func(t *testing.T, a *api, id string, r response) {
				list := decode[[]json.RawMessage](t, r.body)
				if len(list) == 0 {
					t.Fatal("empty list")
				}
				for _, item := range list {
					requireKeys(t, item, statusFields)
				}
			}},
		{name: "list with a trailing slash", given: completed, method: "GET", path: mgmt("/instances/"), want: 200},
		{name: "list with an unknown runtimeStatus", given: none, method: "GET", path: mgmt("/instances?runtimeStatus=Running,Sleeping"),
			want: 400, check: messageContains("Sleeping")},
		{name: "list with a bad top", given: none, method: "GET", path: mgmt("/instances?top=0"), want: 400, check: messageContains("top")},
		{name: "list with a bad createdTimeFrom", given: none, method: "GET", path: mgmt("/instances?createdTimeFrom=yesterday"),
			want: 400, check: messageContains("createdTimeFrom")},
		{name: "list with createdTimeTo before createdTimeFrom", given: none, method: "GET",
			path: mgmt("/instances?createdTimeFrom=2026-01-02T00:00:00Z&createdTimeTo=2026-01-01T00:00:00Z"), want: 400},
		{name: "list with a forged continuation token", given: none, method: "GET", path: mgmt("/instances"),
			header: []string{"x-ms-continuation-token", "not-a-token"}, want: 400, check: messageContains("continuation token")},

		// Raise event.
		{name: "raise event answers 202 and delivers the data", given: running, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json", body: `"hello"`, want: 202, check: func(t *testing.T, a *api, id string, r response) {
				a.waitFor(id, is(protocol.StatusCompleted))
				if st, _ := a.client.Status(context.Background(), id); string(st.Output) != `"hello"` {
					t.Errorf("output %s, want \"hello\"", st.Output)
				}
			}},
		{name: "raise event with a charset parameter", given: running, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json; charset=utf-8", body: `1`, want: 202},
		{name: "raise event with a wrong Content-Type", given: running, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "text/plain", body: `"hello"`, want: 400, check: messageContains("Content-Type")},
		{name: "raise event without Content-Type", given: running, method: "POST", path: inst + "/raiseEvent/go",
			body: `"hello"`, want: 400, check: messageContains("Content-Type")},
		{name: "raise event with bad JSON", given: running, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json", body: `{"unclosed`, want: 400, check: messageContains("JSON")},
		{name: "raise event on an unknown instance", given: unknown, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json", body: `1`, want: 404},
		{name: "raise event on a completed instance", given: completed, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json", body: `1`, want: 410},
		{name: "raise event on a failed instance", given: failed, method: "POST", path: inst + "/raiseEvent/go",
			ctype: "application/json", body: `1`, want: 410},

		// Terminate, suspend, resume.
		{name: "terminate a running instance", given: running, method: "POST", path: inst + "/terminate?reason=enough", want: 202,
			check: func(t *testing.T, a *api, id string, r response) {
				a.waitFor(id, is(protocol.StatusTerminated))
			}},
		{name: "terminate a suspended instance", given: suspended, method: "POST", path: inst + "/terminate", want: 202},
		{name: "terminate an unknown instance", given: unknown, method: "POST", path: inst + "/terminate", want: 404},
		{name: "terminate a completed instance", given: completed, method: "POST", path: inst + "/terminate", want: 410},
		{name: "terminate a terminated instance", given: terminated, method: "POST", path: inst + "/terminate", want: 410},
		{name: "suspend a running instance", given: running, method: "POST", path: inst + "/suspend?reason=r", want: 202,
			check: func(t *testing.T, a *api, id string, r response) { a.waitFor(id, is(protocol.StatusSuspended)) }},
		{name: "suspend an unknown instance", given: unknown, method: "POST", path: inst + "/suspend", want: 404},
		{name: "suspend a completed instance", given: completed, method: "POST", path: inst + "/suspend", want: 410},
		{name: "resume a suspended instance", given: suspended, method: "POST", path: inst + "/resume?reason=r", want: 202,
			check: func(t *testing.T, a *api, id string, r response) { a.waitFor(id, is(protocol.StatusRunning)) }},
		{name: "resume an unknown instance", given: unknown, method: "POST", path: inst + "/resume", want: 404},
		{name: "resume a failed instance", given: failed, method: "POST", path: inst + "/resume", want: 410},

		// Rewind.
		{name: "rewind a failed instance", given: failed, method: "POST", path: inst + "/rewind?reason=retry", want: 202},
		{name: "rewind an unknown instance", given: unknown, method: "POST", path: inst + "/rewind", want: 404},
		{name: "rewind a completed instance", given: completed, method: "POST", path: inst + "/rewind", want: 410},
		{name: "rewind a terminated instance", given: terminated, method: "POST", path: inst + "/rewind", want: 410},
		{name: "rewind a running instance", given: running, method: "POST", path: inst + "/rewind", want: 409},

		// Restart.
		{name: "restart answers 202 and the check-status body of a new instance", given: completed, method: "POST",
			path: inst + "/restart", want: 202, check: func(t *testing.T, a *api, id string, r response) {
				requireKeys(t, r.body, checkStatusFields)
				cs := decode[checkStatus](t, r.body)
				if cs.ID == id || r.header.Get("Location") != cs.StatusQueryGetURI {
					t.Errorf("restart gave id %q (old %q), Location %q", cs.ID, id, r.header.Get("Location"))
				}
			}},
		{name: "restart under the same ID", given: completed, method: "POST", path: inst + "/restart?restartWithNewInstanceId=false",
			want: 202, check: func(t *testing.T, a *api, id string, r response) {
				if cs := decode[checkStatus](t, r.body); cs.ID != id {
					t.Errorf("restart gave id %q, want %q", cs.ID, id)
				}
			}},
		{name: "restart a running instance under the same ID", given: running, method: "POST",
			path: inst + "/restart?restartWithNewInstanceId=false", want: 409},
		{name: "restart a running instance under a new ID", given: running, method: "POST", path: inst + "/restart", want: 202},
		{name: "restart an unknown instance", given: unknown, method: "POST", path: inst + "/restart", want: 404},
		{name: "restart with a bad flag", given: completed, method: "POST", path: inst + "/restart?restartWithNewInstanceId=yes",
			want: 400},

		// Purge.
		{name: "purge a completed instance", given: completed, method: "DELETE", path: inst, want: 200,
			check: func(t *testing.T, a *api, id string, r response) {
				if !jsonEq(r.body, `{"instancesDeleted":1}`) {
					t.Errorf("body %s", r.body)
				}
				if _, err := a.client.Status(context.Background(), id); err == nil {
					t.Error("instance still there after purge")
				}
			}},
		{name: "purge an unknown instance", given: unknown, method: "DELETE", path: inst, want: 404},
		{name: "purge a running instance", given: running, method: "DELETE", path: inst, want: 409},
		{name: "purge many without createdTimeFrom", given: none, method: "DELETE", path: mgmt("/instances"), want: 400,
			check: messageContains("createdTimeFrom")},
		{name: "purge many of running instances", given: none, method: "DELETE",
			path: mgmt("/instances?createdTimeFrom=2020-01-01T00:00:00Z&runtimeStatus=Running"), want: 400},
		{name: "purge many that matches nothing", given: none, method: "DELETE",
			path: mgmt("/instances?createdTimeFrom=2000-01-01T00:00:00Z&createdTimeTo=2000-01-02T00:00:00Z"), want: 404},

		// Anything else.
		{name: "unknown path", given: none, method: "GET", path: "/runtime/webhooks/durabletask/orchestrations", want: 404},
		{name: "unknown verb", given: completed, method: "PUT", path: inst, want: 404},
		{name: "unknown verb on list", given: none, method: "POST", path: mgmt("/instances"), want: 404},
	}
	// Every endpoint refuses a request without the key, or with a wrong one.
	for _, ep := range []struct{ method, path string }{
		{"POST", "/api/orchestrators/Echo"}, {"POST", "/api/orchestrators/Echo/keyless"},
		{"GET", inst}, {"DELETE", inst}, {"GET", mgmt("/instances")}, {"DELETE", mgmt("/instances?createdTimeFrom=2020-01-01T00:00:00Z")},
		{"POST", inst + "/raiseEvent/go"}, {"POST", inst + "/terminate"}, {"POST", inst + "/suspend"},
		{"POST", inst + "/resume"}, {"POST", inst + "/rewind"}, {"POST", inst + "/restart"},
	} {
		rows = append(rows,
			row{name: "no key: " + ep.method + " " + ep.path, given: running, method: ep.method, path: ep.path,
				ctype: "application/json", body: "1", noKey: true, want: 401, check: stillRunning},
			row{name: "wrong key: " + ep.method + " " + ep.path, given: running, method: ep.method, path: ep.path + "?code=wrong",
				ctype: "application/json", body: "1", noKey: true, want: 401, check: stillRunning})
	}
	rows = append(rows,
		row{name: "key in the x-functions-key header", given: running, method: "GET", path: inst, noKey: true,
			header: []string{"x-functions-key", testKey}, want: 202},
		row{name: "wrong key in the header, right one in the query", given: running, method: "GET", path: inst,
			header: []string{"x-functions-key", "wrong"}, want: 401})

	for _, rw := range rows {
		t.Run(rw.name, func(t *testing.T) {
			a := a.with(t)
			id := rw.given(a)
			path := strings.ReplaceAll(rw.path, "{id}", url.PathEscape(id))
			u := a.srv.URL + path
			if !rw.noKey {
				u = a.url(path)
			}
			r := a.do(rw.method, u, rw.ctype, rw.body, rw.header...)
			if r.code != rw.want {
				t.Fatalf("%s %s answered %s, want %d", rw.method, path, r, rw.want)
			}
			if ct := r.header.Get("Content-Type"); len(r.body) > 0 && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if r.code >= 400 && r.code < 500 {
				if m := decode[map[string]any](t, r.body); m["message"] == nil && m["instancesDeleted"] == nil {
					t.Errorf("error body %s has no message", r.body)
				}
			}
			if rw.check != nil {
				rw.check(t, a, id, r)
			}
		})
	}
}

// checkStartAnswer checks a start's 202: headers and the nine URIs.
func checkStartAnswer(t *testing.T, a *api, _ string, r response) {
	requireKeys(t, r.body, checkStatusFields)
	cs := decode[checkStatus](t, r.body)
	if r.header.Get("Location") != cs.StatusQueryGetURI || r.header.Get("Retry-After") != "10" {
		t.Errorf("Location %q Retry-After %q, want the status URI and 10", r.header.Get("Location"), r.header.Get("Retry-After"))
	}
	base := a.srv.URL + httpapi.WebhookPrefix + "/instances/" + cs.ID
	q := "taskHub=api&connection=Storage&code=" + url.QueryEscape(testKey)
	for field, want := range map[string]string{
		"statusQueryGetUri":     base + "?" + q,
		"sendEventPostUri":      base + "/raiseEvent/{eventName}?" + q,
		"terminatePostUri":      base + "/terminate?reason={text}&" + q,
		"rewindPostUri":         base + "/rewind?reason={text}&" + q,
		"purgeHistoryDeleteUri": base + "?" + q,
		"restartPostUri":        base + "/restart?" + q,
		"suspendPostUri":        base + "/suspend?reason={text}&" + q,
		"resumePostUri":         base + "/resume?reason={text}&" + q,
	} {
		if got := decode[map[string]string](t, r.body)[field]; got != want {
			t.Errorf("%s = %q\n want %q", field, got, want)
		}
	}
	// The URIs work as given, key included.
	if r, st := a.waitStatus(cs.StatusQueryGetURI, "Completed"); r.code != 200 || !jsonEq(st.Output, `{"a":1}`) {
		t.Errorf("following statusQueryGetUri: %s", r)
	}
}

func stillRunning(t *testing.T, a *api, id string, _ response) {
	if st, err := a.client.Status(context.Background(), id); err != nil || st.RuntimeStatus != protocol.StatusRunning {
		t.Errorf("a refused request changed the instance: %v %v", st, err)
	}
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

func jsonEq(got []byte, want string) bool {
	var g, w any
	return json.Unmarshal(got, &g) == nil && json.Unmarshal([]byte(want), &w) == nil && deepEqual(g, w)
}

func deepEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func bodyIs(want string) func(*testing.T, *api, string, response) {
	return func(t *testing.T, _ *api, _ string, r response) {
		if !jsonEq(r.body, want) {
			t.Errorf("body %s, want %s", r.body, want)
		}
	}
}

func runtimeStatusIs(want string) func(*testing.T, *api, string, response) {
	return func(t *testing.T, _ *api, _ string, r response) {
		if st := decode[status](t, r.body); st.RuntimeStatus != want {
			t.Errorf("runtimeStatus %q, want %q: %s", st.RuntimeStatus, want, r.body)
		}
	}
}

func messageContains(s string) func(*testing.T, *api, string, response) {
	return func(t *testing.T, _ *api, _ string, r response) {
		if m := decode[map[string]string](t, r.body)["message"]; !strings.Contains(m, s) {
			t.Errorf("message %q does not mention %q", m, s)
		}
	}
}
