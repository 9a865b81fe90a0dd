package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// workerProc is one worker child process.
type workerProc struct {
	role  string
	cmd   *exec.Cmd
	ready chan struct{} // closed when the child has said it takes work
	done  chan struct{} // closed when the process has exited
	err   error         // its exit error, set before done closes

	cpuAtReady time.Duration
}

// workerSet is the worker child processes of one workload.
type workerSet struct {
	procs []*workerProc
}

// workerSpec says which children to start and how.
type workerSpec struct {
	natsURL    string
	hub        string
	roles      []string // one child per entry, started in this order
	profileDir string   // "": no CPU profiles
	profileTag string   // file name prefix of the profiles
	extraArgs  []string
}

// startWorkers re-executes the bench binary once per role, one after the
// other, each once the previous one takes work. Starting them one at a
// time keeps one worker's hub provisioning (stream updates) away from
// another's consumer creation; see newRig.
func startWorkers(ctx context.Context, spec workerSpec) (*workerSet, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find bench binary: %w", err)
	}
	set := &workerSet{}
	for _, role := range spec.roles {
		args := []string{workerFlag, role, "--nats", spec.natsURL, "--hub", spec.hub}
		if spec.profileDir != "" {
			name := fmt.Sprintf("%s-%s%d.pprof", spec.profileTag, role, set.count(role))
			args = append(args, "--cpuprofile", filepath.Join(spec.profileDir, name))
		}
		args = append(args, spec.extraArgs...)
		p, err := startWorker(exe, role, args)
		if err != nil {
			_ = set.stop()
			return nil, err
		}
		set.procs = append(set.procs, p)
		select {
		case <-p.ready:
		case <-p.done:
			_ = set.stop()
			return nil, fmt.Errorf("%s worker exited before it was ready: %v", role, p.err)
		case <-ctx.Done():
			_ = set.stop()
			return nil, fmt.Errorf("waiting for the %s worker to be ready: %w", role, ctx.Err())
		}
	}
	return set, nil
}

// startWorker starts one child. Its stdout is watched for readyLine and
// otherwise, like its stderr, goes to the bench's stderr.
func startWorker(exe, role string, args []string) (*workerProc, error) {
	p := &workerProc{role: role, cmd: exec.Command(exe, args...), ready: make(chan struct{}), done: make(chan struct{})}
	p.cmd.Stderr = os.Stderr
	p.cmd.SysProcAttr = procAttr()
	// Under the race detector (go test -race re-executes the test binary),
	// a process sleeps 1 s on exit by default; the bench stops its workers
	// after every workload.
	p.cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s worker: %w", role, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		announced := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == readyLine && !announced {
				announced = true
				close(p.ready)
				continue
			}
			fmt.Fprintln(os.Stderr, sc.Text())
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// count returns how many children have the role.
func (s *workerSet) count(role string) int {
	n := 0
	for _, p := range s.procs {
		if p.role == role {
			n++
		}
	}
	return n
}

// exited returns an error if a child has already exited.
func (s *workerSet) exited() error {
	for _, p := range s.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s worker (pid %d) exited: %v", p.role, p.cmd.Process.Pid, p.err)
		default:
		}
	}
	return nil
}

// markReady notes each child's CPU time so far, so that usage leaves out
// process start-up.
func (s *workerSet) markReady() {
	for _, p := range s.procs {
		p.cpuAtReady, _, _ = procUsage(strconv.Itoa(p.cmd.Process.Pid))
	}
}

// usage is what the children consumed.
type usage struct {
	cpu     time.Duration // user+system since markReady, summed
	peakRSS uint64        // VmHWM in bytes, summed
}

// usage reads the children's CPU time and peak RSS from /proc. Call it
// before stop.
func (s *workerSet) usage() (usage, error) {
	var u usage
	var errs []error
	for _, p := range s.procs {
		cpu, rss, err := procUsage(strconv.Itoa(p.cmd.Process.Pid))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s worker: %w", p.role, err))
			continue
		}
		u.cpu += cpu - p.cpuAtReady
		u.peakRSS += rss
	}
	return u, errors.Join(errs...)
}

// memory returns the current (VmRSS) and peak (VmHWM) resident set size of
// the children with the role, each summed over them. Call it before stop.
func (s *workerSet) memory(role string) (rss, peakRSS uint64, err error) {
	found := false
	for _, p := range s.procs {
		if p.role != role {
			continue
		}
		found = true
		now, peak, err := procMemory(strconv.Itoa(p.cmd.Process.Pid))
		if err != nil {
			return 0, 0, fmt.Errorf("%s worker: %w", role, err)
		}
		rss, peakRSS = rss+now, peakRSS+peak
	}
	if !found {
		return 0, 0, fmt.Errorf("no %s worker", role)
	}
	return rss, peakRSS, nil
}

// stop sends SIGTERM to every child, lets each finish (and write its
// profile) for up to 15 s, then kills what is left.
func (s *workerSet) stop() error {
	for _, p := range s.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	var errs []error
	deadline := time.After(15 * time.Second)
	for _, p := range s.procs {
		select {
		case <-p.done:
			if p.err != nil {
				errs = append(errs, fmt.Errorf("%s worker: %w", p.role, p.err))
			}
		case <-deadline:
			_ = p.cmd.Process.Kill()
			<-p.done
			errs = append(errs, fmt.Errorf("%s worker did not stop within 15s of SIGTERM", p.role))
		}
	}
	return errors.Join(errs...)
}
