package reports

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/triscope/triscope/query"
)

// Relative periods a report's parameters may name beside the dashboards'
// own (ytd, qtd, mtd, l12m, ly, yYYYY, custom). Like the dashboards, they are
// relative to the as-of date of the data (its latest day, "today" for
// every page), so a report shows what the pages show on the day it runs.
// Weeks start on Monday.
var relativePeriods = map[string]func(asOf time.Time) (from, to time.Time){
	"today":     func(a time.Time) (time.Time, time.Time) { return a, a },
	"yesterday": func(a time.Time) (time.Time, time.Time) { d := a.AddDate(0, 0, -1); return d, d },
	"this_week": func(a time.Time) (time.Time, time.Time) { return monday(a), a },
	"last_week": func(a time.Time) (time.Time, time.Time) {
		m := monday(a).AddDate(0, 0, -7)
		return m, m.AddDate(0, 0, 6)
	},
	"last_7_days":    func(a time.Time) (time.Time, time.Time) { return a.AddDate(0, 0, -6), a },
	"last_30_days":   func(a time.Time) (time.Time, time.Time) { return a.AddDate(0, 0, -29), a },
	"month_to_date":  func(a time.Time) (time.Time, time.Time) { return day(a.Year(), a.Month(), 1), a },
	"previous_month": previousMonth,
	"last_month":     previousMonth,
	"quarter_to_date": func(a time.Time) (time.Time, time.Time) {
		return day(a.Year(), time.Month((int(a.Month())-1)/3*3+1), 1), a
	},
	"previous_quarter": func(a time.Time) (time.Time, time.Time) {
		q := day(a.Year(), time.Month((int(a.Month())-1)/3*3+1), 1)
		return q.AddDate(0, -3, 0), q.AddDate(0, 0, -1)
	},
	"year_to_date":   func(a time.Time) (time.Time, time.Time) { return day(a.Year(), 1, 1), a },
	"previous_year":  func(a time.Time) (time.Time, time.Time) { return day(a.Year()-1, 1, 1), day(a.Year()-1, 12, 31) },
	"last_12_months": func(a time.Time) (time.Time, time.Time) { return a.AddDate(-1, 0, 1), a },
}

func previousMonth(a time.Time) (time.Time, time.Time) {
	first := day(a.Year(), a.Month(), 1)
	return first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func monday(a time.Time) time.Time {
	wd := (int(a.Weekday()) + 6) % 7 // Monday 0
	return a.AddDate(0, 0, -wd)
}

// PeriodNames lists the periods a report may name.
func PeriodNames() []string {
	out := slices.Clone(query.Periods)
	for k := range relativePeriods {
		out = append(out, k)
	}
	slices.Sort(out[len(query.Periods):])
	return out
}

var yearRE = regexp.MustCompile(`^y\d{4}$`)

func validPeriod(p string) bool {
	_, rel := relativePeriods[p]
	return rel || slices.Contains(query.Periods, p) || yearRE.MatchString(p) || p == "custom"
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Values merges parameters (later maps win) and resolves a relative period
// into the dashboards' custom period with from and to, relative to asOf.
func Values(asOf time.Time, params ...map[string]string) url.Values {
	m := map[string]string{}
	for _, p := range params {
		maps.Copy(m, p)
	}
	if f, ok := relativePeriods[m["period"]]; ok {
		from, to := f(asOf)
		m["period"], m["from"], m["to"] = "custom", from.Format(time.DateOnly), to.Format(time.DateOnly)
	}
	q := url.Values{}
	for k, v := range m {
		if v == "" {
			continue
		}
		if multiValued[k] {
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					q.Add(k, x)
				}
			}
			continue
		}
		q.Set(k, v)
	}
	return q
}

// multiValued are the filters that take several values (the org units and
// product lines of a page): comma-separated in a report's parameters.
var multiValued = map[string]bool{"org": true, "pl": true}
