package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// instanceWatcher follows every instance of a hub through one KV watch of
// the instances bucket, noting when the bench first saw each instance
// leave Pending and finish. One watch for the whole hub, instead of
// client.WaitForCompletion's one consumer per instance, keeps the observer
// cheap next to what it observes.
type instanceWatcher struct {
	nc *nats.Conn
	kw njs.KeyWatcher

	mu       sync.Mutex
	byID     map[string]*observation
	running  int // instances seen out of Pending
	finished int // instances seen in a terminal status
	err      error
	wake     chan struct{} // closed and replaced on every change
	done     chan struct{} // closed when the watch ends
}

// observation is what the watcher saw of one instance.
type observation struct {
	runningAt time.Time // first seen out of Pending
	doneAt    time.Time // first seen in a terminal status
	state     protocol.InstanceState
}

// watchInstances watches the instances bucket of a hub on its own
// connection, so that the clients' traffic does not delay it.
func watchInstances(ctx context.Context, natsURL, hub string) (*instanceWatcher, error) {
	nc, err := nats.Connect(natsURL, nats.Name("endure-bench-watcher"))
	if err != nil {
		return nil, err
	}
	js, err := njs.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// The bucket name is part of the hub's documented layout (pkg/jetstream).
	kv, err := js.KeyValue(ctx, "ENDURE_"+hub+"_INSTANCES")
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("watch instances: %w", err)
	}
	kw, err := kv.WatchAll(context.Background())
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("watch instances: %w", err)
	}
	w := &instanceWatcher{nc: nc, kw: kw, byID: map[string]*observation{}, wake: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *instanceWatcher) loop() {
	defer close(w.done)
	for e := range w.kw.Updates() {
		if e == nil {
			continue // end of the initial values
		}
		at := time.Now()
		st, err := jetstream.DecodeInstance(e)
		w.mu.Lock()
		switch {
		case err != nil:
			w.err = fmt.Errorf("decode state of %s: %w", e.Key(), err)
		case st != nil:
			o := w.byID[e.Key()]
			if o == nil {
				o = &observation{}
				w.byID[e.Key()] = o
			}
			o.state = st.State
			if st.State.Status != protocol.StatusPending && o.runningAt.IsZero() {
				o.runningAt = at
				w.running++
			}
			if st.State.Status.Terminal() && o.doneAt.IsZero() {
				o.doneAt = at
				w.finished++
			}
		}
		close(w.wake)
		w.wake = make(chan struct{})
		w.mu.Unlock()
	}
}

// get returns what the watcher saw of an instance.
func (w *instanceWatcher) get(id string) (observation, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.byID[id]
	if !ok {
		return observation{}, false
	}
	return *o, true
}

// waitRunning waits until n instances have left Pending.
func (w *instanceWatcher) waitRunning(ctx context.Context, n int) error {
	return w.waitFor(ctx, func() bool { return w.running >= n }, fmt.Sprintf("%d instances to leave Pending", n))
}

// waitFinished waits until n instances have finished.
func (w *instanceWatcher) waitFinished(ctx context.Context, n int) error {
	return w.waitFor(ctx, func() bool { return w.finished >= n }, fmt.Sprintf("%d instances to finish", n))
}

// waitDone waits until the instance has finished.
func (w *instanceWatcher) waitDone(ctx context.Context, id string) error {
	return w.waitFor(ctx, func() bool {
		o := w.byID[id]
		return o != nil && !o.doneAt.IsZero()
	}, id+" to finish")
}

// counts returns how many instances the watcher has seen leave Pending and
// how many finish.
func (w *instanceWatcher) counts() (running, finished int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running, w.finished
}

// waitFor waits until cond (called with mu held) holds.
func (w *instanceWatcher) waitFor(ctx context.Context, cond func() bool, what string) error {
	for {
		w.mu.Lock()
		ok, err, wake := cond(), w.err, w.wake
		running, finished := w.running, w.finished
		w.mu.Unlock()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-wake:
		case <-w.done:
			return fmt.Errorf("waiting for %s: the instance watch ended", what)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %d running, %d finished: %w", what, running, finished, ctx.Err())
		}
	}
}

// stop ends the watch and closes its connection.
func (w *instanceWatcher) stop() {
	_ = w.kw.Stop()
	w.nc.Close()
	<-w.done
}
