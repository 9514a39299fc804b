package dashboards_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/query"
)

// Issue 17, point 3: a card and its rows agree. For every tile of every
// page that opens rows, for an executive, a manager and a rep: a count is
// the number of rows behind it and an amount is the sum of their column of
// that figure (KPI.RowsSum, else amount_base).
func TestEveryTileAgreesWithItsRows(t *testing.T) {
	for _, name := range []string{"ceo", "east", "rep"} {
		c := login(t, name)
		for _, ch := range query.Charts() {
			if ch.Kind != query.KindKPI || ch.Drill == nil {
				continue
			}
			q := url.Values{"period": {"l12m"}}
			switch query.PageOfChart(ch.ID).ID {
			case "customers.detail":
				q.Set("id", env.mixed)
			case "microscope.rep":
				q.Set("id", env.rep)
			}
			var d chartJSON
			if code := c.getJSON("/api/charts/"+ch.ID+"?"+q.Encode(), &d); code != 200 {
				t.Fatalf("%s %s: HTTP %d", name, ch.ID, code)
			}
			for _, k := range d.KPIs {
				if k.Point == "" || k.Value == nil || (k.Format != "money" && k.Format != "count") {
					continue
				}
				qq := url.Values{"point": {k.Point}}
				for key, v := range q {
					qq[key] = v
				}
				if k.RowsSum == "-" {
					continue // a formula of its rows (velocity)
				}
				rows, cols := allRows(t, c, ch, qq)
				col, mean := strings.CutPrefix(k.RowsSum, "mean:")
				n, sum := 0, 0.0
				if col == "" {
					col = "amount_base"
				}
				idx := -1
				for i, cl := range cols {
					if cl.Name == col {
						idx = i
					}
				}
				for _, keys := range rows {
					for _, r := range keys {
						n++
						if idx >= 0 {
							if f, ok := r[idx].(float64); ok {
								sum += f
							}
						}
					}
				}
				var got float64
				what := "rows"
				if k.Format == "count" {
					got = float64(n)
				} else {
					if idx < 0 {
						t.Errorf("%s %s: tile %s sums %s, which its rows lack (%v)", name, ch.ID, k.Key, col, colNames(cols))
						continue
					}
					got, what = sum, "sum of "+col
					if mean {
						got, what = sum/math.Max(1, float64(n)), "mean of "+col
					}
				}
				if math.Abs(got-*k.Value) > 0.01*math.Max(1, float64(n)) {
					t.Errorf("%s %s: tile %s = %v, %s behind it = %v", name, ch.ID, k.Key, *k.Value, what, got)
				}
			}
		}
	}
}

func colNames(cols []query.Column) string {
	var s []string
	for _, c := range cols {
		s = append(s, c.Name)
	}
	return fmt.Sprint(strings.Join(s, ","))
}

// The Rows button of a chart lists the rows the chart shows: the overdue
// installments behind the aging and the customers owing most, those due
// soon behind "due soon" (they shared a drill-through that listed every
// unpaid installment back to the first year: 18,653 rows under a card of 898).
func TestChartRowsAreTheChartsRows(t *testing.T) {
	c := login(t, "ceo")
	for id, allowed := range map[string][]string{
		"collections.aging":             {"overdue"},
		"collections.overdue_customers": {"overdue"},
		"collections.due":               {"due_7d", "due_this_month"},
	} {
		ch, _ := query.ChartByID(id)
		rows, cols := allRows(t, c, ch, url.Values{})
		status := slices.IndexFunc(cols, func(c query.Column) bool { return c.Name == "status" })
		n := 0
		for _, keys := range rows {
			for key, r := range keys {
				n++
				if s, _ := r[status].(string); !slices.Contains(allowed, s) {
					t.Errorf("%s: row %s has status %q, the chart shows %v", id, key, s, allowed)
				}
			}
		}
		if n == 0 && id != "collections.due" {
			t.Errorf("%s lists no rows: the test proves nothing", id)
		}
	}
}

// "Due within 7 days" and "Due by month end" were the same figure whenever
// the as-of date was a month end (the fixture's 2026-10-31, like the demo):
// by month end now runs to the end of the next month. The "due soon" list
// holds the rows of the month-end card and sums to it, for three roles.
func TestDueByMonthEndAtAMonthEnd(t *testing.T) {
	ch, _ := query.ChartByID("collections.due")
	for _, name := range []string{"ceo", "east", "rep"} {
		c := login(t, name)
		var d chartJSON
		if code := c.getJSON("/api/charts/collections.kpis?lang=en", &d); code != 200 {
			t.Fatalf("%s collections.kpis: HTTP %d", name, code)
		}
		tiles := map[string]query.KPI{}
		for _, k := range d.KPIs {
			tiles[k.Key] = k
		}
		d7, dm := tiles["due_7d"], tiles["due_month"]
		if d7.Value == nil || dm.Value == nil {
			t.Fatalf("%s: no due tiles: %+v", name, d.KPIs)
		}
		if name == "ceo" && !(*dm.Value > *d7.Value) {
			t.Errorf("%s: due by month end %v is not more than due within 7 days %v on a month-end as-of date", name, *dm.Value, *d7.Value)
		}
		if !strings.Contains(dm.When, "30 Nov 2026") {
			t.Errorf("%s: the month-end card does not say it runs to 30 Nov 2026: %q", name, dm.When)
		}
		rows, cols := allRows(t, c, ch, url.Values{})
		idx := slices.IndexFunc(cols, func(c query.Column) bool { return c.Name == "unpaid_base" })
		sum := 0.0
		for _, keys := range rows {
			for _, r := range keys {
				if f, ok := r[idx].(float64); ok {
					sum += f
				}
			}
		}
		if math.Abs(sum-*dm.Value) > 0.01 {
			t.Errorf("%s: the due-soon list sums to %v, the month-end card says %v", name, sum, *dm.Value)
		}
	}
}

// The bars of the charts of money against target — by month and by week —
// agree with their rows: each bar is the sum of amount_base of the rows
// behind its point, for an executive, a manager and a rep (a rep on their own
// page, where the weekly charts are their home's). So do the Magnifier's
// monthly pipeline bars, which are running sums of the deals created and
// closed while their rows are the deals open on the month's last day.
func TestBarsAgreeWithTheirRows(t *testing.T) {
	for _, name := range []string{"ceo", "east", "rep"} {
		c := login(t, name)
		// (telescope.collections also over a period whose first and last
		// months are partial, without a comparison: its whole months are
		// summed apart from its partial ones, scoped.collections_in)
		for _, tc := range []struct{ id, from, to string }{{id: "telescope.bookings"}, {id: "telescope.collections"},
			{id: "telescope.collections", from: "2026-03-10", to: "2026-09-17"},
			{id: "targets.weeks_bookings"}, {id: "targets.weeks_collections"}, {id: "magnifier.trend"}} {
			id := tc.id
			ch, _ := query.ChartByID(id)
			q := url.Values{"period": {"mtd"}}
			if tc.from != "" {
				q = url.Values{"period": {"custom"}, "from": {tc.from}, "to": {tc.to}, "cmp": {"none"}}
			}
			if name == "rep" && strings.HasPrefix(id, "targets.") {
				q.Set("id", env.rep)
			}
			if id == "magnifier.trend" {
				q = url.Values{"period": {"l12m"}, "metric": {"pipeline"}}
			}
			var d chartJSON
			if code := c.getJSON("/api/charts/"+id+"?"+q.Encode(), &d); code != 200 {
				t.Fatalf("%s %s: HTTP %d", name, id, code)
			}
			var opt chartOption
			if err := json.Unmarshal(d.Option, &opt); err != nil || len(opt.Series) == 0 {
				t.Fatalf("%s %s: no series (%v)", name, id, err)
			}
			checked := 0
			for i, v := range opt.Series[0].Data {
				if v.Value == nil || i >= len(d.Points) || d.Points[i].Key == "" {
					continue
				}
				qq := url.Values{"point": {d.Points[i].Key}}
				for k, vv := range q {
					qq[k] = vv
				}
				rows, cols := allRows(t, c, ch, qq)
				idx := slices.IndexFunc(cols, func(c query.Column) bool { return c.Name == "amount_base" })
				sum := 0.0
				for _, keys := range rows {
					for _, r := range keys {
						if f, ok := r[idx].(float64); ok {
							sum += f
						}
					}
				}
				if math.Abs(sum-*v.Value) > 0.01 {
					t.Errorf("%s %s: bar %s = %v, its rows sum to %v", name, id, d.Points[i].Key, *v.Value, sum)
				}
				checked++
			}
			if checked == 0 {
				t.Errorf("%s %s: no bar checked", name, id)
			}
		}
	}
}

// The Magnifier's paying customers by month are the distinct customers
// with a payment (amount >= 0) in each month of the period, and for the
// comparison line in the same month a year earlier, counted here from the
// base payments for the executive (who sees every row): over a year (one
// bit per month and customer) and over a custom period longer than 64
// months (counted distinct per month).
func TestMagnifierPayingCustomersByMonth(t *testing.T) {
	c := login(t, "ceo")
	db := env.w.DB()
	var last time.Time
	if err := db.QueryRow("SELECT max(paid_on) FROM live.payments").Scan(&last); err != nil {
		t.Fatal(err)
	}
	custom := func(from, to time.Time) url.Values {
		return url.Values{"metric": {"customers"}, "period": {"custom"}, "cmp": {"yoy"},
			"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
	}
	month := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0) // a whole month of data
	for _, c2 := range []struct {
		q      url.Values
		months int // at least this many months with paying customers
	}{
		{url.Values{"metric": {"customers"}, "period": {"l12m"}, "cmp": {"yoy"}}, 12},
		{custom(last.AddDate(0, -70, 0), last), 12}, // longer than 64 months: counted per month
		// whole months and partial ones at either end, counted from the
		// paying customers' month bits and the payments of the partial days
		{custom(month.AddDate(0, -5, 0), month.AddDate(0, 1, -1)), 6}, // whole months only
		{custom(month.AddDate(0, -5, 9), month.AddDate(0, 0, 19)), 6}, // partial first and last months
		{custom(month.AddDate(0, 0, 3), month.AddDate(0, 0, 16)), 1},  // within one month
		{custom(month, month.AddDate(0, 0, 9)), 1},                    // the first days of a month
		{custom(month.AddDate(0, 0, 20), month.AddDate(0, 1, -1)), 1}, // the last days of a month
		{custom(month.AddDate(0, -1, 25), month.AddDate(0, 0, 4)), 2}, // across a month's end
	} {
		q := c2.q
		var d chartJSON
		if code := c.getJSON("/api/charts/magnifier.trend?"+q.Encode(), &d); code != 200 {
			t.Fatalf("%s: HTTP %d", q.Encode(), code)
		}
		var opt chartOption
		if err := json.Unmarshal(d.Option, &opt); err != nil || len(opt.Series) != 2 || len(d.Points) < c2.months {
			t.Fatalf("%s: %d series, %d points (%v)", q.Encode(), len(opt.Series), len(d.Points), err)
		}
		var from, to time.Time
		if q.Get("period") == "custom" {
			from, _ = time.Parse(time.DateOnly, q.Get("from"))
			to, _ = time.Parse(time.DateOnly, q.Get("to"))
		}
		nonzero := 0
		for i, p := range d.Points {
			month, err := time.Parse("2006-01", strings.TrimPrefix(p.Key, "m:"))
			if err != nil {
				t.Fatalf("point %q: %v", p.Key, err)
			}
			lo, hi := month, month.AddDate(0, 1, -1)
			if !from.IsZero() && from.After(lo) {
				lo = from
			}
			if !to.IsZero() && to.Before(hi) {
				hi = to
			}
			var cur, cmp float64
			if err := db.QueryRow(`SELECT
				(SELECT count(DISTINCT customer_id) FROM live.payments WHERE amount >= 0 AND paid_on BETWEEN $1 AND $2),
				(SELECT count(DISTINCT customer_id) FROM live.payments WHERE amount >= 0 AND paid_on BETWEEN $3 AND $4)`,
				lo, hi, month.AddDate(-1, 0, 0), month.AddDate(-1, 1, -1)).Scan(&cur, &cmp); err != nil {
				t.Fatal(err)
			}
			got := [2]float64{}
			for s := range got {
				if v := opt.Series[s].Data[i].Value; v != nil {
					got[s] = *v
				}
			}
			if got[0] != cur || got[1] != cmp {
				t.Errorf("%s, %s: %v paying customers against %v a year earlier; the payments say %v and %v", q.Encode(), p.Key, got[0], got[1], cur, cmp)
			}
			if cur > 0 {
				nonzero++
			}
		}
		if nonzero < c2.months {
			t.Errorf("%s: only %d months with paying customers: the test would prove little", q.Encode(), nonzero)
		}
	}
}

// The Magnifier's paying customers by industry (breakdown, share and table
// read one query) are the distinct customers with a visible payment
// (amount >= 0) in the period, and in the comparison period, by the
// customer's industry: counted here from the base payments and the
// reference visibility of scope_test.go, for every kind of user, over
// periods of whole months, of partial first and last months, within one
// month and across a month's end.
func TestMagnifierPayingCustomersByIndustry(t *testing.T) {
	db := env.w.DB()
	var last time.Time
	if err := db.QueryRow("SELECT max(paid_on) FROM live.payments").Scan(&last); err != nil {
		t.Fatal(err)
	}
	month := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	periods := [][2]time.Time{
		{month.AddDate(0, -5, 0), month.AddDate(0, 1, -1)},
		{month.AddDate(0, -5, 9), month.AddDate(0, 0, 19)},
		{month.AddDate(0, 0, 3), month.AddDate(0, 0, 16)},
		{month, month.AddDate(0, 0, 9)},
		{month.AddDate(0, 0, 20), month.AddDate(0, 1, -1)},
		{month.AddDate(0, -1, 25), month.AddDate(0, 0, 4)},
	}
	// each payment with its customer's industry, day and amount sign
	type payment struct {
		customer, industry string
		day                time.Time
	}
	pays := map[string]payment{}
	rows, err := db.Query(`SELECT p.payment_id, p.customer_id, coalesce(c.industry, ''), p.paid_on
		FROM live.payments p JOIN live.customers c USING (customer_id) WHERE p.amount >= 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var p payment
		if err := rows.Scan(&id, &p.customer, &p.industry, &p.day); err != nil {
			t.Fatal(err)
		}
		pays[id] = p
	}
	rows.Close()
	count := func(vis map[string]bool, from, to time.Time) map[string]float64 {
		seen := map[[2]string]bool{}
		out := map[string]float64{}
		for id, p := range pays {
			if vis[id] && !p.day.Before(from) && !p.day.After(to) && !seen[[2]string{p.industry, p.customer}] {
				seen[[2]string{p.industry, p.customer}] = true
				out[p.industry]++
			}
		}
		return out
	}
	users := scopeUsers()
	for _, name := range []string{"ceo", "east", "rep"} {
		c := login(t, name)
		vis := ownerVisible(t, "payments", users[name])
		checked := 0
		for _, p := range periods {
			for _, cmp := range []string{"yoy", "prev"} {
				q := url.Values{"metric": {"customers"}, "dim": {"industry"}, "period": {"custom"}, "cmp": {cmp},
					"from": {p[0].Format(time.DateOnly)}, "to": {p[1].Format(time.DateOnly)}}
				var d chartJSON
				if code := c.getJSON("/api/charts/magnifier.breakdown?"+q.Encode(), &d); code != 200 {
					t.Fatalf("%s %s: HTTP %d", name, q.Encode(), code)
				}
				var opt chartOption
				if err := json.Unmarshal(d.Option, &opt); err != nil || len(opt.Series) != 2 {
					t.Fatalf("%s %s: %d series (%v)", name, q.Encode(), len(opt.Series), err)
				}
				_, cf, ct := query.Comparison(cmp, p[0], p[1])
				want, wantCmp := count(vis, p[0], p[1]), count(vis, cf, ct)
				got, gotCmp := map[string]float64{}, map[string]float64{}
				for i, pt := range d.Points {
					key := strings.TrimPrefix(pt.Key, "v:")
					if v := opt.Series[0].Data[i].Value; v != nil && *v != 0 {
						got[key] = *v
					}
					if v := opt.Series[1].Data[i].Value; v != nil && *v != 0 {
						gotCmp[key] = *v
					}
				}
				if !maps.Equal(got, want) || !maps.Equal(gotCmp, wantCmp) {
					t.Errorf("%s, %s: paying customers by industry %v against %v; the payments say %v and %v", name, q.Encode(), got, gotCmp, want, wantCmp)
				}
				if len(want) > 0 {
					checked++
				}
			}
		}
		if checked < len(periods) {
			t.Errorf("%s: only %d of %d periods with paying customers: the test would prove little", name, checked, 2*len(periods))
		}
	}
}
