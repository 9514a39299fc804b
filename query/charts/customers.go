package charts

import (
	"fmt"
	"math"
	"sort"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Customers: RFM grid, segments, tiers, 7P profiles, the Pareto curve, the most
// valuable customers and cross-sell; /customers/{id} is the customer 360
// (customer360.go).
func init() {
	query.RegisterPage(&query.Page{
		ID: "customers", Path: "/customers", Title: "page.customers", Nav: 5,
		Filters: []string{"org", "cur"},
		Sections: []query.Section{
			{Charts: []string{"customers.kpis"}},
			{Title: "section.customers.rfm", Charts: []string{"customers.rfm", "customers.segments", "customers.segment_movement"}},
			{Title: "section.customers.value", Charts: []string{"customers.pareto", "customers.tiers"}},
			{Title: "section.customers.profile", Charts: []string{"customers.radar", "customers.cross_sell"}},
			{Title: "section.customers.who", Charts: []string{"customers.top"}},
		},
	})
	drill := &query.Drill{SQL: "customers_rows.sql", Key: "customer_id", Entity: "customers"}
	reg := func(c *query.Chart) {
		c.Drill = drill
		query.RegisterChart(c)
	}
	reg(&query.Chart{ID: "customers.kpis", Glossary: []string{"customers", "paying", "gold", "margin", "clv", "at_risk"}, Title: "chart.customers.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "customers_kpis.sql", Needs: []string{"mart_customer_value", "mart_rfm", "mart_clv"}, Build: buildCustomerKPIs})
	reg(&query.Chart{ID: "customers.rfm", Title: "chart.customers.rfm", Help: "help.customers.rfm", Span: 6, Height: 380,
		SQL: "customers_rfm.sql", Needs: []string{"mart_rfm"}, Build: buildRFMGrid})
	reg(&query.Chart{ID: "customers.segments", Title: "chart.customers.segments", Help: "help.customers.segments", Span: 6, Height: 380,
		SQL: "customers_segments.sql", Needs: []string{"mart_rfm"}, Build: buildSegments})
	// Its own drill-through: the rows carry the segment then and now.
	query.RegisterChart(&query.Chart{ID: "customers.segment_movement", Title: "chart.customers.segment_movement",
		Help: "help.customers.segment_movement", Span: 12, Height: 460,
		SQL: "customers_segment_movement.sql", Needs: []string{"mart_rfm_movement", "mart_rfm"}, Build: buildSegmentMovement,
		Drill: &query.Drill{SQL: "customers_segment_movement_rows.sql", Key: "customer_id", Entity: "customers"}})
	reg(&query.Chart{ID: "customers.pareto", Glossary: []string{"margin"}, Title: "chart.customers.pareto", Help: "help.customers.pareto", Span: 7, Height: 340,
		SQL: "customers_pareto.sql", Needs: []string{"mart_customer_value_detail"}, Build: buildPareto})
	reg(&query.Chart{ID: "customers.tiers", Glossary: []string{"gold", "margin"}, Title: "chart.customers.tiers", Help: "help.customers.tiers", Span: 5, Height: 340,
		SQL: "customers_tiers.sql", Needs: []string{"mart_customer_value", "mart_customer_value_detail"}, Build: buildTiers})
	reg(&query.Chart{ID: "customers.radar", Title: "chart.customers.radar", Help: "help.customers.radar", Span: 5, Height: 360,
		SQL: "customers_radar.sql", Needs: []string{"mart_customer_value"}, Build: buildTierRadar})
	reg(&query.Chart{ID: "customers.top", Title: "chart.customers.top", Help: "help.customers.top", Kind: query.KindTable, Span: 12, Height: 420,
		SQL: "customers_top.sql", Needs: []string{"mart_customer_value", "mart_customer_value_detail", "mart_rfm", "mart_clv"}, Build: buildTopCustomers})
	reg(&query.Chart{ID: "customers.cross_sell", Title: "chart.customers.cross_sell", Help: "help.customers.cross_sell", Span: 7, Height: 360,
		SQL: "customers_cross_sell.sql", Needs: []string{"mart_cross_sell"}, Build: buildCrossSell})
}

func buildCustomerKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	out := &query.Output{}
	c := k["customers"]
	ck := kpi(e, "customers", "count", c.v, c.ok)
	ck.Sub = t(e, "kpi.sub.unprofitable", fmtInt(e, zeroNaN(c.extra)))
	p := k["paying"]
	pk := kpi(e, "paying", "count", p.v, p.ok)
	pk.Sub = t(e, "kpi.sub.paid", fmtMoney(e, zeroNaN(p.extra)))
	g := k["gold"]
	gk := kpi(e, "gold", "count", g.v, g.ok)
	if !math.IsNaN(g.extra) {
		gk.Sub = t(e, "kpi.sub.gold", i18n.Percent(e.Lang, g.extra))
	}
	m := k["margin"]
	mk := kpi(e, "margin", "money", m.v, m.ok)
	mk.RowsSum = "margin"
	if !math.IsNaN(m.extra) {
		mk.Sub = t(e, "kpi.sub.per_customer", fmtMoney(e, m.extra))
	}
	l := k["clv"]
	lk := kpi(e, "clv", "money", l.v, l.ok)
	lk.RowsSum = "clv"
	if !math.IsNaN(l.extra) {
		lk.Sub = t(e, "kpi.sub.p_alive", i18n.Percent(e.Lang, l.extra))
	}
	a := k["at_risk"]
	ak := kpi(e, "at_risk", "count", a.v, a.ok)
	ak.Sub = t(e, "kpi.sub.paid", fmtMoney(e, zeroNaN(a.extra)))
	out.KPIs = []query.KPI{ck, pk, gk, mk, lk, ak}
	out.Empty = !c.ok || c.v == 0
	return out, nil
}

// buildRFMGrid: a heat map of customers by R (x) and F (y), 1–5 each.
func buildRFMGrid(e *query.Env, r *query.Result) (*query.Output, error) {
	hm := charts.NewHeatMap()
	xs := make([]string, 5)
	ys := make([]string, 5)
	for i := 0; i < 5; i++ {
		xs[i] = fmt.Sprintf("R%d", i+1)
		ys[i] = fmt.Sprintf("F%d", i+1)
	}
	maxN := 1.0
	var data []opts.HeatMapData
	var points []query.Point
	var labels []string
	total := 0.0
	for i := range r.Rows {
		rs, fs := r.Int(i, "r_score"), r.Int(i, "f_score")
		if rs < 1 || rs > 5 || fs < 1 || fs > 5 {
			continue
		}
		n := r.Float(i, "customers")
		total += n
		maxN = math.Max(maxN, n)
		name := fmt.Sprintf("R%d · F%d · %s", rs, fs, segmentName(e, rfmSegment(int(rs), int(fs))))
		data = append(data, opts.HeatMapData{Name: name, Value: []any{rs - 1, fs - 1, n}})
		points = append(points, query.Point{Key: fmt.Sprintf("rfm:%d-%d", rs, fs)})
		labels = append(labels, name)
	}
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "8", Bottom: "44", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: xs, Name: t(e, "axis.recency"), NameLocation: "middle", NameGap: 26}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: ys, Name: t(e, "axis.frequency"), NameLocation: "middle", NameGap: 30}),
		charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(false), Min: 0, Max: float32(maxN), Show: opts.Bool(false),
			InRange: &opts.VisualMapInRange{Color: []string{"#eef3fa", "#9bbbe0", "#1d4e89"}}}),
	)
	hm.AddSeries(t(e, "series.customers"), data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true)}))
	return &query.Output{Option: query.Option(hm), Points: points, Labels: labels, Format: "count",
		Legend: []string{t(e, "series.customers")}, Empty: total == 0, Note: t(e, "note.rfm")}, nil
}

// rfmSegment is the RFM model's R × F segment map.
func rfmSegment(r, f int) string {
	switch {
	case r == 5 && f >= 4:
		return "champions"
	case r >= 3 && r <= 4 && f >= 4:
		return "loyal"
	case r >= 4 && f >= 2 && f <= 3:
		return "potential_loyalist"
	case r == 5 && f == 1:
		return "new"
	case r == 4 && f == 1:
		return "promising"
	case r == 3 && f == 3:
		return "need_attention"
	case r == 3 && f <= 2:
		return "about_to_sleep"
	case r <= 2 && f >= 3 && f <= 4:
		return "at_risk"
	case r <= 2 && f == 5:
		return "cant_lose"
	}
	return "hibernating"
}

func segmentName(e *query.Env, s string) string { return code(e, "segment", s) }

// segmentColor: green for the good segments, amber for those to watch, red for those slipping away.
func segmentColor(s string) string {
	switch s {
	case "champions", "loyal", "potential_loyalist":
		return query.ColorGood
	case "new", "promising", "need_attention":
		return "#4ea8de"
	case "about_to_sleep":
		return query.ColorWarn
	case "at_risk", "cant_lose":
		return query.ColorBad
	}
	return query.ColorMuted
}

func buildSegments(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats, vals, colors := make([]string, n), make([]float64, n), make([]string, n)
	points := make([]query.Point, n)
	var paid float64
	for i := range r.Rows {
		s := r.Str(i, "segment")
		cats[i], vals[i], colors[i] = segmentName(e, s), r.Float(i, "customers"), segmentColor(s)
		points[i] = query.Point{Key: "seg:" + s}
		paid += r.Float(i, "monetary")
	}
	a := newAxisChart(cats, true)
	a.coloredBars(t(e, "series.customers"), vals, colors, true)
	return &query.Output{Option: finish(a, "count"), Points: points, Horizontal: true, Format: "count", Legend: a.legend,
		Empty: allZeroOrNaN(vals), Note: t(e, "note.segments")}, nil
}

func tierColor(tier string) string {
	switch tier {
	case "gold":
		return "#d4a017"
	case "potential_gold":
		return "#e9c46a"
	case "unprofitable":
		return query.ColorBad
	}
	return query.ColorMuted
}

func buildTiers(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats, vals, colors := make([]string, n), make([]float64, n), make([]string, n)
	points := make([]query.Point, n)
	var parts []string
	for i := range r.Rows {
		tier := r.Str(i, "tier")
		cats[i], vals[i], colors[i] = code(e, "tier", tier), r.Float(i, "customers"), tierColor(tier)
		points[i] = query.Point{Key: "tier:" + tier}
		parts = append(parts, fmt.Sprintf("%s %s", code(e, "tier", tier), fmtMoney(e, r.Float(i, "margin"))))
	}
	a := newAxisChart(cats, true)
	a.coloredBars(t(e, "series.customers"), vals, colors, true)
	out := &query.Output{Option: finish(a, "count"), Points: points, Horizontal: true, Format: "count", Legend: a.legend, Empty: allZeroOrNaN(vals)}
	if len(parts) > 0 {
		out.Note = t(e, "note.tiers", joinDot(parts))
	}
	return out, nil
}

func joinDot(parts []string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += " · "
		}
		s += p
	}
	return s
}

func buildPareto(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	cum := make([]float64, n)
	points := make([]query.Point, n)
	at80 := math.NaN()
	for i := range r.Rows {
		cs, rs := r.Float(i, "customer_share"), r.Float(i, "revenue_share")
		cats[i] = fmt.Sprintf("%.0f%%", cs*100)
		cum[i] = rs
		points[i] = query.Point{Key: fmt.Sprintf("p:%d", r.Int(i, "band"))}
		if math.IsNaN(at80) && rs >= 0.8 {
			at80 = cs
		}
	}
	a := newAxisChart(cats, false)
	a.lineSeries(t(e, "series.revenue_share"), cum, query.ColorActual, false)
	a.bar.SetGlobalOptions(charts.WithYAxisOpts(opts.YAxis{Type: "value", Max: 1}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: t(e, "axis.customer_share"), NameLocation: "middle", NameGap: 26}),
		charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "34", Bottom: "30", ContainLabel: opts.Bool(true)}))
	a.line.MultiSeries[0].ConfigureSeriesOpts(
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: "rgba(29,78,137,0.12)"}),
		charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "80%", YAxis: 0.8}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}, LineStyle: &opts.LineStyle{Color: query.ColorTarget, Type: "dashed", Width: 2}}),
	)
	out := &query.Output{Option: finish(a, "percent"), Points: points, Format: "percent", Legend: a.legend, Empty: n == 0}
	if !math.IsNaN(at80) {
		out.Note = t(e, "note.pareto", i18n.Percent(e.Lang, at80))
	}
	return out, nil
}

// The seven Ps, in the order of the radar.
var sevenP = []string{"profiling", "persistency", "profitability", "performance", "prospecting", "product", "promotion"}

func radarChart(e *query.Env) *charts.Radar {
	rc := charts.NewRadar()
	var ind []*opts.Indicator
	for _, p := range sevenP {
		ind = append(ind, &opts.Indicator{Name: t(e, "p7."+p), Min: 0, Max: 100})
	}
	rc.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0", Left: "center"}),
		charts.WithRadarComponentOpts(opts.RadarComponent{Indicator: ind, Shape: "polygon", SplitNumber: 4,
			Center:    []string{"50%", "46%"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#e1e6ec"}},
			SplitArea: &opts.SplitArea{Show: opts.Bool(false)}}),
	)
	return rc
}

func buildTierRadar(e *query.Env, r *query.Result) (*query.Output, error) {
	rc := radarChart(e)
	var points []query.Point
	var legend []string
	var data []opts.RadarData
	var colors []string
	for i := range r.Rows {
		tier := r.Str(i, "tier")
		vals := make([]any, len(sevenP))
		for j, p := range sevenP {
			vals[j] = query.Num(nullable(r, i, p))
		}
		name := code(e, "tier", tier)
		data = append(data, opts.RadarData{Name: name, Value: vals})
		points = append(points, query.Point{Key: "tier:" + tier})
		legend = append(legend, name)
		colors = append(colors, tierColor(tier))
	}
	rc.AddSeries(t(e, "chart.customers.radar"), data,
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.08)}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.ColorBy = "data" }))
	m := plain(query.Option(rc))
	if len(colors) > 0 {
		m["color"] = colors
	}
	radarRadius(m, "60%")
	if lg, ok := m["legend"].(map[string]any); ok {
		lg["data"] = legend
	}
	return &query.Output{Option: m, Points: points, Labels: legend, Format: "count", Legend: legend, Empty: len(data) == 0}, nil
}

func buildTopCustomers(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "customer_name", format: "text"},
		{name: "tier", format: "code"},
		{name: "segment", format: "code"},
		{name: "revenue", format: "money"},
		{name: "margin", format: "money"},
		{name: "clv", format: "money"},
		{name: "p_alive", format: "percent"},
		{name: "value_index", format: "count"},
	}, 15, func(i int) query.Point {
		id := r.Str(i, "customer_id")
		return query.Point{Key: "id:" + id, Link: customerLink(id)}
	})
	out.Format = "money"
	return out, nil
}

func buildCrossSell(e *query.Env, r *query.Result) (*query.Output, error) {
	type row struct {
		line        string
		first, cand float64
	}
	var rows []row
	for i := range r.Rows {
		rows = append(rows, row{r.Str(i, "product_line"), r.Float(i, "first_choice"), r.Float(i, "candidates")})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].first > rows[j].first })
	n := len(rows)
	cats, first, cand := make([]string, n), make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i, x := range rows {
		cats[i], first[i], cand[i] = x.line, x.first, x.cand
		points[i] = query.Point{Key: "xs:" + x.line}
	}
	a := newAxisChart(cats, true)
	a.bars(t(e, "series.first_choice"), first, query.ColorGood, "")
	a.bars(t(e, "series.candidates"), cand, query.ColorCompare, "")
	return &query.Output{Option: finish(a, "count"), Points: points, Horizontal: true, Format: "count", Legend: a.legend,
		Empty: allZeroOrNaN(cand), Note: t(e, "note.cross_sell")}, nil
}
