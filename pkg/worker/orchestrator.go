package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
	"github.com/google/uuid"
	njs "github.com/nats-io/nats.go/jetstream"
)

// OrchestratorConfig tunes an OrchestratorWorker. Zero values mean defaults.
type OrchestratorConfig struct {
	// CacheSize is how many instances stay in memory between steps
	// (default 10,000). Evicted instances are rebuilt from history.
	CacheSize int
	// Concurrency is how many instances are stepped at once (default 64).
	Concurrency int
	// MaxPending is how many inbox messages the worker holds at once,
	// queued or being stepped (default 4096). More wait in the stream.
	MaxPending int
	// Logger receives the worker's logs (default slog.Default()).
	Logger *slog.Logger
}

// OrchestratorWorker runs orchestrator functions. It consumes work items
// from every inbox partition, steps each instance (one step at a time per
// instance, several messages per step), commits the step's history record
// with one optimistic-concurrency write, then publishes the step's tasks and
// timers and updates the instance's status.
//
// Crash safety: a step is durable once its record is committed. If the worker
// dies before the side effects are done, the inbox messages are redelivered,
// the next worker to load the instance replays history and publishes the
// last record's tasks and timers again (deduplicated by message ID), and the
// redelivered messages are recognised as already applied.
type OrchestratorWorker struct {
	hub     *jetstream.Hub
	reg     *workflow.Registry
	cfg     OrchestratorConfig
	log     *slog.Logger
	cache   *instanceCache
	sem     chan struct{}
	pending chan struct{} // one token per inbox message held (see MaxPending)

	mu     sync.Mutex
	queues map[string]*instanceQueue
	wg     sync.WaitGroup
	ready  chan struct{}
	id     string          // this worker's name among the hub's live workers
	runCtx context.Context // Run's context, for work the worker makes itself

	// activityKnown reports whether an activity name is registered in the
	// hub, and how many are.
	activityKnown func(name string) (known bool, total int)
}

// instanceQueue holds the messages of one instance waiting for its next step.
type instanceQueue struct {
	msgs    []inboxMsg
	running bool
}

// inboxMsg is a work item with the message that brought it; msg is nil for
// an item the worker made itself (a short timer delivered locally).
type inboxMsg struct {
	msg     njs.Msg
	item    *protocol.WorkItem
	release func() // frees the message's place among the pending ones
}

// ack and nak settle the message; each message is settled once.
func (m inboxMsg) ack() {
	if m.msg != nil {
		_ = m.msg.Ack()
	}
	if m.release != nil {
		m.release()
	}
}

func (m inboxMsg) nak(delay time.Duration) {
	if m.msg != nil {
		_ = m.msg.NakWithDelay(delay)
	}
	if m.release != nil {
		m.release()
	}
}

func (m inboxMsg) inProgress() {
	if m.msg != nil {
		_ = m.msg.InProgress()
	}
}

func (m inboxMsg) size() int64 {
	if m.msg == nil {
		return 0
	}
	return int64(len(m.msg.Data()))
}

// NewOrchestratorWorker returns a worker for the orchestrators in reg.
func NewOrchestratorWorker(hub *jetstream.Hub, reg *workflow.Registry, cfg OrchestratorConfig) *OrchestratorWorker {
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &OrchestratorWorker{
		hub:     hub,
		reg:     reg,
		cfg:     cfg,
		log:     cfg.Logger.With("role", "orchestrator-worker", "hub", hub.Name()),
		cache:   newInstanceCache(cfg.CacheSize),
		sem:     make(chan struct{}, cfg.Concurrency),
		pending: make(chan struct{}, cfg.MaxPending),
		queues:  map[string]*instanceQueue{},
		ready:   make(chan struct{}),
		id:      strings.ReplaceAll(uuid.NewString(), "-", ""),
	}
}

// Ready is closed once Run has registered the orchestrators and is taking
// work.
func (w *OrchestratorWorker) Ready() <-chan struct{} { return w.ready }

// Run registers the worker's orchestrators and processes work items until
// ctx is cancelled; then it finishes the steps under way and returns.
func (w *OrchestratorWorker) Run(ctx context.Context) error {
	w.runCtx = ctx
	if err := w.hub.RegisterOrchestrators(ctx, w.reg.Names()); err != nil {
		return err
	}
	known, err := w.hub.ActivityNames(ctx)
	if err != nil {
		return err
	}
	w.activityKnown = known
	defer func() {
		w.wg.Wait()
		w.cache.closeAll()
	}()
	return w.servePartitions(ctx, func() {
		close(w.ready)
		w.log.Info("orchestrator worker running", "worker", w.id, "orchestrators", w.reg.Names(), "partitions", w.hub.Partitions())
	})
}

// receive decodes a message and queues it for its instance.
func (w *OrchestratorWorker) receive(ctx context.Context, msg njs.Msg) {
	item, err := jetstream.DecodeWork(msg)
	if err != nil {
		w.log.Error("dropping undecodable work item", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	if item.Schedule != "" {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.startScheduled(ctx, msg, item)
		}()
		return
	}
	hold := time.Duration(0)
	if ev := item.Event; ev.Type == protocol.EventTimerFired {
		// JetStream releases timers jetstream.TimerLead early; hold each one
		// here until it is due, so that it fires on time and never early.
		if hold = time.Until(ev.FireAt); hold > 5*time.Second {
			_ = msg.NakWithDelay(hold - time.Second) // clocks disagree; ask again closer to the time
			return
		}
	}
	// Back-pressure: take no more than MaxPending messages at a time, so a
	// burst waits in the stream rather than in this worker's memory.
	select {
	case w.pending <- struct{}{}:
	case <-ctx.Done():
		return // redelivered to whoever runs next
	}
	m := inboxMsg{msg: msg, item: item, release: w.releasePending}
	if hold > 0 {
		w.wg.Add(1)
		time.AfterFunc(hold, func() {
			defer w.wg.Done()
			w.enqueue(ctx, m)
		})
		return
	}
	w.enqueue(ctx, m)
}

func (w *OrchestratorWorker) releasePending() { <-w.pending }

// startScheduled starts the instance one occurrence of a recurring schedule
// asks for. The instance's ID and execution ID derive from the schedule's
// name and the occurrence's time, so a redelivered occurrence starts nothing
// twice.
func (w *OrchestratorWorker) startScheduled(ctx context.Context, msg njs.Msg, item *protocol.WorkItem) {
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Term()
		return
	}
	at := md.Timestamp.UTC()
	id := item.InstanceID + "-" + at.Format("20060102T150405Z")
	exec := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String()
	st := &protocol.InstanceState{InstanceID: id, Name: item.Event.Name, ExecutionID: exec, Status: protocol.StatusPending,
		Input: item.Event.Input, CreatedAt: at, UpdatedAt: at}
	eff := w.hub.NewEffects()
	rev, err := w.hub.ClaimInstance(ctx, st, eff)
	if errors.Is(err, jetstream.ErrInstanceExists) {
		w.log.Warn("schedule occurrence skipped: its instance ID is taken", "schedule", item.InstanceID, "instance", id)
		_ = msg.Ack()
		return
	}
	if err == nil {
		eff.SendWork(&protocol.WorkItem{InstanceID: id, ExecutionID: exec, StateRevision: rev, Event: protocol.Event{
			Type: protocol.EventExecutionStarted, Time: at, Name: item.Event.Name, ExecutionID: exec, Input: item.Event.Input,
		}}, "start/"+id+"/"+exec)
		_, err = eff.Send(ctx)
	}
	if err != nil {
		w.log.Error("cannot start a scheduled instance; will retry", "schedule", item.InstanceID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	_ = msg.Ack()
}

// enqueue queues a message for its instance and starts a drain if none runs.
func (w *OrchestratorWorker) enqueue(ctx context.Context, m inboxMsg) {
	item := m.item
	w.mu.Lock()
	q := w.queues[item.InstanceID]
	if q == nil {
		q = &instanceQueue{}
		w.queues[item.InstanceID] = q
	}
	q.msgs = append(q.msgs, m)
	start := !q.running
	q.running = true
	w.mu.Unlock()
	if start {
		w.wg.Add(1)
		go w.drain(ctx, item.InstanceID, q)
	}
}

// drain steps one instance until its queue is empty.
func (w *OrchestratorWorker) drain(ctx context.Context, id string, q *instanceQueue) {
	defer w.wg.Done()
	w.sem <- struct{}{}
	defer func() { <-w.sem }()
	budget := w.hub.Conn().MaxPayload() / 4
	for {
		w.mu.Lock()
		// Take what fits one step: the step's record must stay well under
		// the server's message size limit.
		n, size := 0, int64(0)
		for n < len(q.msgs) && (n == 0 || size+q.msgs[n].size() <= budget) {
			size += q.msgs[n].size()
			n++
		}
		batch := q.msgs[:n:n]
		q.msgs = q.msgs[n:]
		if len(batch) == 0 {
			q.running = false
			delete(w.queues, id)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		w.process(ctx, id, batch)
	}
}

// process runs the steps for a batch of messages and settles the messages.
// A rewind ends a step, since the instance is rebuilt after it.
func (w *OrchestratorWorker) process(ctx context.Context, id string, batch []inboxMsg) {
	for i, m := range batch {
		if m.item.Event.Type == protocol.EventExecutionRewound && i < len(batch)-1 {
			w.processStep(ctx, id, batch[:i+1])
			w.process(ctx, id, batch[i+1:])
			return
		}
	}
	w.processStep(ctx, id, batch)
}

// processStep runs one step for a batch of messages and settles them.
func (w *OrchestratorWorker) processStep(ctx context.Context, id string, batch []inboxMsg) {
	err := w.stepWithRetry(ctx, id, batch)
	switch {
	case err == nil:
		for _, m := range batch {
			m.ack()
		}
	case errors.Is(err, errNotYet):
		for _, m := range batch {
			m.nak(100 * time.Millisecond)
		}
	case errors.Is(err, engine.ErrUnknownOrchestrator), errors.Is(err, errUnsupportedVersion):
		// Another worker may host it: hand the work to all of them.
		w.log.Warn("orchestrator not hosted here; leaving the instance to another worker", "instance", id, "err", err)
		for _, m := range batch {
			w.forward(ctx, m)
		}
	default:
		if ctx.Err() == nil {
			w.log.Error("step failed; giving the messages back", "instance", id, "err", err)
		}
		for _, m := range batch {
			m.nak(time.Second)
		}
	}
}

// stepWithRetry runs a step, retrying a failed one in place for a while (the
// server briefly unavailable, say) so that later messages of the instance,
// which wait behind this batch, cannot overtake it.
func (w *OrchestratorWorker) stepWithRetry(ctx context.Context, id string, batch []inboxMsg) error {
	var err error
	backoff := 50 * time.Millisecond
	for attempt := 0; attempt < 12; attempt++ {
		err = w.step(ctx, id, batch, attempt == 0)
		switch {
		case err == nil, errors.Is(err, errNotYet), errors.Is(err, engine.ErrUnknownOrchestrator),
			errors.Is(err, errUnsupportedVersion), ctx.Err() != nil:
			return err
		case errors.Is(err, jetstream.ErrConflict):
			continue // another writer got there first: reload and retry at once
		}
		w.log.Warn("step failed; retrying", "instance", id, "attempt", attempt+1, "err", err)
		for _, m := range batch {
			m.inProgress()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
	return err
}

// forward moves a message this worker cannot run to the shared inbox, or
// back into it a little later if it came from there.
func (w *OrchestratorWorker) forward(ctx context.Context, m inboxMsg) {
	if m.msg == nil {
		return // made here; its message is on its way through the inbox too
	}
	if w.hub.IsShared(m.msg.Subject()) {
		m.nak(time.Second)
		return
	}
	msgID := "fwd/" + m.msg.Subject()
	if md, err := m.msg.Metadata(); err == nil {
		msgID += "/" + strconv.FormatUint(md.Sequence.Stream, 10)
	}
	if err := w.hub.ForwardWork(ctx, m.item.InstanceID, m.msg.Data(), msgID); err != nil {
		m.nak(time.Second)
		return
	}
	m.ack()
}

// step applies a batch to the instance and commits the result. On any error
// the in-memory instance is dropped, so the next try starts from history.
// With optimistic, a batch that starts an instance this worker does not
// hold is applied to an empty history without reading it first: the commit
// fails with a conflict if there was history after all.
func (w *OrchestratorWorker) step(ctx context.Context, id string, batch []inboxMsg, optimistic bool) (err error) {
	// A start goes first: nothing can happen to an execution before it.
	slices.SortStableFunc(batch, func(a, b inboxMsg) int {
		return cmpBool(b.item.Event.Type == protocol.EventExecutionStarted, a.item.Event.Type == protocol.EventExecutionStarted)
	})
	ci := w.cache.take(id)
	switch {
	case ci != nil:
	case optimistic && batch[0].item.Event.Type == protocol.EventExecutionStarted:
		ci = &cachedInstance{id: id, rt: w.newRuntime(id)}
	default:
		if ci, err = w.load(ctx, id); err != nil {
			return err
		}
	}
	defer func() {
		if p := recover(); p != nil {
			// A bug in the worker must not take every other instance down.
			err = fmt.Errorf("step panicked: %v\n%s", p, debug.Stack())
		}
		if err != nil {
			ci.rt.Close()
			return
		}
		w.cache.put(ci)
	}()
	if newExecution(ci, batch) {
		// A continue-as-new or a reused ID: the old execution's history goes,
		// and the new one starts from nothing.
		if err := w.hub.PurgeHistory(ctx, id); err != nil {
			return err
		}
		ci.rt.Close()
		ci.rt, ci.lastSeq = w.newRuntime(id), 0
	} else if ci.rt.Status() == protocol.StatusContinuedAsNew {
		return errNotYet // wait for the new execution's start
	}
	if !ci.rt.Started() || ci.lastSeq == 0 {
		// The starter says which revision of the state it created: no need
		// to read it before the first update.
		for _, m := range batch {
			if m.item.Event.Type == protocol.EventExecutionStarted && m.item.StateRevision > 0 {
				ci.kvRev, ci.saved = m.item.StateRevision, protocol.StatusPending
			}
		}
	}

	events := make([]protocol.Event, 0, len(batch))
	for _, m := range batch {
		ev := m.item.Event
		if err := w.hub.ResolveEvent(ctx, &ev); err != nil {
			return err
		}
		if ev.Type == protocol.EventExecutionStarted && ev.Version == "" {
			ev.Version = w.reg.Version(ev.Name) // stamped by the worker that starts it
		}
		if ev.Type != protocol.EventExecutionStarted && ci.rt.Started() &&
			m.item.ExecutionID != "" && m.item.ExecutionID != ci.rt.ExecutionID() {
			continue // addressed to an earlier execution
		}
		events = append(events, ev)
	}
	rec, err := ci.rt.Step(time.Now().UTC(), events)
	if err != nil || rec == nil {
		return err
	}
	seq, err := w.hub.AppendHistory(ctx, id, rec, ci.lastSeq)
	if err != nil {
		return err
	}
	ci.lastSeq = seq
	if hasEvent(rec, protocol.EventExecutionRewound) {
		// Rebuild from history, which sets the failure aside and sends the
		// failed work again.
		ci.rt.Close()
		fresh, err := w.load(ctx, id)
		if err != nil {
			return err // closing ci.rt again in the deferred cleanup is harmless
		}
		*ci = *fresh
		return nil
	}
	return w.finish(ctx, ci, rec, false)
}

func hasEvent(rec *protocol.HistoryRecord, t protocol.EventType) bool {
	for _, ev := range rec.Events {
		if ev.Type == t {
			return true
		}
	}
	return false
}

// load rebuilds an instance from history and redoes the side effects of its
// last committed record, which a crashed worker may have left undone.
func (w *OrchestratorWorker) load(ctx context.Context, id string) (*cachedInstance, error) {
	hist, err := w.hub.ReadHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(hist.Records) > 0 {
		for _, ev := range hist.Records[0].Events {
			if ev.Type == protocol.EventExecutionStarted && !w.reg.Supports(ev.Name, ev.Version) {
				if _, hosted := w.reg.Lookup(ev.Name); hosted {
					return nil, fmt.Errorf("%w: %s version %q", errUnsupportedVersion, ev.Name, ev.Version)
				}
			}
		}
	}
	rt := w.newRuntime(id)
	if err := rt.Replay(hist.Records); err != nil {
		rt.Close()
		return nil, err
	}
	ci := &cachedInstance{id: id, rt: rt, lastSeq: hist.LastSeq}
	if len(hist.Records) == 0 {
		return ci, nil
	}
	if err := w.finish(ctx, ci, &hist.Records[len(hist.Records)-1], true); err != nil {
		rt.Close()
		return nil, err
	}
	return ci, nil
}

// shortTimer is the due time under which a timer is also fired by the
// worker itself: JetStream's scheduler releases nothing sooner than about
// 250 ms after it is armed. The scheduled message stays as the durable copy
// (if this worker dies first); the engine drops whichever copy comes second.
const shortTimer = 2 * jetstream.TimerLead

// fireLocally delivers a timer's TimerFired to the instance when it is due,
// without waiting for JetStream's copy.
func (w *OrchestratorWorker) fireLocally(id, exec string, ev protocol.Event) {
	item := &protocol.WorkItem{InstanceID: id, ExecutionID: exec, Event: protocol.Event{
		Type: protocol.EventTimerFired, TaskID: ev.TaskID, FireAt: ev.FireAt,
	}}
	w.wg.Add(1)
	time.AfterFunc(max(time.Until(ev.FireAt), 0), func() {
		defer w.wg.Done()
		if w.runCtx.Err() != nil {
			return
		}
		w.enqueue(w.runCtx, inboxMsg{item: item})
	})
}

// stateRefresh is how stale lastUpdatedTime may get while an instance makes
// progress without changing its status: steps that change nothing visible
// skip the state write unless the last one is older than this.
const stateRefresh = time.Second

// finish performs what a committed record asks for: activity tasks, timers,
// timer cancellations, the listing index and the instance's state, all sent
// at once. Every write is idempotent. cold means the instance was just
// rebuilt, so nothing is known about what was written before.
func (w *OrchestratorWorker) finish(ctx context.Context, ci *cachedInstance, rec *protocol.HistoryRecord, cold bool) error {
	rt := ci.rt
	st := &protocol.InstanceState{
		InstanceID:   ci.id,
		Name:         rt.Name(),
		ExecutionID:  rt.ExecutionID(),
		Status:       rt.Status(),
		Input:        rt.Input(),
		Output:       rt.Output(),
		CustomStatus: rt.CustomStatus(),
		Failure:      rt.Failure(),
		CreatedAt:    rt.CreatedAt(),
		UpdatedAt:    rec.Time,
		HistorySeq:   ci.lastSeq,
	}
	writeState := cold || st.Status != ci.saved || !bytes.Equal(st.CustomStatus, ci.savedCustom) ||
		st.Status.Terminal() || rec.Time.Sub(ci.savedAt) >= stateRefresh
	for attempt := 0; ; attempt++ {
		eff := w.hub.NewEffects()
		if err := w.startChildren(ctx, eff, ci, rec); err != nil {
			return err
		}
		w.addWork(eff, ci, rec)
		if writeState {
			if ci.kvRev == 0 {
				done, err := w.readState(ctx, ci, st)
				if err != nil || done {
					return err
				}
			}
			if cold || st.Status != ci.saved {
				eff.Index(st, ci.saved)
			}
			eff.UpdateState(st, ci.kvRev)
		}
		rev, err := eff.Send(ctx)
		if errors.Is(err, jetstream.ErrConflict) && attempt < 5 {
			ci.kvRev = 0 // someone else wrote the state: read it and try again
			continue
		}
		if err != nil {
			return err
		}
		if writeState {
			ci.kvRev, ci.saved, ci.savedCustom, ci.savedAt = rev, st.Status, st.CustomStatus, rec.Time
		}
		return nil
	}
}

// addWork adds the tasks, timers and cancellations of a record to eff. A
// rewind record stands for all the work still pending after the rewind.
func (w *OrchestratorWorker) addWork(eff *jetstream.Effects, ci *cachedInstance, rec *protocol.HistoryRecord) {
	exec := ci.rt.ExecutionID()
	events := rec.Events
	if hasEvent(rec, protocol.EventExecutionRewound) {
		events = ci.rt.PendingWork()
	}
	for _, ev := range events {
		switch ev.Type {
		case protocol.EventTaskScheduled:
			if known, total := w.activityKnown(ev.Name); !known && total > 0 {
				// Activity workers are running, and none hosts this name: a
				// typo or a missing deployment. Fail the call rather than
				// leave it waiting for ever.
				eff.SendWork(&protocol.WorkItem{InstanceID: ci.id, ExecutionID: exec, Event: protocol.Event{
					Type: protocol.EventTaskFailed, Time: rec.Time, TaskID: ev.TaskID,
					Failure: &protocol.Failure{Type: "UnknownActivity", Message: fmt.Sprintf(
						"activity %q is not registered by any activity worker of hub %s", ev.Name, w.hub.Name())},
				}}, "unknown/"+ci.id+"/"+exec+"/"+strconv.Itoa(int(ev.TaskID)))
				continue
			}
			eff.SendTask(&protocol.ActivityTask{
				InstanceID: ci.id, ExecutionID: exec, TaskID: ev.TaskID, Name: ev.Name, Input: ev.Input, Timeout: ev.Timeout,
				Generation: ci.rt.Generation(),
			})
		case protocol.EventTimerCreated:
			eff.ScheduleTimer(ci.id, exec, ev.TaskID, ev.FireAt)
			if time.Until(ev.FireAt) < shortTimer {
				w.fireLocally(ci.id, exec, ev)
			}
		case protocol.EventTimerCanceled:
			eff.CancelTimer(ci.id, exec, ev.TaskID)
		case protocol.EventEventSent:
			eventID := "event/" + ci.id + "/" + exec + "/" + strconv.Itoa(int(ev.TaskID))
			eff.SendWork(&protocol.WorkItem{InstanceID: ev.Target, Event: protocol.Event{
				Type: protocol.EventEventRaised, Time: rec.Time, Name: ev.Name, Input: ev.Input, EventID: eventID,
			}}, eventID)
		case protocol.EventExecutionContinuedAsNew:
			eff.SendWork(&protocol.WorkItem{InstanceID: ci.id, ExecutionID: ev.ExecutionID, Event: protocol.Event{
				Type: protocol.EventExecutionStarted, Time: rec.Time, Name: ci.rt.Name(), ExecutionID: ev.ExecutionID,
				Input: ev.Input, Parent: ci.rt.Parent(), Carried: ev.Carried, Seen: ev.Seen,
			}}, "start/"+ci.id+"/"+ev.ExecutionID)
		case protocol.EventExecutionCompleted, protocol.EventExecutionFailed, protocol.EventExecutionTerminated:
			if p := ci.rt.Parent(); p != nil {
				eff.SendWork(&protocol.WorkItem{InstanceID: p.InstanceID, ExecutionID: p.ExecutionID, Event: outcomeForParent(ev, p.TaskID)},
					"sub/"+ci.id+"/"+exec)
			}
		}
	}
}

// outcomeForParent turns a child's final event into the parent's result.
func outcomeForParent(ev protocol.Event, taskID int32) protocol.Event {
	switch ev.Type {
	case protocol.EventExecutionCompleted:
		return protocol.Event{Type: protocol.EventSubOrchestrationCompleted, Time: ev.Time, TaskID: taskID, Result: ev.Result}
	case protocol.EventExecutionFailed:
		return protocol.Event{Type: protocol.EventSubOrchestrationFailed, Time: ev.Time, TaskID: taskID, Failure: ev.Failure}
	}
	return protocol.Event{Type: protocol.EventSubOrchestrationFailed, Time: ev.Time, TaskID: taskID,
		Failure: &protocol.Failure{Type: "Terminated", Message: "terminated: " + ev.Reason}}
}

// startChildren creates the sub-orchestrations a record calls and queues
// their starts. A child whose ID is taken by a running instance, or whose
// orchestrator no worker hosts, fails the call instead.
func (w *OrchestratorWorker) startChildren(ctx context.Context, eff *jetstream.Effects, ci *cachedInstance, rec *protocol.HistoryRecord) error {
	for _, ev := range rec.Events {
		if ev.Type != protocol.EventSubOrchestrationCreated {
			continue
		}
		var parent *protocol.ParentRef
		if !ev.Detached {
			parent = &protocol.ParentRef{InstanceID: ci.id, ExecutionID: ci.rt.ExecutionID(), TaskID: ev.TaskID}
		}
		fail := func(msg string) {
			w.log.Warn("cannot start sub-orchestration", "instance", ci.id, "child", ev.Target, "reason", msg)
			if parent != nil {
				eff.SendWork(&protocol.WorkItem{InstanceID: ci.id, ExecutionID: parent.ExecutionID, Event: protocol.Event{
					Type: protocol.EventSubOrchestrationFailed, Time: rec.Time, TaskID: ev.TaskID,
					Failure: &protocol.Failure{Type: "StartFailed", Message: msg},
				}}, "substart/"+ci.id+"/"+parent.ExecutionID+"/"+strconv.Itoa(int(ev.TaskID)))
			}
		}
		if _, ok := w.reg.Lookup(ev.Name); !ok {
			known, err := w.hub.HasOrchestrator(ctx, ev.Name)
			if err != nil {
				return err
			}
			if !known {
				fail(fmt.Sprintf("unknown orchestrator %q", ev.Name))
				continue
			}
		}
		st := &protocol.InstanceState{
			InstanceID: ev.Target, Name: ev.Name, ExecutionID: ev.ExecutionID, Status: protocol.StatusPending,
			Input: ev.Input, CreatedAt: rec.Time, UpdatedAt: rec.Time,
		}
		rev, err := w.hub.ClaimInstance(ctx, st, eff)
		if errors.Is(err, jetstream.ErrInstanceExists) {
			fail(err.Error())
			continue
		} else if err != nil {
			return err
		}
		eff.SendWork(&protocol.WorkItem{InstanceID: ev.Target, ExecutionID: ev.ExecutionID, StateRevision: rev, Event: protocol.Event{
			Type: protocol.EventExecutionStarted, Time: rec.Time, Name: ev.Name, ExecutionID: ev.ExecutionID,
			Input: ev.Input, Parent: parent,
		}}, "start/"+ev.Target+"/"+ev.ExecutionID)
	}
	return nil
}

// readState learns the revision and status of the stored state. It reports
// done when there is nothing left to write: the state was created here, or a
// later step already wrote a newer one.
func (w *OrchestratorWorker) readState(ctx context.Context, ci *cachedInstance, st *protocol.InstanceState) (done bool, err error) {
	cur, err := w.hub.GetInstance(ctx, ci.id)
	if errors.Is(err, jetstream.ErrInstanceNotFound) {
		// The client creates the state before sending the start, so this is
		// an instance whose state was lost; write it afresh.
		if err := w.hub.IndexInstance(ctx, st, ""); err != nil {
			return false, err
		}
		rev, err := w.hub.CreateInstance(ctx, st)
		if err != nil {
			return false, err
		}
		ci.kvRev, ci.saved, ci.savedCustom, ci.savedAt = rev, st.Status, st.CustomStatus, st.UpdatedAt
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if cur.State.HistorySeq > ci.lastSeq {
		return true, nil
	}
	ci.kvRev, ci.saved = cur.Revision, cur.State.Status
	return false, nil
}

// errUnsupportedVersion leaves an instance for a worker that supports the
// orchestrator version it started on.
var errUnsupportedVersion = errors.New("orchestrator version not supported by this worker")

// errNotYet asks for a batch to be delivered again a little later.
var errNotYet = errors.New("instance is between executions")

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// newExecution reports whether the batch starts a new execution under the
// ID of the ended execution held in ci.
func newExecution(ci *cachedInstance, batch []inboxMsg) bool {
	if st := ci.rt.Status(); !st.Terminal() && st != protocol.StatusContinuedAsNew {
		return false
	}
	for _, m := range batch {
		if ev := m.item.Event; ev.Type == protocol.EventExecutionStarted && ev.ExecutionID != ci.rt.ExecutionID() {
			return true
		}
	}
	return false
}

func (w *OrchestratorWorker) newRuntime(id string) *engine.Runtime {
	rt := engine.New(id, w.reg.Lookup)
	rt.SetMaxPayload(w.hub.Config().MaxPayload)
	return rt
}
