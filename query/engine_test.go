package query

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParamNames(t *testing.T) {
	q := `-- $not_a_param in a comment
SELECT '$literal', "$ident", $a, $b_2 /* $c */, $a, x::DATE, 'it''s $d'
FROM t WHERE y = $scope_org`
	got := ParamNames(q)
	want := []string{"a", "b_2", "scope_org"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, _, err := bind("SELECT $missing", map[string]any{"other": 1}); err == nil {
		t.Fatal("a parameter without a value was bound (the driver would bind it by position)")
	}
	b, args, err := bind("SELECT $x, $y", map[string]any{"x": 1, "y": nil, "z": 3})
	if err != nil || len(b) != 2 || len(args) != 2 {
		t.Fatalf("bind: %v %v %v", b, args, err)
	}
}

func TestScopeParams(t *testing.T) {
	none := Scope{}
	p := none.Params()
	if p["scope_all"] != false || p["scope_org"] != nil || p["scope_rep"] != nil || !none.Empty() {
		t.Fatalf("the empty scope must bind false/NULL/NULL: %v", p)
	}
	if (Scope{Org: "ORG-2"}).Key() != "org:ORG-2" || (Scope{All: true}).Key() != "all" {
		t.Fatal("scope keys")
	}
}

func TestPeriods(t *testing.T) {
	asOf := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	cases := []struct {
		period, from, to string
		wantFrom, wantTo string
		fyStart          int
	}{
		{"ytd", "", "", "2026-01-01", "2026-10-31", 1},
		{"l30d", "", "", "2026-10-02", "2026-10-31", 1},
		{"lq", "", "", "2026-07-01", "2026-09-30", 1},
		{"fytd", "", "", "2026-01-01", "2026-10-31", 1},
		{"fytd", "", "", "2026-04-01", "2026-10-31", 4},  // a fiscal year from April
		{"fytd", "", "", "2025-11-01", "2026-10-31", 11}, // …from November: it began last year
		{"lfy", "", "", "2025-04-01", "2026-03-31", 4},
		{"qtd", "", "", "2026-10-01", "2026-10-31", 1},
		{"mtd", "", "", "2026-10-01", "2026-10-31", 1},
		{"l12m", "", "", "2025-11-01", "2026-10-31", 1},
		{"ly", "", "", "2025-01-01", "2025-12-31", 1},
		{"y2024", "", "", "2024-01-01", "2024-12-31", 1},
		{"custom", "2026-03-05", "2026-04-10", "2026-03-05", "2026-04-10", 1},
		{"custom", "2026-04-10", "2026-03-05", "2026-01-01", "2026-10-31", 1}, // reversed: default
		{"nonsense", "", "", "2026-01-01", "2026-10-31", 1},
	}
	for _, c := range cases {
		_, f, to, ok := ResolvePeriod(c.period, c.from, c.to, asOf, c.fyStart)
		if wantOK := c.period != "nonsense" && !(c.period == "custom" && c.from > c.to); ok != wantOK {
			t.Errorf("%s %s..%s: ok %v, want %v", c.period, c.from, c.to, ok, wantOK)
		}
		if !f.Equal(d(c.wantFrom)) || !to.Equal(d(c.wantTo)) {
			t.Errorf("%s: %s..%s, want %s..%s", c.period, f.Format("2006-01-02"), to.Format("2006-01-02"), c.wantFrom, c.wantTo)
		}
	}
	_, f, to := Comparison("yoy", d("2026-01-01"), d("2026-10-31"))
	if !f.Equal(d("2025-01-01")) || !to.Equal(d("2025-10-31")) {
		t.Errorf("yoy: %v %v", f, to)
	}
	_, f, to = Comparison("prev", d("2026-10-01"), d("2026-12-31"))
	if !f.Equal(d("2026-07-01")) || !to.Equal(d("2026-09-30")) {
		t.Errorf("prev quarter: %v %v", f, to)
	}
	_, f, to = Comparison("prev", d("2026-03-05"), d("2026-03-14"))
	if !f.Equal(d("2026-02-23")) || !to.Equal(d("2026-03-04")) {
		t.Errorf("prev 10 days: %v %v", f, to)
	}
	if c, _, _ := Comparison("", d("2026-01-01"), d("2026-10-31")); c != "" {
		t.Error("no comparison")
	}
}

func TestRealPageReplacesPlaceholder(t *testing.T) {
	RegisterPage(&Page{ID: "zz_test", Path: "/zz-test", Title: "x", Placeholder: true})
	RegisterPage(&Page{ID: "zz_test", Path: "/zz-test", Title: "real"})
	RegisterPage(&Page{ID: "zz_test", Path: "/zz-test", Title: "x", Placeholder: true}) // after the real one: ignored
	p, ok := PageByPath("/zz-test")
	if !ok || p.Placeholder || p.Title != "real" {
		t.Fatalf("got %+v", p)
	}
	n := 0
	for _, q := range Pages() {
		if q.ID == "zz_test" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d pages with the ID", n)
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("长", MaxCellChars+5)
	rows := [][]any{{"short", long, int64(3)}}
	if !shorten(rows) {
		t.Fatal("a long value was not cut")
	}
	got := rows[0][1].(string)
	if want := strings.Repeat("长", MaxCellChars) + "…"; got != want || rows[0][0] != "short" || rows[0][2] != int64(3) {
		t.Errorf("cut to %d characters", len([]rune(got)))
	}
	// Past the page's budget every text is a glimpse.
	var many [][]any
	for i := 0; i < maxPageTextBytes/MaxCellChars+10; i++ {
		many = append(many, []any{strings.Repeat("x", MaxCellChars)})
	}
	shorten(many)
	if last := many[len(many)-1][0].(string); len([]rune(last)) != glimpseChars+1 {
		t.Errorf("the last value past the budget is %d characters", len([]rune(last)))
	}
	if s, cut := cutText("abc", 3); cut || s != "abc" {
		t.Errorf("cutText(abc, 3) = %q, %v", s, cut)
	}
}
