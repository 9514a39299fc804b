package charts

import (
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Magnifier: any metric down the org tree or by a dimension.
var (
	magnifierMetrics = []string{"bookings", "collections", "pipeline", "win_rate", "customers"}
	magnifierDims    = []string{"org", "industry", "product_line", "channel", "source"}
)

func init() {
	var metricOpts, dimOpts []query.Choice
	for _, m := range magnifierMetrics {
		metricOpts = append(metricOpts, query.Choice{Value: m, Label: "metric." + m})
	}
	for _, d := range magnifierDims {
		dimOpts = append(dimOpts, query.Choice{Value: d, Label: "dim." + d})
	}
	query.RegisterPage(&query.Page{
		ID: "magnifier", Path: "/magnifier", Title: "page.magnifier", Nav: 2,
		Filters:  standardFilters,
		Defaults: map[string]string{"period": "ytd", "cmp": "yoy", "metric": "bookings", "dim": "org"},
		Controls: []query.Control{
			{Param: "metric", Label: "control.metric", Options: metricOpts},
			{Param: "dim", Label: "control.dim", Options: dimOpts},
		},
		Sections: []query.Section{
			{Charts: []string{"magnifier.breakdown", "magnifier.share"}},
			{Charts: []string{"magnifier.trend", "magnifier.table"}},
		},
	})
	drill := &query.Drill{SQL: "magnifier_rows.sql", Key: "record_id"}
	query.RegisterChart(&query.Chart{
		ID:       "magnifier.breakdown",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "paying"}, Title: "chart.magnifier.breakdown", Help: "help.magnifier.breakdown",
		SQL: "magnifier_breakdown.sql", Params: magnifierParams, Build: buildBreakdown, Span: 7, Height: 460,
		Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "magnifier.share",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "paying"}, Title: "chart.magnifier.share", Help: "help.magnifier.share",
		SQL: "magnifier_breakdown.sql", Params: magnifierParams, Build: buildShare, Span: 5, Height: 460,
		Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "magnifier.trend",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "paying"}, Title: "chart.magnifier.trend", Help: "help.magnifier.trend",
		SQL: "magnifier_trend.sql", Params: magnifierParams, Build: buildMagnifierTrend, Span: 7, Height: 340,
		Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "magnifier.table",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "paying"}, Title: "chart.magnifier.table", Kind: query.KindTable,
		SQL: "magnifier_breakdown.sql", Params: magnifierParams, Build: buildBreakdownTable, Span: 5, Height: 340,
		Drill: drill,
	})
}

func magnifierParams(e *query.Env) (map[string]any, error) {
	return map[string]any{
		"metric":    e.Param("metric", "bookings", magnifierMetrics...),
		"dim":       e.Param("dim", "org", magnifierDims...),
		"cmp_shift": cmpShift(e),
	}, nil
}

func metricFormat(metric string) string {
	switch metric {
	case "win_rate":
		return "percent"
	case "customers":
		return "count"
	}
	return "money"
}

// dimLabel translates a dimension value (industry codes, channels, sources)
// when the catalogue knows it.
func dimLabel(e *query.Env, dim, v string) string {
	if v == "" {
		return t(e, "dim.none")
	}
	if k := "val." + dim + "." + v; i18n.Has(e.Lang, k) {
		return t(e, k)
	}
	return v
}

// breakdown reads the rows of magnifier_breakdown.sql.
type breakdown struct {
	metric, dim, format string
	cats                []string
	points              []query.Point
	cur, cmp, n         []float64
	total, totalCmp     float64
}

func readBreakdown(e *query.Env, r *query.Result) *breakdown {
	b := &breakdown{metric: e.Param("metric", "bookings", magnifierMetrics...), dim: e.Param("dim", "org", magnifierDims...)}
	b.format = metricFormat(b.metric)
	conv := func(v float64) float64 {
		if b.format == "money" {
			return money(e, v)
		}
		return v
	}
	for i := range r.Rows {
		key, kind := r.Str(i, "key"), r.Str(i, "kind")
		switch kind {
		case "org":
			b.cats = append(b.cats, r.Str(i, "label"))
			b.points = append(b.points, query.Point{Key: "u:" + key, Zoom: key})
		case "rep":
			b.cats = append(b.cats, r.Str(i, "label"))
			b.points = append(b.points, query.Point{Key: "r:" + key[len("rep:"):]})
		default:
			b.cats = append(b.cats, dimLabel(e, b.dim, key))
			pt := query.Point{Key: "v:" + key}
			if b.dim == "product_line" && key != "" {
				pt.Filter = map[string]string{"pl": key} // a global filter: filter the page by it
			}
			b.points = append(b.points, pt)
		}
		c, p := conv(nullable(r, i, "value")), conv(nullable(r, i, "compare"))
		b.cur, b.cmp, b.n = append(b.cur, c), append(b.cmp, p), append(b.n, r.Float(i, "n"))
		b.total += zeroNaN(c)
		b.totalCmp += zeroNaN(p)
	}
	return b
}

func buildBreakdown(e *query.Env, r *query.Result) (*query.Output, error) {
	b := readBreakdown(e, r)
	a := newAxisChart(b.cats, true)
	a.bars(t(e, "metric."+b.metric), b.cur, query.ColorActual, "")
	if !e.F.CmpFrom.IsZero() {
		a.bars(cmpName(e), b.cmp, query.ColorCompare, "")
	}
	out := &query.Output{Option: a.option(), Points: b.points, Horizontal: true, Format: b.format, Legend: a.legend,
		Labels: b.cats, Empty: allZeroOrNaN(b.cur, b.cmp)}
	if b.metric != "win_rate" {
		if !e.F.CmpFrom.IsZero() && b.totalCmp != 0 {
			out.Note = t(e, "note.total_vs", fmtValue(e, b.format, b.total), fmtValue(e, b.format, b.totalCmp), signedPercent(e.Lang, b.total/b.totalCmp-1))
		} else {
			out.Note = t(e, "note.total", fmtValue(e, b.format, b.total))
		}
	}
	return out, nil
}

// buildShare draws the breakdown as a treemap: each cell's area is its share
// (for the win rate: the number of deals closed). A click zooms like a bar.
func buildShare(e *query.Env, r *query.Result) (*query.Output, error) {
	b := readBreakdown(e, r)
	vals, format := b.cur, b.format
	if b.metric == "win_rate" {
		vals, format = b.n, "count"
	}
	var nodes []opts.TreeMapNode
	var points []query.Point
	var labels []string
	for i, v := range vals {
		if math.IsNaN(v) || v <= 0 {
			continue
		}
		nodes = append(nodes, opts.TreeMapNode{Name: b.cats[i], Value: int(math.Round(v))})
		points = append(points, b.points[i])
		labels = append(labels, b.cats[i])
	}
	tm := charts.NewTreeMap()
	tm.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	name := t(e, "metric."+b.metric)
	if b.metric == "win_rate" {
		name = t(e, "series.closed_deals")
	}
	tm.AddSeries(name, nodes, charts.WithTreeMapOpts(opts.TreeMapChart{Roam: opts.Bool(false), Left: "0", Right: "0", Top: "0", Bottom: "0"}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true)}))
	out := &query.Output{Option: query.Option(tm), Points: points, Labels: labels, Format: format, Empty: len(nodes) == 0, Legend: []string{name}}
	if b.metric == "win_rate" {
		out.Note = t(e, "note.share_closed")
	}
	return out, nil
}

// buildBreakdownTable: the breakdown as a table with comparison, change and share.
func buildBreakdownTable(e *query.Env, r *query.Result) (*query.Output, error) {
	b := readBreakdown(e, r)
	hasCmp := !e.F.CmpFrom.IsZero()
	tbl := &query.Table{Columns: []query.TableColumn{
		{Label: t(e, "col.name"), Format: "text"},
		{Label: t(e, "metric."+b.metric), Format: b.format},
	}}
	if hasCmp {
		changeFormat := "delta"
		if b.format == "percent" {
			changeFormat = "pts" // a rate changes by percentage points
		}
		tbl.Columns = append(tbl.Columns, query.TableColumn{Label: cmpName(e), Format: b.format},
			query.TableColumn{Label: t(e, "col.change"), Format: changeFormat})
	}
	additive := b.metric != "win_rate"
	if additive {
		tbl.Columns = append(tbl.Columns, query.TableColumn{Label: t(e, "col.share"), Format: "percent"})
	}
	for i := range b.cats {
		cur, cmp := b.cur[i], b.cmp[i]
		row := []any{b.cats[i], query.Num(cur)}
		if hasCmp {
			change := math.NaN()
			switch {
			case b.format == "percent" && !math.IsNaN(cmp) && !math.IsNaN(cur):
				change = cur - cmp
			case !math.IsNaN(cmp) && cmp != 0 && !math.IsNaN(cur):
				change = cur/cmp - 1
			}
			row = append(row, query.Num(cmp), numOrNil(change, 4))
		}
		if additive {
			share := math.NaN()
			if b.total != 0 {
				share = zeroNaN(cur) / b.total
			}
			row = append(row, numOrNil(share, 4))
		}
		tbl.Rows = append(tbl.Rows, row)
	}
	return &query.Output{Table: tbl, Format: b.format, Points: b.points, Labels: b.cats, Empty: len(tbl.Rows) == 0}, nil
}

func numOrNil(f float64, decimals int) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	p := math.Pow(10, float64(decimals))
	return math.Round(f*p) / p
}

func fmtValue(e *query.Env, format string, v float64) string {
	switch format {
	case "money":
		return i18n.Money(e.Lang, v, e.Currency())
	case "percent":
		return i18n.Percent(e.Lang, v)
	}
	return i18n.Int(e.Lang, int64(math.Round(v)))
}

func buildMagnifierTrend(e *query.Env, r *query.Result) (*query.Output, error) {
	metric := e.Param("metric", "bookings", magnifierMetrics...)
	format := metricFormat(metric)
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	cur, cmp := make([]float64, n), make([]float64, n)
	multi := spansYears(r, "month")
	for i := range r.Rows {
		m := r.Date(i, "month")
		cats[i] = monthLabel(e.Lang, m, multi)
		points[i] = query.Point{Key: "m:" + m.Format("2006-01")}
		cur[i], cmp[i] = nullable(r, i, "value"), nullable(r, i, "compare")
		if format == "money" {
			cur[i], cmp[i] = money(e, cur[i]), money(e, cmp[i])
		}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "metric."+metric), cur, query.ColorActual, "")
	if !e.F.CmpFrom.IsZero() {
		a.lineSeries(cmpName(e), cmp, query.ColorCompare, true)
	}
	return &query.Output{Option: a.option(), Points: points, Format: format, Legend: a.legend, Empty: allZeroOrNaN(cur, cmp)}, nil
}

func signedPercent(lang string, v float64) string {
	if v > 0 {
		return "+" + i18n.Percent(lang, v)
	}
	return i18n.Percent(lang, v)
}
