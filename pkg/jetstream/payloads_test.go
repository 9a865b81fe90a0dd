package jetstream_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/testnats"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// TestLargeStateStaysReadableWhileRewritten rewrites an instance's state,
// whose input is stored aside, again and again (as a worker does on every
// step) while others read it: every read returns the input, none waits on
// chunks a rewrite deleted.
func TestLargeStateStaysReadableWhileRewritten(t *testing.T) {
	hub := testnats.Hub(t, jetstream.Config{Name: "payloads", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	input := []byte(`"` + strings.Repeat("0123456789abcdef", 300<<10/16) + `"`)
	now := time.Now().UTC()
	st := &protocol.InstanceState{InstanceID: "big", Name: "X", ExecutionID: "x", Status: protocol.StatusRunning, CreatedAt: now, UpdatedAt: now, Input: input}
	rev, err := hub.CreateInstance(ctx, st)
	if err != nil {
		t.Fatal(err)
	}

	const rounds = 30
	var wg sync.WaitGroup
	readErrs := make(chan error, 2*rounds)
	for r := 0; r < 2; r++ {
		wg.Go(func() {
			for range rounds {
				// A read that waited on deleted chunks would take the object
				// store's 5 s read timeout; a healthy one takes milliseconds.
				rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
				e, err := hub.GetInstance(rctx, "big")
				rcancel()
				if err != nil {
					readErrs <- err
					continue
				}
				if !bytes.Equal(e.State.Input, input) {
					readErrs <- io.ErrUnexpectedEOF
				}
			}
		})
	}
	for i := range rounds {
		next := *st
		next.Input = input // the worker holds the payload itself, not the reference
		next.UpdatedAt = now.Add(time.Duration(i+1) * time.Millisecond)
		if rev, err = hub.UpdateInstance(ctx, &next, rev); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(readErrs)
	for err := range readErrs {
		t.Errorf("read while rewriting: %v", err)
	}
}
