package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/worker"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	"github.com/nats-io/nats-server/v2/server"
)

// binary is the client command built for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "endure-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "client")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build client: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	approvedText = "Your project design proposal has been -  Approved!"
	hubName      = "cli"
)

// system is a task hub on a real embedded nats-server with workers in this
// process; the tests drive it with the client binary.
type system struct {
	t          *testing.T
	srv        *server.Server
	flakyCalls *atomic.Int32
}

func newSystem(t *testing.T) *system {
	t.Helper()
	srv := testnats.Server(t)
	nc := testnats.Connect(t, srv)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: hubName, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s := &system{t: t, srv: srv, flakyCalls: new(atomic.Int32)}
	orch, acts := workflow.NewRegistry(), activity.NewRegistry()
	for _, err := range []error{
		workflows.RegisterOrchestrators(orch),
		workflows.RegisterActivities(acts),
		workflow.Register(orch, "WaitEvent", func(ctx *workflow.Context, _ any) (json.RawMessage, error) {
			return workflow.WaitForExternalEvent[json.RawMessage](ctx, "go").Await()
		}),
		workflow.Register(orch, "Flaky", func(ctx *workflow.Context, in int) (int, error) {
			return workflow.CallActivity[int](ctx, "Flaky", in).Await()
		}),
		activity.Register(acts, "Flaky", func(_ context.Context, in int) (int, error) {
			if s.flakyCalls.Add(1) == 1 {
				return 0, errors.New("database unavailable")
			}
			return in * 2, nil
		}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ow := worker.NewOrchestratorWorker(hub, orch, worker.OrchestratorConfig{Logger: quiet})
	aw := worker.NewActivityWorker(hub, acts, worker.ActivityConfig{Logger: quiet})
	for _, run := range []func(context.Context) error{ow.Run, aw.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(wctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker: %v", err)
			}
		}()
	}
	t.Cleanup(func() { stop(); wg.Wait() })
	<-ow.Ready()
	<-aw.Ready()
	return s
}

// result is what a run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the client binary against the system's hub.
func (s *system) run(args ...string) result {
	s.t.Helper()
	return runBinary(s.t, append(args, "--nats", s.srv.ClientURL(), "--hub", hubName)...)
}

func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run client %v: %v", args, err)
	}
	return r
}

// ok runs the binary and fails unless it exits 0.
func (s *system) ok(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("client %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails runs the binary and checks its exit code and one-line reason.
func (s *system) fails(code int, reason string, args ...string) {
	s.t.Helper()
	checkFailure(s.t, s.run(args...), code, reason, args)
}

func checkFailure(t *testing.T, r result, code int, reason string, args []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("client %s: %s\nwant exit %d", strings.Join(args, " "), r, code)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "error: ") || !strings.Contains(last, reason) {
		t.Fatalf("client %s: stderr %q, want a line \"error: ...%s...\"", strings.Join(args, " "), r.stderr, reason)
	}
}

// statusOf reads an instance's status object through the binary.
func (s *system) statusOf(id string) map[string]any {
	s.t.Helper()
	var st map[string]any
	r := s.ok("status", id, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		s.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

// waitStatus polls `client status --json` until the runtime status is want.
func (s *system) waitStatus(id, want string) map[string]any {
	s.t.Helper()
	var st map[string]any
	testnats.Eventually(s.t, 30*time.Second, func() error {
		st = s.statusOf(id)
		if st["runtimeStatus"] != want {
			return fmt.Errorf("status %v, want %s", st["runtimeStatus"], want)
		}
		return nil
	})
	return st
}

// start starts an instance with the binary and returns the printed ID.
func (s *system) start(args ...string) string {
	s.t.Helper()
	r := s.ok(append([]string{"start"}, args...)...)
	id := strings.TrimSpace(r.stdout)
	if id == "" || strings.ContainsAny(id, " \n") {
		s.t.Fatalf("start printed %q, want an instance ID", r.stdout)
	}
	return id
}

var commandNames = []string{"dev", "serve", "start", "status", "list", "watch", "raise", "terminate", "suspend", "resume", "rewind", "restart", "purge", "schedule"}

// TestEveryCommandHasHelp runs --help on every command.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, name := range commandNames {
		r := runBinary(t, name, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "usage: client "+name) || !strings.Contains(r.stderr, "-nats") {
			t.Errorf("client %s --help: %s", name, r)
		}
	}
	r := runBinary(t, "--help")
	for _, name := range commandNames {
		if !strings.Contains(r.stderr, "  "+name+" ") {
			t.Errorf("client --help does not list %s:\n%s", name, r.stderr)
		}
	}
	if r.code != 0 || !strings.Contains(r.stderr, "Exit codes") {
		t.Errorf("client --help: %s", r)
	}
	checkFailure(t, runBinary(t), 2, "", nil)
	checkFailure(t, runBinary(t, "frobnicate"), 2, "unknown command", nil)
}

// TestApprovalFromTheCommandLine runs the reference scenario with the
// binary: start, watch while approving, and read the result.
func TestApprovalFromTheCommandLine(t *testing.T) {
	s := newSystem(t)
	id := s.start("ApprovalWorkflow", "--input", `{"timeoutSeconds": 60}`)
	s.waitStatus(id, "Running")

	r := s.ok("status", id)
	for _, want := range []string{"Instance", id, "ApprovalWorkflow", "Running", `{"timeoutSeconds":60}`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status table lacks %q:\n%s", want, r.stdout)
		}
	}

	// watch follows the instance until it finishes.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, binary, "watch", id, "--nats", s.srv.ClientURL(), "--hub", hubName)
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var werr bytes.Buffer
	watch.Stderr = &werr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	// Wait until watch has printed the history so far, then approve.
	waitLine(t, lines, &seen, "TimerCreated")
	s.ok("raise", id, "Approval", "true")
	for line := range lines {
		seen = append(seen, line)
	}
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v\n%s\n%s", err, strings.Join(seen, "\n"), werr.String())
	}
	out := strings.Join(seen, "\n")
	for _, want := range []string{"ExecutionStarted", "TimerCreated", "EventRaised", "TaskScheduled", "TaskCompleted",
		"ExecutionCompleted", "Completed", approvedText} {
		if !strings.Contains(out, want) {
			t.Errorf("watch output lacks %q:\n%s", want, out)
		}
	}

	st := s.statusOf(id)
	if st["runtimeStatus"] != "Completed" || fmt.Sprint(st["output"]) != "["+approvedText+"]" {
		t.Errorf("final status %v", st)
	}
	r = s.ok("status", id, "--history")
	if !strings.Contains(r.stdout, "EVENT") || !strings.Contains(r.stdout, "EventRaised") {
		t.Errorf("status --history:\n%s", r.stdout)
	}
	r = s.ok("status", id, "--history", "--json")
	var withHistory struct {
		HistoryEvents []map[string]any `json:"historyEvents"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &withHistory); err != nil || len(withHistory.HistoryEvents) == 0 {
		t.Errorf("status --history --json: %v\n%s", err, r.stdout)
	}
	// Watching a finished instance prints its history and ends at once.
	if r = s.ok("watch", id, "--json"); !strings.Contains(r.stdout, `"status"`) || !strings.Contains(r.stdout, `"event"`) {
		t.Errorf("watch --json of a finished instance:\n%s", r.stdout)
	}
}

func waitLine(t *testing.T, lines <-chan string, seen *[]string, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %q:\n%s", want, strings.Join(*seen, "\n"))
			}
			*seen = append(*seen, line)
			if strings.Contains(line, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q after 30s:\n%s", want, strings.Join(*seen, "\n"))
		}
	}
}

// TestManagementCommands suspends, resumes, terminates, rewinds, restarts
// and purges with the binary.
func TestManagementCommands(t *testing.T) {
	s := newSystem(t)
	id := s.start("WaitEvent", "--id", "order-1")
	if id != "order-1" {
		t.Fatalf("start --id printed %q", id)
	}
	s.waitStatus(id, "Running")
	if r := s.ok("suspend", id, "--reason", "audit"); !strings.Contains(r.stdout, id) {
		t.Errorf("suspend printed %q", r.stdout)
	}
	s.waitStatus(id, "Suspended")
	s.ok("raise", id, "go", `"while suspended"`)
	s.ok("resume", id)
	if st := s.waitStatus(id, "Completed"); st["output"] != "while suspended" {
		t.Errorf("output %v", st["output"])
	}

	id2 := s.start("WaitEvent")
	s.waitStatus(id2, "Running")
	var done map[string]string
	r := s.ok("terminate", id2, "--reason", "obsolete", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &done); err != nil || done["instanceId"] != id2 {
		t.Errorf("terminate --json: %v %q", err, r.stdout)
	}
	if st := s.waitStatus(id2, "Terminated"); st["output"] != "obsolete" {
		t.Errorf("output %v", st["output"])
	}

	// start --wait exits 5 for an instance that fails; rewind fixes it.
	r = s.run("start", "Flaky", "--input", "21", "--wait")
	checkFailure(t, r, 5, "Failed", nil)
	flaky := strings.TrimSpace(regexp.MustCompile(`Instance\s+(\S+)`).FindStringSubmatch(r.stdout)[1])
	s.ok("rewind", flaky, "--reason", "fixed")
	if r := s.ok("watch", flaky); !strings.Contains(r.stdout, "ExecutionRewound") || !strings.Contains(r.stdout, "42") {
		t.Errorf("watch after rewind:\n%s", r.stdout)
	}

	// restart: a new ID by default, the same one with --same-id.
	fresh := strings.TrimSpace(s.ok("restart", flaky).stdout)
	if fresh == flaky || fresh == "" {
		t.Fatalf("restart printed %q", fresh)
	}
	if st := s.waitStatus(fresh, "Completed"); st["output"] != 42.0 || st["input"] != 21.0 {
		t.Errorf("restarted instance %v", st)
	}
	if same := strings.TrimSpace(s.ok("restart", flaky, "--same-id").stdout); same != flaky {
		t.Fatalf("restart --same-id printed %q", same)
	}
	s.waitStatus(flaky, "Completed")

	// purge: one by ID, then by creation time; running instances stay.
	running := s.start("WaitEvent")
	s.waitStatus(running, "Running")
	if r := s.ok("purge", id); !strings.Contains(r.stdout, "Purged 1 instance.") {
		t.Errorf("purge printed %q", r.stdout)
	}
	s.fails(3, "not found", "status", id)
	r = s.ok("purge", "--created-from", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--json")
	var purged map[string]int
	if err := json.Unmarshal([]byte(r.stdout), &purged); err != nil || purged["instancesDeleted"] != 3 {
		t.Errorf("purge --created-from: %v %q, want 3 deleted", err, r.stdout)
	}
	s.waitStatus(running, "Running")
	s.fails(3, "no finished instance matched", "purge", "--created-from", "2020-01-01")
}

// TestExitCodes checks that each kind of failure exits with its code and
// one line of reason.
func TestExitCodes(t *testing.T) {
	s := newSystem(t)
	done := s.start("OrchFunction")
	s.waitStatus(done, "Completed")
	running := s.start("WaitEvent")
	s.waitStatus(running, "Running")
	for _, tc := range []struct {
		code   int
		reason string
		args   []string
	}{
		{2, "unknown orchestrator", []string{"start", "NoSuchOrchestrator"}},
		{2, "not valid JSON", []string{"start", "Echo", "--input", "{"}},
		{2, "flag provided but not defined", []string{"status", done, "--frobnicate"}},
		{2, "missing arguments", []string{"status"}},
		{2, "too many arguments", []string{"status", done, "extra"}},
		{2, "unknown runtime status", []string{"list", "--status", "Sleeping"}},
		{2, "--created-from", []string{"list", "--created-from", "yesterday"}},
		{2, "continuation token", []string{"list", "--continuation-token", "forged"}},
		{2, "needs instance IDs", []string{"purge"}},
		{2, "want a time", []string{"start", "OrchFunction", "--at", "tomorrow"}},
		{2, "want create, list or delete", []string{"schedule"}},
		{2, "invalid schedule", []string{"schedule", "create", "nightly", "OrchFunction", "@every 10ms"}},
		{2, "invalid schedule", []string{"schedule", "create", "nightly", "OrchFunction", "0 0 2 * * *", "--time-zone", "Mars/Olympus"}},
		{2, "invalid schedule", []string{"schedule", "create", "nightly", "OrchFunction", "@every 1h", "--time-zone", "Europe/Paris"}},
		{2, "unknown orchestrator", []string{"schedule", "create", "nightly", "NoSuchOrchestrator", "@daily"}},
		{2, "invalid", []string{"schedule", "create", "night.ly", "OrchFunction", "@daily"}},
		{3, "schedule not found", []string{"schedule", "delete", "no-such-schedule"}},
		{3, "not found", []string{"status", "no-such-instance"}},
		{3, "not found", []string{"terminate", "no-such-instance"}},
		{3, "not found", []string{"watch", "no-such-instance"}},
		{4, "finished", []string{"raise", done, "go", "1"}},
		{4, "finished", []string{"terminate", done}},
		{4, "finished", []string{"suspend", done}},
		{4, "finished", []string{"rewind", done}},
		{4, "has not failed", []string{"rewind", running}},
		{4, "has not finished", []string{"purge", running}},
		{4, "already running", []string{"start", "WaitEvent", "--id", running}},
		{4, "already running", []string{"restart", running, "--same-id"}},
	} {
		s.fails(tc.code, tc.reason, tc.args...)
	}
	checkFailure(t, runBinary(t, "status", done, "--nats", "nats://127.0.0.1:1", "--hub", hubName), 1, "connect to nats://127.0.0.1:1", nil)
}

// TestListCommand lists with filters, paging and JSON.
func TestListCommand(t *testing.T) {
	s := newSystem(t)
	var runningIDs []string
	for i := 0; i < 3; i++ {
		runningIDs = append(runningIDs, s.start("WaitEvent", "--id", fmt.Sprintf("wait-%d", i)))
	}
	done := s.start("OrchFunction", "--id", "orch-1")
	for _, id := range runningIDs {
		s.waitStatus(id, "Running")
	}
	s.waitStatus(done, "Completed")

	r := s.ok("list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "INSTANCE") {
		t.Fatalf("list table:\n%s", r.stdout)
	}
	for _, id := range append(runningIDs, done) {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("list lacks %s:\n%s", id, r.stdout)
		}
	}

	var page struct {
		Instances []struct {
			InstanceID    string `json:"instanceId"`
			RuntimeStatus string `json:"runtimeStatus"`
		} `json:"instances"`
		ContinuationToken string `json:"continuationToken"`
	}
	r = s.ok("list", "--status", "Running", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Instances) != 3 || page.ContinuationToken != "" {
		t.Fatalf("list --status Running --json: %v\n%s", err, r.stdout)
	}
	for _, in := range page.Instances {
		if in.RuntimeStatus != "Running" {
			t.Errorf("listed %+v", in)
		}
	}
	r = s.ok("list", "--prefix", "orch-", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Instances) != 1 || page.Instances[0].InstanceID != "orch-1" {
		t.Fatalf("list --prefix: %v\n%s", err, r.stdout)
	}

	// Paging: two at a time, by token, covers everything once.
	seen := map[string]int{}
	token := ""
	for pages := 0; pages < 10; pages++ {
		args := []string{"list", "--top", "2", "--json"}
		if token != "" {
			args = append(args, "--continuation-token", token)
		}
		r = s.ok(args...)
		page.ContinuationToken = ""
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Instances) > 2 {
			t.Fatalf("list --top 2: %v\n%s", err, r.stdout)
		}
		for _, in := range page.Instances {
			seen[in.InstanceID]++
		}
		if token = page.ContinuationToken; token == "" {
			break
		}
	}
	if len(seen) != 4 {
		t.Fatalf("paging listed %v, want 4 instances once each", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
	if r = s.ok("list", "--top", "2"); !strings.Contains(r.stderr, "--continuation-token") {
		t.Errorf("list --top 2 does not tell how to go on: %s", r)
	}
	if r = s.ok("list", "--top", "1", "--all"); strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("list --all:\n%s", r.stdout)
	}
}

// TestServeNeedsTheKey runs `client serve` without a key: it prints a
// generated one, and the API refuses requests without it.
func TestServeNeedsTheKey(t *testing.T) {
	s := newSystem(t)
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"generated", nil, ""},
		{"flag", []string{"--key", "flag-key"}, ""},
		{"env", nil, "env-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--nats", s.srv.ClientURL(), "--hub", hubName}, tc.args...)
			cmd := exec.CommandContext(ctx, binary, args...)
			cmd.Env = append(os.Environ(), "ENDURE_API_KEY="+tc.env)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()

			key := map[string]string{"flag": "flag-key", "env": "env-key"}[tc.name]
			outLines := make(chan string, 10)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					outLines <- sc.Text()
				}
				close(outLines)
			}()
			if tc.name == "generated" {
				var first string
				select {
				case first = <-outLines:
				case <-time.After(30 * time.Second):
				}
				if !strings.HasPrefix(first, "API key: ") {
					t.Fatalf("serve did not print its key first: %q", first)
				}
				key = strings.TrimPrefix(first, "API key: ")
				if len(key) < 32 {
					t.Fatalf("generated key %q is short", key)
				}
			}
			addr := ""
			listening := regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`)
			errs := bufio.NewScanner(stderr)
			for addr == "" && errs.Scan() {
				if m := listening.FindStringSubmatch(errs.Text()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				t.Fatal("serve never said where it listens")
			}
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			base := "http://" + addr + "/runtime/webhooks/durabletask/instances/nobody"
			for _, c := range []struct {
				url    string
				header string
				want   int
			}{
				{base, "", http.StatusUnauthorized},
				{base + "?code=wrong", "", http.StatusUnauthorized},
				{base + "?code=" + key, "", http.StatusNotFound},
				{base, key, http.StatusNotFound},
			} {
				req, _ := http.NewRequest("GET", c.url, nil)
				if c.header != "" {
					req.Header.Set("x-functions-key", c.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("GET %s (header %q): %d, want %d", c.url, c.header, resp.StatusCode, c.want)
				}
			}
			cancel()
			_ = cmd.Wait()
			for line := range outLines {
				t.Errorf("serve printed %q on stdout after its key", line)
			}
		})
	}
}

// TestScheduleCommands creates a recurring schedule with the binary, sees
// it listed (text and JSON) and start instances, then deletes it.
func TestScheduleCommands(t *testing.T) {
	s := newSystem(t)
	r := s.ok("schedule", "create", "every-second", "OrchFunction", "@every 1s")
	if !strings.Contains(r.stdout, "Schedule every-second starts OrchFunction @every 1s") {
		t.Fatalf("schedule create printed %q", r.stdout)
	}
	s.ok("schedule", "create", "--time-zone", "Europe/Paris", "--input", `{"note": "weekdays"}`, "morning", "OrchFunction", "0 30 9 * * 1-5")

	r = s.ok("schedule", "list")
	for _, want := range []string{"every-second  OrchFunction  @every 1s       UTC", "morning       OrchFunction  0 30 9 * * 1-5  Europe/Paris  {\"note\":\"weekdays\"}"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("schedule list:\n%s\nwant a line with %q", r.stdout, want)
		}
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(s.ok("schedule", "list", "--json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[1]["timeZone"] != "Europe/Paris" || list[1]["spec"] != "0 30 9 * * 1-5" {
		t.Fatalf("schedule list --json: %v", list)
	}

	// The every-second schedule starts instances named after their time.
	testnats.Eventually(t, 20*time.Second, func() error {
		var page struct{ Instances []map[string]any }
		out := s.ok("list", "--prefix", "every-second-", "--status", "Completed", "--json").stdout
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			return fmt.Errorf("list --json: %v: %s", err, out)
		}
		if len(page.Instances) < 2 {
			return fmt.Errorf("%d scheduled instances completed", len(page.Instances))
		}
		return nil
	})

	r = s.ok("schedule", "delete", "every-second")
	if !strings.Contains(r.stdout, "Deleted schedule every-second.") {
		t.Fatalf("schedule delete printed %q", r.stdout)
	}
	if out := s.ok("schedule", "list").stdout; strings.Contains(out, "every-second") || !strings.Contains(out, "morning") {
		t.Fatalf("schedule list after delete:\n%s", out)
	}
	s.fails(3, "schedule not found", "schedule", "delete", "every-second")
}

// TestStartAt starts an instance two seconds ahead: it is Pending until
// then and starts no earlier.
func TestStartAt(t *testing.T) {
	s := newSystem(t)
	asked := time.Now()
	id := s.start("WaitEvent", "--at", "2s")
	if st := s.statusOf(id); st["runtimeStatus"] != "Pending" {
		t.Fatalf("status right after start --at 2s: %v, want Pending", st["runtimeStatus"])
	}
	s.waitStatus(id, "Running")
	if waited := time.Since(asked); waited < 2*time.Second {
		t.Fatalf("Running after %v, want at least 2s", waited)
	}
	s.ok("raise", id, "go", `"now"`)
	s.waitStatus(id, "Completed")
}
