package charts

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Helpers of the part-2 pages: table charts built from a result's columns,
// translated code values, links to the entity charts.

// tcol is a column of a table chart.
type tcol struct {
	name   string // result column
	label  string // i18n key; "" = col.<name>
	format string // text, code (a translated code value), money, percent, count, days, date, ratio
	ns     string // code values: the catalogue namespace ("val.<ns>.<value>"); "" = the column name
}

// code returns a code value (stage, status, kind, …) in the user's language:
// "val.<kind>.<value>" when the catalogue has it, else the value itself.
func code(e *query.Env, kind, v string) string {
	if v == "" {
		return ""
	}
	if k := "val." + kind + "." + v; i18n.Has(e.Lang, k) {
		return t(e, k)
	}
	if kind == "status" { // an open deal's status is its stage
		if k := "val.stage." + v; i18n.Has(e.Lang, k) {
			return t(e, k)
		}
	}
	return v
}

// tableOf builds a table chart from result rows (at most limit rows; 0 = all).
// point says what a click on row i does (nil = nothing).
func tableOf(e *query.Env, r *query.Result, cols []tcol, limit int, point func(i int) query.Point) *query.Output {
	tbl := &query.Table{Rows: [][]any{}}
	for _, c := range cols {
		label := c.label
		if label == "" {
			label = query.ColumnLabel(e.Lang, c.name)
		} else {
			label = t(e, label)
		}
		f := c.format
		switch f {
		case "code", "date", "":
			f = "text"
		}
		tbl.Columns = append(tbl.Columns, query.TableColumn{Label: label, Format: f})
	}
	n := len(r.Rows)
	if limit > 0 && n > limit {
		n = limit
	}
	var points []query.Point
	for i := 0; i < n; i++ {
		row := make([]any, len(cols))
		for j, c := range cols {
			switch c.format {
			case "code":
				ns := c.ns
				if ns == "" {
					ns = c.name
				}
				row[j] = code(e, ns, r.Str(i, c.name))
			case "text", "date", "":
				row[j] = r.Str(i, c.name)
			case "money":
				if v, ok := r.NullFloat(i, c.name); ok {
					row[j] = query.Num(e.Money(v))
				}
			default:
				if v, ok := r.NullFloat(i, c.name); ok {
					row[j] = query.Num(v)
				}
			}
		}
		tbl.Rows = append(tbl.Rows, row)
		if point != nil {
			points = append(points, point(i))
		}
	}
	out := &query.Output{Table: tbl, Points: points, Empty: len(tbl.Rows) == 0}
	if limit > 0 && len(r.Rows) > limit {
		out.Note = t(e, "note.first_rows", i18n.Int(e.Lang, int64(limit)), i18n.Int(e.Lang, int64(len(r.Rows))))
	}
	return out
}

// Links to the entity pages (path-escaped ids).
func customerLink(id string) string {
	if id == "" {
		return ""
	}
	return "/customers/" + url.PathEscape(id)
}

func dealLink(id string) string {
	if id == "" {
		return ""
	}
	return "/deals/" + url.PathEscape(id)
}

func repLink(id string) string {
	if id == "" {
		return ""
	}
	return "/reps/" + url.PathEscape(id)
}

// pathID is the id of the entity page a chart is on (the path parameter
// :id, passed by the page as ?id=), or nil on the overview pages: there
// the charts cover every row in the user's scope.
func pathID(e *query.Env) any {
	if v := strings.TrimSpace(e.Q.Get("id")); v != "" && len(v) <= 200 {
		return v
	}
	return nil
}

// sum adds up the non-NaN values.
func sum(vals []float64) float64 {
	var s float64
	for _, v := range vals {
		if !math.IsNaN(v) {
			s += v
		}
	}
	return s
}

// kpi builds a tile.
func kpi(e *query.Env, key, format string, v float64, ok bool) query.KPI {
	k := query.KPI{Key: key, Label: t(e, "kpi."+key), Format: format, Point: key}
	if ok {
		if format == "money" {
			v = e.Money(v)
		}
		k.Value = query.Ptr(v)
	}
	return k
}

// kpiRows reads a result of (kpi, value[, extra]) rows into a map.
type kpiRow struct {
	v, extra, extra2 float64
	ok               bool
}

func kpiRows(r *query.Result) map[string]kpiRow {
	out := map[string]kpiRow{}
	for i := range r.Rows {
		var k kpiRow
		k.v, k.ok = r.NullFloat(i, "value")
		if r.Col("extra") >= 0 {
			k.extra = nullable(r, i, "extra")
		}
		if r.Col("extra2") >= 0 {
			k.extra2 = nullable(r, i, "extra2")
		}
		out[r.Str(i, "kpi")] = k
	}
	return out
}

func fmtMoney(e *query.Env, v float64) string {
	return i18n.Money(e.Lang, e.Money(v), e.Currency())
}

func fmtInt(e *query.Env, v float64) string { return i18n.Int(e.Lang, int64(math.Round(v))) }

// timeParseMonth reads "YYYY-MM".
func timeParseMonth(s string) (time.Time, error) { return time.Parse("2006-01", s) }

// plain turns an option built with go-echarts types into plain JSON values
// (maps and slices), so that options go-echarts has no field for can be set.
func plain(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return m
	}
	return out
}

// radarRadius sets the radius of the radar component(s) of a plain option.
func radarRadius(m map[string]any, r string) {
	switch x := m["radar"].(type) {
	case map[string]any:
		x["radius"] = r
	case []any:
		for _, y := range x {
			if mm, ok := y.(map[string]any); ok {
				mm["radius"] = r
			}
		}
	}
}

// fmtShown formats an amount already in the display currency.
func fmtShown(e *query.Env, v float64) string { return i18n.Money(e.Lang, v, e.Currency()) }

// finish renders an axis chart for the part-2 pages: only the last grid is
// kept (each helper call that sets a grid adds one, and ECharts lays the axes
// out in the first), and counts step by whole numbers.
func finish(a *axisChart, format string) map[string]any {
	m := plain(a.option())
	if g, ok := m["grid"].([]any); ok && len(g) > 1 {
		m["grid"] = g[len(g)-1:]
	}
	if format == "count" || format == "days" {
		for _, k := range []string{"xAxis", "yAxis"} {
			for _, ax := range asMaps(m[k]) {
				if ax["type"] == "value" {
					ax["minInterval"] = 1
				}
			}
		}
	}
	return m
}

func asMaps(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		var out []map[string]any
		for _, y := range x {
			if m, ok := y.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// emptyAs says why a table or chart has nothing to show (entity pages).
func emptyAs(out *query.Output, e *query.Env, key string) *query.Output {
	if out.Empty {
		out.EmptyText = t(e, key)
	}
	return out
}
