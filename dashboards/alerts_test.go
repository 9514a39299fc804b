package dashboards_test

import (
	"math"
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

// Issue 17 point 2: a rep's home and a manager's (the Telescope of their
// unit) show this week's and this month's target against the actual; the
// week's target is the weekly split of mart_targets, the month's the
// monthly target (the fixture's as-of date 2026-10-31 is a Saturday: the
// week of Monday 26 October).
func TestThisWeekAndMonthAgainstTarget(t *testing.T) {
	for _, tc := range []struct{ user, scope, id, page string }{
		{"rep", "rep", env.rep, "?id=" + env.rep},
		{"east", "region", env.region, ""},
	} {
		var week, month float64
		db := env.w.DB()
		if err := db.QueryRow(`SELECT CAST(sum(target) AS DOUBLE) FROM mart_targets WHERE scope = $1 AND scope_id = $2 AND metric = 'bookings' AND week_start = DATE '2026-10-26'`,
			tc.scope, tc.id).Scan(&week); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT CAST(sum(target) AS DOUBLE) FROM mart_targets_monthly WHERE scope = $1 AND scope_id = $2 AND metric = 'bookings' AND month = '2026-10'`,
			tc.scope, tc.id).Scan(&month); err != nil {
			t.Fatal(err)
		}
		c := login(t, tc.user)
		var d chartJSON
		q := "/api/charts/targets.now?lang=en"
		if tc.page != "" {
			q += "&id=" + tc.id
		}
		if code := c.getJSON(q, &d); code != 200 {
			t.Fatalf("%s: HTTP %d", tc.user, code)
		}
		got := map[string]query.KPI{}
		for _, k := range d.KPIs {
			got[k.Key] = k
		}
		for key, want := range map[string]float64{"week_bookings": week, "month_bookings": month} {
			k := got[key]
			if k.Target == nil || math.Abs(*k.Target-want) > 0.01 || want == 0 {
				t.Errorf("%s %s: target %v, want %v", tc.user, key, k.Target, want)
			}
			if k.When == "" || k.Value == nil {
				t.Errorf("%s %s: no value or no period said: %+v", tc.user, key, k)
			}
		}
	}
}
