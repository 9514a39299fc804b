package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/triscope/triscope/query"
)

// bench-serve --pages opens views as a browser does: every chart of a page
// with one query, once per view.
func TestBenchPageViewsAreWholePages(t *testing.T) {
	views := benchViews(map[string][]string{"customers.detail": {"id=C-1", "id=C-2"}})
	pages := benchPageViews(views)
	charts := map[string]int{} // charts per page
	for _, p := range query.Pages() {
		for _, s := range p.Sections {
			charts[p.ID] += len(s.Charts)
		}
	}
	perPage := map[string]int{}
	seen := map[string]bool{}
	total := 0
	for _, pv := range pages {
		perPage[pv.page]++
		if len(pv.charts) != charts[pv.page] {
			t.Errorf("a view of %s asks for %d charts, the page has %d", pv.page, len(pv.charts), charts[pv.page])
		}
		_, q, _ := strings.Cut(pv.charts[0].url, "?")
		ids := map[string]bool{}
		for _, v := range pv.charts {
			path, vq, _ := strings.Cut(v.url, "?")
			if vq != q {
				t.Errorf("a view of %s mixes queries %q and %q", pv.page, q, vq)
			}
			id, _ := url.PathUnescape(strings.TrimPrefix(path, "/api/charts/"))
			ids[id] = true
		}
		if len(ids) != len(pv.charts) {
			t.Errorf("a view of %s asks for a chart twice", pv.page)
		}
		if seen[pv.page+"?"+q] {
			t.Errorf("view %s?%s listed twice", pv.page, q)
		}
		seen[pv.page+"?"+q] = true
		total += len(pv.charts)
	}
	if total != len(views) {
		t.Errorf("the page views hold %d chart requests, want every one of the %d", total, len(views))
	}
	// the magnifier: every metric and dimension; a customer's page: each id
	if perPage["magnifier"] != 25 || perPage["customers.detail"] != 2 {
		t.Errorf("views: magnifier %d (want 25), customers.detail %d (want 2)", perPage["magnifier"], perPage["customers.detail"])
	}
}
