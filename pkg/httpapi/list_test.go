package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/httpapi"
)

// listAll pages through GET /instances with query q, following the
// continuation header, and returns the instances and the page count.
func (a *api) listAll(q string, top int) ([]status, int) {
	a.t.Helper()
	var out []status
	token := ""
	for pages := 1; ; pages++ {
		var hdr []string
		if token != "" {
			hdr = []string{httpapi.ContinuationHeader, token}
		}
		r := a.do("GET", a.url(mgmt(fmt.Sprintf("/instances?top=%d%s", top, q))), "", "", hdr...)
		if r.code != http.StatusOK {
			a.t.Fatalf("list %s: %s", q, r)
		}
		page := decode[[]status](a.t, r.body)
		if len(page) > top {
			a.t.Fatalf("page of %d instances, top=%d", len(page), top)
		}
		out = append(out, page...)
		if token = r.header.Get(httpapi.ContinuationHeader); token == "" {
			return out, pages
		}
		if pages > 1000 {
			a.t.Fatal("listing does not end")
		}
	}
}

func ids(sts []status) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = st.InstanceID
	}
	sort.Strings(out)
	return out
}

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// TestListFiltersAndPagesOverHTTP lists instances with each filter and
// pages through them with x-ms-continuation-token.
func TestListFiltersAndPagesOverHTTP(t *testing.T) {
	a := newAPI(t)
	before := time.Now().UTC().Add(-time.Second)
	alpha, beta, gamma := seq("alpha-", 10), seq("beta-", 8), seq("gamma-", 4)
	for i, id := range alpha {
		a.startAt("/api/orchestrators/Echo/"+id, fmt.Sprint(i))
	}
	for _, id := range beta {
		a.startAt("/api/orchestrators/WaitEvent/"+id, "")
	}
	for _, id := range gamma {
		a.startAt("/api/orchestrators/Fail/"+id, "")
	}
	for _, id := range alpha {
		a.waitStatus(a.url(mgmt("/instances/"+id)), "Completed")
	}
	for _, id := range beta {
		a.waitStatus(a.url(mgmt("/instances/"+id)), "Running")
	}
	for _, id := range gamma {
		a.waitStatus(a.url(mgmt("/instances/"+id)), "Failed")
	}
	after := time.Now().UTC().Add(time.Second)
	all := append(append(append([]string{}, alpha...), beta...), gamma...)
	sort.Strings(all)
	ts := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }

	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"everything", "", all},
		{"one status", "&runtimeStatus=Running", beta},
		{"two statuses", "&runtimeStatus=Completed,failed", append(append([]string{}, alpha...), gamma...)},
		{"every status named", "&runtimeStatus=Pending,Running,Suspended,ContinuedAsNew,Completed,Failed,Terminated,Canceled", all},
		{"prefix", "&instanceIdPrefix=alpha-", alpha},
		{"prefix and status that exclude each other", "&instanceIdPrefix=beta-&runtimeStatus=Completed", nil},
		{"created in the range", "&createdTimeFrom=" + ts(before) + "&createdTimeTo=" + ts(after), all},
		{"created after everything", "&createdTimeFrom=" + ts(after), nil},
		{"created before everything", "&createdTimeTo=" + ts(before), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := a.with(t)
			for _, top := range []int{3, 100} {
				got, pages := a.listAll(tc.query, top)
				if want := append([]string{}, tc.want...); !reflect.DeepEqual(ids(got), want) && !(len(got) == 0 && len(want) == 0) {
					t.Fatalf("top=%d: listed %v\nwant %v", top, ids(got), want)
				}
				if top == 3 && len(tc.want) > 3 && pages < len(tc.want)/3 {
					t.Errorf("%d instances in %d pages of 3", len(got), pages)
				}
			}
		})
	}

	// showInput: off by default in a list, on when asked.
	got, _ := a.listAll("&instanceIdPrefix=alpha-03", 100)
	if len(got) != 1 || string(got[0].Input) != "null" || string(got[0].Output) != "3" {
		t.Fatalf("list without showInput: %+v", got)
	}
	got, _ = a.listAll("&instanceIdPrefix=alpha-03&showInput=true", 100)
	if len(got) != 1 || string(got[0].Input) != "3" {
		t.Fatalf("list with showInput: %+v", got)
	}
}
