package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
)

// Query selects instances for List and PurgeInstances. The zero value
// selects every instance.
type Query struct {
	// CreatedFrom keeps instances created at or after it (zero: no bound).
	CreatedFrom time.Time
	// CreatedTo keeps instances created at or before it (zero: no bound).
	CreatedTo time.Time
	// Statuses keeps instances in one of these statuses (empty: any).
	Statuses []protocol.RuntimeStatus
	// IDPrefix keeps instances whose ID starts with it.
	IDPrefix string
	// PageSize is how many instances a List page holds at most (default
	// 100, at most 1000). A page can be shorter, even empty, and still
	// have a continuation token: a page examines a bounded part of the
	// index, so a filter that matches few instances takes several pages.
	PageSize int
	// ContinuationToken continues a listing where the previous page's
	// token says; empty starts one.
	ContinuationToken string
}

// Page is one page of a listing.
type Page struct {
	// Instances are the instances of the page, each as its current status.
	Instances []*Status
	// ContinuationToken fetches the next page; empty once the listing is
	// complete.
	ContinuationToken string
}

// ErrBadToken is returned for a continuation token that List did not issue.
var ErrBadToken = fmt.Errorf("%w: bad continuation token", ErrInvalidInput)

// List returns a page of the instances that match q, in the order they
// entered their current status, read from the hub's listing index: a page
// costs what it reads, not the number of instances in the hub. Paging
// through lists once every instance that keeps its status meanwhile and
// never misses one that matches q all along; an instance that changes
// status during the listing may show up again on a later page under its new
// status. Errors: ErrBadToken, and ErrInvalidInput for a query that makes
// no sense (unknown status, CreatedTo before CreatedFrom).
func (c *Client) List(ctx context.Context, q Query) (*Page, error) {
	iq, err := indexQuery(q)
	if err != nil {
		return nil, err
	}
	if q.ContinuationToken != "" {
		if iq.Cursor, err = decodeToken(q.ContinuationToken); err != nil {
			return nil, err
		}
	}
	p, err := c.hub.ListInstances(ctx, iq)
	if err != nil {
		if errors.Is(err, jetstream.ErrInvalidQuery) {
			return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
		return nil, err
	}
	out := &Page{Instances: make([]*Status, len(p.Instances))}
	for i, e := range p.Instances {
		out.Instances[i] = statusFrom(&e.State)
	}
	if !p.Next.IsZero() {
		out.ContinuationToken = encodeToken(p.Next)
	}
	return out, nil
}

// Instances iterates over every instance that matches q, page after page,
// with List's guarantees. It stops at the first error, which it yields.
func (c *Client) Instances(ctx context.Context, q Query) iter.Seq2[*Status, error] {
	return func(yield func(*Status, error) bool) {
		for {
			p, err := c.List(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, st := range p.Instances {
				if !yield(st, nil) {
					return
				}
			}
			if p.ContinuationToken == "" {
				return
			}
			q.ContinuationToken = p.ContinuationToken
		}
	}
}

// FinishedStatuses are the statuses of instances that will run nothing
// more: the ones PurgeInstances deletes.
var FinishedStatuses = []protocol.RuntimeStatus{
	protocol.StatusCompleted, protocol.StatusFailed, protocol.StatusTerminated, protocol.StatusCanceled,
}

// PurgeInstances deletes every finished instance that matches q (its
// filters; PageSize and ContinuationToken are ignored) as Purge does, and
// returns how many it deleted. With no Statuses it purges instances in any
// finished status; naming a status of a running instance (Pending,
// Running, Suspended, ContinuedAsNew) is ErrInvalidInput, since running
// instances cannot be purged.
func (c *Client) PurgeInstances(ctx context.Context, q Query) (int, error) {
	if len(q.Statuses) == 0 {
		q.Statuses = FinishedStatuses
	}
	for _, s := range q.Statuses {
		if !s.Terminal() {
			return 0, fmt.Errorf("%w: %s instances cannot be purged; only Completed, Failed, Terminated and Canceled ones", ErrInvalidInput, s)
		}
	}
	q.ContinuationToken, q.PageSize = "", jetstream.MaxListLimit
	deleted := 0
	for {
		p, err := c.List(ctx, q)
		if err != nil {
			return deleted, err
		}
		for _, st := range p.Instances {
			err := c.Purge(ctx, st.InstanceID)
			switch {
			case err == nil:
				deleted++
			case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotFinished):
				// Purged or restarted since it was listed.
			default:
				return deleted, err
			}
		}
		if p.ContinuationToken == "" {
			return deleted, nil
		}
		q.ContinuationToken = p.ContinuationToken
	}
}

func indexQuery(q Query) (jetstream.IndexQuery, error) {
	if q.PageSize < 0 {
		return jetstream.IndexQuery{}, fmt.Errorf("%w: page size %d is negative", ErrInvalidInput, q.PageSize)
	}
	for _, s := range q.Statuses {
		if _, err := ParseRuntimeStatus(string(s)); err != nil {
			return jetstream.IndexQuery{}, err
		}
	}
	return jetstream.IndexQuery{
		Statuses: q.Statuses, CreatedFrom: q.CreatedFrom, CreatedTo: q.CreatedTo,
		IDPrefix: q.IDPrefix, Limit: q.PageSize,
	}, nil
}

// ParseRuntimeStatus parses a runtime status name, ignoring case.
func ParseRuntimeStatus(s string) (protocol.RuntimeStatus, error) {
	for _, k := range jetstream.AllStatuses {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: unknown runtime status %q (want one of Pending, Running, Suspended, ContinuedAsNew, Completed, Failed, Terminated, Canceled)", ErrInvalidInput, s)
}

// tokenPrefix versions the continuation token format.
const tokenPrefix = "e1:"

// encodeToken makes a cursor opaque: callers hand it back, never build it.
func encodeToken(c jetstream.IndexCursor) string {
	raw := tokenPrefix + strconv.FormatUint(c.Next, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(tok string) (jetstream.IndexCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return jetstream.IndexCursor{}, ErrBadToken
	}
	next, ok := strings.CutPrefix(string(raw), tokenPrefix)
	if !ok {
		return jetstream.IndexCursor{}, ErrBadToken
	}
	n, err := strconv.ParseUint(next, 10, 64)
	if err != nil || n == 0 {
		return jetstream.IndexCursor{}, ErrBadToken
	}
	return jetstream.IndexCursor{Next: n}, nil
}

// HistoryEvent is one event of an instance's history.
type HistoryEvent = protocol.Event

// History returns the instance's history events in order, or ErrNotFound.
func (c *Client) History(ctx context.Context, id string) ([]HistoryEvent, error) {
	if _, err := c.hub.GetInstance(ctx, id); err != nil {
		return nil, err
	}
	h, err := c.hub.ReadHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []HistoryEvent
	for _, rec := range h.Records {
		for _, ev := range rec.Events {
			if ev.Time.IsZero() {
				ev.Time = rec.Time
			}
			out = append(out, ev)
		}
	}
	return out, nil
}
