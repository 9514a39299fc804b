package charts

import (
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Funnel: the sales funnel (count, amount, weighted amount), stage conversion
// and days in stage, velocity, and the market funnel beside it.
var funnelBy = []string{"count", "amount", "weighted"}

func init() {
	var byOpts []query.Choice
	for _, b := range funnelBy {
		byOpts = append(byOpts, query.Choice{Value: b, Label: "funnel.by." + b})
	}
	query.RegisterPage(&query.Page{
		ID: "funnel", Path: "/funnel", Title: "page.funnel", Nav: 4,
		Filters:  []string{"org", "cur"},
		Defaults: map[string]string{"by": "count"},
		Controls: []query.Control{{Param: "by", Label: "control.funnel_by", Options: byOpts}},
		Sections: []query.Section{
			{Charts: []string{"funnel.velocity"}},
			{Title: "section.funnel.sales", Charts: []string{"funnel.stages", "funnel.market"}},
			{Title: "section.funnel.stages", Charts: []string{"funnel.conversion", "funnel.days"}},
			{Title: "section.funnel.speed", Charts: []string{"funnel.velocity_trend", "funnel.campaigns"}},
		},
	})
	stagesDrill := &query.Drill{SQL: "funnel_rows.sql", Key: "opportunity_id", Entity: "opportunities"}
	byParam := func(e *query.Env) (map[string]any, error) {
		return map[string]any{"by": e.Param("by", "count", funnelBy...)}, nil
	}
	query.RegisterChart(&query.Chart{
		ID:       "funnel.velocity",
		Glossary: []string{"velocity", "win_rate", "qualified_open", "avg_won", "cycle_days"}, Title: "chart.funnel.velocity", Help: "help.funnel.velocity", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "funnel_velocity.sql", OneUnit: true, Needs: []string{"mart_velocity"}, Build: buildVelocityKPIs,
		Drill: &query.Drill{SQL: "funnel_velocity_rows.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "funnel.stages", Title: "chart.funnel.stages", Help: "help.funnel.stages", Span: 7, Height: 400,
		SQL: "funnel_stages.sql", OneUnit: true, Needs: []string{"mart_funnel"}, Params: byParam, Build: buildSalesFunnel, Drill: stagesDrill,
	})
	query.RegisterChart(&query.Chart{
		ID: "funnel.market", Title: "chart.funnel.market", Help: "help.funnel.market", Span: 5, Height: 400,
		SQL: "funnel_market.sql", Build: buildMarketFunnel,
		Drill: &query.Drill{SQL: "funnel_market_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID: "funnel.conversion", Title: "chart.funnel.conversion", Help: "help.funnel.conversion",
		SQL: "funnel_stages.sql", OneUnit: true, Needs: []string{"mart_funnel"}, Params: byParam, Build: buildConversion, Drill: stagesDrill,
	})
	query.RegisterChart(&query.Chart{
		ID: "funnel.days", Title: "chart.funnel.days", Help: "help.funnel.days",
		SQL: "funnel_stages.sql", OneUnit: true, Needs: []string{"mart_funnel"}, Params: byParam, Build: buildDaysInStage, Drill: stagesDrill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "funnel.velocity_trend",
		Glossary: []string{"velocity", "win_rate"}, Title: "chart.funnel.velocity_trend", Help: "help.funnel.velocity_trend", Span: 7, Height: 340,
		SQL: "funnel_velocity.sql", OneUnit: true, Needs: []string{"mart_velocity"}, Build: buildVelocityTrend,
		Drill: &query.Drill{SQL: "funnel_velocity_rows.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "funnel.campaigns", Title: "chart.funnel.campaigns", Help: "help.funnel.campaigns", Kind: query.KindTable, Span: 5, Height: 340,
		SQL: "funnel_campaigns.sql", Build: buildCampaigns,
		Drill: &query.Drill{SQL: "funnel_market_rows.sql", Key: "record_id"},
	})
}

// stageName is a stage in the user's language.
func stageName(e *query.Env, s string) string { return code(e, "stage", s) }

type funnelRow struct {
	stage                       string
	entered, advanced, dropped  float64
	convNext, convWon, med, p75 float64
	amount, weighted            float64
}

func readFunnel(r *query.Result) []funnelRow {
	out := make([]funnelRow, 0, len(r.Rows))
	for i := range r.Rows {
		out = append(out, funnelRow{
			stage: r.Str(i, "stage"), entered: r.Float(i, "entered"), advanced: r.Float(i, "advanced"), dropped: r.Float(i, "dropped"),
			convNext: nullable(r, i, "conversion_next"), convWon: nullable(r, i, "conversion_won"),
			med: nullable(r, i, "days_median"), p75: nullable(r, i, "days_p75"),
			amount: r.Float(i, "amount"), weighted: r.Float(i, "weighted_amount"),
		})
	}
	return out
}

func funnelEmpty(rows []funnelRow) bool {
	for _, f := range rows {
		if f.entered > 0 {
			return false
		}
	}
	return true
}

// funnelChart draws stages top to bottom in their order (not sorted by value).
func funnelChart(e *query.Env, series string, names []string, vals []float64, colors []string) map[string]any {
	f := charts.NewFunnel()
	f.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	data := make([]opts.FunnelData, len(vals))
	for i, v := range vals {
		data[i] = opts.FunnelData{Name: names[i], Value: query.Num(v)}
	}
	f.AddSeries(series, data,
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "inside", Color: "#fff"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) {
			s.Sort, s.Left, s.Right, s.Top, s.Bottom = "none", "8%", "8%", "6", "6"
		}))
	m := plain(query.Option(f))
	if len(colors) > 0 {
		m["color"] = colors
	}
	for _, s := range asMaps(m["series"]) {
		s["minSize"] = "22%" // room for the label of the narrowest stage
		s["gap"] = 2
	}
	return m
}

// stageColors: a blue ramp down the funnel, green for won.
func stageColors(n int) []string {
	ramp := []string{"#9bbbe0", "#6f9fd3", "#4a84c4", "#2f69ad", "#1d4e89", "#163d6b", "#10305a"}
	out := make([]string, n)
	for i := range out {
		out[i] = ramp[min(i, len(ramp)-1)]
	}
	if n > 0 {
		out[n-1] = query.ColorGood
	}
	return out
}

func buildSalesFunnel(e *query.Env, r *query.Result) (*query.Output, error) {
	rows := readFunnel(r)
	by := e.Param("by", "count", funnelBy...)
	names := make([]string, len(rows))
	vals := make([]float64, len(rows))
	points := make([]query.Point, len(rows))
	for i, f := range rows {
		names[i] = stageName(e, f.stage)
		points[i] = query.Point{Key: f.stage}
		switch by {
		case "amount":
			vals[i] = e.Money(f.amount)
		case "weighted":
			vals[i] = e.Money(f.weighted)
		default:
			vals[i] = f.entered
		}
	}
	format := "money"
	if by == "count" {
		format = "count"
	}
	out := &query.Output{Option: funnelChart(e, t(e, "funnel.by."+by), names, vals, stageColors(len(rows))),
		Points: points, Labels: names, Format: format, Legend: []string{t(e, "funnel.by."+by)}, Empty: funnelEmpty(rows)}
	if n := len(rows); n > 1 && rows[0].entered > 0 {
		out.Note = t(e, "note.funnel", fmtInt(e, rows[0].entered), fmtInt(e, rows[n-1].entered), i18n.Percent(e.Lang, rows[n-1].entered/rows[0].entered))
	}
	return out, nil
}

func buildConversion(e *query.Env, r *query.Result) (*query.Output, error) {
	rows := readFunnel(r)
	var cats []string
	var next, won []float64
	var points []query.Point
	for _, f := range rows {
		if math.IsNaN(f.convNext) {
			continue // the won stage
		}
		cats = append(cats, stageName(e, f.stage))
		next, won = append(next, f.convNext), append(won, f.convWon)
		points = append(points, query.Point{Key: f.stage})
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.conversion_next"), next, query.ColorActual, "")
	a.bars(t(e, "series.conversion_won"), won, query.ColorGood, "")
	return &query.Output{Option: finish(a, "percent"), Points: points, Format: "percent", Legend: a.legend,
		Empty: funnelEmpty(rows), Note: t(e, "note.conversion")}, nil
}

func buildDaysInStage(e *query.Env, r *query.Result) (*query.Output, error) {
	rows := readFunnel(r)
	var cats []string
	var med, p75 []float64
	var points []query.Point
	var slowest string
	var slowestDays float64
	for _, f := range rows {
		if math.IsNaN(f.med) && math.IsNaN(f.p75) {
			continue
		}
		cats = append(cats, stageName(e, f.stage))
		med, p75 = append(med, f.med), append(p75, f.p75)
		points = append(points, query.Point{Key: f.stage})
		if f.med > slowestDays {
			slowest, slowestDays = stageName(e, f.stage), f.med
		}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.days_median"), med, query.ColorActual, "")
	a.bars(t(e, "series.days_p75"), p75, query.ColorCompare, "")
	out := &query.Output{Option: finish(a, "days"), Points: points, Format: "days", Legend: a.legend, Empty: len(cats) == 0}
	if slowest != "" {
		total := sum(med)
		out.Note = t(e, "note.days", fmt.Sprintf("%.0f", total), slowest, fmt.Sprintf("%.0f", slowestDays))
	}
	return out, nil
}

func buildVelocityKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	out := &query.Output{}
	for i := range r.Rows {
		if r.Str(i, "period") != "all" {
			continue
		}
		v, okV := r.NullFloat(i, "velocity_per_day")
		q, okQ := r.NullFloat(i, "qualified_open")
		w, okW := r.NullFloat(i, "avg_won_amount")
		wr, okR := r.NullFloat(i, "win_rate")
		c, okC := r.NullFloat(i, "avg_cycle_days")
		vel := kpi(e, "velocity", "money", v, okV)
		vel.RowsSum = "-" // a formula of the deals behind it, not their sum
		vel.Point = "closed"
		vel.Sub = t(e, "kpi.sub.velocity")
		qo := kpi(e, "qualified_open", "count", q, okQ)
		qo.Point = "qualified"
		aw := kpi(e, "avg_won", "money", w, okW)
		aw.RowsSum = "mean:amount_base"
		aw.Point = "won"
		wk := kpi(e, "win_rate", "percent", wr, okR)
		wk.Point = "closed"
		ck := kpi(e, "cycle_days", "days", c, okC)
		ck.Point = "won"
		out.KPIs = append(out.KPIs, vel, qo, aw, wk, ck)
	}
	if len(out.KPIs) == 0 {
		out.Empty = true
	}
	return out, nil
}

func buildVelocityTrend(e *query.Env, r *query.Result) (*query.Output, error) {
	var cats []string
	var vel, wr []float64
	var points []query.Point
	for i := range r.Rows {
		p := r.Str(i, "period")
		if p == "all" {
			continue
		}
		m := r.Date(i, "period")
		if m.IsZero() {
			if tm, err := timeParseMonth(p); err == nil {
				m = tm
			}
		}
		cats = append(cats, monthLabel(e.Lang, m, true))
		vel = append(vel, money(e, nullable(r, i, "velocity_per_day")))
		wr = append(wr, nullable(r, i, "win_rate"))
		points = append(points, query.Point{Key: p})
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.velocity"), vel, query.ColorActual, "")
	out := &query.Output{Option: finish(a, "money"), Points: points, Format: "money", Legend: a.legend, Empty: allZeroOrNaN(vel)}
	if n := len(vel); n > 0 {
		out.Note = t(e, "note.velocity_trend")
	}
	return out, nil
}

func buildMarketFunnel(e *query.Env, r *query.Result) (*query.Output, error) {
	names := make([]string, len(r.Rows))
	vals := make([]float64, len(r.Rows))
	points := make([]query.Point, len(r.Rows))
	for i := range r.Rows {
		s := r.Str(i, "stage")
		names[i] = t(e, "market."+s)
		vals[i] = r.Float(i, "n")
		points[i] = query.Point{Key: s}
	}
	colors := []string{"#e9a23b", "#4ea8de", query.ColorGood}
	out := &query.Output{Option: funnelChart(e, t(e, "chart.funnel.market"), names, vals, colors),
		Points: points, Labels: names, Format: "count", Legend: []string{t(e, "chart.funnel.market")}, Empty: allZeroOrNaN(vals)}
	if len(vals) == 3 && vals[1] > 0 {
		out.Note = t(e, "note.market", i18n.Percent(e.Lang, vals[2]/vals[1]))
	}
	return out, nil
}

func buildCampaigns(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "campaign", format: "text"},
		{name: "responses", format: "count"},
		{name: "opportunities", format: "count"},
		{name: "won", format: "count"},
		{name: "won_amount", format: "money"},
	}, 12, func(i int) query.Point { return query.Point{Key: "c:" + r.Str(i, "campaign_id")} })
	out.Format = "count"
	return out, nil
}
