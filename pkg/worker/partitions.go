package worker

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	njs "github.com/nats-io/nats.go/jetstream"
)

// heartbeatEvery is how often an orchestrator worker renews its liveness
// and recomputes which partitions it serves.
const heartbeatEvery = time.Second

// owner returns which of the live workers serves partition p: the one whose
// hash with p is highest (rendezvous hashing). Every worker computes the
// same answer from the same live set, and a worker joining or leaving moves
// only the partitions it gains or loses.
func owner(live []string, p int) string {
	best, bestScore := "", uint64(0)
	for _, id := range live {
		sum := sha256.Sum256([]byte(id + "/" + strconv.Itoa(p)))
		if s := binary.BigEndian.Uint64(sum[:8]); best == "" || s > bestScore {
			best, bestScore = id, s
		}
	}
	return best
}

// servePartitions keeps the worker consuming exactly the partitions it owns
// until ctx ends. The first assignment is made before it returns ready.
func (w *OrchestratorWorker) servePartitions(ctx context.Context, ready func()) error {
	consuming := map[int]njs.ConsumeContext{}
	owners := map[int]string{} // who served each partition at the last rebalance
	taken := map[int]takeover{}
	live, err := w.hub.WatchWorkers(ctx)
	if err != nil {
		return err
	}
	shared, err := w.hub.SharedInboxConsumer(ctx)
	if err != nil {
		return err
	}
	cc, err := shared.Consume(func(msg njs.Msg) { w.receive(ctx, msg) }, njs.PullMaxMessages(64))
	if err != nil {
		return err
	}
	consuming[-1] = cc
	defer func() {
		for _, cc := range consuming {
			cc.Stop()
			<-cc.Closed()
		}
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = w.hub.Leave(lctx, w.id)
	}()
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	first := true
	var lastSweep time.Time
	sweeping := make(chan struct{}, 1)
	for {
		if owner(append(live(), w.id), 0) == w.id && time.Since(lastSweep) > orphanAge {
			select {
			case sweeping <- struct{}{}:
				lastSweep = time.Now()
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					defer func() { <-sweeping }()
					w.sweepOrphans(ctx)
				}()
			default: // the last sweep is still running
			}
		}
		if err := w.rebalance(ctx, consuming, owners, taken, live); err != nil {
			if first {
				return err
			}
			if ctx.Err() == nil {
				w.log.Warn("cannot refresh partition ownership", "err", err)
			}
		}
		if first {
			first = false
			ready()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// takeover records that a partition was taken from a worker that still
// counted as live, which may hold messages of it: if that worker turns out
// dead before the ack wait returns them, they are reclaimed then.
type takeover struct {
	from string
	at   time.Time
}

// rebalance renews the heartbeat, then starts and stops partition consumers
// to match the current owners. owners holds who served each partition as
// of the last call, taken the partitions taken over from workers still
// counted as live; both are updated.
func (w *OrchestratorWorker) rebalance(ctx context.Context, consuming map[int]njs.ConsumeContext, owners map[int]string,
	taken map[int]takeover, liveWorkers func() []string) error {
	if err := w.hub.Heartbeat(ctx, w.id); err != nil {
		return err
	}
	others := slices.DeleteFunc(liveWorkers(), func(id string) bool { return id == w.id })
	live := append(slices.Clone(others), w.id)
	for p := 0; p < w.hub.Partitions(); p++ { // -1, the shared inbox, is always consumed
		current := owner(live, p)
		mine := current == w.id
		cc, running := consuming[p]
		switch {
		case mine && !running:
			c, err := w.hub.InboxConsumer(ctx, p)
			if err != nil {
				return err
			}
			// Whoever served the partition before (at the last rebalance, or
			// among the others when this worker has just started) is gone if
			// it is no longer live: what it had taken is reclaimed now rather
			// than after the ack wait. One still live hands over by itself,
			// unless it is in fact dead and its heartbeat not yet expired.
			prev, known := owners[p]
			if !known {
				prev = owner(others, p)
			}
			if prev == "" || !slices.Contains(others, prev) {
				w.reclaim(ctx, p)
			} else {
				taken[p] = takeover{from: prev, at: time.Now()}
			}
			cc, err := c.Consume(func(msg njs.Msg) { w.receive(ctx, msg) }, njs.PullMaxMessages(256))
			if err != nil {
				return err
			}
			consuming[p] = cc
			w.log.Debug("serving partition", "partition", p)
		case !mine && running:
			// Hand the partition over: messages already delivered here are
			// finished here; the rest go to the new owner.
			cc.Drain()
			delete(consuming, p)
			delete(taken, p)
			w.log.Debug("handed partition over", "partition", p)
		case mine && running:
			if t, ok := taken[p]; ok {
				switch {
				case !slices.Contains(others, t.from):
					// It died holding messages: take them back (messages
					// this worker holds come again too, and are dropped
					// as copies).
					w.reclaim(ctx, p)
					delete(taken, p)
				case time.Since(t.at) > jetstream.InboxAckWait:
					delete(taken, p) // anything it held has come back by now
				}
			}
		}
		owners[p] = current
	}
	return nil
}

// reclaim makes the messages a dead worker took from partition p
// deliverable again at once.
func (w *OrchestratorWorker) reclaim(ctx context.Context, p int) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := w.hub.ReclaimInboxPartition(rctx, p); err != nil && ctx.Err() == nil {
		w.log.Debug("cannot reclaim the partition's unacknowledged messages; they return after the ack wait", "partition", p, "err", err)
	}
}
