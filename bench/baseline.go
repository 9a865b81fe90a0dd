package main

// The baseline is the bare JetStream task round trip that Endure's every
// activity call is built from: the originator publishes a task to a
// work-queue stream, a worker (a child process, like Endure's activity
// worker, pulling from a durable consumer with up to 64 tasks at once)
// publishes a result to a result stream and acknowledges the task, and the
// originator sees the result through a consumer on the result stream and
// acknowledges it. Both streams use file storage, like Endure's hub.

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

const (
	echoConsumer       = "echo"
	echoResultConsumer = "originator"
	echoPayloadSize    = 128 // about an ActivityTask's size
	echoConcurrency    = 64  // as worker.ActivityConfig's default
)

func echoWorkStream(hub string) string   { return "BENCH_" + hub + "_WORK" }
func echoResultStream(hub string) string { return "BENCH_" + hub + "_RESULT" }
func echoWorkSubject(hub string) string  { return "bench." + hub + ".work" }
func echoResultSubject(hub string) string {
	return "bench." + hub + ".result"
}

// provisionEcho creates the baseline's streams and consumers.
func provisionEcho(ctx context.Context, js njs.JetStream, hub string) error {
	for _, s := range []njs.StreamConfig{
		{Name: echoWorkStream(hub), Subjects: []string{echoWorkSubject(hub)}},
		{Name: echoResultStream(hub), Subjects: []string{echoResultSubject(hub)}},
	} {
		s.Retention, s.Storage = njs.WorkQueuePolicy, njs.FileStorage
		st, err := js.CreateOrUpdateStream(ctx, s)
		if err != nil {
			return fmt.Errorf("baseline stream %s: %w", s.Name, err)
		}
		name := echoConsumer
		if s.Name == echoResultStream(hub) {
			name = echoResultConsumer
		}
		if _, err := st.CreateOrUpdateConsumer(ctx, njs.ConsumerConfig{
			Durable: name, AckPolicy: njs.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 10000,
		}); err != nil {
			return fmt.Errorf("baseline consumer %s: %w", name, err)
		}
	}
	return nil
}

// runEcho is the baseline's worker child: it answers every task with a
// result carrying the same payload, then acknowledges the task. It calls
// ready once it consumes.
func runEcho(ctx context.Context, nc *nats.Conn, hub string, ready func()) error {
	js, err := njs.New(nc)
	if err != nil {
		return err
	}
	c, err := js.Consumer(ctx, echoWorkStream(hub), echoConsumer)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, echoConcurrency)
	var wg sync.WaitGroup
	cc, err := c.Consume(func(m njs.Msg) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := js.Publish(ctx, echoResultSubject(hub), m.Data()); err != nil {
				_ = m.Nak()
				return
			}
			_ = m.Ack()
		}()
	}, njs.PullMaxMessages(echoConcurrency))
	if err != nil {
		return err
	}
	ready()
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	wg.Wait()
	return nil
}

// runRoundTrips runs total round trips with inFlight originators, each
// sending its next task as soon as it has seen the last one's result.
func runRoundTrips(ctx context.Context, g *rig, r *result, inFlight, total int) error {
	results := make([]chan struct{}, total)
	for i := range results {
		results[i] = make(chan struct{})
	}
	var seen, unknown atomic.Int64
	c, err := g.js.Consumer(ctx, echoResultStream(g.hubName), echoResultConsumer)
	if err != nil {
		return err
	}
	cc, err := c.Consume(func(m njs.Msg) {
		_ = m.Ack()
		if len(m.Data()) < 8 {
			unknown.Add(1)
			return
		}
		id := binary.BigEndian.Uint64(m.Data())
		if id >= uint64(total) {
			unknown.Add(1)
			return
		}
		seen.Add(1)
		select {
		case <-results[id]:
			unknown.Add(1) // a second result for the same task
		default:
			close(results[id])
		}
	}, njs.PullMaxMessages(256))
	if err != nil {
		return err
	}
	defer func() {
		cc.Stop()
		<-cc.Closed()
	}()

	lat := make([]time.Duration, total)
	start := time.Now()
	err = forEach(ctx, total, inFlight, func(i int) error {
		payload := make([]byte, echoPayloadSize)
		binary.BigEndian.PutUint64(payload, uint64(i))
		t0 := time.Now()
		if _, err := g.js.Publish(ctx, echoWorkSubject(g.hubName), payload); err != nil {
			return fmt.Errorf("publish task %d: %w", i, err)
		}
		select {
		case <-results[i]:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the result of task %d (%d results seen): %w", i, seen.Load(), ctx.Err())
		}
		lat[i] = time.Since(t0)
		return nil
	})
	wall := time.Since(start)

	done := lat[:0:0]
	for _, d := range lat {
		if d > 0 { // zero: never completed (on failure)
			done = append(done, d)
		}
	}
	r.N, r.Unit, r.TaskUnit = total, "round_trips/s", "round_trips/s"
	r.Rate = perSecond(len(done), wall)
	r.TaskRate = r.Rate
	r.Latency = "publish to result seen"
	r.Lat = summarize(done)
	r.set("in_flight", inFlight)
	if err != nil {
		return err
	}
	if n := unknown.Load(); n > 0 {
		return fmt.Errorf("%d unexpected or duplicate results", n)
	}
	return nil
}
