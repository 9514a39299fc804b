package dashboards_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
)

// Reference visibility, written independently of the scoped relations: the
// set of keys of an entity that a user may see (see access.Scope for the
// rule). Besides the base tables' rows, "customers_by_payments" are the
// customers whose figures from their payments (RFM) the user may see: the
// customer and every payment of it visible; "collisions" are the pairs whose
// two deals are visible; "alerts" each by its subject (a customer's by its
// payments).
func visible(t *testing.T, entity string, u access.User) map[string]bool {
	t.Helper()
	switch entity {
	case "customers_by_payments":
		cust, pay := ownerVisible(t, "customers", u), ownerVisible(t, "payments", u)
		out := map[string]bool{}
		for id := range cust {
			out[id] = true
		}
		rows, err := env.w.DB().Query(`SELECT customer_id, payment_id FROM payments WHERE _deleted_at IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var c, p string
			rows.Scan(&c, &p)
			if !pay[p] {
				delete(out, c)
			}
		}
		return out
	case "collisions":
		deals := ownerVisible(t, "opportunities", u)
		out := map[string]bool{}
		rows, err := env.w.DB().Query(`SELECT opportunity_id, conflicts_with_opportunity_id FROM mart_collisions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var a, b string
			rows.Scan(&a, &b)
			if deals[a] && deals[b] {
				out[a+"|"+b] = true
			}
		}
		return out
	case "alerts":
		byPay := visible(t, "customers_by_payments", u)
		owner := ownerVisible(t, "alerts", u)
		out := map[string]bool{}
		rows, err := env.w.DB().Query(`SELECT kind || '|' || subject_id || '|' || coalesce(strftime(since, '%Y-%m-%d'), ''), subject_type, subject_id FROM mart_alerts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var key, typ, subject string
			rows.Scan(&key, &typ, &subject)
			if owner[key] && (typ != "customer" || byPay[subject]) {
				out[key] = true
			}
		}
		return out
	}
	return ownerVisible(t, entity, u)
}

// ownerVisible is the reference rule on the owner of each row of an entity.
func ownerVisible(t *testing.T, entity string, u access.User) map[string]bool {
	t.Helper()
	var q string
	switch entity {
	case "contracts":
		q = `SELECT c.contract_id, coalesce(c.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM contracts c LEFT JOIN customers cu ON cu.customer_id = c.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)`
	case "payments":
		q = `SELECT p.payment_id, coalesce(c.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM payments p LEFT JOIN contracts c ON c.contract_id = p.contract_id
		     LEFT JOIN customers cu ON cu.customer_id = p.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)`
	case "opportunities":
		q = `SELECT o.opportunity_id, coalesce(o.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM opportunities o LEFT JOIN customers cu ON cu.customer_id = o.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id)`
	case "customers":
		q = `SELECT cu.customer_id, cu.owner_rep_id, coalesce(cu.org_unit_id, r.org_unit_id)
		     FROM customers cu LEFT JOIN reps r ON r.rep_id = cu.owner_rep_id`
	// Part 2: an activity belongs to its customer's owner (else to the rep
	// who logged it); an installment and a collision to their contract's and
	// later deal's owner; an alert to the owner of its subject; a rep to
	// themselves and their unit; a stage entry to its deal's owner.
	case "activities":
		q = `SELECT a.activity_id, coalesce(cu.owner_rep_id, a.rep_id),
		            coalesce(cu.org_unit_id, cr.org_unit_id, ar.org_unit_id)
		     FROM activities a LEFT JOIN customers cu ON cu.customer_id = a.customer_id
		     LEFT JOIN reps cr ON cr.rep_id = cu.owner_rep_id
		     LEFT JOIN reps ar ON ar.rep_id = a.rep_id`
	case "installments":
		q = `SELECT c.contract_id || '|' || strftime(d.due_on, '%Y-%m-%d'), coalesce(c.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM contracts c LEFT JOIN customers cu ON cu.customer_id = c.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(c.owner_rep_id, cu.owner_rep_id)
		     JOIN (SELECT contract_id, due_on FROM payment_schedule
		           UNION SELECT contract_id, start_on FROM contracts WHERE start_on IS NOT NULL
		           UNION SELECT contract_id, signed_on FROM contracts WHERE signed_on IS NOT NULL) d ON d.contract_id = c.contract_id`
	case "collisions":
		q = `SELECT m.opportunity_id || '|' || m.conflicts_with_opportunity_id, coalesce(o.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM mart_collisions m JOIN opportunities o ON o.opportunity_id = m.opportunity_id
		     LEFT JOIN customers cu ON cu.customer_id = o.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id)`
	case "stage_entries":
		q = `SELECT h.opportunity_id || '|' || h.stage || '|' || epoch_ms(h.entered_at), coalesce(o.owner_rep_id, cu.owner_rep_id), coalesce(r.org_unit_id, cu.org_unit_id)
		     FROM opportunity_stages h JOIN opportunities o ON o.opportunity_id = h.opportunity_id
		     LEFT JOIN customers cu ON cu.customer_id = o.customer_id
		     LEFT JOIN reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id)`
	case "reps":
		q = `SELECT rep_id, rep_id, org_unit_id FROM reps`
	case "alerts":
		q = `SELECT m.kind || '|' || m.subject_id || '|' || coalesce(strftime(m.since, '%Y-%m-%d'), ''),
		            CASE m.subject_type WHEN 'customer' THEN cu.owner_rep_id
		                 WHEN 'contract' THEN coalesce(c.owner_rep_id, ccu.owner_rep_id)
		                 WHEN 'opportunity' THEN coalesce(o.owner_rep_id, ocu.owner_rep_id) END,
		            CASE m.subject_type WHEN 'customer' THEN coalesce(cu.org_unit_id, cur.org_unit_id)
		                 WHEN 'contract' THEN coalesce(cr.org_unit_id, ccu.org_unit_id)
		                 WHEN 'opportunity' THEN coalesce(orr.org_unit_id, ocu.org_unit_id)
		                 WHEN 'org_unit' THEN m.subject_id END
		     FROM mart_alerts m
		     LEFT JOIN customers cu ON m.subject_type = 'customer' AND cu.customer_id = m.subject_id
		     LEFT JOIN reps cur ON cur.rep_id = cu.owner_rep_id
		     LEFT JOIN contracts c ON m.subject_type = 'contract' AND c.contract_id = m.subject_id
		     LEFT JOIN customers ccu ON ccu.customer_id = c.customer_id
		     LEFT JOIN reps cr ON cr.rep_id = coalesce(c.owner_rep_id, ccu.owner_rep_id)
		     LEFT JOIN opportunities o ON m.subject_type = 'opportunity' AND o.opportunity_id = m.subject_id
		     LEFT JOIN customers ocu ON ocu.customer_id = o.customer_id
		     LEFT JOIN reps orr ON orr.rep_id = coalesce(o.owner_rep_id, ocu.owner_rep_id)`
	default:
		t.Fatalf("unknown entity %q", entity)
	}
	// The subtree of the user's unit, by walking the tree in Go.
	ctx := context.Background()
	rows, err := env.w.DB().QueryContext(ctx, "SELECT org_unit_id, parent_id FROM org_units")
	if err != nil {
		t.Fatal(err)
	}
	children := map[string][]string{}
	for rows.Next() {
		var id string
		var parent *string
		rows.Scan(&id, &parent)
		if parent != nil {
			children[*parent] = append(children[*parent], id)
		}
	}
	rows.Close()
	sub := map[string]bool{}
	var walk func(string)
	walk = func(id string) {
		sub[id] = true
		for _, c := range children[id] {
			walk(c)
		}
	}
	all := u.Role == access.RoleExecutive || u.Role == access.RoleAdmin
	if (u.Role == access.RoleManager || u.Role == access.RoleAnalyst) && u.OrgUnit != "" {
		exists := false
		env.w.DB().QueryRowContext(ctx, "SELECT count(*) > 0 FROM org_units WHERE org_unit_id = $1", u.OrgUnit).Scan(&exists)
		if exists {
			walk(u.OrgUnit)
		}
	}
	out := map[string]bool{}
	rows, err = env.w.DB().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var rep, org *string
		if err := rows.Scan(&key, &rep, &org); err != nil {
			t.Fatal(err)
		}
		switch {
		case all:
			out[key] = true
		case u.Role == access.RoleRep && rep != nil && *rep == u.RepID:
			out[key] = true
		case org != nil && sub[*org]:
			out[key] = true
		}
	}
	return out
}

type rowsPage struct {
	Columns []query.Column `json:"columns"`
	Rows    [][]any        `json:"rows"`
	Total   int64          `json:"total"`
}

// allRows reads every drill-through row of a chart (all pages) and returns
// entity → key → the row.
func allRows(t *testing.T, c *client, chart *query.Chart, q url.Values) (map[string]map[string][]any, []query.Column) {
	t.Helper()
	out := map[string]map[string][]any{}
	var cols []query.Column
	seen := 0
	for page := 1; ; page++ {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("page", fmt.Sprint(page))
		qq.Set("size", "500")
		var r rowsPage
		if code := c.getJSON("/api/charts/"+chart.ID+"/rows?"+qq.Encode(), &r); code != 200 {
			t.Fatalf("%s rows: HTTP %d", chart.ID, code)
		}
		cols = r.Columns
		keyIdx, entIdx := -1, -1
		for i, col := range r.Columns {
			if col.Name == chart.Drill.Key {
				keyIdx = i
			}
			if col.Name == "entity" {
				entIdx = i
			}
		}
		if len(r.Rows) > 0 && keyIdx < 0 {
			t.Fatalf("%s: no key column %s", chart.ID, chart.Drill.Key)
		}
		for _, row := range r.Rows {
			ent := chart.Drill.Entity
			if ent == "" {
				ent = row[entIdx].(string)
			}
			if out[ent] == nil {
				out[ent] = map[string][]any{}
			}
			key := fmt.Sprint(row[keyIdx])
			if _, dup := out[ent][key]; dup {
				t.Fatalf("%s: row %s/%s listed twice", chart.ID, ent, key)
			}
			out[ent][key] = row
			seen++
		}
		if int64(seen) >= r.Total || len(r.Rows) == 0 {
			if int64(seen) != r.Total {
				t.Fatalf("%s: read %d rows, total says %d", chart.ID, seen, r.Total)
			}
			return out, cols
		}
	}
}

// exported reads a CSV export and returns its keys (by the position of the key column).
func exported(t *testing.T, c *client, chart *query.Chart, q url.Values, cols []query.Column) map[string]bool {
	t.Helper()
	qq := url.Values{}
	for k, v := range q {
		qq[k] = v
	}
	qq.Set("format", "csv")
	resp, body := c.get("/api/charts/" + chart.ID + "/export?" + qq.Encode())
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%s export: %d", chart.ID, resp.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\xEF\xBB\xBF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	keyIdx := -1
	for i, col := range cols {
		if col.Name == chart.Drill.Key {
			keyIdx = i
		}
	}
	out := map[string]bool{}
	for _, r := range recs[1:] {
		out[r[keyIdx]] = true
	}
	return out
}

func scopeUsers() map[string]access.User {
	return map[string]access.User{
		"ceo":     {Username: "ceo", Role: access.RoleExecutive},
		"east":    {Username: "east", Role: access.RoleManager, OrgUnit: env.region},
		"analyst": {Username: "analyst", Role: access.RoleAnalyst, OrgUnit: env.branch},
		"rep":     {Username: "rep", Role: access.RoleRep, RepID: env.rep},
		"nobody":  {Username: "nobody", Role: access.RoleManager, OrgUnit: "ORG-DOES-NOT-EXIST"},
		"ghost":   {Username: "ghost", Role: access.RoleRep, RepID: "REP-DOES-NOT-EXIST"},
	}
}

// drillCases: every chart with a drill-through, under the filters that change
// which rows it lists.
func drillCases() []struct {
	chart *query.Chart
	q     url.Values
} {
	var out []struct {
		chart *query.Chart
		q     url.Values
	}
	seen := map[string]bool{}
	for _, ch := range query.Charts() {
		// Charts sharing a drill-through SQL (and parameters) list the same rows: test one.
		if ch.Drill == nil || seen[ch.Drill.SQL] {
			continue
		}
		seen[ch.Drill.SQL] = true
		qs := []url.Values{{"period": {"l12m"}}}
		if strings.HasPrefix(ch.ID, "magnifier.") {
			qs = nil
			for _, m := range []string{"bookings", "collections", "pipeline", "win_rate", "customers"} {
				qs = append(qs, url.Values{"metric": {m}, "period": {"l12m"}})
			}
		}
		for _, q := range qs {
			out = append(out, struct {
				chart *query.Chart
				q     url.Values
			}{ch, q})
		}
	}
	return out
}

// TestScopeRowsAndExports: for every drill-through and export, a manager,
// an analyst and a rep see exactly the executive's rows that the reference
// rule lets them see; users whose unit or rep does not exist see nothing.
func TestScopeRowsAndExports(t *testing.T) {
	users := scopeUsers()
	clients := map[string]*client{}
	for name := range users {
		clients[name] = login(t, name)
	}
	refs := map[string]map[string]map[string]bool{} // user → entity → keys
	ref := func(user, entity string) map[string]bool {
		if refs[user] == nil {
			refs[user] = map[string]map[string]bool{}
		}
		if refs[user][entity] == nil {
			refs[user][entity] = visible(t, entity, users[user])
		}
		return refs[user][entity]
	}
	for _, tc := range drillCases() {
		t.Run(tc.chart.ID+"?"+tc.q.Encode(), func(t *testing.T) {
			ceoRows, _ := allRows(t, clients["ceo"], tc.chart, tc.q)
			total := 0
			for _, keys := range ceoRows {
				total += len(keys)
			}
			if total == 0 {
				t.Fatal("the executive sees no rows: the test would prove nothing")
			}
			for _, name := range []string{"east", "analyst", "rep", "nobody", "ghost"} {
				got, cols := allRows(t, clients[name], tc.chart, tc.q)
				for ent, ceoKeys := range ceoRows {
					refEnt := ent
					if tc.chart.ID == "customers.segment_movement" {
						refEnt = "customers_by_payments" // the customers with an RFM figure
					}
					vis := ref(name, refEnt)
					want := map[string]bool{}
					for k := range ceoKeys {
						if vis[k] {
							want[k] = true
						}
					}
					gotKeys := map[string]bool{}
					for k := range got[ent] {
						gotKeys[k] = true
					}
					if d := diff(gotKeys, want); d != "" {
						t.Errorf("%s, %s: %s", name, ent, d)
					}
				}
				for ent := range got {
					if _, ok := ceoRows[ent]; !ok {
						t.Errorf("%s sees %s rows the executive does not", name, ent)
					}
				}
				if name == "nobody" || name == "ghost" {
					if len(got) != 0 {
						t.Errorf("%s (no valid scope) sees %d entities", name, len(got))
					}
				}
				// The CSV export lists the same rows.
				all := map[string]bool{}
				for _, keys := range got {
					for k := range keys {
						all[k] = true
					}
				}
				if len(cols) > 0 || len(all) > 0 {
					if d := diff(exported(t, clients[name], tc.chart, tc.q, cols), all); d != "" {
						t.Errorf("%s export: %s", name, d)
					}
				}
			}
		})
	}
}

func diff(got, want map[string]bool) string {
	var extra, missing []string
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	if len(extra)+len(missing) == 0 {
		return ""
	}
	sort.Strings(extra)
	sort.Strings(missing)
	return fmt.Sprintf("%d rows too many %v, %d missing %v", len(extra), head(extra), len(missing), head(missing))
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

type chartJSON struct {
	ID     string          `json:"id"`
	State  string          `json:"state"`
	Option json.RawMessage `json:"option"`
	KPIs   []query.KPI     `json:"kpis"`
	Table  *query.Table    `json:"table"`
	Points []query.Point   `json:"points"`
	Legend []string        `json:"legend"`
}

// chartOption is the part of a chart's ECharts option the tests read: each
// series' data values (nil where a point has none).
type chartOption struct {
	Series []struct {
		Data []struct {
			Value *float64 `json:"value"`
		} `json:"data"`
	} `json:"series"`
}

// numbers collects every number in the chart's series data, tiles and table.
func numbers(d chartJSON) []float64 {
	var out []float64
	var opt chartOption
	json.Unmarshal(d.Option, &opt)
	for _, s := range opt.Series {
		for _, v := range s.Data {
			if v.Value != nil {
				out = append(out, *v.Value)
			}
		}
	}
	for _, k := range d.KPIs {
		for _, p := range []*float64{k.Value, k.Target, k.Compare} {
			if p != nil {
				out = append(out, *p)
			}
		}
	}
	if d.Table != nil {
		for _, r := range d.Table.Rows {
			for _, v := range r {
				if f, ok := v.(float64); ok {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// TestScopeChartData: chart data obeys the scope too. Users without a valid
// scope get no numbers at all; for a manager and a rep, the charts' totals
// equal the sums of the (reference-checked) rows behind them.
func TestScopeChartData(t *testing.T) {
	for _, name := range []string{"nobody", "ghost"} {
		c := login(t, name)
		for _, ch := range query.Charts() {
			for _, q := range []string{"", "?metric=collections&dim=industry", "?metric=customers", "?metric=pipeline&dim=channel", "?metric=win_rate"} {
				if q != "" && !strings.HasPrefix(ch.ID, "magnifier.") {
					continue
				}
				var d chartJSON
				if code := c.getJSON("/api/charts/"+ch.ID+q, &d); code != 200 {
					t.Fatalf("%s %s%s: %d", name, ch.ID, q, code)
				}
				for _, v := range numbers(d) {
					if v != 0 {
						t.Errorf("%s sees %v in %s%s", name, v, ch.ID, q)
						break
					}
				}
			}
		}
	}
	for _, name := range []string{"east", "rep", "ceo"} {
		c := login(t, name)
		ch := func(id string) *query.Chart { x, _ := query.ChartByID(id); return x }
		sumRows := func(chart *query.Chart, q url.Values, col string) float64 {
			rows, cols := allRows(t, c, chart, q)
			idx := -1
			for i, cl := range cols {
				if cl.Name == col {
					idx = i
				}
			}
			var s float64
			for _, keys := range rows {
				for _, r := range keys {
					if f, ok := r[idx].(float64); ok {
						s += f
					}
				}
			}
			return s
		}
		// Telescope tiles vs the rows behind them.
		var kp chartJSON
		c.getJSON("/api/charts/telescope.kpis", &kp)
		for _, k := range kp.KPIs {
			if k.Key != "bookings" && k.Key != "collections" && k.Key != "pipeline" {
				continue
			}
			want := sumRows(ch("telescope.kpis"), url.Values{"point": {k.Key}}, "amount_base")
			if k.Value == nil || math.Abs(*k.Value-want) > 0.05 {
				t.Errorf("%s: tile %s = %v, rows behind it sum to %.2f", name, k.Key, k.Value, want)
			}
			if name != "ceo" && want == 0 && k.Key == "bookings" {
				t.Errorf("%s has no bookings: the check proves nothing", name)
			}
		}
		// Magnifier totals vs rows, for the additive money metrics.
		for _, m := range []string{"bookings", "collections", "pipeline"} {
			var d chartJSON
			c.getJSON("/api/charts/magnifier.breakdown?metric="+m+"&cmp=", &d)
			var total float64
			var opt chartOption
			json.Unmarshal(d.Option, &opt)
			if len(opt.Series) > 0 {
				for _, v := range opt.Series[0].Data {
					if v.Value != nil {
						total += *v.Value
					}
				}
			}
			want := sumRows(ch("magnifier.breakdown"), url.Values{"metric": {m}, "cmp": {""}}, "amount_base")
			if math.Abs(total-want) > 0.05*float64(max(1, len(opt.Series[0].Data))) {
				t.Errorf("%s: magnifier %s total %.2f, rows sum to %.2f", name, m, total, want)
			}
		}
	}
}

func TestExportXLSXAudited(t *testing.T) {
	c := login(t, "east")
	resp, body := c.get("/api/charts/telescope.bookings/export?format=xlsx&point=2026-03")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 2 || rows[0][0] != "Contract" {
		t.Fatalf("xlsx rows: %v %v", rows[:min(2, len(rows))], err)
	}
	events, _ := env.auth.AuditLog(context.Background(), 50)
	found := false
	for _, e := range events {
		if e.Action == "export" && e.Username == "east" && e.Detail["chart"] == "telescope.bookings" && e.Detail["format"] == "xlsx" {
			found = true
		}
	}
	if !found {
		t.Fatal("the export is not in the audit trail")
	}
}

// TestScopeRuleCustomerFigures: a figure is visible to a user only if every
// row it is computed from is visible to that user (access.Scope). The
// customers' figures from the models — RFM (paid to date) from a customer's
// payments, the 7P margin from all of its rows — are shown to a manager, an
// analyst and a rep exactly for the customers whose rows of that kind the
// reference rule lets them see, and with the executive's values; the page
// of a customer with rows of others says so.
// customerTiles are the KPI tiles of customer id's page as c sees them: key →
// value (nil: shown without a value).
func customerTiles(t *testing.T, c *client, id string) map[string]*float64 {
	t.Helper()
	var d chartJSON
	if code := c.getJSON("/api/charts/customer.kpis?id="+url.QueryEscape(id), &d); code != 200 {
		t.Fatalf("customer %s's KPIs: HTTP %d", id, code)
	}
	tiles := map[string]*float64{}
	for _, k := range d.KPIs {
		tiles[k.Key] = k.Value
	}
	return tiles
}

func TestScopeRuleCustomerFigures(t *testing.T) {
	payments, contracts, deals, activities := customerRows(t)
	all := everyVisible
	ceo := login(t, "ceo")
	customersChart, _ := query.ChartByID("customers.kpis")
	ceoRows, cols := allRows(t, ceo, customersChart, url.Values{})
	col := func(name string) int {
		for i, c := range cols {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("customers rows have no column %s", name)
		return -1
	}
	paidCol, marginCol := col("paid"), col("margin")
	users := scopeUsers()
	var partialCustomer, wholeCustomer string
	pagesWhole, pagesPartial := 0, 0
	for _, name := range []string{"east", "analyst", "rep"} {
		u := users[name]
		visCust := visible(t, "customers", u)
		visPay, visCon := visible(t, "payments", u), visible(t, "contracts", u)
		visDeal, visAct := visible(t, "opportunities", u), visible(t, "activities", u)
		got, _ := allRows(t, login(t, name), customersChart, url.Values{})
		shownPaid, hiddenPaid := 0, 0
		for id, row := range got["customers"] {
			ceoRow := ceoRows["customers"][id]
			payWhole := visCust[id] && all(payments[id], visPay)
			everyWhole := payWhole && all(contracts[id], visCon) && all(deals[id], visDeal) && all(activities[id], visAct)
			switch {
			case payWhole && row[paidCol] != nil:
				shownPaid++
				if fmt.Sprint(row[paidCol]) != fmt.Sprint(ceoRow[paidCol]) {
					t.Errorf("%s, customer %s: paid %v, the executive sees %v", name, id, row[paidCol], ceoRow[paidCol])
				}
			case !payWhole && row[paidCol] != nil:
				t.Errorf("%s sees customer %s's paid total %v, computed over payments they may not see", name, id, row[paidCol])
			case payWhole && ceoRow[paidCol] != nil:
				t.Errorf("%s does not see customer %s's paid total though every payment is theirs", name, id)
			case !payWhole && ceoRow[paidCol] != nil:
				hiddenPaid++
			}
			if row[marginCol] != nil && !everyWhole {
				t.Errorf("%s sees customer %s's 7P margin %v, computed over rows they may not see", name, id, row[marginCol])
			}
			if name == "rep" {
				if !payWhole && partialCustomer == "" {
					partialCustomer = id
				}
				if everyWhole && wholeCustomer == "" {
					wholeCustomer = id
				}
			}
		}
		t.Logf("%s: %d customers with their paid total, %d without (rows of others)", name, shownPaid, hiddenPaid)
		if shownPaid == 0 {
			t.Errorf("%s sees no customer's paid total: the test proves nothing", name)
		}
		// A customer's own page decides that one customer's visibility
		// (one_customer of the scoped marts): the same rule, customer by
		// customer, for a few wholly and partly visible customers, against
		// what the executive's page of the customer shows.
		client := login(t, name)
		whole, partial := 0, 0
		for id := range got["customers"] {
			payWhole := visCust[id] && all(payments[id], visPay)
			everyWhole := payWhole && all(contracts[id], visCon) && all(deals[id], visDeal) && all(activities[id], visAct)
			if (everyWhole && whole >= 3) || (!everyWhole && partial >= 3) {
				continue
			}
			mine, theirs := customerTiles(t, client, id), customerTiles(t, ceo, id)
			for _, k := range []struct {
				key   string
				whole bool
			}{{"clv", payWhole}, {"margin", everyWhole}} {
				want := k.whole && theirs[k.key] != nil
				if (mine[k.key] != nil) != want {
					t.Errorf("%s, customer %s's page: %s %v, want one: %v (the executive's: %v; every row it is computed from visible: %v)",
						name, id, k.key, mine[k.key], want, theirs[k.key], k.whole)
				}
			}
			if everyWhole {
				whole++
			} else {
				partial++
			}
		}
		t.Logf("%s: the pages of %d wholly and %d partly visible customers checked", name, whole, partial)
		pagesWhole, pagesPartial = pagesWhole+whole, pagesPartial+partial
	}
	if pagesWhole == 0 || pagesPartial == 0 {
		t.Errorf("customer pages checked for %d wholly and %d partly visible customers: the test proves little", pagesWhole, pagesPartial)
	}
	// The page of a customer with rows of others says so (no count, no
	// amount); the page of a customer wholly the rep's does not.
	if partialCustomer == "" || wholeCustomer == "" {
		t.Fatalf("the small company has no customer of the rep with (%q) and without (%q) rows of others", partialCustomer, wholeCustomer)
	}
	rep := login(t, "rep")
	_, body := rep.get("/customers/" + url.PathEscape(partialCustomer) + "?lang=en")
	if !strings.Contains(body, "belong to other reps or units and are not shown") {
		t.Errorf("customer %s: the page does not say that rows of others are not shown", partialCustomer)
	}
	_, body = rep.get("/customers/" + url.PathEscape(wholeCustomer) + "?lang=en")
	if strings.Contains(body, "belong to other reps or units and are not shown") {
		t.Errorf("customer %s, wholly the rep's, says rows are not shown", wholeCustomer)
	}
}

// A deal's page decides that one deal's visibility (one_deal of the scoped
// relations): a scoped user sees a deal's stage history as the executive
// does when the deal is theirs, and none of a deal that is not.
func TestScopeDealPageStages(t *testing.T) {
	users := scopeUsers()
	ceo := login(t, "ceo")
	var withHistory []string
	rows, err := env.w.DB().Query(`SELECT DISTINCT opportunity_id FROM live.opportunity_stages ORDER BY opportunity_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		withHistory = append(withHistory, id)
	}
	rows.Close()
	stages := func(c *client, id string) chartJSON {
		t.Helper()
		var d chartJSON
		if code := c.getJSON("/api/charts/deal.stages?id="+url.QueryEscape(id), &d); code != 200 {
			t.Fatalf("deal %s's stages: HTTP %d", id, code)
		}
		return d
	}
	for _, name := range []string{"east", "rep"} {
		c := login(t, name)
		vis := ownerVisible(t, "opportunities", users[name])
		mine, others := 0, 0
		for _, id := range withHistory {
			if (vis[id] && mine >= 3) || (!vis[id] && others >= 3) {
				continue
			}
			got := stages(c, id)
			if vis[id] {
				want := stages(ceo, id)
				if got.Table == nil || want.Table == nil || len(got.Table.Rows) == 0 || fmt.Sprint(got.Table.Rows) != fmt.Sprint(want.Table.Rows) {
					t.Errorf("%s, deal %s (theirs): stages %v, the executive sees %v", name, id, got.Table, want.Table)
				}
				mine++
			} else {
				if got.Table != nil && len(got.Table.Rows) > 0 {
					t.Errorf("%s sees the stages of deal %s, which is not theirs: %v", name, id, got.Table.Rows)
				}
				others++
			}
		}
		if mine == 0 || others == 0 {
			t.Errorf("%s: %d of their deals and %d of others checked: the test proves little", name, mine, others)
		}
	}
}

// A rep's page joins only that rep's deals (one_rep of the scoped
// relations): the manager of a region sees the stage timeline and the
// stalled deals of a rep of the region as the executive does (every deal the
// rep owns is in the region), and nothing of a rep of another region.
func TestScopeRepPageDeals(t *testing.T) {
	ceo, east := login(t, "ceo"), login(t, "east")
	reps := func(inside bool) []string {
		q := `SELECT r.rep_id FROM live.reps r WHERE r.org_unit_id ` + map[bool]string{true: "IN", false: "NOT IN"}[inside] + `
			(SELECT org_unit_id FROM facts.org_paths WHERE ancestor_id = $1)
			AND EXISTS (SELECT 1 FROM live.opportunities o WHERE o.owner_rep_id = r.rep_id AND o.status = 'open')
			ORDER BY r.rep_id LIMIT 3`
		out := queryIDs(t, q, env.region)
		if len(out) == 0 {
			t.Fatalf("no rep with open deals inside the region: %v", inside)
		}
		return out
	}
	chart := func(c *client, id, rep string) chartJSON {
		t.Helper()
		var d chartJSON
		if code := c.getJSON("/api/charts/"+id+"?id="+url.QueryEscape(rep), &d); code != 200 {
			t.Fatalf("%s of rep %s: HTTP %d", id, rep, code)
		}
		return d
	}
	shown := 0
	for _, id := range []string{"microscope.timeline", "microscope.stalled"} {
		for _, rep := range reps(true) {
			got, want := chart(east, id, rep), chart(ceo, id, rep)
			if string(got.Option) != string(want.Option) || fmt.Sprint(got.Table) != fmt.Sprint(want.Table) || got.State != want.State {
				t.Errorf("%s of rep %s (in the region): the manager sees %s %s %v, the executive %s %s %v", id, rep,
					got.State, got.Option, got.Table, want.State, want.Option, want.Table)
			}
			if got.State == "" || got.State == "ok" {
				shown++
			}
		}
		for _, rep := range reps(false) {
			if got := chart(east, id, rep); len(numbers(got)) > 0 || (got.Table != nil && len(got.Table.Rows) > 0) {
				t.Errorf("%s of rep %s (another region): the manager sees %s %v", id, rep, got.Option, got.Table)
			}
		}
	}
	if shown == 0 {
		t.Errorf("no rep page chart of the region showed anything: the test proves little")
	}
}

// A deal's page looks up the collision pairs of that deal alone (one_deal of
// scoped.mart_collisions and scoped.collisions), each pair's two deals
// checked for the user: the deal's collisions chart shows the executive's
// rows of the pairs whose both deals the user sees (the reference rule of
// visible "collisions"), with the same latest ruling, and the page's
// collision badge shows when there is one of them.
func TestScopeDealPageCollisions(t *testing.T) {
	users := scopeUsers()
	ceo := login(t, "ceo")
	// The demo company's collisions are within a region; add two pairs of a
	// deal of the manager's with a deal of another region, one each way
	// (copies of a pair of that deal's, removed after the test).
	eastDeals := ownerVisible(t, "opportunities", users["east"])
	var theirs, outside string
	first := func(q string, ok func(id string) bool) string {
		t.Helper()
		for _, id := range queryIDs(t, q) {
			if ok(id) {
				return id
			}
		}
		t.Fatalf("no row of %s fits", q)
		return ""
	}
	theirs = first(`SELECT opportunity_id FROM mart_collisions ORDER BY 1`, func(id string) bool { return eastDeals[id] })
	// (a deal in no pair: removing its pairs afterwards removes only ours)
	outside = first(`SELECT opportunity_id FROM live.opportunities
		WHERE opportunity_id NOT IN (SELECT opportunity_id FROM mart_collisions UNION SELECT conflicts_with_opportunity_id FROM mart_collisions)
		ORDER BY 1`, func(id string) bool { return !eastDeals[id] })
	crossPairs := func(add bool) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			if !add {
				_, err := conn.ExecContext(ctx, `DELETE FROM main.mart_collisions WHERE $1 IN (opportunity_id, conflicts_with_opportunity_id)`, outside)
				return err
			}
			_, err := conn.ExecContext(ctx, `INSERT INTO main.mart_collisions
				SELECT * REPLACE ($2 AS conflicts_with_opportunity_id) FROM (FROM main.mart_collisions WHERE opportunity_id = $1 LIMIT 1)
				UNION ALL
				SELECT * REPLACE ($2 AS opportunity_id, $1 AS conflicts_with_opportunity_id) FROM (FROM main.mart_collisions WHERE opportunity_id = $1 LIMIT 1)`,
				theirs, outside)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		env.srv.Engine().Invalidate()
	}
	crossPairs(true)
	t.Cleanup(func() { crossPairs(false) })
	deals := queryIDs(t, `SELECT DISTINCT d FROM (SELECT opportunity_id AS d FROM mart_collisions
		UNION ALL SELECT conflicts_with_opportunity_id FROM mart_collisions) ORDER BY hash(d)`)
	collisions := func(c *client, id string) [][]any {
		t.Helper()
		var d chartJSON
		if code := c.getJSON("/api/charts/deal.collisions?id="+url.QueryEscape(id), &d); code != 200 {
			t.Fatalf("deal %s's collisions: HTTP %d", id, code)
		}
		if d.Table == nil {
			return nil
		}
		return d.Table.Rows
	}
	for _, name := range []string{"east", "analyst", "rep"} {
		c := login(t, name)
		pairs := visible(t, "collisions", users[name])
		deal := ownerVisible(t, "opportunities", users[name])
		// their deals first: those in a pair with a deal they do not see are
		// the case the rule is about
		var mine, others []string
		for _, id := range deals {
			if deal[id] {
				mine = append(mine, id)
			} else {
				others = append(others, id)
			}
		}
		seen, hidden, partly := 0, 0, 0
		for i, id := range append(mine, others...) {
			if i == 150 {
				break
			}
			all := collisions(ceo, id)
			var want [][]any
			for _, r := range all {
				if pairs[fmt.Sprint(r[0])+"|"+fmt.Sprint(r[1])] {
					want = append(want, r)
				}
			}
			if deal[id] && len(want) < len(all) {
				partly++ // their deal, in a pair with a deal they do not see
			}
			got := collisions(c, id)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, deal %s: collisions %v; want the executive's rows of the pairs they see: %v", name, id, got, want)
			}
			if deal[id] {
				_, page := c.get("/deals/" + url.PathEscape(id))
				if badge := strings.Contains(page, `class="badge warn"`); badge != (len(want) > 0) {
					t.Errorf("%s, deal %s: collision badge %v with %d collisions they see", name, id, badge, len(want))
				}
			}
			if len(want) > 0 {
				seen++
			} else {
				hidden++
			}
		}
		// (a rep sees a pair only when both deals are theirs: none in the
		// small demo company)
		if seen == 0 && name != "rep" || hidden == 0 || partly == 0 && name == "east" {
			t.Errorf("%s: %d deals with collisions they see, %d with none, %d of theirs with a pair they do not see: the test proves little",
				name, seen, hidden, partly)
		}
	}
}

// A customer's page asks the scoped relations for that customer's rows alone
// (one_customer): its contracts with their execution, its settlement plan
// and its alerts are, for a scoped user, the executive's rows that the
// reference rule lets them see (contracts and installments by the
// contract's owner, alerts by their subject), row for row.
func TestScopeCustomerPageLists(t *testing.T) {
	users := scopeUsers()
	ceo := login(t, "ceo")
	keys := func(c *client, chart, id string) []string { return pointKeys(t, c, chart, id) }
	// customers with an alert about them first: most have none
	customers := queryIDs(t, `SELECT customer_id FROM live.customers
		ORDER BY customer_id IN (SELECT subject_id FROM mart_alerts WHERE subject_type = 'customer') DESC, hash(customer_id)`)
	for _, name := range []string{"east", "analyst", "rep"} {
		c := login(t, name)
		u := users[name]
		ref := map[string]map[string]bool{
			"customer.contracts": ownerVisible(t, "contracts", u),
			"customer.schedule":  ownerVisible(t, "installments", u),
			"customer.alerts":    visible(t, "alerts", u),
		}
		mine := visible(t, "customers", u)
		// their customers first, then as many of the others
		var order []string
		for _, id := range customers {
			if mine[id] {
				order = append(order, id)
			}
		}
		order = append(order[:min(len(order), 40)], customers[:40]...)
		seen, partly := 0, 0
		for _, id := range order {
			for chart, vis := range ref {
				all := keys(ceo, chart, id)
				var want []string
				for _, k := range all {
					if vis[k] {
						want = append(want, k)
					}
				}
				got := keys(c, chart, id)
				if !slices.Equal(got, want) {
					t.Errorf("%s, %s of customer %s: rows %v; want the executive's rows they may see: %v", name, chart, id, got, want)
				}
				if len(want) > 0 {
					seen++
					if len(want) < len(all) {
						partly++
					}
				}
			}
		}
		if seen == 0 {
			t.Errorf("%s: no customer's rows seen: the test proves little", name)
		}
		t.Logf("%s: %d lists with rows, %d of them partly visible", name, seen, partly)
	}
}

// A deal's page looks up the contracts signed from that deal alone (one_deal
// of scoped.contract_facts and mart_contract_execution): a scoped user sees
// the executive's rows of the contracts the reference rule lets them see.
func TestScopeDealPageContracts(t *testing.T) {
	users := scopeUsers()
	ceo := login(t, "ceo")
	keys := func(c *client, id string) []string { return pointKeys(t, c, "deal.contracts", id) }
	deals := queryIDs(t, `SELECT DISTINCT opportunity_id FROM live.contracts WHERE opportunity_id IS NOT NULL ORDER BY hash(opportunity_id)`)
	for _, name := range []string{"east", "analyst", "rep"} {
		c := login(t, name)
		vis := ownerVisible(t, "contracts", users[name])
		mine := ownerVisible(t, "opportunities", users[name])
		var order []string
		for _, id := range deals {
			if mine[id] {
				order = append(order, id)
			}
		}
		order = append(order[:min(len(order), 30)], deals[:min(len(deals), 30)]...)
		seen, hidden := 0, 0
		for _, id := range order {
			var want []string
			for _, k := range keys(ceo, id) {
				if vis[k] {
					want = append(want, k)
				}
			}
			if got := keys(c, id); !slices.Equal(got, want) {
				t.Errorf("%s, deal %s: contracts %v; want the executive's they may see: %v", name, id, got, want)
			}
			if len(want) > 0 {
				seen++
			} else {
				hidden++
			}
		}
		if seen == 0 || hidden == 0 {
			t.Errorf("%s: %d deals with contracts they see, %d without: the test proves little", name, seen, hidden)
		}
	}
}

// queryIDs returns the first column of the rows of q (ids, in q's order).
func queryIDs(t *testing.T, q string, args ...any) []string {
	t.Helper()
	rows, err := env.w.DB().Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pointKeys returns the keys of the rows of a chart of an entity page (id)
// as client c gets it, in its order.
func pointKeys(t *testing.T, c *client, chart, id string) []string {
	t.Helper()
	var d chartJSON
	if code := c.getJSON("/api/charts/"+chart+"?id="+url.QueryEscape(id), &d); code != 200 {
		t.Fatalf("%s of %s: HTTP %d", chart, id, code)
	}
	var out []string
	for _, p := range d.Points {
		out = append(out, p.Key)
	}
	return out
}

// TestScopeCustomerRadarPeers: a customer's radar sets its seven P scores
// beside the mean of its peers (the customers of its RFM segment, else of
// its value tier) over the customers whose 7P figures the user may see, those
// whose every row is visible. The executive, a manager, an analyst and a rep
// get the customer's scores of mart_customer_value and the means of the
// reference set, computed here from mart_customer_value, mart_rfm and the
// reference rule; a customer whose rows they may not all see has no radar.
func TestScopeCustomerRadarPeers(t *testing.T) {
	type customer struct {
		group  string
		scores [7]*float64
	}
	all := map[string]customer{}
	rows, err := env.w.DB().Query(`SELECT v.customer_id, coalesce('seg:' || r.segment, 'tier:' || v.tier),
		       v.profiling_fit, v.persistency, v.profitability, v.performance, v.prospecting, v.product, v.promotion
		FROM mart_customer_value v
		JOIN customers cu ON cu.customer_id = v.customer_id AND cu._deleted_at IS NULL
		LEFT JOIN mart_rfm r ON r.customer_id = v.customer_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var c customer
		if err := rows.Scan(&id, &c.group, &c.scores[0], &c.scores[1], &c.scores[2], &c.scores[3], &c.scores[4], &c.scores[5], &c.scores[6]); err != nil {
			t.Fatal(err)
		}
		all[id] = c
	}
	rows.Close()
	// the mean of each score (NULLs left out, as avg does) per group over a set
	means := func(whole map[string]bool) map[string][7]*float64 {
		sums, counts := map[string]*[7]float64{}, map[string]*[7]int{}
		for id, c := range all {
			if !whole[id] {
				continue
			}
			if sums[c.group] == nil {
				sums[c.group], counts[c.group] = &[7]float64{}, &[7]int{}
			}
			for i, v := range c.scores {
				if v != nil {
					sums[c.group][i] += *v
					counts[c.group][i]++
				}
			}
		}
		out := map[string][7]*float64{}
		for g, s := range sums {
			var m [7]*float64
			for i := range s {
				if n := counts[g][i]; n > 0 {
					v := s[i] / float64(n)
					m[i] = &v
				}
			}
			out[g] = m
		}
		return out
	}
	payments, contracts, deals, activities := customerRows(t)
	users := scopeUsers()
	same := func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return math.Abs(*a-*b) <= 1e-6 // the chart's numbers have six decimals
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	groupsSeen := map[string]bool{}
	for _, name := range []string{"ceo", "east", "analyst", "rep"} {
		u := users[name]
		vis := map[string]map[string]bool{
			"customers": visible(t, "customers", u), "payments": visible(t, "payments", u), "contracts": visible(t, "contracts", u),
			"opportunities": visible(t, "opportunities", u), "activities": visible(t, "activities", u),
		}
		whole := map[string]bool{}
		for id := range all {
			if vis["customers"][id] && everyVisible(payments[id], vis["payments"]) && everyVisible(contracts[id], vis["contracts"]) &&
				everyVisible(deals[id], vis["opportunities"]) && everyVisible(activities[id], vis["activities"]) {
				whole[id] = true
			}
		}
		want := means(whole)
		c := login(t, name)
		// a few customers of each peer group they see, and a few they may not
		perGroup, hidden := map[string]int{}, 0
		for _, id := range ids {
			g := all[id].group
			if (whole[id] && perGroup[g] >= 2) || (!whole[id] && hidden >= 3) {
				continue
			}
			var d chartJSON
			if code := c.getJSON("/api/charts/customer.radar?id="+url.QueryEscape(id), &d); code != 200 {
				t.Fatalf("%s: the radar of %s: HTTP %d", name, id, code)
			}
			var opt struct {
				Series []struct {
					Data []struct {
						Value []*float64 `json:"value"`
					} `json:"data"`
				} `json:"series"`
			}
			if err := json.Unmarshal(d.Option, &opt); err != nil {
				t.Fatal(err)
			}
			var got [][]*float64
			if len(opt.Series) > 0 {
				for _, p := range opt.Series[0].Data {
					got = append(got, p.Value)
				}
			}
			if !whole[id] {
				hidden++
				if len(got) > 0 {
					t.Errorf("%s sees the radar of customer %s, whose rows they may not all see", name, id)
				}
				continue
			}
			perGroup[g]++
			groupsSeen[g] = true
			if len(got) != 2 || len(d.Points) != 2 || d.Points[1].Key != g {
				t.Errorf("%s, customer %s: radar series %v, points %v; want the customer and the mean of %s", name, id, got, d.Points, g)
				continue
			}
			for i := range 7 {
				if !same(got[0][i], all[id].scores[i]) {
					t.Errorf("%s, customer %s: %s %v, mart_customer_value says %v", name, id, sevenPNames[i], deref(got[0][i]), deref(all[id].scores[i]))
				}
				if m := want[g]; !same(got[1][i], m[i]) {
					t.Errorf("%s, customer %s: the mean %s of %s %v, want %v over the %s customers they may see", name, id, sevenPNames[i], g, deref(got[1][i]), deref(m[i]), g)
				}
			}
		}
		if len(perGroup) < 2 || (name != "ceo" && hidden == 0) {
			t.Errorf("%s: radars of %d peer groups, %d customers they may not see: the test proves little", name, len(perGroup), hidden)
		}
	}
	var tiers int
	for g := range groupsSeen {
		if strings.HasPrefix(g, "tier:") {
			tiers++
		}
	}
	if tiers == 0 {
		t.Error("no customer without an RFM segment (peers by value tier) checked: the test proves little")
	}
}

var sevenPNames = []string{"profiling", "persistency", "profitability", "performance", "prospecting", "product", "promotion"}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// customerRows: customer → the keys of its payments, contracts, deals and
// activities, from the base tables.
func customerRows(t *testing.T) (payments, contracts, deals, activities map[string][]string) {
	t.Helper()
	byCustomer := func(table, key string) map[string][]string {
		out := map[string][]string{}
		rows, err := env.w.DB().Query(`SELECT customer_id, ` + key + ` FROM ` + table + ` WHERE customer_id IS NOT NULL AND _deleted_at IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var cust, k string
			if err := rows.Scan(&cust, &k); err != nil {
				t.Fatal(err)
			}
			out[cust] = append(out[cust], k)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return byCustomer("payments", "payment_id"), byCustomer("contracts", "contract_id"),
		byCustomer("opportunities", "opportunity_id"), byCustomer("activities", "activity_id")
}

// everyVisible says whether every key is in vis.
func everyVisible(keys []string, vis map[string]bool) bool {
	for _, k := range keys {
		if !vis[k] {
			return false
		}
	}
	return true
}

// TestScopeMicroscopeOverviewTimeline: the Microscope overview's timeline of
// the largest open deals looks up the stage histories of the deals it picked
// alone (one_deals of scoped.opportunity_stages and opportunity_facts). A
// manager's and an analyst's overview are the executive's with the org filter
// on their unit, a rep's the executive's page of that rep; and the relations
// given a list of deals return the rows of those the reference rule lets the
// user see.
func TestScopeMicroscopeOverviewTimeline(t *testing.T) {
	ceo := login(t, "ceo")
	chart := func(c *client, q string) chartJSON {
		t.Helper()
		var d chartJSON
		if code := c.getJSON("/api/charts/microscope.timeline?"+q, &d); code != 200 {
			t.Fatalf("microscope.timeline?%s: HTTP %d", q, code)
		}
		return d
	}
	for _, tc := range []struct{ user, ceoQuery string }{
		{"east", "org=" + url.QueryEscape(env.region)},
		{"analyst", "org=" + url.QueryEscape(env.branch)},
		{"rep", "id=" + url.QueryEscape(env.rep)},
	} {
		got, want := chart(login(t, tc.user), ""), chart(ceo, tc.ceoQuery)
		if string(got.Option) != string(want.Option) || fmt.Sprint(got.Table) != fmt.Sprint(want.Table) || got.State != want.State {
			t.Errorf("%s's overview timeline: %s %s %v; the executive's (%s): %s %s %v", tc.user,
				got.State, got.Option, got.Table, tc.ceoQuery, want.State, want.Option, want.Table)
		}
		if len(got.Points) == 0 {
			t.Errorf("%s's overview timeline shows no deal: the test proves little", tc.user)
		}
	}
	// The relations given a list: open deals of every owner, the user's and
	// others', in one list.
	deals := queryIDs(t, `SELECT opportunity_id FROM live.opportunities ORDER BY hash(opportunity_id) LIMIT 40`)
	staged := map[string]bool{}
	for _, id := range queryIDs(t, `SELECT DISTINCT opportunity_id FROM live.opportunity_stages`) {
		staged[id] = true
	}
	users := scopeUsers()
	for _, name := range []string{"ceo", "east", "analyst", "rep"} {
		u := users[name]
		p := access.ScopeFor(u).Params()
		vis := ownerVisible(t, "opportunities", u)
		var want []string
		for _, id := range deals {
			if vis[id] {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		for _, rel := range []string{"opportunity_facts", "opportunity_stages"} {
			got := queryIDs(t, `SELECT DISTINCT opportunity_id FROM scoped.`+rel+`($1, $2, $3, one_deals := $4) ORDER BY 1`,
				p["scope_all"], p["scope_org"], p["scope_rep"], deals)
			var wantHere []string
			if rel == "opportunity_stages" {
				// deals without a stage history have no rows
				for _, id := range want {
					if staged[id] {
						wantHere = append(wantHere, id)
					}
				}
			} else {
				wantHere = want
			}
			if !slices.Equal(got, wantHere) {
				t.Errorf("%s, scoped.%s(one_deals := 40 deals): %v; want the ones they may see: %v", name, rel, got, wantHere)
			}
			if name != "ceo" && len(wantHere) == len(deals) {
				t.Errorf("%s sees all 40 deals: the test proves little", name)
			}
		}
	}
}
