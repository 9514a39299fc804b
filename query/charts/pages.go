// Package pages defines the dashboard pages and their charts. Each page is a
// Go file that registers the page and its charts with the engine in init(),
// and each chart's SQL is a file in sql/ (embedded). See dashboards/README.md.
package charts

import (
	"embed"
	"io/fs"
	"math"
	"time"

	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

func init() {
	sub, err := fs.Sub(sqlFiles, "sql")
	if err != nil {
		panic(err)
	}
	query.RegisterSQL(sub)
}

// The global filters most pages show.
var standardFilters = []string{"period", "cmp", "org", "pl", "cur"}

// cmpShift is how many months back the comparison period starts ($cmp_shift),
// nil without a comparison.
func cmpShift(e *query.Env) any {
	if e.F.CmpFrom.IsZero() {
		return nil
	}
	m := (e.F.From.Year()-e.F.CmpFrom.Year())*12 + int(e.F.From.Month()-e.F.CmpFrom.Month())
	if m <= 0 {
		return nil
	}
	return int64(m)
}

// monthLabel labels a month on an axis: "3月" / "Mar" inside one year, with
// the year when the axis spans several.
func monthLabel(lang string, t time.Time, multiYear bool) string {
	if multiYear {
		return i18n.Month(lang, t)
	}
	return i18n.ShortMonth(lang, t)
}

func spansYears(r *query.Result, col string) bool {
	if len(r.Rows) == 0 {
		return false
	}
	return r.Date(0, col).Year() != r.Date(len(r.Rows)-1, col).Year()
}

// nullable reads a numeric column as a float, NaN for NULL.
func nullable(r *query.Result, i int, col string) float64 {
	if f, ok := r.NullFloat(i, col); ok {
		return f
	}
	return math.NaN()
}

func barData(vals []float64) []opts.BarData {
	out := make([]opts.BarData, len(vals))
	for i, v := range vals {
		out[i] = opts.BarData{Value: query.Num(v)}
	}
	return out
}

func lineData(vals []float64) []opts.LineData {
	out := make([]opts.LineData, len(vals))
	for i, v := range vals {
		out[i] = opts.LineData{Value: query.Num(v)}
	}
	return out
}

func allNaN(vals []float64) bool {
	for _, v := range vals {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

func allZeroOrNaN(vals ...[]float64) bool {
	for _, vs := range vals {
		for _, v := range vs {
			if !math.IsNaN(v) && v != 0 {
				return false
			}
		}
	}
	return true
}

func t(e *query.Env, key string, args ...any) string { return i18n.T(e.Lang, key, args...) }

// money converts base-currency amounts to the display currency (NaN stays NaN).
func money(e *query.Env, v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	return e.Money(v)
}
