package dashboards_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/triscope/triscope/query"
)

// Issue 17 point 7: the top alerts on each role's home — the Telescope for an
// executive and a manager, the rep's own page for a rep — ranked by money at
// risk: the first is the alert with the most money at risk among all the
// user's alerts (the rows behind it), and a rep's are the rep's own.
func TestTopAlertsOnHomePages(t *testing.T) {
	ch, _ := query.ChartByID("alerts.top")
	for _, tc := range []struct{ user, page string }{
		{"ceo", "telescope"}, {"east", "telescope"}, {"rep", "microscope.rep"},
	} {
		if p := query.PageOfChart(ch.ID); p == nil {
			t.Fatal("alerts.top is on no page")
		}
		onPage := false
		for _, p := range query.Pages() {
			if p.ID != tc.page {
				continue
			}
			for _, s := range p.Sections {
				onPage = onPage || slices.Contains(s.Charts, "alerts.top")
			}
		}
		if !onPage {
			t.Errorf("the top alerts are not on %s, the home of %s", tc.page, tc.user)
		}
		c := login(t, tc.user)
		q := url.Values{"lang": {"en"}}
		if tc.page == "microscope.rep" {
			q.Set("id", env.rep)
		}
		var d chartJSON
		if code := c.getJSON("/api/charts/alerts.top?"+q.Encode(), &d); code != 200 {
			t.Fatalf("%s: HTTP %d", tc.user, code)
		}
		if d.Table == nil || len(d.Table.Rows) == 0 {
			t.Errorf("%s: no top alerts", tc.user)
			continue
		}
		var shown []float64
		for _, r := range d.Table.Rows {
			f, _ := r[0].(float64)
			shown = append(shown, f)
		}
		if !slices.IsSortedFunc(shown, func(a, b float64) int { return -cmpFloat(a, b) }) {
			t.Errorf("%s: top alerts not by money at risk: %v", tc.user, shown)
		}
		rows, cols := allRows(t, c, ch, q)
		amt := slices.IndexFunc(cols, func(c query.Column) bool { return c.Name == "amount_at_risk" })
		rep := slices.IndexFunc(cols, func(c query.Column) bool { return c.Name == "rep_name" })
		most := 0.0
		for _, keys := range rows {
			for _, r := range keys {
				if f, ok := r[amt].(float64); ok && f > most {
					most = f
				}
				if tc.user == "rep" && r[rep] != env.repName {
					t.Errorf("rep: an alert of %v among the rep's", r[rep])
				}
			}
		}
		if d := shown[0] - most; d > 0.01 || d < -0.01 {
			t.Errorf("%s: the top alert has %v at risk, the most of the user's alerts is %v", tc.user, shown[0], most)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
