package worker

import (
	"context"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// orphanAge is how long an instance may stay Pending without its start
// having been processed before the sweeper sends the start again.
const orphanAge = 30 * time.Second

// sweepOrphans finds instances whose starter died between storing their
// state and sending their start message (they would stay Pending for ever)
// and sends the start again from the stored state. A start that was only
// slow is harmless to send twice: the copy is dropped as a duplicate.
// One worker sweeps: the one that owns partition 0.
func (w *OrchestratorWorker) sweepOrphans(ctx context.Context) {
	q := jetstream.IndexQuery{
		Statuses:  []protocol.RuntimeStatus{protocol.StatusPending},
		CreatedTo: time.Now().Add(-orphanAge),
		Limit:     jetstream.MaxListLimit,
	}
	for pages := 0; pages < 10; pages++ {
		page, err := w.hub.ListInstances(ctx, q)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("cannot sweep for orphaned starts", "err", err)
			}
			return
		}
		for _, e := range page.Instances {
			st := e.State
			if st.Status != protocol.StatusPending || st.HistorySeq != 0 {
				continue // started since, or a scheduled start already under way
			}
			w.log.Warn("sending the start of an orphaned instance again", "instance", st.InstanceID)
			item := &protocol.WorkItem{InstanceID: st.InstanceID, ExecutionID: st.ExecutionID, StateRevision: e.Revision,
				Event: protocol.Event{Type: protocol.EventExecutionStarted, Time: st.CreatedAt, Name: st.Name,
					ExecutionID: st.ExecutionID, Input: st.Input, FireAt: st.StartAt}}
			if err := w.hub.SendWork(ctx, item, "start/"+st.InstanceID+"/"+st.ExecutionID); err != nil {
				w.log.Warn("cannot send an orphaned start", "instance", st.InstanceID, "err", err)
			}
		}
		if page.Next.IsZero() {
			return
		}
		q.Cursor = page.Next
	}
}
