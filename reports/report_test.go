package reports

import (
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/triscope/triscope/query/charts" // the pages and charts definitions refer to
)

var testEnv = Env{Channels: []string{"mail", "archive"}, Scopes: map[string]string{"finance": "org:ORG-0001"}}

// A definition's problems are reported all at once, each with the file and
// the line of the value at fault.
func TestParseErrorsNameFileAndLine(t *testing.T) {
	_, err := LoadDir(os.DirFS("testdata/bad"), ".", testEnv)
	if err == nil {
		t.Fatal("bad definitions loaded")
	}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe FileError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a FileError", e)
		}
		got = append(got, e.Error())
	}
	sort.Strings(got)
	want := []string{
		`external.yaml:1: name: name "Bad Name": use 1-64 lowercase letters`,
		`external.yaml:10: recipients[2].role: role "boss"`,
		`external.yaml:12: params.colour: unknown parameter "colour"`,
		`external.yaml:12: params.period: period "last_fortnight"`,
		`external.yaml:13: condition.kpi: kpi: the key of the tile`,
		`external.yaml:13: condition.op: op "~"`,
		`external.yaml:13: condition.chart: chart "telescope.bookings" is not a KPI chart`,
		`language.yaml:1: language "fr": use en or zh-CN`,
		`external.yaml:4: content[0].rows: chart "telescope.forecast" has no rows behind it`,
		`external.yaml:7: recipients[0].scope: an external recipient needs a scope`,
		`external.yaml:8: recipients[1].email: email "not-an-address"`,
		`typo.yaml:10: schedule.cron: cron "0 8 * * 8"`,
		`typo.yaml:4: content[1].chart: chart "telescope.bookngs": no such chart (did you mean telescope.bookings?)`,
		`typo.yaml:5: formats[1]: format "docx"`,
		`typo.yaml:8: channels[0]: channel "email" is not configured (configured: mail, archive)`,
		`unknown_field.yaml:4: field colour not found in type Content`,
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing %q in:\n%s", w, all)
		}
	}
}

func TestRelativePeriods(t *testing.T) {
	asOf := time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC) // a Wednesday
	for period, want := range map[string][2]string{
		"last_week":        {"2026-10-19", "2026-10-25"},
		"this_week":        {"2026-10-26", "2026-10-28"},
		"month_to_date":    {"2026-10-01", "2026-10-28"},
		"previous_month":   {"2026-09-01", "2026-09-30"},
		"previous_quarter": {"2026-07-01", "2026-09-30"},
		"quarter_to_date":  {"2026-10-01", "2026-10-28"},
		"yesterday":        {"2026-10-27", "2026-10-27"},
		"last_7_days":      {"2026-10-22", "2026-10-28"},
		"previous_year":    {"2025-01-01", "2025-12-31"},
	} {
		q := Values(asOf, map[string]string{"period": period, "org": "R1"}, map[string]string{"pl": "Cloud"})
		if q.Get("period") != "custom" || q.Get("from") != want[0] || q.Get("to") != want[1] || q.Get("org") != "R1" || q.Get("pl") != "Cloud" {
			t.Errorf("%s: %v, want %v", period, q, want)
		}
	}
	// Several org units or product lines: comma-separated.
	q := Values(asOf, map[string]string{"org": "R1, R2", "pl": "Cloud"})
	if !slices.Equal(q["org"], []string{"R1", "R2"}) || !slices.Equal(q["pl"], []string{"Cloud"}) {
		t.Errorf("lists: %v", q)
	}
	// March: the previous month of a 31st is February, whole.
	q = Values(time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), map[string]string{"period": "previous_month"})
	if q.Get("from") != "2024-02-01" || q.Get("to") != "2024-02-29" {
		t.Errorf("previous month of 2024-03-31: %v", q)
	}
	// The dashboards' own periods pass through; a later map wins.
	q = Values(asOf, map[string]string{"period": "ytd"}, map[string]string{"period": "qtd"})
	if q.Get("period") != "qtd" || q.Get("from") != "" {
		t.Errorf("qtd: %v", q)
	}
}

func TestParseScopeAndCooldown(t *testing.T) {
	named := map[string]string{"finance": "org:ORG-1", "broken": "everything"}
	for s, want := range map[string]string{"all": "all", "org:X": "org:X", "rep:R9": "rep:R9", "finance": "org:ORG-1"} {
		sc, err := ParseScope(s, named)
		if err != nil || sc.Key() != want {
			t.Errorf("ParseScope(%s) = %v, %v", s, sc.Key(), err)
		}
	}
	for _, bad := range []string{"", "org:", "broken", "nobody"} {
		if _, err := ParseScope(bad, named); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
	for s, want := range map[string]time.Duration{"": 0, "12h": 12 * time.Hour, "7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute} {
		if d, err := ParseCooldown(s); err != nil || d != want {
			t.Errorf("ParseCooldown(%q) = %v, %v", s, d, err)
		}
	}
	for _, bad := range []string{"7 days", "-1h", "d"} {
		if _, err := ParseCooldown(bad); err == nil {
			t.Errorf("ParseCooldown(%q) accepted", bad)
		}
	}
}

func TestShowLikeTheDashboards(t *testing.T) {
	for _, c := range []struct {
		lang, format string
		v            any
		want         string
	}{
		{"zh-CN", "money", 130510297.73, "¥1.31亿"},
		{"zh-CN", "money", 65613006.72, "¥6561.3万"},
		{"en", "money", 322516529.32, "¥322.52M"},
		{"en", "money", -12345.0, "-¥12.3K"},
		{"en", "percent", 0.3232, "32.3%"},
		{"en", "count", 2407.0, "2,407"},
		{"zh-CN", "days", 12.0, "12 天"},
		{"en", "ratio", 1.3083, "1.3×"},
		{"en", "money", nil, "–"},
	} {
		if got := show(c.lang, "CNY", c.format, c.v); got != c.want {
			t.Errorf("show(%s, %s, %v) = %q, want %q", c.lang, c.format, c.v, got, c.want)
		}
	}
}

// The demo's reports are valid against the channels and the named scope
// the demo configures.
func TestDemoReportsAreValid(t *testing.T) {
	rs, err := LoadDir(DemoFS, "demo", Env{Channels: []string{"mail", "sales-wecom"}, Scopes: map[string]string{"east-china": "org:ORG-0002"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d demo reports", len(rs))
	}
}

// The rows a condition counts: numbers compare as numbers (an overdue
// settlement above ¥500k), the rest as text; NULL never passes.
func TestConditionFilters(t *testing.T) {
	for _, c := range []struct {
		v    any
		f    Filter
		want bool
	}{
		{650000.5, Filter{Column: "outstanding_base", Op: ">", Value: 500000}, true},
		{int64(400000), Filter{Column: "outstanding_base", Op: ">", Value: 500000}, false},
		{"600000", Filter{Column: "x", Op: ">=", Value: "500000"}, true},
		{"overdue", Filter{Column: "status", Op: "=", Value: "overdue"}, true},
		{"due", Filter{Column: "status", Op: "!=", Value: "due"}, false},
		{nil, Filter{Column: "x", Op: "!=", Value: 1}, false},
	} {
		if got := filterHolds(c.v, c.f); got != c.want {
			t.Errorf("%v %s %v = %v", c.v, c.f.Op, c.f.Value, got)
		}
	}
}
