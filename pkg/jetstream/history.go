package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// historyBatch is how many records one Direct Get request returns.
const historyBatch = 1000

// History is an instance's committed records and the stream sequence of the
// last one, which the next AppendHistory must name.
type History struct {
	Records []protocol.HistoryRecord
	LastSeq uint64
}

// ReadHistory reads every committed record of an instance, in order. An
// instance without history gives an empty History. Each instance's history is
// one literal subject read with batched Direct Get, so the cost follows the
// instance's own history, not the size of the stream.
func (h *Hub) ReadHistory(ctx context.Context, instanceID string) (*History, error) {
	subject := h.historySubject(instanceID)
	api := "$JS.API.DIRECT.GET." + h.history.CachedInfo().Config.Name
	inbox, err := h.newReplyInbox(historyBatch)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", instanceID, err)
	}
	defer inbox.close()

	out := &History{}
	next := uint64(1)
	for {
		req, _ := json.Marshal(map[string]any{"seq": next, "next_by_subj": subject, "batch": historyBatch})
		if err := h.nc.PublishRequest(api, inbox.subject, req); err != nil {
			return nil, fmt.Errorf("read history of %s: %w", instanceID, err)
		}
		got, more := 0, false
		for {
			msg, err := inbox.next(ctx)
			if err != nil {
				return nil, fmt.Errorf("read history of %s: %w", instanceID, err)
			}
			if status := msg.Header.Get("Status"); status != "" {
				switch status {
				case "204": // end of batch
					pending, _ := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
					more = pending > 0
				case "404": // nothing (more) on the subject
				default:
					return nil, fmt.Errorf("read history of %s: direct get: %s %s", instanceID, status, msg.Header.Get("Description"))
				}
				break
			}
			seq, err := strconv.ParseUint(msg.Header.Get("Nats-Sequence"), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("read history of %s: bad sequence header: %w", instanceID, err)
			}
			var rec protocol.HistoryRecord
			if err := protocol.Unmarshal(msg.Data, &rec); err != nil {
				return nil, fmt.Errorf("read history of %s at %d: %w", instanceID, seq, err)
			}
			for i := range rec.Events {
				if err := h.ResolveEvent(ctx, &rec.Events[i]); err != nil {
					return nil, fmt.Errorf("read history of %s at %d: %w", instanceID, seq, err)
				}
			}
			if rec.CustomStatus, err = h.ResolvePayload(ctx, rec.CustomStatus); err != nil {
				return nil, fmt.Errorf("read history of %s at %d: %w", instanceID, seq, err)
			}
			out.Records = append(out.Records, rec)
			out.LastSeq = seq
			next = seq + 1
			got++
		}
		if !more || got == 0 {
			return out, nil
		}
	}
}

// AppendHistory commits one record after the record at lastSeq (0 for an
// instance without history) and returns the new record's sequence. It
// returns ErrConflict if another writer committed first.
//
// Payloads over InlineLimit are moved to the object store first; rec's
// events then hold references, which readers resolve.
func (h *Hub) AppendHistory(ctx context.Context, instanceID string, rec *protocol.HistoryRecord, lastSeq uint64) (uint64, error) {
	data, err := h.encodeRecord(ctx, instanceID, rec, InlineLimit)
	if err == nil && int64(len(data)) > h.nc.MaxPayload()-4096 {
		// Many payloads under the inline limit add up: keep all but the
		// smallest out of line.
		data, err = h.encodeRecord(ctx, instanceID, rec, 512)
	}
	if err != nil {
		return 0, fmt.Errorf("append history of %s: %w", instanceID, err)
	}
	ack, err := h.js.Publish(ctx, h.historySubject(instanceID), data, jetstream.WithExpectLastSequencePerSubject(lastSeq))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return 0, fmt.Errorf("append history of %s: %w", instanceID, ErrConflict)
		}
		return 0, fmt.Errorf("append history of %s: %w", instanceID, err)
	}
	return ack.Sequence, nil
}

// encodeRecord moves the record's payloads over limit to the object store
// and encodes it.
func (h *Hub) encodeRecord(ctx context.Context, instanceID string, rec *protocol.HistoryRecord, limit int) ([]byte, error) {
	for i := range rec.Events {
		if err := h.offloadEventOver(ctx, instanceID, &rec.Events[i], limit); err != nil {
			return nil, err
		}
	}
	if err := h.offloadOver(ctx, instanceID, &rec.CustomStatus, limit); err != nil {
		return nil, err
	}
	return protocol.Marshal(rec)
}

// PurgeHistory deletes an instance's history.
func (h *Hub) PurgeHistory(ctx context.Context, instanceID string) error {
	if err := h.history.Purge(ctx, jetstream.WithPurgeSubject(h.historySubject(instanceID))); err != nil {
		return fmt.Errorf("purge history of %s: %w", instanceID, err)
	}
	return nil
}
