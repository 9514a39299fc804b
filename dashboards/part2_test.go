package dashboards_test

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/triscope/triscope/access"
)

// Tests of the part-2 pages that the registry-driven tests do not cover: the
// entity pages (customer 360, rep, deal: right data, 404 outside the scope)
// and the collision ruling (CSRF, roles, subtree, recorded, shown).

// queryRow runs a reference query on the warehouse.
func queryRow(t *testing.T, q string, args []any, dest ...any) bool {
	t.Helper()
	err := env.w.DB().QueryRowContext(context.Background(), q, args...).Scan(dest...)
	if err == sql.ErrNoRows {
		return false
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return true
}

// ownerRep of a customer (customers.owner_rep_id).
func customerOf(t *testing.T, where string, args ...any) (id, name string) {
	t.Helper()
	if !queryRow(t, `SELECT cu.customer_id, cu.name FROM customers cu
		LEFT JOIN reps r ON r.rep_id = cu.owner_rep_id
		WHERE `+where+` AND EXISTS (SELECT 1 FROM contracts c WHERE c.customer_id = cu.customer_id)
		ORDER BY cu.customer_id LIMIT 1`, args, &id, &name) {
		t.Fatalf("no customer where %s %v", where, args)
	}
	return id, name
}

func pageStatus(t *testing.T, c *client, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", env.base+path, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func kpiValue(d chartJSON, key string) (float64, bool) {
	for _, k := range d.KPIs {
		if k.Key == key && k.Value != nil {
			return *k.Value, true
		}
	}
	return 0, false
}

func TestCustomer360(t *testing.T) {
	own, ownName := customerOf(t, "cu.owner_rep_id = $1", env.rep)
	other, _ := customerOf(t, "cu.owner_rep_id <> $1 AND r.org_unit_id NOT IN (SELECT org_unit_id FROM org_units WHERE org_unit_id = $2 OR parent_id = $2)", env.rep, env.region)
	rep := login(t, "rep")

	code, body := pageStatus(t, rep, "/customers/"+url.PathEscape(own))
	if code != 200 {
		t.Fatalf("rep, own customer %s: %d", own, code)
	}
	for _, want := range []string{`class="entity entity-customer"`, `"params":{"id":"` + own + `"}`, "/reps/" + env.rep} {
		if !strings.Contains(body, want) {
			t.Errorf("the 360 page of %s lacks %q", own, want)
		}
	}
	if !strings.Contains(body, "<h1>") || !strings.Contains(body, htmlEscape(ownName)) {
		t.Errorf("the 360 page does not show the customer's name %q", ownName)
	}
	// Another rep's customer: not found, and its data is not served either.
	if code, _ := pageStatus(t, rep, "/customers/"+url.PathEscape(other)); code != http.StatusNotFound {
		t.Errorf("rep, another rep's customer %s: %d, want 404", other, code)
	}
	var d chartJSON
	if code := rep.getJSON("/api/charts/customer.kpis?id="+url.QueryEscape(other), &d); code != 200 {
		t.Fatalf("customer.kpis: %d", code)
	}
	for _, v := range numbers(d) {
		if v != 0 {
			t.Errorf("rep sees %v in another rep's customer's figures", v)
		}
	}
	var rows rowsPage
	rep.getJSON("/api/charts/customer.payments/rows?id="+url.QueryEscape(other), &rows)
	if rows.Total != 0 {
		t.Errorf("rep sees %d payments of another rep's customer", rows.Total)
	}

	// The figures are the customer's: revenue = its payments (base currency).
	var want float64
	queryRow(t, `SELECT coalesce(sum(CASE WHEN coalesce(p.currency, 'CNY') = 'CNY' THEN p.amount
	        ELSE p.amount * (SELECT f.rate_to_base FROM fx_rates f WHERE f.currency = p.currency AND f.on_date <= p.paid_on ORDER BY f.on_date DESC LIMIT 1) END), 0)
	    FROM payments p WHERE p.customer_id = $1`, []any{own}, &want)
	if code := rep.getJSON("/api/charts/customer.kpis?id="+url.QueryEscape(own), &d); code != 200 {
		t.Fatalf("customer.kpis: %d", code)
	}
	if got, ok := kpiValue(d, "revenue"); !ok || math.Abs(got-want) > 0.05 {
		t.Errorf("revenue of %s: %v, payments sum to %.2f", own, got, want)
	}
	var nDeals int
	queryRow(t, `SELECT count(*) FROM opportunities WHERE customer_id = $1`, []any{own}, &nDeals)
	rep.getJSON("/api/charts/customer.opportunities/rows?size=500&id="+url.QueryEscape(own), &rows)
	if int(rows.Total) != nDeals {
		t.Errorf("deals of %s: %d listed, %d in the warehouse", own, rows.Total, nDeals)
	}

	// A manager sees the customers of their region only.
	east := login(t, "east")
	var inEast string
	queryRow(t, `SELECT cu.customer_id FROM customers cu JOIN org_units u ON u.org_unit_id = cu.org_unit_id
		WHERE u.parent_id IN (SELECT org_unit_id FROM org_units WHERE parent_id = $1) ORDER BY 1 LIMIT 1`, []any{env.region}, &inEast)
	if code, _ := pageStatus(t, east, "/customers/"+url.PathEscape(inEast)); code != 200 {
		t.Errorf("east, customer %s of East China: %d", inEast, code)
	}
	if code, _ := pageStatus(t, east, "/customers/"+url.PathEscape(other)); code != http.StatusNotFound && !inRegion(t, other) {
		t.Errorf("east, customer %s outside East China: %d, want 404", other, code)
	}

	// A name with a script is text on the page.
	ceo := login(t, "ceo")
	code, body = pageStatus(t, ceo, "/customers/"+url.PathEscape(env.xssCust))
	if code != 200 || strings.Contains(body, xssCustomer) || !strings.Contains(body, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the script in a customer's name is not escaped on the 360 page (%d)", code)
	}
	if code, _ := pageStatus(t, ceo, "/customers/NO-SUCH-CUSTOMER"); code != http.StatusNotFound {
		t.Errorf("unknown customer: %d", code)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func inRegion(t *testing.T, customer string) bool {
	var n int
	queryRow(t, `WITH RECURSIVE s(id) AS (SELECT $2::VARCHAR UNION SELECT o.org_unit_id FROM org_units o JOIN s ON o.parent_id = s.id)
		SELECT count(*) FROM customers cu LEFT JOIN reps r ON r.rep_id = cu.owner_rep_id
		WHERE cu.customer_id = $1 AND coalesce(cu.org_unit_id, r.org_unit_id) IN (SELECT id FROM s)`, []any{customer, env.region}, &n)
	return n > 0
}

func TestDealAndRepPages(t *testing.T) {
	var own, other string
	queryRow(t, `SELECT o.opportunity_id FROM opportunities o WHERE o.owner_rep_id = $1
		AND (SELECT count(*) FROM opportunity_stages h WHERE h.opportunity_id = o.opportunity_id) >= 3 ORDER BY 1 LIMIT 1`, []any{env.rep}, &own)
	queryRow(t, `SELECT opportunity_id FROM opportunities WHERE owner_rep_id <> $1 ORDER BY 1 LIMIT 1`, []any{env.rep}, &other)
	rep := login(t, "rep")
	code, body := pageStatus(t, rep, "/deals/"+url.PathEscape(own))
	if code != 200 || !strings.Contains(body, `class="entity entity-deal"`) || !strings.Contains(body, own) {
		t.Fatalf("rep, own deal %s: %d", own, code)
	}
	if code, _ := pageStatus(t, rep, "/deals/"+url.PathEscape(other)); code != http.StatusNotFound {
		t.Errorf("rep, another rep's deal %s: %d, want 404", other, code)
	}
	// Every stage of the deal with the day it was entered.
	var nStages int
	queryRow(t, `SELECT count(*) FROM opportunity_stages WHERE opportunity_id = $1`, []any{own}, &nStages)
	var rows rowsPage
	if code := rep.getJSON("/api/charts/deal.stages/rows?size=500&id="+url.QueryEscape(own), &rows); code != 200 {
		t.Fatalf("deal.stages rows: %d", code)
	}
	if int(rows.Total) != nStages {
		t.Errorf("stages of %s: %d listed, %d in the history", own, rows.Total, nStages)
	}
	var d chartJSON
	rep.getJSON("/api/charts/deal.stages?id="+url.QueryEscape(own), &d)
	if d.Table == nil || len(d.Table.Rows) != nStages {
		t.Errorf("the stage table of %s has %v rows, want %d", own, d.Table, nStages)
	}
	rep.getJSON("/api/charts/deal.stages/rows?id="+url.QueryEscape(other), &rows)
	if rows.Total != 0 {
		t.Errorf("rep sees %d stages of another rep's deal", rows.Total)
	}

	// A rep's page: their own, not a colleague's; their manager's region sees it.
	if code, _ := pageStatus(t, rep, "/reps/"+url.PathEscape(env.rep)); code != 200 {
		t.Errorf("rep, own page: %d", code)
	}
	var colleague string
	queryRow(t, `SELECT rep_id FROM reps WHERE rep_id <> $1 ORDER BY 1 LIMIT 1`, []any{env.rep}, &colleague)
	if code, _ := pageStatus(t, rep, "/reps/"+url.PathEscape(colleague)); code != http.StatusNotFound {
		t.Errorf("rep, a colleague's page: %d, want 404", code)
	}
	east := login(t, "east")
	var eastRep, otherRep string
	queryRow(t, `WITH RECURSIVE s(id) AS (SELECT $1::VARCHAR UNION SELECT o.org_unit_id FROM org_units o JOIN s ON o.parent_id = s.id)
		SELECT rep_id FROM reps WHERE org_unit_id IN (SELECT id FROM s) ORDER BY 1 LIMIT 1`, []any{env.region}, &eastRep)
	queryRow(t, `WITH RECURSIVE s(id) AS (SELECT $1::VARCHAR UNION SELECT o.org_unit_id FROM org_units o JOIN s ON o.parent_id = s.id)
		SELECT rep_id FROM reps WHERE org_unit_id NOT IN (SELECT id FROM s) ORDER BY 1 LIMIT 1`, []any{env.region}, &otherRep)
	if code, _ := pageStatus(t, east, "/reps/"+url.PathEscape(eastRep)); code != 200 {
		t.Errorf("east, rep %s of East China: %d", eastRep, code)
	}
	if code, _ := pageStatus(t, east, "/reps/"+url.PathEscape(otherRep)); code != http.StatusNotFound {
		t.Errorf("east, rep %s outside East China: %d, want 404", otherRep, code)
	}
}

// TestCollisionRuling: a manager rules on an open collision of their subtree
// with the form's CSRF token; without it, from another origin, as a rep, as an
// analyst or as a manager of another region the ruling is refused; the ruling
// is stored in collision_rulings, audited, and shown in the list.
func TestCollisionRuling(t *testing.T) {
	var opp, other, otherRegion string
	ok := queryRow(t, `WITH RECURSIVE s(id) AS (SELECT $1::VARCHAR UNION SELECT o.org_unit_id FROM org_units o JOIN s ON o.parent_id = s.id),
		owner AS (SELECT o.opportunity_id, coalesce(r.org_unit_id, cu.org_unit_id) AS org
		          FROM opportunities o LEFT JOIN customers cu ON cu.customer_id = o.customer_id
		          LEFT JOIN reps r ON r.rep_id = coalesce(o.owner_rep_id, cu.owner_rep_id))
		SELECT m.opportunity_id, m.conflicts_with_opportunity_id FROM mart_collisions m
		JOIN owner a ON a.opportunity_id = m.opportunity_id JOIN owner b ON b.opportunity_id = m.conflicts_with_opportunity_id
		WHERE m.status = 'open' AND a.org IN (SELECT id FROM s) AND b.org IN (SELECT id FROM s)
		ORDER BY 1, 2 LIMIT 1`, []any{env.region}, &opp, &other)
	if !ok {
		t.Fatal("no open collision in East China on the demo company: the test would prove nothing")
	}
	queryRow(t, `SELECT org_unit_id FROM org_units WHERE level = 'region' AND org_unit_id <> $1 ORDER BY 1 LIMIT 1`, []any{env.region}, &otherRegion)
	if err := env.auth.PutUser(context.Background(), access.User{Username: "west", Role: access.RoleManager, OrgUnit: otherRegion}, env.password); err != nil {
		t.Fatal(err)
	}
	form := func(c *client, decision string) url.Values {
		return url.Values{"csrf": {c.csrf}, "opportunity_id": {opp}, "conflicts_with": {other}, "decision": {decision},
			"note": {"<b>first come, first served</b>"}, "back": {"/collisions?status=all"}}
	}
	rulings := func() int {
		var n int
		queryRow(t, `SELECT count(*) FROM collision_rulings WHERE opportunity_id = $1 AND conflicts_with_opportunity_id = $2`, []any{opp, other}, &n)
		return n
	}

	// The list offers the ruling to the manager, not to the rep.
	east := login(t, "east")
	_, page := pageStatus(t, east, "/collisions?status=all")
	if !strings.Contains(page, `action="/collisions/rule"`) || !strings.Contains(page, `value="`+opp+`"`) {
		t.Fatalf("the manager's collision list has no ruling form for %s", opp)
	}

	for _, tc := range []struct {
		name   string
		c      *client
		form   url.Values
		header []string
		want   int
	}{
		{"no CSRF token", east, url.Values{"opportunity_id": {opp}, "conflicts_with": {other}, "decision": {"first"}}, nil, http.StatusForbidden},
		{"forged token", east, url.Values{"csrf": {"forged"}, "opportunity_id": {opp}, "conflicts_with": {other}, "decision": {"first"}}, nil, http.StatusForbidden},
		{"another origin", east, form(east, "first"), []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"bad decision", east, form(east, "both"), nil, http.StatusBadRequest},
	} {
		resp, _ := tc.c.postForm("/collisions/rule", tc.form, tc.header...)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	for user, want := range map[string]int{"rep": http.StatusForbidden, "analyst": http.StatusForbidden, "west": http.StatusNotFound} {
		c := login(t, user)
		resp, _ := c.postForm("/collisions/rule", form(c, "other"))
		if resp.StatusCode != want {
			t.Errorf("%s rules: %d, want %d", user, resp.StatusCode, want)
		}
		_, page := pageStatus(t, c, "/collisions?status=all")
		if strings.Contains(page, `action="/collisions/rule"`) && user != "west" {
			t.Errorf("%s is offered the ruling form", user)
		}
	}
	if n := rulings(); n != 0 {
		t.Fatalf("%d rulings recorded by refused requests", n)
	}

	// The manager rules: the deal goes to the other registrant.
	resp, _ := east.postForm("/collisions/rule", form(east, "other"), "Origin", env.base)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/collisions?") {
		t.Fatalf("ruling: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var decision, winner, by, note string
	queryRow(t, `SELECT decision, winner_registrant, ruled_by, note FROM collision_rulings
		WHERE opportunity_id = $1 AND conflicts_with_opportunity_id = $2 ORDER BY ruling_id DESC LIMIT 1`, []any{opp, other}, &decision, &winner, &by, &note)
	var first, regA, regB string
	queryRow(t, `SELECT first_registrant, registrant, conflicts_with_registrant FROM mart_collisions
		WHERE opportunity_id = $1 AND conflicts_with_opportunity_id = $2`, []any{opp, other}, &first, &regA, &regB)
	wantWinner := regA
	if regA == first {
		wantWinner = regB
	}
	if decision != "other" || by != "east" || winner != wantWinner || winner == first || note != "<b>first come, first served</b>" {
		t.Errorf("recorded ruling: %s → %s by %s (%q); want other → %s by east", decision, winner, by, note, wantWinner)
	}
	events, _ := env.auth.AuditLog(context.Background(), 50)
	audited := false
	for _, ev := range events {
		if ev.Action == "collision_ruling" && ev.Username == "east" && ev.Detail["opportunity_id"] == opp {
			audited = true
		}
	}
	if !audited {
		t.Error("the ruling is not in the audit trail")
	}

	// The list and the figures show it.
	_, page = pageStatus(t, east, resp.Header.Get("Location"))
	if !strings.Contains(page, "Ruling recorded") || !strings.Contains(page, "by east") ||
		!strings.Contains(page, "&lt;b&gt;first come, first served&lt;/b&gt;") {
		t.Error("the collision list does not show the ruling (escaped)")
	}
	var d chartJSON
	east.getJSON("/api/charts/collisions.kpis?status=all", &d)
	if v, _ := kpiValue(d, "collisions_ruled"); v != 1 {
		t.Errorf("ruled collisions: %v, want 1", v)
	}
	var rows rowsPage
	east.getJSON("/api/charts/collisions.kpis/rows?status=all&ruling=ruled", &rows)
	if rows.Total != 1 {
		t.Errorf("rows of ruled collisions: %d, want 1", rows.Total)
	}

	// Issue 18, finding 10: a ruled pair is not silently ruled on again. A
	// second ruling must say it overrules, with a reason, and the list keeps
	// the earlier ruling in view.
	again := form(east, "first")
	if resp, _ := east.postForm("/collisions/rule", again); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second ruling without overruling: %d, want 409", resp.StatusCode)
	}
	again.Set("overrule", "1")
	again.Set("note", "")
	if resp, _ := east.postForm("/collisions/rule", again); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an overruling without a reason: %d, want 400", resp.StatusCode)
	}
	if n := rulings(); n != 1 {
		t.Fatalf("%d rulings after two refused attempts, want 1", n)
	}
	again.Set("note", "the customer confirmed the first contact")
	resp, _ = east.postForm("/collisions/rule", again)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("overruling: %d", resp.StatusCode)
	}
	if n := rulings(); n != 2 {
		t.Fatalf("%d rulings after the overruling, want both kept", n)
	}
	_, page = pageStatus(t, east, resp.Header.Get("Location"))
	if !strings.Contains(page, "Ruling changed") || !strings.Contains(page, "Replaces 1 earlier ruling") ||
		!strings.Contains(page, "the customer confirmed the first contact") || !strings.Contains(page, "first come, first served") {
		t.Error("the collision list does not show the overruling with the ruling it replaced")
	}
	events, _ = env.auth.AuditLog(context.Background(), 50)
	audited = false
	for _, ev := range events {
		audited = audited || ev.Action == "collision_overrule" && ev.Username == "east" && ev.Detail["opportunity_id"] == opp
	}
	if !audited {
		t.Error("the overruling is not in the audit trail")
	}

	// A closed collision cannot be ruled on.
	var cOpp, cOther string
	if queryRow(t, `SELECT opportunity_id, conflicts_with_opportunity_id FROM mart_collisions WHERE status = 'closed' ORDER BY 1 LIMIT 1`, nil, &cOpp, &cOther) {
		ceo := login(t, "ceo")
		resp, _ := ceo.postForm("/collisions/rule", url.Values{"csrf": {ceo.csrf}, "opportunity_id": {cOpp}, "conflicts_with": {cOther}, "decision": {"first"}})
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("ruling on a closed collision: %d, want 409", resp.StatusCode)
		}
	}
}

// Issue 17, point 7: collisions people can work through — pages of 25 with
// links, filters by age and by rep, and a manager's bulk ruling (each pair
// checked like a single ruling; a bulk ruling never overrules).
func TestCollisionListPagesFiltersAndBulkRuling(t *testing.T) {
	ceo := login(t, "ceo")
	_, page1 := pageStatus(t, ceo, "/collisions?status=all&ruling=all&age=all")
	if n := strings.Count(page1, `<tr class="`); n != 25 || !strings.Contains(page1, "page=2") {
		t.Fatalf("page 1 lists %d collisions (want 25) and a link to page 2: %v", n, strings.Contains(page1, "page=2"))
	}
	_, page2 := pageStatus(t, ceo, "/collisions?status=all&ruling=all&age=all&page=2")
	if strings.Count(page2, `<tr class="`) == 0 || !strings.Contains(page2, "Newer") {
		t.Error("page 2 is empty or has no link back")
	}
	count := func(c *client, q string) float64 {
		var d chartJSON
		c.getJSON("/api/charts/collisions.kpis?"+q, &d)
		v, _ := kpiValue(d, "collisions")
		return v
	}
	all, week, older := count(ceo, "status=all&age=all"), count(ceo, "status=all&age=week"), count(ceo, "status=all&age=older")
	if all == 0 || week >= all || older >= all || week+older > all {
		t.Errorf("collisions: %v in all, %v in the last week, %v older than 90 days", all, week, older)
	}
	var rep string
	queryRow(t, `SELECT substr(registrant, 5) FROM mart_collisions WHERE registrant LIKE 'rep:%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`, nil, &rep)
	var want float64
	queryRow(t, `SELECT count(*) FROM mart_collisions WHERE $1 IN (substr(registrant, 5), substr(conflicts_with_registrant, 5))`, []any{rep}, &want)
	if got := count(ceo, "status=all&age=all&rep="+url.QueryEscape(rep)); got != want {
		t.Errorf("collisions of rep %s: %v, want %v", rep, got, want)
	}

	// An executive rules on two open, unruled collisions at once; a manager
	// cannot rule on pairs outside their region, a rep on none.
	var pairs []string
	rows, err := env.w.DB().Query(`SELECT m.opportunity_id || '|' || m.conflicts_with_opportunity_id FROM mart_collisions m
		WHERE m.status = 'open'
		  AND NOT EXISTS (SELECT 1 FROM collision_rulings r WHERE r.opportunity_id = m.opportunity_id AND r.conflicts_with_opportunity_id = m.conflicts_with_opportunity_id)
		ORDER BY 1 DESC LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pairs = append(pairs, p)
	}
	rows.Close()
	if len(pairs) < 2 {
		t.Fatalf("fewer than two open unruled collisions (%v): the test proves nothing", pairs)
	}
	rep1 := login(t, "rep")
	form := url.Values{"csrf": {rep1.csrf}, "pair": pairs, "back": {"/collisions"}}
	if resp, _ := rep1.postForm("/collisions/rule-bulk", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a rep's bulk ruling: %d, want 403", resp.StatusCode)
	}
	var otherRegion string
	queryRow(t, `SELECT org_unit_id FROM org_units WHERE level = 'region' AND org_unit_id <> $1 ORDER BY 1 LIMIT 1`, []any{env.region}, &otherRegion)
	if err := env.auth.PutUser(context.Background(), access.User{Username: "west", Role: access.RoleManager, OrgUnit: otherRegion}, env.password); err != nil {
		t.Fatal(err)
	}
	west := login(t, "west")
	if resp, _ := west.postForm("/collisions/rule-bulk", url.Values{"csrf": {west.csrf}, "pair": {"NOPE-1|NOPE-2"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a manager's bulk ruling on pairs they cannot see: %d, want 404", resp.StatusCode)
	}
	form.Set("csrf", ceo.csrf)
	resp, _ := ceo.postForm("/collisions/rule-bulk", form)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "bulk=2") {
		t.Fatalf("bulk ruling: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range pairs {
		a, b, _ := strings.Cut(p, "|")
		var n int
		var decision string
		queryRow(t, `SELECT count(*), any_value(decision) FROM collision_rulings WHERE opportunity_id = $1 AND conflicts_with_opportunity_id = $2`, []any{a, b}, &n, &decision)
		if n != 1 || decision != "first" {
			t.Errorf("pair %s: %d rulings (%s) after the bulk ruling", p, n, decision)
		}
	}
	// The reps of the ruled deals are told on their page.
	var ruledRep string
	a0, _, _ := strings.Cut(pairs[0], "|")
	queryRow(t, `SELECT coalesce(o.owner_rep_id, c.owner_rep_id) FROM opportunities o LEFT JOIN customers c USING (customer_id) WHERE o.opportunity_id = $1`, []any{a0}, &ruledRep)
	if _, body := pageStatus(t, ceo, "/reps/"+url.PathEscape(ruledRep)+"?lang=en"); !strings.Contains(body, "Collision ruled") || !strings.Contains(body, a0) {
		t.Errorf("the page of rep %s does not tell of the ruling on %s", ruledRep, a0)
	}
	// Again: both are ruled now, and a bulk ruling does not overrule.
	if resp, _ := ceo.postForm("/collisions/rule-bulk", form); resp.StatusCode != http.StatusConflict {
		t.Errorf("bulk ruling on ruled pairs: %d, want 409", resp.StatusCode)
	}
}
