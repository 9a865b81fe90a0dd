package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"golang.org/x/sync/errgroup"
)

// This file is the read side of the listing index (see index.go for the
// write side). An instance has one index entry, on subject
// endure.<hub>.index.<Status>.<instanceID>, and the stream keeps entries in
// the order instances entered their status. A page is a forward scan of the
// stream from a cursor, one batched Direct Get per status of the filter,
// merged by stream sequence, so it costs what it reads, not the size of the
// hub.

const (
	// DefaultListLimit is the page size when IndexQuery.Limit is zero.
	DefaultListLimit = 100
	// MaxListLimit is the largest page.
	MaxListLimit = 1000
	// DefaultMaxScan bounds how many index entries one page examines when
	// IndexQuery.MaxScan is zero: a filter that matches few entries answers
	// short pages (possibly empty ones) with a cursor instead of reading the
	// whole index in one request.
	DefaultMaxScan = 20000

	// indexBatchMax is the largest Direct Get batch of one request.
	indexBatchMax = 10000
	// stateFetchers is how many instance states a page reads at once.
	stateFetchers = 16
	// directGetTimeout bounds one Direct Get round trip.
	directGetTimeout = 10 * time.Second
	// maxSettle is how long a page waits for an instance's state and its
	// entry to agree, maxSettlePerPage how long in all; settlePoll how
	// often it looks.
	maxSettle        = 250 * time.Millisecond
	maxSettlePerPage = time.Second
	settlePoll       = 5 * time.Millisecond

	// CreatedTimeSlack is how far before CreatedFrom a listing starts
	// reading. An entry is stored after its instance is created, so entries
	// stored before CreatedFrom belong to older instances; the slack covers
	// clock skew between the process that started an instance and the
	// NATS server that stored its entry.
	CreatedTimeSlack = 5 * time.Minute
)

// ErrInvalidQuery is wrapped by ListInstances errors about the query.
var ErrInvalidQuery = errors.New("invalid list query")

// IndexQuery selects instances from the listing index. The zero value lists
// every instance, DefaultListLimit at a time.
type IndexQuery struct {
	// Statuses keeps instances in one of these statuses (empty: any).
	Statuses []protocol.RuntimeStatus
	// CreatedFrom keeps instances created at or after it (zero: no bound).
	CreatedFrom time.Time
	// CreatedTo keeps instances created at or before it (zero: no bound).
	CreatedTo time.Time
	// IDPrefix keeps instances whose ID starts with it.
	IDPrefix string
	// Limit is the page size (default DefaultListLimit, at most MaxListLimit).
	Limit int
	// Cursor continues a listing; the zero value starts one.
	Cursor IndexCursor
	// MaxScan bounds the index entries the page examines (default
	// DefaultMaxScan).
	MaxScan int
}

// IndexCursor is where a listing goes on: the index stream sequence of the
// next entry to examine.
type IndexCursor struct {
	Next uint64
}

// IsZero reports whether the cursor is the zero value: a listing's start,
// or, returned in a page, its end.
func (c IndexCursor) IsZero() bool { return c.Next == 0 }

// IndexPage is one page of a listing.
type IndexPage struct {
	// Instances are the instances found, in index order, with their
	// current state.
	Instances []*InstanceEntry
	// Next continues the listing; zero once it is complete. A page may be
	// short, even empty, and still have a Next: the scan stopped at MaxScan.
	Next IndexCursor
	// Scanned is how many index entries the page examined.
	Scanned int
}

// AllStatuses are the runtime statuses, in the order listings name them.
var AllStatuses = []protocol.RuntimeStatus{
	protocol.StatusPending, protocol.StatusRunning, protocol.StatusSuspended, protocol.StatusContinuedAsNew,
	protocol.StatusCompleted, protocol.StatusFailed, protocol.StatusTerminated, protocol.StatusCanceled,
}

// ListInstances returns a page of the instances that match q, read from the
// listing index. Every instance listed was re-read from the instances
// bucket (the authority), agrees with its entry and matches q by its
// current state; entries whose state is gone (a purge interrupted by a
// crash) or that a crash left behind are skipped.
//
// Paging through with the returned cursors lists once each instance that
// keeps its status during the listing, and never misses an instance that
// matches q all along: a status change files the instance anew, after
// everything already scanned. So an instance that moves to another status
// of the filter meanwhile may be listed twice, once under each. Instances
// created meanwhile are listed if the scan has not ended before them.
func (h *Hub) ListInstances(ctx context.Context, q IndexQuery) (*IndexPage, error) {
	if err := q.normalize(); err != nil {
		return nil, err
	}
	r, err := h.newIndexReader()
	if err != nil {
		return nil, err
	}
	defer r.close()

	cur := q.Cursor
	page := &IndexPage{}
	if cur.IsZero() {
		start := uint64(1)
		if !q.CreatedFrom.IsZero() {
			seq, ok, err := r.firstSeqAt(ctx, q.CreatedFrom.Add(-CreatedTimeSlack))
			if err != nil || !ok {
				return page, err
			}
			start = seq
		}
		cur = IndexCursor{Next: start}
	}
	scans := make([]*subjectScan, 0, len(q.Statuses)+1)
	batch := min(indexBatchMax, max(32, 2*q.Limit))
	if len(q.Statuses) == 0 {
		scans = append(scans, &subjectScan{filter: h.prefix + ".index.>", next: cur.Next, batch: batch})
	}
	for _, s := range q.Statuses {
		scans = append(scans, &subjectScan{filter: h.prefix + ".index." + string(s) + ".>", next: cur.Next, batch: batch})
	}

	var examined uint64 // highest sequence read so far
	settleBudget := maxSettlePerPage
	for {
		need := q.Limit - len(page.Instances)
		var cands []indexItem
		for len(cands) < need && page.Scanned < q.MaxScan {
			it, err := r.nextMerged(ctx, scans)
			if err != nil {
				return nil, err
			}
			if it == nil {
				break
			}
			page.Scanned++
			cur.Next, examined = it.seq+1, it.seq
			if q.matches(it.entry.InstanceID, it.entry.CreatedAt) {
				cands = append(cands, *it)
			}
		}
		states, err := h.readStates(ctx, cands)
		if err != nil {
			return nil, err
		}
		for i, c := range cands {
			st, err := r.settle(ctx, c, states[i], &settleBudget)
			if err != nil {
				return nil, err
			}
			if st == nil || !q.wantsStatus(st.State.Status) || !q.matches(st.State.InstanceID, st.State.CreatedAt) {
				continue
			}
			page.Instances = append(page.Instances, st)
			if len(page.Instances) == q.Limit {
				cur.Next = c.seq + 1
				return r.finishPage(ctx, scans, page, cur, examined)
			}
		}
		if page.Scanned >= q.MaxScan || len(cands) < need {
			return r.finishPage(ctx, scans, page, cur, examined)
		}
	}
}

// finishPage sets the page's cursor, unless the index holds nothing at or
// after it for the query's statuses.
func (r *indexReader) finishPage(ctx context.Context, scans []*subjectScan, page *IndexPage, cur IndexCursor, examined uint64) (*IndexPage, error) {
	if examined >= cur.Next { // the page filled before the last entry read
		page.Next = cur
		return page, nil
	}
	for _, s := range scans {
		s.done = false // entries may have been stored since it ran dry
		it, err := r.head(ctx, s)
		if err != nil {
			return nil, err
		}
		if it != nil {
			page.Next = cur
			return page, nil
		}
	}
	return page, nil
}

func (q *IndexQuery) normalize() error {
	switch {
	case q.Limit < 0:
		return fmt.Errorf("%w: limit %d is negative", ErrInvalidQuery, q.Limit)
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit > MaxListLimit:
		q.Limit = MaxListLimit
	}
	if q.MaxScan <= 0 {
		q.MaxScan = DefaultMaxScan
	}
	if !q.CreatedFrom.IsZero() && !q.CreatedTo.IsZero() && q.CreatedTo.Before(q.CreatedFrom) {
		return fmt.Errorf("%w: created-to %s is before created-from %s", ErrInvalidQuery,
			q.CreatedTo.Format(time.RFC3339), q.CreatedFrom.Format(time.RFC3339))
	}
	seen := map[protocol.RuntimeStatus]bool{}
	var statuses []protocol.RuntimeStatus
	for _, s := range q.Statuses {
		if !knownStatus(s) {
			return fmt.Errorf("%w: unknown runtime status %q", ErrInvalidQuery, s)
		}
		if !seen[s] {
			seen[s] = true
			statuses = append(statuses, s)
		}
	}
	if len(statuses) == len(AllStatuses) {
		statuses = nil // one scan of everything beats eight merged ones
	}
	q.Statuses = statuses
	return nil
}

func knownStatus(s protocol.RuntimeStatus) bool {
	for _, k := range AllStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// matches applies the filters an index entry carries.
func (q *IndexQuery) matches(id string, created time.Time) bool {
	if !strings.HasPrefix(id, q.IDPrefix) {
		return false
	}
	if !q.CreatedFrom.IsZero() && created.Before(q.CreatedFrom) {
		return false
	}
	return q.CreatedTo.IsZero() || !created.After(q.CreatedTo)
}

func (q *IndexQuery) wantsStatus(s protocol.RuntimeStatus) bool {
	if len(q.Statuses) == 0 {
		return true
	}
	for _, w := range q.Statuses {
		if w == s {
			return true
		}
	}
	return false
}

// readStates reads the instance state of each candidate, a few at a time;
// nil for an instance that is gone.
func (h *Hub) readStates(ctx context.Context, cands []indexItem) ([]*InstanceEntry, error) {
	out := make([]*InstanceEntry, len(cands))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(stateFetchers)
	for i := range cands {
		g.Go(func() error {
			e, err := h.GetInstance(gctx, cands[i].entry.InstanceID)
			if errors.Is(err, ErrInstanceNotFound) {
				return nil
			}
			out[i] = e
			return err
		})
	}
	return out, g.Wait()
}

// settle returns the state an entry lists: the instance's state if it
// agrees with the entry, nil if the entry does not count. The two are
// written concurrently, so they may disagree for a moment while an
// instance changes status; settle then waits (at most maxSettle, and
// budget over the page) until either the state catches up with the entry,
// which lists it, or a newer message replaces the entry (a tombstone, or the
// instance filed again), which leaves it to that one. An entry that keeps
// disagreeing is left over from a crash and does not count; the instance
// is listed from its entry under its current status.
func (r *indexReader) settle(ctx context.Context, c indexItem, st *InstanceEntry, budget *time.Duration) (*InstanceEntry, error) {
	if st == nil || st.State.Status == c.status {
		return st, nil
	}
	start := time.Now()
	defer func() { *budget -= time.Since(start) }()
	deadline := start.Add(min(maxSettle, *budget))
	for {
		seq, live, err := r.liveSeq(ctx, r.h.indexSubject(c.status, c.entry.InstanceID))
		if err != nil {
			return nil, err
		}
		if !live || seq != c.seq || !time.Now().Before(deadline) {
			return nil, nil
		}
		if settleHook != nil {
			settleHook(c.entry.InstanceID)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(settlePoll):
		}
		e, err := r.h.GetInstance(ctx, c.entry.InstanceID)
		switch {
		case errors.Is(err, ErrInstanceNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case e.State.Status == c.status:
			return e, nil
		}
	}
}

// indexItem is an index entry as a scan reads it.
type indexItem struct {
	seq    uint64
	status protocol.RuntimeStatus
	entry  protocol.IndexEntry
}

// subjectScan reads the entries of one subject filter forward, a batch at a
// time.
type subjectScan struct {
	filter string
	next   uint64 // sequence to read from
	batch  int
	buf    []indexItem
	done   bool // the server had nothing after next
}

// indexReader sends Direct Get requests to the index stream and reads the
// answers on an inbox of its own. nats.go does not wrap batched Direct Get.
type indexReader struct {
	h     *Hub
	api   string
	inbox *replyInbox
}

func (h *Hub) newIndexReader() (*indexReader, error) {
	inbox, err := h.newReplyInbox(indexBatchMax)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return &indexReader{h: h, api: "$JS.API.DIRECT.GET." + h.index.CachedInfo().Config.Name, inbox: inbox}, nil
}

func (r *indexReader) close() { r.inbox.close() }

// nextMerged returns the entry with the lowest sequence among the scans'
// heads, and consumes it; nil when every scan is exhausted. Merging by
// sequence keeps one cursor for any number of statuses.
func (r *indexReader) nextMerged(ctx context.Context, scans []*subjectScan) (*indexItem, error) {
	var best *subjectScan
	for _, s := range scans {
		s.done = false // entries may have been stored since it ran dry
		it, err := r.head(ctx, s)
		if err != nil {
			return nil, err
		}
		if it != nil && (best == nil || it.seq < best.buf[0].seq) {
			best = s
		}
	}
	if best == nil {
		return nil, nil
	}
	it := best.buf[0]
	best.buf = best.buf[1:]
	return &it, nil
}

// head returns the scan's next entry without consuming it, reading a batch
// if none is buffered; nil when the scan is exhausted.
func (r *indexReader) head(ctx context.Context, s *subjectScan) (*indexItem, error) {
	for len(s.buf) == 0 && !s.done {
		msgs, more, err := r.get(ctx, directGetRequest{Seq: s.next, NextFor: s.filter, Batch: s.batch})
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			s.next = m.seq + 1
			it, ok := r.decode(m)
			if ok {
				s.buf = append(s.buf, it)
			}
		}
		s.done = !more || len(msgs) == 0
		s.batch = min(indexBatchMax, s.batch*4)
	}
	if len(s.buf) == 0 {
		return nil, nil
	}
	return &s.buf[0], nil
}

// decode turns a stored index message into an entry; a message that is not
// one is logged and skipped rather than failing every listing.
func (r *indexReader) decode(m directMsg) (indexItem, bool) {
	rest, ok := strings.CutPrefix(m.subject, r.h.prefix+".index.")
	status, id, ok2 := strings.Cut(rest, ".")
	it := indexItem{seq: m.seq, status: protocol.RuntimeStatus(status)}
	if !ok || !ok2 {
		r.h.log.Warn("skipping index entry on unexpected subject", "subject", m.subject, "seq", m.seq)
		return it, false
	}
	if len(m.data) == 0 {
		return it, false // a tombstone: the entry it replaced is gone
	}
	if len(m.data) == 0 {
		return it, false // a tombstone: the instance moved to another status
	}
	if err := protocol.Unmarshal(m.data, &it.entry); err != nil || it.entry.InstanceID != id {
		r.h.log.Warn("skipping undecodable index entry", "subject", m.subject, "seq", m.seq, "err", err)
		return it, false
	}
	return it, true
}

// firstSeqAt returns the sequence of the first index entry stored at or
// after t; false if there is none.
func (r *indexReader) firstSeqAt(ctx context.Context, t time.Time) (uint64, bool, error) {
	t = t.UTC()
	msgs, _, err := r.get(ctx, directGetRequest{StartTime: &t, Batch: 1})
	if err != nil || len(msgs) == 0 {
		return 0, false, err
	}
	return msgs[0].seq, true, nil
}

// settleHook, set by tests, runs each time settle waits.
var settleHook func(instanceID string)

// liveSeq returns the sequence of the message on an index subject, and
// whether it is an entry (not a tombstone).
func (r *indexReader) liveSeq(ctx context.Context, subject string) (uint64, bool, error) {
	msgs, _, err := r.get(ctx, directGetRequest{LastFor: subject})
	if err != nil || len(msgs) == 0 {
		return 0, false, err
	}
	return msgs[0].seq, len(msgs[0].data) > 0, nil
}

// directGetRequest is the body of a Direct Get request.
type directGetRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	LastFor   string     `json:"last_by_subj,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
}

// directMsg is one message of a Direct Get answer.
type directMsg struct {
	seq     uint64
	subject string
	data    []byte
}

// get sends one Direct Get request and collects its answer: the messages,
// and for a batch whether the server has more after them.
func (r *indexReader) get(ctx context.Context, req directGetRequest) ([]directMsg, bool, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, directGetTimeout)
	defer cancel()
	if err := r.h.nc.PublishRequest(r.api, r.inbox.subject, body); err != nil {
		return nil, false, fmt.Errorf("read index: %w", err)
	}
	var out []directMsg
	for {
		msg, err := r.inbox.next(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("read index: %w", err)
		}
		if status := msg.Header.Get("Status"); status != "" {
			switch status {
			case "204": // end of batch
				pending, _ := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
				return out, pending > 0, nil
			case "404": // nothing (more) to read
				return out, false, nil
			default:
				return nil, false, fmt.Errorf("read index: direct get: %s %s", status, msg.Header.Get("Description"))
			}
		}
		seq, err := strconv.ParseUint(msg.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("read index: bad sequence header: %w", err)
		}
		out = append(out, directMsg{seq: seq, subject: msg.Header.Get("Nats-Subject"), data: msg.Data})
		if req.Batch == 0 {
			return out, false, nil // a single get has no end-of-batch marker
		}
	}
}
