package dashboards_test

import (
	"math"
	"net/url"
	"strings"
	"testing"
)

// Several units or product lines chosen at once (issue 17 point 8): the
// figures of a choice are the sums of the figures of each chosen value,
// a unit under another chosen one adds nothing, charts of one unit's model
// say they need one unit, and the page shows each choice as a removable chip.
func TestMultiSelectFilters(t *testing.T) {
	ceo := login(t, "ceo")
	var south, north string
	queryRow(t, `SELECT max(org_unit_id) FILTER (WHERE name = 'South China'), max(org_unit_id) FILTER (WHERE name = 'North China')
		FROM org_units WHERE level = 'region'`, nil, &south, &north)
	var lineA, lineB string
	queryRow(t, `SELECT min(product_line), max(product_line) FROM products`, nil, &lineA, &lineB)
	if south == "" || north == "" || lineA == lineB {
		t.Fatalf("fixture: regions %q %q, lines %q %q", south, north, lineA, lineB)
	}

	kpis := func(q url.Values) map[string][2]float64 { // value, target per tile
		t.Helper()
		q.Set("period", "y2025")
		var d chartJSON
		if code := ceo.getJSON("/api/charts/telescope.kpis?"+q.Encode(), &d); code != 200 || d.State != "ok" {
			t.Fatalf("%s: %d %s", q.Encode(), code, d.State)
		}
		out := map[string][2]float64{}
		for _, k := range d.KPIs {
			var v, tg float64
			if k.Value != nil {
				v = *k.Value
			}
			if k.Target != nil {
				tg = *k.Target
			}
			out[k.Key] = [2]float64{v, tg}
		}
		return out
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 0.01+1e-9*math.Abs(b) }

	s, n := kpis(url.Values{"org": {south}}), kpis(url.Values{"org": {north}})
	both := kpis(url.Values{"org": {south, north}})
	for _, key := range []string{"bookings", "collections", "pipeline"} {
		if want := s[key][0] + n[key][0]; !near(both[key][0], want) || want == 0 {
			t.Errorf("%s of two regions = %.2f, want %.2f (%.2f + %.2f)", key, both[key][0], want, s[key][0], n[key][0])
		}
	}
	for _, key := range []string{"bookings", "collections"} {
		if want := s[key][1] + n[key][1]; !near(both[key][1], want) || want == 0 {
			t.Errorf("%s target of two regions = %.2f, want %.2f", key, both[key][1], want)
		}
	}
	// East and one of its branches: the branch adds nothing.
	east, eastAndBranch := kpis(url.Values{"org": {env.region}}), kpis(url.Values{"org": {env.region, env.branch}})
	if east["bookings"] != eastAndBranch["bookings"] {
		t.Errorf("East and its branch: %v, East alone: %v", eastAndBranch["bookings"], east["bookings"])
	}

	a, b := kpis(url.Values{"pl": {lineA}}), kpis(url.Values{"pl": {lineB}})
	ab := kpis(url.Values{"pl": {lineA, lineB}})
	if want := a["bookings"][0] + b["bookings"][0]; !near(ab["bookings"][0], want) || want == 0 {
		t.Errorf("bookings of two lines = %.2f, want %.2f", ab["bookings"][0], want)
	}

	// The funnel is a model's figures of one unit.
	var d chartJSON
	ceo.getJSON("/api/charts/funnel.stages?"+url.Values{"org": {south, north}}.Encode(), &d)
	if d.State != "empty" {
		t.Errorf("the funnel of two units: state %s, want a note that it needs one unit", d.State)
	}
	ceo.getJSON("/api/charts/funnel.stages?"+url.Values{"org": {south}}.Encode(), &d)
	if d.State != "ok" {
		t.Errorf("the funnel of one unit: state %s", d.State)
	}

	// The page: both regions checked in the picker, each a chip whose link
	// drops it and keeps the other.
	_, page := ceo.get("/telescope?lang=en&" + url.Values{"org": {south, north}, "pl": {lineA}}.Encode())
	for _, id := range []string{south, north} {
		if !strings.Contains(page, `name="org" value="`+id+`" checked`) {
			t.Errorf("the picker does not show %s chosen", id)
		}
	}
	if !strings.Contains(page, `South China &#43; 1 more`) && !strings.Contains(page, `North China &#43; 1 more`) {
		i := strings.Index(page, `picker-org-value`)
		t.Errorf("the picker's button does not say two units are chosen: %s", page[i:i+80])
	}
	chips := page[strings.Index(page, `<ul class="chips"`):]
	chips = chips[:strings.Index(chips, "</ul>")]
	if strings.Count(chips, "<li>") != 3 {
		t.Errorf("chips: %s", chips)
	}
	dropSouth := "/telescope?" + url.Values{"org": {north}, "pl": {lineA}}.Encode()
	if !strings.Contains(chips, strings.ReplaceAll(dropSouth, "&", "&amp;")) {
		t.Errorf("no chip drops South China (want a link to %s): %s", dropSouth, chips)
	}
}

// A click on a product line's bar filters the page by it (a cross-filter).
func TestProductLineBarsFilterThePage(t *testing.T) {
	ceo := login(t, "ceo")
	var d chartJSON
	if code := ceo.getJSON("/api/charts/magnifier.breakdown?dim=product_line&metric=bookings", &d); code != 200 || d.State != "ok" {
		t.Fatalf("%d %s", code, d.State)
	}
	n := 0
	for _, p := range d.Points {
		if p.Filter["pl"] != "" {
			n++
		}
	}
	if n == 0 || n < len(d.Points)-1 {
		t.Errorf("%d of %d product line bars filter the page: %+v", n, len(d.Points), d.Points)
	}
}
