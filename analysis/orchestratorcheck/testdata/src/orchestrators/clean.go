package orchestrators

import (
	"context"
	"errors"
	"maps"
	"math/rand"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/endurehq/endure/workflow"
)

// Clean is a deterministic orchestrator: nothing in it may be reported.
func Clean(ctx *workflow.Context, in map[string]int) ([]string, error) {
	start := ctx.Now()
	deadline := start.Add(20 * time.Second)
	id := ctx.NewGUID()
	timer := workflow.CreateTimer(ctx, deadline.Sub(start))
	approval := workflow.CallActivity[string](ctx, "Approval", id)
	if workflow.Any(ctx, approval, timer) == 1 {
		return nil, errors.New("timed out")
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(in)) {
		out = append(out, k)
	}
	keys := make([]string, 0, len(in))
	for i := range 3 {
		keys = append(keys, string(rune('a'+i)))
	}
	sort.Strings(keys)
	if _, err := approval.Await(); err != nil && (os.IsNotExist(err) || errors.Is(err, os.ErrNotExist)) {
		return nil, err
	}
	ip := net.ParseIP("10.0.0.1")
	h := http.Header{}
	h.Set("X-Addr", ip.String())
	out = append(out, h.Get("X-Addr"), http.StatusText(http.StatusOK), time.Duration(5).String())
	tasks := []workflow.Awaitable{workflow.CallActivity[int](ctx, "A", nil), workflow.CallActivity[int](ctx, "B", nil)}
	if err := workflow.All(ctx, tasks...); err != nil {
		return nil, err
	}
	return out, nil
}

// Activities may do anything, even when written inside an orchestrator's
// file or body.
func Fetch(ctx context.Context, path string) (string, error) {
	time.Sleep(time.Millisecond)
	b, err := os.ReadFile(path)
	go func() {}()
	return string(b) + time.Now().String(), err
}

func WithNestedActivity(ctx *workflow.Context, _ any) (int, error) {
	act := func(ctx context.Context, n int) (int, error) {
		time.Sleep(time.Millisecond)
		return n + rand.Intn(10), nil
	}
	_ = act
	return 0, nil
}

// Not an orchestrator: the context is not first.
func helper(n int, ctx *workflow.Context) time.Time {
	return time.Now()
}

func notAnOrchestrator(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	select {}
}
