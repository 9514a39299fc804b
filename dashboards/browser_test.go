package dashboards_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
	shots "github.com/triscope/triscope/render/chromium"
)

// The browser tests drive Debian's Chromium (/usr/bin/chromium, installed by
// .ci/run). Without it they are skipped, unless TRISCOPE_BROWSER_TESTS=require.
// One browser serves every subtest.
func TestBrowser(t *testing.T) {
	bin := os.Getenv("TRISCOPE_CHROMIUM")
	if bin == "" {
		bin = shots.DefaultBin
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("TRISCOPE_BROWSER_TESTS") == "require" {
			t.Fatalf("chromium not found at %s", bin)
		}
		t.Skipf("chromium not found at %s (apt-get install chromium fonts-noto-cjk)", bin)
	}
	b, err := shots.Launch(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	pages := map[string]*shots.Page{}
	page := func(t *testing.T, user string) *shots.Page {
		t.Helper()
		if p, ok := pages[user]; ok {
			return p
		}
		p, err := b.NewPage(1440, 900)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Login(env.base, user, env.password); err != nil {
			t.Fatal(err)
		}
		pages[user] = p
		return p
	}

	t.Run("PagesLoadWithData", func(t *testing.T) {
		p := page(t, "ceo")
		// Charts whose tables the demo company always has: "not computed yet" is a failure.
		mustHaveData := map[string]bool{"customers.segment_movement": false}
		for _, pg := range query.Pages() {
			if pg.Nav == 0 {
				continue
			}
			for _, lang := range []string{"en", "zh-CN"} {
				open(t, p, pg.Path+"?lang="+lang)
				noConsoleErrors(t, p, pg.Path)
				if pg.Placeholder {
					continue
				}
				for _, c := range cardStates(t, p) {
					if _, ok := mustHaveData[c.ID]; ok {
						mustHaveData[c.ID] = true
						if c.State != "ok" || c.Values == 0 {
							t.Errorf("%s (%s) %s: state %q with %d values, want data", pg.Path, lang, c.ID, c.State, c.Values)
						}
					}
					switch {
					case c.State == "ok" && c.Values > 0:
					case c.State == "not_computed":
						for _, m := range c.Missing {
							if exists(t, m) {
								t.Errorf("%s %s: says %s is not computed, but it exists", pg.Path, c.ID, m)
							}
						}
					default:
						t.Errorf("%s (%s) %s: state %q with %d values", pg.Path, lang, c.ID, c.State, c.Values)
					}
				}
			}
		}
		for id, seen := range mustHaveData {
			if !seen {
				t.Errorf("%s is on no page", id)
			}
		}
		// Other roles: the same pages load without errors.
		for _, user := range []string{"east", "rep", "analyst"} {
			p := page(t, user)
			for _, path := range []string{"/telescope", "/magnifier", "/magnifier?metric=win_rate&dim=source"} {
				open(t, p, path)
				noConsoleErrors(t, p, user+" "+path)
				for _, c := range cardStates(t, p) {
					if c.State == "error" || c.State == "loading" {
						t.Errorf("%s %s %s: %s", user, path, c.ID, c.State)
					}
				}
			}
		}
	})

	t.Run("MagnifierZoom", func(t *testing.T) {
		p := page(t, "ceo")
		open(t, p, "/magnifier?metric=bookings&dim=org&cmp=")
		crumbs := count(t, p, ".pagehead .crumbs a, .pagehead .crumbs span:not(.sep)")
		var pts []query.Point
		evalJSON(t, p, `() => window.triscope.data["magnifier.breakdown"].points`, &pts)
		if len(pts) == 0 || pts[0].Zoom == "" {
			t.Fatalf("first bar does not zoom: %+v", pts)
		}
		wait := p.WaitNavigation(proto.PageLifecycleEventNameLoad)
		clickBar(t, p, "magnifier.breakdown", 0, 0)
		wait()
		waitLoaded(t, p)
		info, _ := p.Info()
		u, _ := url.Parse(info.URL)
		if u.Query().Get("org") != pts[0].Zoom {
			t.Fatalf("after the click the URL is %s, want org=%s", info.URL, pts[0].Zoom)
		}
		if got := count(t, p, ".pagehead .crumbs a, .pagehead .crumbs span:not(.sep)"); got != crumbs+1 {
			t.Fatalf("breadcrumbs: %d → %d, want one level more", crumbs, got)
		}
		// One level down: the bars are the children of the clicked unit.
		var sub []query.Point
		evalJSON(t, p, `() => window.triscope.data["magnifier.breakdown"].points`, &sub)
		if len(sub) == 0 || reflect.DeepEqual(sub, pts) {
			t.Fatalf("the zoomed breakdown shows the same bars")
		}
		noConsoleErrors(t, p, "zoomed magnifier")
	})

	t.Run("OrgPicker", func(t *testing.T) {
		// The org filter is a searchable tree of checkboxes: a search keeps
		// the matching units and the units above them; two chosen units
		// filter the page together.
		p := page(t, "ceo")
		open(t, p, "/telescope?lang=en")
		all := count(t, p, ".picker[data-param=org] li")
		p.MustElement(".picker[data-param=org] .picker-button").MustClick()
		p.MustElement(".picker[data-param=org] .picker-search").MustInput("China")
		shown := count(t, p, ".picker[data-param=org] li:not([hidden])")
		if shown == 0 || shown >= all {
			t.Fatalf("searching 'China' shows %d of %d units", shown, all)
		}
		var ids []string
		evalJSON(t, p, `() => Array.from(document.querySelectorAll(".picker[data-param=org] li.d1:not([hidden]) input")).slice(0, 2).map(i => { i.click(); return i.value; })`, &ids)
		if len(ids) != 2 {
			t.Fatalf("chose %v", ids)
		}
		wait := p.WaitNavigation(proto.PageLifecycleEventNameLoad)
		p.MustElement(".picker[data-param=org] button[type=submit]").MustClick()
		wait()
		waitLoaded(t, p)
		info, _ := p.Info()
		u, _ := url.Parse(info.URL)
		if got := u.Query()["org"]; !slices.Equal(got, ids) {
			t.Fatalf("after Apply the URL is %s, want org=%v", info.URL, ids)
		}
		if n := count(t, p, ".chips li"); n != 2 {
			t.Errorf("%d chips, want 2", n)
		}
		noConsoleErrors(t, p, "org picker")
	})

	t.Run("DrillThrough", func(t *testing.T) {
		p := page(t, "ceo")
		open(t, p, "/telescope?lang=en")
		idx := firstIndexWithValue(t, p, "telescope.bookings", 0)
		clickBar(t, p, "telescope.bookings", 0, idx)
		el, err := p.Timeout(20 * time.Second).Element("dialog#drill[open][data-loaded=true]")
		if err != nil {
			t.Fatal("the drill-through did not open")
		}
		title, _ := p.MustElement("dialog#drill .dlg-title").Text()
		rows, _ := el.Elements("tbody tr")
		total, _ := el.Attribute("data-total")
		if len(rows) == 0 || total == nil || *total == "0" {
			t.Fatalf("drill-through %q shows no rows", title)
		}
		// Each row's customer and rep link to their pages (issue 17 point 6).
		for _, prefix := range []string{"/customers/", "/reps/"} {
			if n := count(t, p, `dialog#drill tbody a[href^="`+prefix+`"]`); n != len(rows) {
				t.Errorf("%d of %d rows link to %s…", n, len(rows), prefix)
			}
		}
		href, _ := p.MustElement("dialog#drill .export-xlsx").Attribute("href")
		if href == nil || !strings.Contains(*href, "point=") || !strings.Contains(*href, "format=xlsx") {
			t.Fatalf("export link: %v", href)
		}
		// Sorting by a column re-reads the rows.
		p.MustElement("dialog#drill thead th:nth-child(2) button").MustClick()
		if _, err := p.Timeout(10 * time.Second).Element("dialog#drill[data-loaded=true] thead .dir"); err != nil {
			t.Fatal("sorting did not reload the rows")
		}
		closeDialog(t, p, "drill")
		noConsoleErrors(t, p, "drill-through")
	})

	t.Run("HeatMapDrillThrough", func(t *testing.T) {
		// A click on a cell of the segment movement lists the customers who
		// moved from its row's segment to its column's, with both segments translated.
		p := page(t, "ceo")
		open(t, p, "/customers?lang=zh-CN")
		const id = "customers.segment_movement"
		var cells []struct {
			Key   string
			Value []float64
		}
		evalJSON(t, p, fmt.Sprintf(`() => {
			const d = window.triscope.data[%q], o = window.triscope.charts[%q].getOption();
			return o.series[0].data.map((c, i) => ({Key: d.points[i].key, Value: c.value}));
		}`, id, id), &cells)
		idx := -1
		for i, c := range cells { // the largest cell of customers with no purchase then
			if strings.HasPrefix(c.Key, "mv:none:") && (idx < 0 || c.Value[2] > cells[idx].Value[2]) {
				idx = i
			}
		}
		if idx < 0 {
			t.Fatalf("no cell of new customers among %d cells", len(cells))
		}
		to := strings.TrimPrefix(cells[idx].Key, "mv:none:")
		var pt struct{ X, Y float64 }
		evalJSON(t, p, fmt.Sprintf(`() => {
			const chart = window.triscope.charts[%q];
			chart.getDom().scrollIntoView({block: "center"});
			const xy = chart.convertToPixel({seriesIndex: 0}, [%v, %v]);
			const r = chart.getDom().getBoundingClientRect();
			return {X: r.left + xy[0], Y: r.top + xy[1]};
		}`, id, cells[idx].Value[0], cells[idx].Value[1]), &pt)
		if err := p.Mouse.MoveTo(proto.Point{X: pt.X, Y: pt.Y}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		if err := p.Mouse.Click(proto.InputMouseButtonLeft, 1); err != nil {
			t.Fatal(err)
		}
		el, err := p.Timeout(20 * time.Second).Element("dialog#drill[open][data-loaded=true]")
		if err != nil {
			t.Fatal("the drill-through did not open")
		}
		total, _ := el.Attribute("data-total")
		if want := fmt.Sprint(cells[idx].Value[2]); total == nil || *total != want {
			t.Fatalf("the drill-through lists %v rows, the cell says %s", total, want)
		}
		var texts []string
		evalJSON(t, p, `() => Array.from(document.querySelectorAll("dialog#drill thead th, dialog#drill tbody td")).map(td => td.textContent)`, &texts)
		for _, want := range []string{i18n.T("zh-CN", "val.segment.none"), i18n.T("zh-CN", "val.segment."+to), i18n.T("zh-CN", "col.previous_segment")} {
			if !slices.Contains(texts, want) {
				t.Errorf("the rows lack %q: %v", want, texts[:min(len(texts), 30)])
			}
		}
		if slices.Contains(texts, "none") || slices.Contains(texts, to) {
			t.Errorf("a segment code is shown untranslated: %v", texts[:min(len(texts), 30)])
		}
		href, _ := p.MustElement("dialog#drill .export-csv").Attribute("href")
		if href == nil || !strings.Contains(*href, "point=mv%3Anone%3A"+to) {
			t.Errorf("export link: %v", href)
		}
		closeDialog(t, p, "drill")
		noConsoleErrors(t, p, "segment movement drill-through")
	})

	t.Run("SQLButtonShowsScope", func(t *testing.T) {
		for user, want := range map[string]string{"ceo": "$scope_all", "east": "'" + env.region + "'"} {
			p := page(t, user)
			open(t, p, "/magnifier?lang=en")
			p.MustElement(`[data-chart="magnifier.breakdown"] .btn-sql`).MustClick()
			el, err := p.Timeout(15 * time.Second).Element("dialog#sql[data-loaded=true]")
			if err != nil {
				t.Fatal("the SQL dialog did not load")
			}
			text, _ := el.Text()
			for _, s := range []string{"scoped.collections($scope_all, $scope_org, $scope_rep)", "$scope_org", "$scope_rep", want} {
				if !strings.Contains(text, s) {
					t.Errorf("%s: the SQL dialog lacks %q", user, s)
				}
			}
			closeDialog(t, p, "sql")
			noConsoleErrors(t, p, "SQL dialog")
		}
	})

	t.Run("ChineseLabels", func(t *testing.T) {
		p := page(t, "ceo")
		open(t, p, "/telescope?lang=zh-CN")
		h1 := p.MustElement("h1").MustText()
		nav := p.MustElement("nav.nav").MustText()
		if h1 != "望远镜" || !strings.Contains(nav, "放大镜") {
			t.Fatalf("h1 %q, nav %q", h1, nav)
		}
		var legend []string
		evalJSON(t, p, `() => window.triscope.data["telescope.bookings"].legend`, &legend)
		if !slices.Contains(legend, "签约额") || !slices.Contains(legend, "目标") {
			t.Fatalf("chart legend %v is not Chinese", legend)
		}
		kpi := p.MustElement(`[data-chart="telescope.kpis"] .kpi-value`).MustText()
		if !strings.ContainsAny(kpi, "万亿") {
			t.Fatalf("zh-CN amounts should use 万/亿: %q", kpi)
		}
		noConsoleErrors(t, p, "zh-CN")
		open(t, p, "/telescope?lang=en") // leave the session in English
	})

	t.Run("ScriptInDataIsText", func(t *testing.T) {
		p := page(t, "ceo")
		// The customer's contract is the latest one: October, the last month with bookings.
		open(t, p, "/telescope?lang=en")
		scripts := count(t, p, "script")
		var months []query.Point
		evalJSON(t, p, `() => window.triscope.data["telescope.bookings"].points`, &months)
		idx := slices.IndexFunc(months, func(pt query.Point) bool { return pt.Key == "2026-10" })
		if idx < 0 {
			t.Fatalf("no October in %v", months)
		}
		clickBar(t, p, "telescope.bookings", 0, idx)
		if _, err := p.Timeout(20 * time.Second).Element("dialog#drill[open][data-loaded=true]"); err != nil {
			t.Fatal("the drill-through did not open")
		}
		var cells []string
		evalJSON(t, p, `() => Array.from(document.querySelectorAll("dialog#drill tbody td")).map(td => td.textContent)`, &cells)
		if !slices.Contains(cells, xssCustomer) {
			t.Fatalf("the customer %q is not shown as text in the rows", xssCustomer)
		}
		closeDialog(t, p, "drill")
		// The rep's name: a bar label and a tooltip on the magnifier.
		open(t, p, "/magnifier?org="+url.QueryEscape(env.xssDept)+"&cmp=")
		var labels []string
		evalJSON(t, p, `() => window.triscope.charts["magnifier.breakdown"].getOption().yAxis[0].data`, &labels)
		i := slices.Index(labels, xssRepName)
		if i < 0 {
			t.Fatalf("the rep %q is not a bar of %v", xssRepName, labels)
		}
		evalJSON(t, p, fmt.Sprintf(`() => { window.triscope.charts["magnifier.breakdown"].dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: %d}); return true; }`, i), new(bool))
		time.Sleep(500 * time.Millisecond)
		var tip string
		evalJSON(t, p, `() => Array.from(document.querySelectorAll("div")).filter(d => d.innerHTML.includes("tt-head")).map(d => d.textContent).join("|")`, &tip)
		if !strings.Contains(tip, xssRepName) {
			t.Errorf("the tooltip does not show the name as text: %q", tip)
		}
		var injected int
		evalJSON(t, p, `() => document.querySelectorAll('img[src="x"], script:not([src]):not([type="application/json"])').length`, &injected)
		if injected != 0 {
			t.Errorf("%d elements were injected from data", injected)
		}
		if n := count(t, p, "script"); n != scripts {
			t.Errorf("script elements: %d, before %d", n, scripts)
		}
		if d := p.Dialogs(); len(d) > 0 {
			t.Fatalf("a JavaScript dialog opened: %v", d)
		}
		noConsoleErrors(t, p, "script payloads")
	})
}

func open(t *testing.T, p *shots.Page, path string) {
	t.Helper()
	if err := p.Open(env.base + path); err != nil {
		t.Fatal(err)
	}
}

func waitLoaded(t *testing.T, p *shots.Page) {
	t.Helper()
	if _, err := p.Timeout(60 * time.Second).Element("body[data-loaded=true]"); err != nil {
		t.Fatal("charts did not load")
	}
	time.Sleep(500 * time.Millisecond)
}

func noConsoleErrors(t *testing.T, p *shots.Page, where string) {
	t.Helper()
	var jsErrors []string
	evalJSON(t, p, `() => (window.triscope && window.triscope.errors) || []`, &jsErrors)
	for _, e := range append(p.Errors(), jsErrors...) {
		t.Errorf("%s: console: %s", where, e)
	}
}

func evalJSON(t *testing.T, p *shots.Page, js string, v any) {
	t.Helper()
	res, err := p.Eval(js)
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	if err := res.Value.Unmarshal(v); err != nil {
		t.Fatalf("eval %s: %v (%s)", js, err, res.Value.JSON("", ""))
	}
}

func count(t *testing.T, p *shots.Page, sel string) int {
	t.Helper()
	var n int
	evalJSON(t, p, fmt.Sprintf(`() => document.querySelectorAll(%q).length`, sel), &n)
	return n
}

type cardState struct {
	ID      string   `json:"id"`
	State   string   `json:"state"`
	Values  int      `json:"values"`
	Missing []string `json:"missing"`
}

func cardStates(t *testing.T, p *shots.Page) []cardState {
	t.Helper()
	var out []cardState
	evalJSON(t, p, `() => Array.from(document.querySelectorAll("[data-chart]")).map(c => {
		const id = c.dataset.chart, d = window.triscope.data[id];
		let n = 0;
		const chart = window.triscope.charts[id];
		if (chart) chart.getOption().series.forEach(s => (s.data || []).forEach(v => {
			const x = (v !== null && typeof v === "object") ? v.value : v;
			if (x !== undefined && x !== null && x !== "-" && x !== 0) n++;
		}));
		if (d && d.kpis) n += d.kpis.filter(k => k.value !== null && k.value !== undefined).length;
		if (d && d.table && d.table.rows) n += d.table.rows.length;
		return {id: id, state: c.dataset.state, values: n, missing: (d && d.missing) || []};
	})`, &out)
	if len(out) == 0 {
		t.Fatal("no chart cards on the page")
	}
	return out
}

func exists(t *testing.T, table string) bool {
	var n int
	env.w.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM duckdb_tables() WHERE table_name = $1", table).Scan(&n)
	return n > 0
}

func firstIndexWithValue(t *testing.T, p *shots.Page, chart string, series int) int {
	t.Helper()
	var idx int
	evalJSON(t, p, fmt.Sprintf(`() => window.triscope.charts[%q].getOption().series[%d].data.findIndex(v => v && v.value > 0)`, chart, series), &idx)
	if idx < 0 {
		t.Fatalf("%s has no bar with a value", chart)
	}
	return idx
}

// clickBar clicks the middle of a bar with the mouse, as a person would.
func clickBar(t *testing.T, p *shots.Page, chart string, series, idx int) {
	t.Helper()
	var pt struct{ X, Y float64 }
	evalJSON(t, p, fmt.Sprintf(`() => {
		const chart = window.triscope.charts[%q];
		chart.getDom().scrollIntoView({block: "center"});
		const layout = chart.getModel().getSeriesByIndex(%d).getData().getItemLayout(%d);
		const r = chart.getDom().getBoundingClientRect();
		return {X: r.left + layout.x + layout.width / 2, Y: r.top + layout.y + layout.height / 2};
	}`, chart, series, idx), &pt)
	if err := p.Mouse.MoveTo(proto.Point{X: pt.X, Y: pt.Y}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if err := p.Mouse.Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
}

func closeDialog(t *testing.T, p *shots.Page, id string) {
	t.Helper()
	evalJSON(t, p, fmt.Sprintf(`() => { document.getElementById(%q).close(); return true; }`, id), new(bool))
}
