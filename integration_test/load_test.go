package integration_test

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
)

// TestActivityWorkersShareWork runs 100 instances against two activity
// workers that take four calls at a time each: both must take part, every
// instance completes with the right output, and every activity call runs
// exactly once across the two.
func TestActivityWorkersShareWork(t *testing.T) {
	t.Parallel()
	const instances, steps = 100, 2
	sys := newSystem(t, sharedNATS)
	workers := sys.startStandard(2, "--concurrency", "4")

	var mu sync.Mutex
	started := make([]checkStatus, 0, instances)
	var wg sync.WaitGroup
	next := make(chan int)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for range next {
				cs, err := sys.tryStart("Chaining", fmt.Sprintf(`{"steps": %d, "delayMs": 20}`, steps))
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				started = append(started, cs)
				mu.Unlock()
			}
		})
	}
	for i := 0; i < instances; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	pending := map[string]checkStatus{}
	for _, cs := range started {
		pending[cs.ID] = cs
	}
	if len(pending) != instances {
		t.Fatalf("%d distinct instance IDs for %d starts", len(pending), instances)
	}
	testnats.Eventually(t, 90*time.Second, func() error {
		for id, cs := range pending {
			_, st, err := sys.getStatus(cs.StatusQueryGetURI)
			if err != nil {
				t.Fatal(err)
			}
			switch st.RuntimeStatus {
			case "Completed":
				requireOutput(t, st, fmt.Sprint(steps))
				delete(pending, id)
			case "Pending", "Running":
				return fmt.Errorf("%d of %d instances not completed, e.g. %s is %s", len(pending), instances, id, st.RuntimeStatus)
			default:
				t.Fatalf("instance %s is %s: %s", id, st.RuntimeStatus, compact(st.Output))
			}
		}
		return nil
	})

	done := regexp.MustCompile(`msg="activity done" .*activity=Step .*failed=false`)
	total := 0
	for _, w := range workers {
		n := w.CountLines(done)
		t.Logf("%s ran %d activities", w.name, n)
		if n == 0 {
			t.Errorf("%s ran no activity: the workers do not share the work", w.name)
		}
		total += n
	}
	if total != instances*steps {
		t.Errorf("%d activity calls done in all, want %d (each call exactly once)", total, instances*steps)
	}
	sys.requireAlive()
}
