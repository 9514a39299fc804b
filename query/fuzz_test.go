package query

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzPeriod: the period filter comes from the URL (period, from, to, cmp),
// the as-of date from the data, the fiscal year's start from the
// configuration. Whatever they are, ResolvePeriod returns a known period
// name (the default when it says the request was not followed) and a range of whole days from <= to, at most about 20
// years long; Comparison returns "", prev or yoy, and a comparison range
// of whole days that ends before the period starts (prev) or a year
// earlier (yoy). clean cuts on a character boundary. Seeds below and in
// testdata/fuzz/FuzzPeriod/.
func FuzzPeriod(f *testing.F) {
	for _, s := range []struct{ period, from, to, cmp string }{
		{"ytd", "", "", "yoy"}, {"qtd", "", "", "prev"}, {"mtd", "", "", ""}, {"l12m", "", "", "prev"}, {"ly", "", "", "yoy"},
		{"y2024", "", "", "prev"}, {"y1989", "", "", ""}, {"y2101", "", "", "yoy"}, {"custom", "2024-01-01", "2024-12-31", "prev"},
		{"custom", "2024-02-29", "2024-02-29", "yoy"}, {"custom", "2024-12-31", "2024-01-01", "prev"}, {"custom", "0001-01-01", "9999-12-31", "yoy"},
		{"custom", "2024-03-31", "2024-04-30", "prev"}, {"custom", "2024-01-31", "2024-02-29", "prev"}, {"Y2024", "", "", "YOY"},
		{"y０２０２", "", "", ""}, {"custom", "2024-1-5", "2024-01-05", ""}, {"", "", "", ""},
	} {
		f.Add(s.period, s.from, s.to, s.cmp, int32(20757), int8(1)) // as of 2026-10-31
		f.Add(s.period, s.from, s.to, s.cmp, int32(20757), int8(4))
	}
	f.Fuzz(func(t *testing.T, period, from, to, cmp string, asOfDays int32, fyStart int8) {
		// The as-of date is a day of the data: 1900 to 2200.
		asOf := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(asOfDays%(300*366)))
		if asOf.Year() < 1900 {
			asOf = asOf.AddDate(200, 0, 0)
		}
		p, f0, t0, ok := ResolvePeriod(clean(period, 16), from, to, asOf, int(fyStart))
		switch {
		case slices.Contains(Periods, p), p == "custom":
		case yearRE.MatchString(p):
		default:
			t.Fatalf("period %q resolved to %q", period, p)
		}
		if !ok && p != "ytd" {
			t.Fatalf("period %q not followed, but resolved to %q instead of the default", period, p)
		}
		whole := func(d time.Time) bool { return d.Equal(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)) }
		if !whole(f0) || !whole(t0) || t0.Before(f0) || t0.Sub(f0) > 21*366*24*time.Hour {
			t.Fatalf("%q %q %q as of %s: %s..%s", period, from, to, asOf.Format(time.DateOnly), f0, t0)
		}
		c, cf, ct := Comparison(cmp, f0, t0)
		switch c {
		case "":
			if !cf.IsZero() || !ct.IsZero() {
				t.Fatalf("no comparison but a range %s..%s", cf, ct)
			}
		case "prev":
			if !whole(cf) || !whole(ct) || ct.Before(cf) || !ct.Before(f0) {
				t.Fatalf("prev of %s..%s: %s..%s", f0, t0, cf, ct)
			}
		case "yoy":
			if !whole(cf) || !whole(ct) || ct.Before(cf) || !ct.Before(t0) {
				t.Fatalf("yoy of %s..%s: %s..%s", f0, t0, cf, ct)
			}
		default:
			t.Fatalf("comparison %q resolved to %q", cmp, c)
		}
		for _, s := range []string{period, from, to, cmp} {
			if utf8.ValidString(s) {
				if got := clean(s, 7); !utf8.ValidString(got) || len(got) > 7 || !strings.HasPrefix(strings.TrimSpace(s), got) {
					t.Fatalf("clean(%q, 7) = %q", s, got)
				}
			}
		}
	})
}
