// Package integration_test runs Endure as it is deployed: a real nats-server
// process with file storage, the orchestrator and activity worker binaries,
// and `client serve`, all talking over real sockets. Tests drive the system
// only through the Durable Functions HTTP API (plus, where a test must look
// at what was recorded, a read of the task hub), and they kill and restart
// processes to check that no work is lost or done twice.
package integration_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/nats-io/nats.go"
)

// binaries are the programs under test, built once by TestMain.
var binaries struct {
	client, orchestrator, activity, natsServer string
}

// sharedNATS serves every test that does not stop its server; each test
// keeps to its own task hub on it.
var sharedNATS *natsServer

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "endure-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	sharedNATS, err = launchNATS(filepath.Join(dir, "shared-nats"), -1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: shared nats-server:", err)
		return 1
	}
	code := m.Run()
	sharedNATS.proc.Kill()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- shared nats-server log (last lines)\n%s\n", sharedNATS.proc.Tail(40))
	}
	return code
}

// buildBinaries builds the three Endure commands and nats-server into dir.
// Binaries are built without -race: the race detector watches the test
// process, the processes under test are black boxes.
func buildBinaries(dir string) error {
	builds := []struct {
		out *string
		pkg string
	}{
		{&binaries.client, "../cmd/client"},
		{&binaries.orchestrator, "../cmd/orchestrator-worker"},
		{&binaries.activity, "../cmd/activity-worker"},
		{&binaries.natsServer, "github.com/nats-io/nats-server/v2"},
	}
	for _, b := range builds {
		name := filepath.Base(b.pkg)
		if name == "v2" {
			name = "nats-server"
		}
		*b.out = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", *b.out, b.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// logBuffer keeps every line a process writes, for tests to wait on.
type logBuffer struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
}

// Write implements io.Writer; it splits the output into lines.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, string(b.partial[:i]))
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

// Lines returns the complete lines written so far.
func (b *logBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// process is a program under test, running as its own OS process.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{} // closed once the process has exited
	err  error         // exit error, set before done closes
	// stopped is set when the test kills or stops the process on purpose.
	stopped atomic.Bool
}

// launch starts a program; its stdout and stderr go to its log buffer.
func launch(name, path string, args ...string) (*process, error) {
	p := &process{name: name, log: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Alive reports whether the process is still running.
func (p *process) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exitErr returns how the process ended, or nil while it runs.
func (p *process) exitErr() error {
	if p.Alive() {
		return nil
	}
	return p.err
}

// Kill kills the process with SIGKILL (no chance to clean up) and waits
// until it is gone.
func (p *process) Kill() {
	p.stopped.Store(true)
	if p.Alive() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Stop sends sig and waits up to timeout for the process to exit.
func (p *process) Stop(sig os.Signal, timeout time.Duration) error {
	p.stopped.Store(true)
	if err := p.cmd.Process.Signal(sig); err != nil && p.Alive() {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s still running %v after %v", p.name, timeout, sig)
	}
}

// FindLine returns the first line matching re, or "".
func (p *process) FindLine(re *regexp.Regexp) string {
	for _, l := range p.log.Lines() {
		if re.MatchString(l) {
			return l
		}
	}
	return ""
}

// CountLines counts the lines matching re.
func (p *process) CountLines(re *regexp.Regexp) int {
	n := 0
	for _, l := range p.log.Lines() {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// WaitForLine waits until the process logs a line matching pattern and
// returns it. It fails the test at once if the process exits first.
func (p *process) WaitForLine(t testing.TB, pattern string, timeout time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var line string
	testnats.Eventually(t, timeout, func() error {
		if line = p.FindLine(re); line != "" {
			return nil
		}
		if !p.Alive() {
			t.Fatalf("%s exited (%v) before logging /%s/; its log:\n%s", p.name, p.exitErr(), pattern, p.Tail(30))
		}
		return fmt.Errorf("%s has not logged /%s/", p.name, pattern)
	})
	return line
}

// Tail returns the last n lines of the log.
func (p *process) Tail(n int) string {
	lines := p.log.Lines()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// natsServer is a nats-server process with JetStream on file storage.
type natsServer struct {
	dir  string
	port int
	proc *process
}

var natsListening = regexp.MustCompile(`Listening for client connections on [^ ]+:(\d+)`)

// launchNATS starts nats-server on port (-1: a free one, read back from its
// log) with its store in dir, and waits until JetStream answers.
func launchNATS(dir string, port int) (*natsServer, error) {
	p, err := launch("nats-server", binaries.natsServer, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	s := &natsServer{dir: dir, port: port, proc: p}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.ready()
		if err == nil {
			return s, nil
		}
		if !p.Alive() || time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("nats-server not ready: %v; its log:\n%s", err, p.Tail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ready reports whether the server accepts clients and JetStream answers.
func (s *natsServer) ready() error {
	if s.port <= 0 {
		m := natsListening.FindStringSubmatch(s.proc.FindLine(natsListening))
		if m == nil {
			return fmt.Errorf("no listening line yet")
		}
		s.port, _ = strconv.Atoi(m[1])
	}
	nc, err := nats.Connect(s.URL(), nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = nc.Request("$JS.API.INFO", nil, 2*time.Second)
	return err
}

// URL is the server's client URL.
func (s *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// startNATS starts a nats-server of the test's own, killed when the test ends.
func startNATS(t testing.TB) *natsServer {
	t.Helper()
	s, err := launchNATS(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.proc.Kill() })
	dumpOnFailure(t, s.proc)
	return s
}

// Restart starts the server again on the same port and store, after it was
// stopped.
func (s *natsServer) Restart(t testing.TB) {
	t.Helper()
	if s.proc.Alive() {
		t.Fatal("restart of a nats-server that still runs")
	}
	old := s.proc
	ns, err := launchNATS(s.dir, s.port)
	if err != nil {
		t.Fatalf("restart nats-server: %v\nlog before the restart:\n%s", err, old.Tail(30))
	}
	s.proc = ns.proc
	t.Cleanup(func() { ns.proc.Kill() })
	dumpOnFailure(t, ns.proc)
}

// dumpOnFailure logs the end of p's log when the test fails.
func dumpOnFailure(t testing.TB, p *process) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s (alive=%v, exit=%v), last lines:\n%s", p.name, p.Alive(), p.exitErr(), p.Tail(60))
		}
	})
}

// system is one task hub with its processes: orchestrator workers,
// activity workers and the HTTP API.
type system struct {
	t       *testing.T
	nats    *natsServer
	hub     string
	baseURL string // of the HTTP API, e.g. http://127.0.0.1:12345
	key     string // the HTTP API's access key
	http    *http.Client
	api     *process
	procs   []*process
	// outage makes status polls retry 5xx answers: set by tests that stop
	// NATS on purpose.
	outage bool
}

var hubSeq atomic.Int64

// newSystem returns an empty system on nats with a hub name of its own;
// tests start the processes they need.
func newSystem(t *testing.T, ns *natsServer) *system {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	s := &system{
		t:    t,
		nats: ns,
		hub:  fmt.Sprintf("it-%s-%d", name, hubSeq.Add(1)),
		key:  fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), hubSeq.Add(1)),
		http: &http.Client{Timeout: 15 * time.Second},
	}
	t.Cleanup(s.http.CloseIdleConnections)
	return s
}

// startStandard starts the usual deployment: one orchestrator worker, n
// activity workers (with extra flags) and the HTTP API.
func (s *system) startStandard(activityWorkers int, activityFlags ...string) []*process {
	s.t.Helper()
	s.startOrchestratorWorker()
	var acts []*process
	for i := 0; i < activityWorkers; i++ {
		acts = append(acts, s.startActivityWorker(activityFlags...))
	}
	s.startAPI()
	return acts
}

func (s *system) common() []string {
	return []string{"--nats", s.nats.URL(), "--hub", s.hub}
}

// start launches a process that the test's end kills.
func (s *system) start(name, path string, args ...string) *process {
	s.t.Helper()
	p, err := launch(name, path, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.procs = append(s.procs, p)
	s.t.Cleanup(p.Kill)
	dumpOnFailure(s.t, p)
	return p
}

// startOrchestratorWorker starts an orchestrator worker at debug level (it
// logs the partitions it serves) and waits until it consumes its inbox
// (and has registered its orchestrators).
func (s *system) startOrchestratorWorker() *process {
	s.t.Helper()
	args := append(s.common(), "--log-level", "debug")
	p := s.start(fmt.Sprintf("orchestrator-worker#%d", len(s.procs)), binaries.orchestrator, args...)
	p.WaitForLine(s.t, `msg="orchestrator worker running"`, 30*time.Second)
	return p
}

// startActivityWorker starts an activity worker at debug level, so that it
// logs every activity it starts and finishes, and waits until it consumes.
func (s *system) startActivityWorker(flags ...string) *process {
	s.t.Helper()
	args := append(s.common(), "--log-level", "debug")
	p := s.start(fmt.Sprintf("activity-worker#%d", len(s.procs)), binaries.activity, append(args, flags...)...)
	p.WaitForLine(s.t, `msg="activity worker running"`, 30*time.Second)
	return p
}

var apiListening = regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`)

// startAPI starts `client serve` on a free port and waits until it answers.
func (s *system) startAPI() *process {
	s.t.Helper()
	p := s.start("client-serve", binaries.client, append([]string{"serve"}, append(s.common(), "--listen", "127.0.0.1:0", "--key", s.key)...)...)
	line := p.WaitForLine(s.t, apiListening.String(), 30*time.Second)
	s.baseURL = "http://" + apiListening.FindStringSubmatch(line)[1]
	s.api = p
	testnats.Eventually(s.t, 10*time.Second, func() error {
		resp, err := s.http.Get(s.url("/runtime/webhooks/durabletask/instances/readiness-probe"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("readiness probe: %s", resp.Status)
		}
		return nil
	})
	return p
}

// url returns the HTTP API's URL for a path (with or without a query),
// carrying the access key as the code parameter. URIs that the API answers
// with carry the key already and are used as given.
func (s *system) url(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return s.baseURL + path + sep + "code=" + s.key
}

// requireAlive fails the test if any of the system's processes has exited
// that the test did not stop itself.
func (s *system) requireAlive() {
	s.t.Helper()
	for _, p := range s.procs {
		if !p.Alive() && !p.stopped.Load() {
			s.t.Errorf("%s exited: %v", p.name, p.exitErr())
		}
	}
}

// openHub opens the system's task hub from the test process, to inspect
// what the workers recorded.
func (s *system) openHub() *jetstream.Hub {
	s.t.Helper()
	nc, err := nats.Connect(s.nats.URL())
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub, err := jetstream.Open(ctx, nc, jetstream.Config{Name: s.hub})
	if err != nil {
		s.t.Fatal(err)
	}
	return hub
}
