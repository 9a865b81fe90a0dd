package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflows"
)

// fakeJobs is a job system under the test's control: it counts checks and
// reports the job done from the doneOn-th check on (never if doneOn is 0).
type fakeJobs struct {
	doneOn int64
	checks atomic.Int64
}

func (f *fakeJobs) check(_ context.Context, _ string) (bool, error) {
	n := f.checks.Add(1)
	return f.doneOn > 0 && n >= f.doneOn, nil
}

func TestMonitorEndsWhenConditionHoldsOrItExpires(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		doneOn int64
		input  func(now time.Time) workflows.MonitorInput
		want   func(t *testing.T, res workflows.MonitorResult, checks int64)
	}{{
		name:   "done after the 5th check",
		doneOn: 5,
		input: func(time.Time) workflows.MonitorInput {
			return workflows.MonitorInput{JobID: "job-1", PollIntervalMs: 10, MaxChecks: 100}
		},
		want: func(t *testing.T, res workflows.MonitorResult, checks int64) {
			if want := (workflows.MonitorResult{JobID: "job-1", Status: workflows.MonitorDone, Checks: 5}); res != want {
				t.Fatalf("result %+v, want %+v", res, want)
			}
			if checks != 5 {
				t.Fatalf("the job was checked %d times; the monitor should stop at the check that sees it done (5)", checks)
			}
		},
	}, {
		name: "expires after maxChecks",
		input: func(time.Time) workflows.MonitorInput {
			return workflows.MonitorInput{JobID: "job-2", PollIntervalMs: 10, MaxChecks: 4}
		},
		want: func(t *testing.T, res workflows.MonitorResult, checks int64) {
			if want := (workflows.MonitorResult{JobID: "job-2", Status: workflows.MonitorExpired, Checks: 4}); res != want || checks != 4 {
				t.Fatalf("result %+v after %d checks, want %+v", res, checks, want)
			}
		},
	}, {
		name: "expires at expiresAt",
		input: func(now time.Time) workflows.MonitorInput {
			at := now.Add(400 * time.Millisecond)
			return workflows.MonitorInput{JobID: "job-3", PollIntervalMs: 50, ExpiresAt: &at}
		},
		want: func(t *testing.T, res workflows.MonitorResult, checks int64) {
			if res.JobID != "job-3" || res.Status != workflows.MonitorExpired || res.Checks < 1 || int64(res.Checks) != checks {
				t.Fatalf("result %+v after %d checks, want expired after every check counted", res, checks)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &fakeJobs{doneOn: tc.doneOn}
			e := newEnv(t, jobs.check)
			in := tc.input(time.Now())
			id := e.start("Monitor", in)
			st := e.wait(id, 20*time.Second)
			if st.RuntimeStatus != protocol.StatusCompleted {
				t.Fatalf("got %s %+v", st.RuntimeStatus, st.Failure)
			}
			var res workflows.MonitorResult
			must(t, json.Unmarshal(st.Output, &res))
			if in.ExpiresAt != nil && st.LastUpdatedAt.Before(*in.ExpiresAt) {
				t.Fatalf("expired at %v, before expiresAt %v", st.LastUpdatedAt, *in.ExpiresAt)
			}
			tc.want(t, res, jobs.checks.Load())
			if n := len(e.history(id)); n > 3 {
				t.Fatalf("the last execution's history has %d records; continue-as-new should keep it at most 3", n)
			}
		})
	}
}

func TestMonitorRejectsInputThatNeverEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, (&fakeJobs{}).check)
	id := e.start("Monitor", workflows.MonitorInput{JobID: "job", PollIntervalMs: 10})
	st := e.wait(id, 10*time.Second)
	if st.RuntimeStatus != protocol.StatusFailed || st.Failure == nil || !strings.Contains(st.Failure.Message, "expiresAt or maxChecks is required") {
		t.Fatalf("got %s %+v, want Failed for a monitor without expiry", st.RuntimeStatus, st.Failure)
	}
}

// monitorIterations is how many checks TestMonitorLongRunKeepsHistoryAndMemoryBounded
// makes.
const monitorIterations = 1000

// TestMonitorLongRunKeepsHistoryAndMemoryBounded runs one monitor for
// monitorIterations checks on 1 ms timers. Continue-as-new must keep each
// execution's history at one iteration, and nothing may pile up in memory:
// neither heap nor goroutines. Not parallel: it measures the whole process.
func TestMonitorLongRunKeepsHistoryAndMemoryBounded(t *testing.T) {
	const (
		iterations = monitorIterations
		warmup     = iterations / 10
		maxGrowth  = 20 << 20
		perCheck   = time.Second // generous: a check takes about 250 ms
	)
	jobs := &fakeJobs{}
	e := newEnv(t, jobs.check)
	ctx := context.Background()
	// A short monitor first: the NATS client starts some goroutines lazily,
	// on first use, and they must not count as growth.
	e.completed(e.start("Monitor", workflows.MonitorInput{JobID: "warmup", PollIntervalMs: 1, MaxChecks: 2}),
		20*time.Second, `{"jobID":"warmup","status":"expired","checks":2}`)
	jobs.checks.Store(0)
	baseGoroutines := runtime.NumGoroutine()

	start := time.Now()
	id := e.start("Monitor", workflows.MonitorInput{JobID: "long", PollIntervalMs: 1, MaxChecks: iterations})

	testnats.Eventually(t, 10*time.Second+warmup*perCheck, func() error {
		if n := jobs.checks.Load(); n < warmup {
			return fmt.Errorf("%d checks so far", n)
		}
		return nil
	})
	heapAtWarmup := heapInuse()
	records := 0
	testnats.Eventually(t, 10*time.Second+iterations*perCheck, func() error {
		// Sample the history while the monitor runs, too.
		h, err := e.hub.ReadHistory(ctx, id)
		if err != nil {
			return err
		}
		records = max(records, len(h.Records))
		if n := jobs.checks.Load(); n < iterations/2 {
			return fmt.Errorf("%d checks so far", n)
		}
		return nil
	})
	if records > 3 {
		t.Fatalf("a running execution's history had %d records; continue-as-new should keep it at most 3", records)
	}

	want := fmt.Sprintf(`{"jobID":"long","status":"expired","checks":%d}`, iterations)
	e.completed(id, 10*time.Second+iterations*perCheck, want)
	elapsed := time.Since(start)
	if n := jobs.checks.Load(); n != iterations {
		t.Fatalf("the job was checked %d times, want %d", n, iterations)
	}
	if n := len(e.history(id)); n > 3 {
		t.Fatalf("the last execution's history has %d records; continue-as-new should keep it at most 3", n)
	}
	heapAtEnd := heapInuse()
	t.Logf("%d iterations in %v; heap in use %d KiB after %d checks, %d KiB at the end",
		iterations, elapsed.Round(time.Millisecond), heapAtWarmup>>10, warmup, heapAtEnd>>10)
	if heapAtEnd > heapAtWarmup+maxGrowth {
		t.Fatalf("heap in use grew from %d KiB to %d KiB over %d iterations", heapAtWarmup>>10, heapAtEnd>>10, iterations-warmup)
	}
	testnats.Eventually(t, 10*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > baseGoroutines {
			return fmt.Errorf("%d goroutines, %d before the monitor started", n, baseGoroutines)
		}
		return nil
	})
}

// heapInuse returns the heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
