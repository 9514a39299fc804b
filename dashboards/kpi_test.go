package dashboards_test

import (
	"math"
	"net/url"
	"testing"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Issue 17, point 1: one definition per figure. Every chart has an ⓘ in
// both languages, every glossary term a chart names is defined in both, and
// every KPI tile of every page carries its term's definition.
func TestEveryFigureIsDefined(t *testing.T) {
	for _, ch := range query.Charts() {
		for _, lang := range i18n.Langs {
			if query.ChartInfo(lang, ch) == "" {
				t.Errorf("%s has no ⓘ in %s (give it Glossary terms or Help)", ch.ID, lang)
			}
			for _, term := range ch.Glossary {
				if _, ok := query.Definition(lang, term); !ok {
					t.Errorf("%s names the term %q, which the %s glossary lacks", ch.ID, term, lang)
				}
			}
		}
	}
	ids := url.Values{"id": {env.mixed}}
	c := login(t, "ceo")
	for _, ch := range query.Charts() {
		if ch.Kind != query.KindKPI {
			continue
		}
		q := url.Values{"lang": {"zh-CN"}}
		if page := query.PageOfChart(ch.ID); page != nil && page.ID == "customers.detail" {
			q.Set("id", ids.Get("id"))
		}
		if page := query.PageOfChart(ch.ID); page != nil && page.ID == "microscope.rep" {
			q.Set("id", env.rep)
		}
		var d chartJSON
		if code := c.getJSON("/api/charts/"+ch.ID+"?"+q.Encode(), &d); code != 200 {
			t.Fatalf("%s: HTTP %d", ch.ID, code)
		}
		if len(d.KPIs) == 0 {
			t.Errorf("%s shows no tiles", ch.ID)
		}
		for _, k := range d.KPIs {
			if k.Info == "" {
				t.Errorf("%s: tile %q has no definition (add it to query/glossary.go and the glossary catalogues)", ch.ID, k.Key)
			}
		}
	}
}

// Bookings are contracts signed in the period, excluding cancelled ones
// (never in force); a contract terminated later stays a booking. The
// Telescope's tile equals that count, made here from the base tables and
// the rates, independently of the facts.
func TestBookingsAreContractsNotCancelled(t *testing.T) {
	var want, cancelled, terminated float64
	queryRow(t, `WITH c AS (
		SELECT c.status, c.amount * CASE WHEN coalesce(c.currency, 'CNY') = 'CNY' THEN 1 ELSE
		    (SELECT f.rate_to_base FROM fx_rates f WHERE f.currency = c.currency AND f.on_date <= c.signed_on ORDER BY f.on_date DESC LIMIT 1) END AS v
		FROM contracts c
		WHERE c._deleted_at IS NULL AND c.signed_on > (SELECT max(signed_on) FROM contracts) - INTERVAL 400 DAY)
		SELECT CAST(sum(v) FILTER (WHERE status IS DISTINCT FROM 'cancelled') AS DOUBLE),
		       CAST(coalesce(sum(v) FILTER (WHERE status = 'cancelled'), 0) AS DOUBLE),
		       CAST(coalesce(sum(v) FILTER (WHERE status = 'terminated'), 0) AS DOUBLE) FROM c`, nil, &want, &cancelled, &terminated)
	if cancelled == 0 || terminated == 0 {
		t.Fatalf("the small company has no cancelled (%v) or terminated (%v) contracts in the window: the test proves nothing", cancelled, terminated)
	}
	var from, to string
	queryRow(t, `SELECT strftime(max(signed_on) - INTERVAL 399 DAY, '%Y-%m-%d'), strftime(max(signed_on), '%Y-%m-%d') FROM contracts`, nil, &from, &to)
	c := login(t, "ceo")
	var d chartJSON
	if code := c.getJSON("/api/charts/telescope.kpis?"+url.Values{"period": {"custom"}, "from": {from}, "to": {to}}.Encode(), &d); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	got, ok := kpiValue(d, "bookings")
	if !ok || math.Abs(got-want) > 0.01 {
		t.Errorf("bookings %s to %s: %.2f, want %.2f (cancelled %.2f left out, terminated %.2f kept)", from, to, got, want, cancelled, terminated)
	}
}

// Issue 17, point 6: the search box finds customers, deals, contracts and
// reps by name or number, only inside the user's scope.
func TestSearchIsScoped(t *testing.T) {
	var own, ownName, other, otherName, deal string
	queryRow(t, `SELECT customer_id, name FROM customers WHERE owner_rep_id = $1 ORDER BY customer_id LIMIT 1`, []any{env.rep}, &own, &ownName)
	queryRow(t, `SELECT c.customer_id, c.name FROM customers c JOIN reps r ON r.rep_id = c.owner_rep_id
		WHERE c.owner_rep_id <> $1 AND r.org_unit_id NOT IN (SELECT org_unit_id FROM org_units WHERE org_unit_id = $2 OR parent_id = $2)
		ORDER BY c.customer_id LIMIT 1`, []any{env.rep, env.region}, &other, &otherName)
	queryRow(t, `SELECT opportunity_id FROM opportunities WHERE owner_rep_id = $1 ORDER BY opportunity_id LIMIT 1`, []any{env.rep}, &deal)
	search := func(c *client, q string) []map[string]string {
		var hits []map[string]string
		if code := c.getJSON("/api/search?q="+url.QueryEscape(q), &hits); code != 200 {
			t.Fatalf("search %q: HTTP %d", q, code)
		}
		return hits
	}
	found := func(hits []map[string]string, kind, id string) bool {
		for _, h := range hits {
			if h["kind"] == kind && h["id"] == id {
				return true
			}
		}
		return false
	}
	rep, ceo := login(t, "rep"), login(t, "ceo")
	if hits := search(rep, own[len(own)-5:]); !found(hits, "customer", own) {
		t.Errorf("the rep's search for part of %s's number: %v", own, hits)
	}
	if hits := search(rep, ownName[:len(ownName)/2+2]); !found(hits, "customer", own) {
		t.Errorf("the rep's search for part of %q: %v", ownName, hits)
	}
	if hits := search(rep, deal); len(hits) == 0 || hits[0]["kind"] != "deal" || hits[0]["id"] != deal || hits[0]["link"] != "/deals/"+deal {
		t.Errorf("the rep's search for their deal %s: %v", deal, hits)
	}
	if hits := search(rep, other); found(hits, "customer", other) {
		t.Errorf("the rep finds %s, another region's customer", other)
	}
	if hits := search(ceo, other); !found(hits, "customer", other) {
		t.Errorf("the executive does not find %s", other)
	}
	for _, h := range search(rep, "C-") {
		if h["kind"] == "customer" && h["id"] == other {
			t.Errorf("a broad search shows the rep %s", other)
		}
	}
	if hits := search(rep, "x"); len(hits) != 0 {
		t.Errorf("one Latin letter searched: %v", hits)
	}
}
