package query

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/triscope/triscope/access"
)

// Scope is the data scope of a request: see access.Scope for the rule.
type Scope = access.Scope

// list is a list parameter: NULL when empty (no filter).
func list(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Filters are the global filters of a request, resolved to dates.
type Filters struct {
	Period   string    // ytd, qtd, mtd, l12m, ly, y2025, custom
	From, To time.Time // inclusive dates
	Cmp      string    // "", prev, yoy
	CmpFrom  time.Time // zero when Cmp == ""
	CmpTo    time.Time
	// Orgs are the org units chosen (none = the whole scope): inside the
	// scope, none under another one, sorted.
	Orgs []string
	// Products are the product lines chosen (none = all), sorted.
	Products []string
	Currency string // display currency code
}

// Periods are the choices of the period filter (besides yYYYY and custom):
// this year, quarter and month to date, the last 30 days and 12 months, the
// last quarter and year, and the fiscal year to date and the last one (the
// fiscal year starts in the month Options.FiscalYearStart says).
var Periods = []string{"ytd", "qtd", "mtd", "l30d", "l12m", "lq", "ly", "fytd", "lfy"}

var yearRE = regexp.MustCompile(`^y(\d{4})$`)

// ResolvePeriod turns a period name (and from/to for custom) into dates,
// relative to the as-of date of the data; fyStart is the first month of the
// fiscal year (1 = January). ok is false when the request named a period it
// could not read (the caller says so; the period is then this year to date).
func ResolvePeriod(period, from, to string, asOf time.Time, fyStart int) (name string, f, t time.Time, ok bool) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	y, m, _ := asOf.Date()
	if fyStart < 1 || fyStart > 12 {
		fyStart = 1
	}
	fy := d(y, time.Month(fyStart), 1) // the start of the fiscal year holding asOf
	if fy.After(asOf) {
		fy = fy.AddDate(-1, 0, 0)
	}
	q := d(y, time.Month((int(m)-1)/3*3+1), 1) // the start of this quarter
	switch {
	case period == "" || period == "ytd":
		return "ytd", d(y, 1, 1), asOf, true
	case period == "qtd":
		return period, q, asOf, true
	case period == "mtd":
		return period, d(y, m, 1), asOf, true
	case period == "l30d":
		return period, asOf.AddDate(0, 0, -29), asOf, true
	case period == "l12m":
		return period, asOf.AddDate(-1, 0, 1), asOf, true
	case period == "lq":
		return period, q.AddDate(0, -3, 0), q.AddDate(0, 0, -1), true
	case period == "ly":
		return period, d(y-1, 1, 1), d(y-1, 12, 31), true
	case period == "fytd":
		return period, fy, asOf, true
	case period == "lfy":
		return period, fy.AddDate(-1, 0, 0), fy.AddDate(0, 0, -1), true
	case yearRE.MatchString(period):
		yy, _ := strconv.Atoi(period[1:])
		if yy >= 1990 && yy <= 2100 {
			return period, d(yy, 1, 1), d(yy, 12, 31), true
		}
	case period == "custom":
		f, err1 := time.Parse("2006-01-02", from)
		t, err2 := time.Parse("2006-01-02", to)
		if err1 == nil && err2 == nil && !t.Before(f) && t.Sub(f) < 20*366*24*time.Hour {
			return period, f, t, true
		}
	}
	return "ytd", d(y, 1, 1), asOf, false
}

// Comparison returns the comparison period of [from, to].
func Comparison(cmp string, from, to time.Time) (string, time.Time, time.Time) {
	switch cmp {
	case "prev":
		days := int(to.Sub(from).Hours()/24) + 1
		// Whole months and years compare with the previous whole months.
		if from.Day() == 1 && to.AddDate(0, 0, 1).Day() == 1 {
			months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month()) + 1
			pf := from.AddDate(0, -months, 0)
			return cmp, pf, from.AddDate(0, 0, -1)
		}
		return cmp, from.AddDate(0, 0, -days), from.AddDate(0, 0, -1)
	case "yoy":
		return cmp, from.AddDate(-1, 0, 0), to.AddDate(-1, 0, 0)
	}
	return "", time.Time{}, time.Time{}
}

// Env is what a chart sees while it runs for one request.
type Env struct {
	// Notices say what of the request could not be used as asked (an
	// unknown period, a unit outside the scope…) and what the figures cannot
	// show (a period ending after the data), localised: the page shows them
	// instead of falling back silently.
	Notices []string
	Ctx     context.Context
	Lang    string
	Scope   Scope
	F       Filters
	Q       url.Values // the request's query: page controls (metric, dim, ...)
	AsOf    time.Time  // the as-of date of the data: "today" for the dashboards
	// ModelsAsOf is the as-of date of the models' figures (the last
	// refresh; zero before the first): a load since moves AsOf, not it
	ModelsAsOf time.Time
	Base       string  // base currency
	Rate       float64 // display currency: shown = base amount / Rate
	Node       string  // the org unit the page is about ("" = none: a rep's own page)
	NodeRep    string  // the rep the page is about (rep users)
}

// Param returns a query parameter, or def when it is empty or not in allowed.
func (e *Env) Param(name, def string, allowed ...string) string {
	v := e.Q.Get(name)
	if v == "" {
		return def
	}
	if len(allowed) > 0 {
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		return def
	}
	return v
}

// Money converts a base-currency amount to the display currency.
func (e *Env) Money(v float64) float64 {
	if e.Rate > 0 && e.Rate != 1 {
		return v / e.Rate
	}
	return v
}

// Currency is the display currency code.
func (e *Env) Currency() string {
	if e.F.Currency != "" {
		return e.F.Currency
	}
	return e.Base
}

func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format("2006-01-02")
}

// StandardParams are the parameters every chart SQL may use:
//
//	$scope_all, $scope_org, $scope_rep   the user's scope (always pass to dash.in_scope)
//	$base                                base currency, e.g. 'CNY'
//	$as_of                               as-of date of the data ('YYYY-MM-DD')
//	$models_as_of                        as-of date of the models' marts (NULL before the first refresh)
//	$from, $to                           the period (inclusive dates, 'YYYY-MM-DD')
//	$cmp_from, $cmp_to                   the comparison period (NULL when none)
//	$orgs                                org filter: NULL or a list of units (use scoped.under_any)
//	$node, $node_rep                     the unit (or rep) the page is about
//	$units                               the units whose targets count: the chosen ones, else [$node]
//	$product_lines                       product line filter: NULL or a list of lines
func (e *Env) StandardParams() map[string]any {
	p := e.Scope.Params()
	p["base"] = e.Base
	p["as_of"] = date(e.AsOf)
	p["models_as_of"] = date(e.ModelsAsOf)
	p["from"] = date(e.F.From)
	p["to"] = date(e.F.To)
	p["cmp_from"] = date(e.F.CmpFrom)
	p["cmp_to"] = date(e.F.CmpTo)
	p["orgs"] = list(e.F.Orgs)
	p["node"] = nullable(e.Node)
	p["node_rep"] = nullable(e.NodeRep)
	p["units"] = list(e.F.Orgs)
	if len(e.F.Orgs) == 0 && e.Node != "" {
		p["units"] = []string{e.Node}
	}
	p["product_lines"] = list(e.F.Products)
	return p
}

// params builds every parameter of a chart for this request.
func (e *Env) params(c *Chart) (map[string]any, error) {
	p := e.StandardParams()
	if c.Params != nil {
		extra, err := c.Params(e)
		if err != nil {
			return nil, err
		}
		for k, v := range extra {
			if _, std := p[k]; std {
				return nil, fmt.Errorf("chart %s: parameter $%s is a standard parameter", c.ID, k)
			}
			switch v.(type) {
			case nil, bool, int, int64, float64, string:
			default:
				return nil, fmt.Errorf("chart %s: parameter $%s has type %T", c.ID, k, v)
			}
			p[k] = v
		}
	}
	return p, nil
}

// FiltersQuery renders the global filters back into URL form (for links).
func (f Filters) FiltersQuery() url.Values {
	v := url.Values{}
	if f.Period != "" {
		v.Set("period", f.Period)
	}
	if f.Period == "custom" {
		v.Set("from", f.From.Format("2006-01-02"))
		v.Set("to", f.To.Format("2006-01-02"))
	}
	if f.Cmp != "" {
		v.Set("cmp", f.Cmp)
	}
	for _, o := range f.Orgs {
		v.Add("org", o)
	}
	for _, l := range f.Products {
		v.Add("pl", l)
	}
	if f.Currency != "" {
		v.Set("cur", f.Currency)
	}
	return v
}

// cleanList reads a repeated parameter (org=A&org=B): trimmed, without
// empty values and duplicates, sorted; at most 50 values of max bytes each.
func cleanList(values []string, max int) []string {
	var out []string
	for _, v := range values {
		if x := clean(v, max); x != "" && !slices.Contains(out, x) && len(out) < 50 {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// clean trims a parameter and cuts it to max bytes on a character
// boundary (a value cut inside a character is not UTF-8, which DuckDB
// refuses to bind).
func clean(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
