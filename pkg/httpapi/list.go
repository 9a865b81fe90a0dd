package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/client"
)

// ContinuationHeader carries a listing's continuation token: in the answer
// when there are more pages, in the request that asks for the next one.
const ContinuationHeader = "x-ms-continuation-token"

// query parses the filters shared by list and purge many.
func (p *params) query() client.Query {
	q := client.Query{
		CreatedFrom: p.time("createdTimeFrom"),
		CreatedTo:   p.time("createdTimeTo"),
		IDPrefix:    p.q.Get("instanceIdPrefix"),
	}
	if v := p.q.Get("runtimeStatus"); v != "" {
		for _, name := range strings.Split(v, ",") {
			st, err := client.ParseRuntimeStatus(strings.TrimSpace(name))
			if err != nil {
				p.fail("query parameter runtimeStatus: %v", err)
				continue
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	return q
}

// list answers a page of instances as a JSON array of status objects; a
// next page's token comes in the x-ms-continuation-token header.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	q := p.query()
	q.PageSize = p.int("top", 100)
	showInput := p.bool("showInput", false)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	q.ContinuationToken = r.Header.Get(ContinuationHeader)
	page, err := s.c.List(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]StatusObject, len(page.Instances))
	for i, st := range page.Instances {
		out[i] = RenderStatus(st, showInput)
	}
	if page.ContinuationToken != "" {
		w.Header().Set(ContinuationHeader, page.ContinuationToken)
	}
	writeJSON(w, http.StatusOK, out)
}

// purgeMany purges the finished instances created in a time range:
// createdTimeFrom is required, createdTimeTo defaults to now, runtimeStatus
// to every finished status. Running instances are never purged.
func (s *Server) purgeMany(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	if p.q.Get("createdTimeFrom") == "" {
		writeError(w, http.StatusBadRequest, "query parameter createdTimeFrom is required")
		return
	}
	q := p.query()
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	if q.CreatedTo.IsZero() {
		q.CreatedTo = time.Now().UTC()
	}
	for _, st := range q.Statuses {
		if !st.Terminal() {
			writeError(w, http.StatusBadRequest, "query parameter runtimeStatus: "+string(st)+
				" instances cannot be purged; use Completed, Failed, Terminated or Canceled")
			return
		}
	}
	n, err := s.c.PurgeInstances(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if n == 0 {
		writeJSON(w, http.StatusNotFound, purgeResult{})
		return
	}
	writeJSON(w, http.StatusOK, purgeResult{InstancesDeleted: n})
}
