package charts

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Telescope: the future against the target.
func init() {
	query.RegisterPage(&query.Page{
		ID: "telescope", Path: "/telescope", Title: "page.telescope", Nav: 1,
		Home:     []string{access.RoleExecutive, access.RoleAdmin, access.RoleManager, access.RoleAnalyst}, // a manager's: their unit's
		Filters:  standardFilters,
		Defaults: map[string]string{"period": "ytd", "cmp": "yoy"},
		Sections: []query.Section{
			{Charts: []string{"telescope.kpis"}},
			{Title: "section.telescope.now", Charts: []string{"targets.now", "targets.weeks_bookings", "targets.weeks_collections"}},
			{Title: "section.telescope.year", Charts: []string{"telescope.bookings", "telescope.collections"}},
			{Title: "section.telescope.ahead", Charts: []string{"telescope.forecast", "telescope.pipeline"}},
			{Title: "section.telescope.where", Charts: []string{"telescope.attainment", "telescope.trend"}},
			{Title: "section.telescope.alerts", Charts: []string{"alerts.top"}},
		},
	})

	// This week's and this month's target against the actual: on the
	// Telescope (executives, managers: their unit) and on a rep's page.
	query.RegisterChart(&query.Chart{
		ID:       "targets.now",
		Glossary: []string{"bookings", "collections", "attainment"}, Title: "chart.targets.now", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "targets_now.sql", Needs: []string{"mart_targets"}, Build: buildTargetsNow,
		Params: func(e *query.Env) (map[string]any, error) { return map[string]any{"rep": pathID(e)}, nil },
		Drill:  &query.Drill{SQL: "targets_now_rows.sql", Key: "record_id"},
	})
	// Weeks against the weekly split of the target (mart_targets): the short
	// view (month to date: the weeks of the month), on the same pages.
	for _, metric := range []string{"bookings", "collections"} {
		query.RegisterChart(&query.Chart{
			ID:       "targets.weeks_" + metric,
			Glossary: []string{metric, "attainment"}, Title: "chart.targets.weeks_" + metric, Help: "help.targets.weeks", Span: 6, Height: 320,
			SQL: "telescope_weeks.sql", Needs: []string{"mart_targets"},
			Params: func(e *query.Env) (map[string]any, error) {
				return map[string]any{"metric": metric, "rep": pathID(e)}, nil
			},
			Build: func(e *query.Env, r *query.Result) (*query.Output, error) {
				return buildWeeksVsTarget(e, r, "series."+metric)
			},
			Drill: &query.Drill{SQL: "telescope_weeks_rows.sql", Key: "record_id"},
		})
	}
	query.RegisterChart(&query.Chart{
		ID:       "telescope.kpis",
		Glossary: []string{"bookings", "collections", "pipeline", "coverage", "win_rate"}, Title: "chart.telescope.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL:   "telescope_kpis.sql",
		Build: buildTelescopeKPIs,
		Drill: &query.Drill{SQL: "telescope_kpis_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "telescope.bookings",
		Glossary: []string{"bookings", "attainment"}, Title: "chart.telescope.bookings", Help: "help.telescope.bookings",
		SQL: "telescope_bookings.sql", Params: monthlyParams,
		Build: func(e *query.Env, r *query.Result) (*query.Output, error) {
			return buildMonthlyVsTarget(e, r, "series.bookings")
		},
		Drill: &query.Drill{SQL: "telescope_bookings_rows.sql", Key: "contract_id", Entity: "contracts"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "telescope.collections",
		Glossary: []string{"collections", "attainment"}, Title: "chart.telescope.collections", Help: "help.telescope.collections",
		SQL: "telescope_collections.sql", Params: monthlyParams,
		Build: func(e *query.Env, r *query.Result) (*query.Output, error) {
			return buildMonthlyVsTarget(e, r, "series.collections")
		},
		Drill: &query.Drill{SQL: "telescope_collections_rows.sql", Key: "payment_id", Entity: "payments"},
	})
	query.RegisterChart(&query.Chart{
		ID: "telescope.forecast", Title: "chart.telescope.forecast", Help: "help.telescope.forecast",
		SQL: "telescope_forecast.sql", OneUnit: true, Needs: []string{"mart_forecast", "mart_forecast_accuracy"},
		Build: buildForecast,
	})
	query.RegisterChart(&query.Chart{
		ID:       "telescope.pipeline",
		Glossary: []string{"pipeline", "coverage"}, Title: "chart.telescope.pipeline", Help: "help.telescope.pipeline",
		SQL: "telescope_pipeline.sql", Build: buildPipelineCoverage,
		Drill: &query.Drill{SQL: "telescope_pipeline_rows.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "telescope.attainment",
		Glossary: []string{"attainment", "bookings"}, Title: "chart.telescope.attainment", Help: "help.telescope.attainment",
		SQL: "telescope_attainment.sql", Build: buildAttainment, Height: 360,
		Drill: &query.Drill{SQL: "telescope_attainment_rows.sql", Key: "contract_id", Entity: "contracts"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "telescope.trend",
		Glossary: []string{"pipeline", "bookings"}, Title: "chart.telescope.trend", Help: "help.telescope.trend",
		SQL: "telescope_trend.sql", Needs: []string{"mart_pipeline_trend"}, Build: buildForecastTrend, Height: 360,
		Drill: &query.Drill{SQL: "telescope_trend_rows.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
}

// monthlyParams: $horizon_to (through the end of the year for year periods,
// so the months to come show their target) and $cmp_shift.
func monthlyParams(e *query.Env) (map[string]any, error) {
	horizon := e.F.To
	switch {
	case e.F.Period == "ytd" || e.F.Period == "qtd" || e.F.Period == "mtd":
		horizon = time.Date(e.F.To.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return map[string]any{"horizon_to": horizon.Format("2006-01-02"), "cmp_shift": cmpShift(e)}, nil
}

func cmpName(e *query.Env) string {
	if e.F.Cmp == "prev" {
		return t(e, "series.compare.prev")
	}
	return t(e, "series.compare.yoy")
}

func buildMonthlyVsTarget(e *query.Env, r *query.Result, seriesKey string) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	actual, target, cmp := make([]float64, n), make([]float64, n), make([]float64, n)
	multi := spansYears(r, "month")
	var sumA, sumT float64
	for i := range r.Rows {
		m := r.Date(i, "month")
		cats[i] = monthLabel(e.Lang, m, multi)
		points[i] = query.Point{Key: m.Format("2006-01")}
		actual[i] = money(e, nullable(r, i, "actual"))
		target[i] = money(e, nullable(r, i, "target"))
		cmp[i] = money(e, nullable(r, i, "compare"))
		if !math.IsNaN(actual[i]) {
			sumA += actual[i]
			if !math.IsNaN(target[i]) {
				sumT += target[i]
			}
		}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, seriesKey), actual, query.ColorActual, "")
	if !allNaN(target) {
		a.lineSeries(t(e, "series.target"), target, query.ColorTarget, false)
	}
	if !allNaN(cmp) {
		a.lineSeries(cmpName(e), cmp, query.ColorCompare, true)
	}
	out := &query.Output{Option: a.option(), Points: points, Legend: a.legend, Empty: allZeroOrNaN(actual, target)}
	if sumT > 0 {
		out.Note = t(e, "note.to_date_vs_target", i18n.Money(e.Lang, sumA, e.Currency()), i18n.Money(e.Lang, sumT, e.Currency()), i18n.Percent(e.Lang, sumA/sumT))
	}
	return out, nil
}

func buildTelescopeKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	out := &query.Output{}
	cur := e.Currency()
	for i := range r.Rows {
		key := r.Str(i, "kpi")
		v, tg, cmp, extra := nullable(r, i, "value"), nullable(r, i, "target"), nullable(r, i, "compare"), nullable(r, i, "extra")
		k := query.KPI{Key: key, Label: t(e, "kpi."+key), Point: key}
		switch key {
		case "bookings", "collections":
			v, tg, cmp = money(e, v), money(e, tg), money(e, cmp)
			k.Format, k.Value, k.Target, k.Compare = "money", query.Ptr(v), query.Ptr(tg), query.Ptr(cmp)
			if !math.IsNaN(tg) && tg > 0 && !math.IsNaN(v) {
				k.Progress = query.Ptr(v / tg)
				k.Sub = t(e, "kpi.sub.target", i18n.Money(e.Lang, tg, cur), i18n.Percent(e.Lang, v/tg))
			} else {
				k.Sub = t(e, "kpi.sub.no_target")
			}
		case "pipeline":
			v, extra = money(e, v), money(e, extra)
			k.Format, k.Value = "money", query.Ptr(v)
			k.Sub = t(e, "kpi.sub.weighted", i18n.Money(e.Lang, zeroNaN(extra), cur))
		case "coverage":
			v, tg, extra = money(e, v), money(e, tg), money(e, extra)
			k.Format = "ratio"
			if !math.IsNaN(tg) && tg > 0 {
				k.Value = query.Ptr(zeroNaN(v) / tg)
				k.Sub = t(e, "kpi.sub.coverage", i18n.Money(e.Lang, zeroNaN(v), cur), i18n.Money(e.Lang, tg, cur), fmt.Sprintf("%.1f×", zeroNaN(extra)/tg))
			} else {
				k.Sub = t(e, "kpi.sub.coverage_no_target", i18n.Money(e.Lang, zeroNaN(v), cur))
			}
		case "win_rate":
			k.Format, k.Value, k.Compare = "percent", query.Ptr(v), query.Ptr(cmp)
			k.Sub = t(e, "kpi.sub.closed", i18n.Int(e.Lang, int64(zeroNaN(extra))))
		}
		out.KPIs = append(out.KPIs, k)
	}
	return out, nil
}

func zeroNaN(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return f
}

func buildPipelineCoverage(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	pipe, weighted, target := make([]float64, n), make([]float64, n), make([]float64, n)
	var sumP, sumW, sumT float64
	for i := range r.Rows {
		b := r.Str(i, "bucket")
		if b == "slipped" {
			cats[i] = t(e, "bucket.slipped")
		} else {
			cats[i] = i18n.Month(e.Lang, r.Date(i, "month"))
		}
		points[i] = query.Point{Key: b}
		pipe[i], weighted[i], target[i] = money(e, r.Float(i, "pipeline")), money(e, r.Float(i, "weighted")), money(e, nullable(r, i, "target"))
		if b != "slipped" {
			sumP += pipe[i]
			sumW += weighted[i]
			sumT += zeroNaN(target[i])
		}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.pipeline"), pipe, query.ColorMuted, "")
	a.bars(t(e, "series.weighted"), weighted, query.ColorActual, "")
	if !allNaN(target) {
		a.lineSeries(t(e, "series.target"), target, query.ColorTarget, false)
	}
	out := &query.Output{Option: a.option(), Points: points, Legend: a.legend, Empty: allZeroOrNaN(pipe, target)}
	if sumT > 0 {
		out.Note = t(e, "note.coverage", fmt.Sprintf("%.1f×", sumP/sumT), fmt.Sprintf("%.1f×", sumW/sumT))
	}
	return out, nil
}

func attainmentColor(a float64) string {
	switch {
	case math.IsNaN(a):
		return query.ColorMuted
	case a >= 1:
		return query.ColorGood
	case a >= 0.8:
		return query.ColorWarn
	}
	return query.ColorBad
}

func buildAttainment(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	vals, colors := make([]float64, n), make([]string, n)
	hasTarget := false
	for i := range r.Rows {
		cats[i] = r.Str(i, "label")
		key := r.Str(i, "key")
		if r.Str(i, "kind") == "org" {
			points[i] = query.Point{Key: key, Zoom: key}
		} else {
			points[i] = query.Point{Key: key}
		}
		vals[i] = nullable(r, i, "attainment")
		if !math.IsNaN(vals[i]) {
			hasTarget = true
		}
		colors[i] = attainmentColor(vals[i])
	}
	if !hasTarget {
		// No targets at this level: show bookings instead of attainment.
		for i := range r.Rows {
			vals[i] = money(e, r.Float(i, "actual"))
			colors[i] = query.ColorActual
		}
		a := newAxisChart(cats, true)
		a.coloredBars(t(e, "series.bookings"), vals, colors, true)
		return &query.Output{Option: a.option(), Points: points, Horizontal: true, Legend: a.legend,
			Note: t(e, "note.no_targets"), Empty: n == 0}, nil
	}
	// Units or reps without a target have no attainment: listed in the note.
	var kc []string
	var kv []float64
	var kcol []string
	var kp []query.Point
	var without []string
	for i := range vals {
		if math.IsNaN(vals[i]) {
			without = append(without, cats[i])
			continue
		}
		kc, kv, kcol, kp = append(kc, cats[i]), append(kv, vals[i]), append(kcol, colors[i]), append(kp, points[i])
	}
	cats, vals, colors, points = kc, kv, kcol, kp
	note := t(e, "note.attainment")
	if len(without) > 0 {
		note += " " + t(e, "note.no_target_for", strings.Join(without, ", "))
	}
	a := newAxisChart(cats, true)
	a.coloredBars(t(e, "series.attainment"), vals, colors, true)
	top := 1.1 // room for the 100 % line and the labels
	for _, v := range vals {
		top = math.Max(top, v*1.12)
	}
	a.bar.SetGlobalOptions(charts.WithXAxisOpts(opts.XAxis{Type: "value", Max: math.Ceil(top*10) / 10}))
	a.bar.MultiSeries[0].ConfigureSeriesOpts(
		charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{Name: "100%", XAxis: 1}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}, LineStyle: &opts.LineStyle{Color: query.ColorTarget, Type: "dashed", Width: 2}}),
	)
	return &query.Output{Option: a.option(), Points: points, Horizontal: true, Format: "percent", Legend: a.legend, Empty: len(cats) == 0,
		Note: note}, nil
}

func buildForecastTrend(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	w, p, act := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range r.Rows {
		d := r.Date(i, "made_on")
		if d.AddDate(0, 0, 1).Day() != 1 { // the models' as-of date, not a month end
			cats[i] = i18n.Date(e.Lang, d)
		} else {
			cats[i] = i18n.Month(e.Lang, d)
		}
		points[i] = query.Point{Key: d.Format("2006-01-02")}
		w[i], p[i], act[i] = money(e, r.Float(i, "weighted")), money(e, r.Float(i, "pipeline")), money(e, nullable(r, i, "actual"))
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.pipeline_3m"), p, "#d5dce5", "")
	a.lineSeries(t(e, "series.weighted_3m"), w, query.ColorActual, false)
	a.lineSeries(t(e, "series.booked_3m"), act, query.ColorGood, true)
	return &query.Output{Option: a.option(), Points: points, Legend: a.legend, Empty: allZeroOrNaN(w, p)}, nil
}

func buildForecast(e *query.Env, r *query.Result) (*query.Output, error) {
	// Rows: month × method. One bar series per method, the blend (or the
	// first method) with its range, the target as a line.
	var months []time.Time
	seen := map[time.Time]bool{}
	methods := map[string]bool{}
	for i := range r.Rows {
		m := r.Date(i, "month")
		if !seen[m] {
			seen[m] = true
			months = append(months, m)
		}
		methods[r.Str(i, "method")] = true
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Before(months[j]) })
	var names []string
	for m := range methods {
		names = append(names, m)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "blend") != (names[j] == "blend") {
			return names[i] == "blend"
		}
		return names[i] < names[j]
	})
	idx := map[time.Time]int{}
	cats := make([]string, len(months))
	for i, m := range months {
		idx[m] = i
		cats[i] = i18n.Month(e.Lang, m)
	}
	vals := map[string][]float64{}
	low, high, target := nanSlice(len(months)), nanSlice(len(months)), nanSlice(len(months))
	acc := map[string]float64{}
	for _, m := range names {
		vals[m] = nanSlice(len(months))
	}
	main := ""
	if len(names) > 0 {
		main = names[0]
	}
	for i := range r.Rows {
		j := idx[r.Date(i, "month")]
		m := r.Str(i, "method")
		vals[m][j] = money(e, nullable(r, i, "amount"))
		if m == main {
			low[j], high[j] = money(e, nullable(r, i, "low")), money(e, nullable(r, i, "high"))
		}
		target[j] = money(e, nullable(r, i, "target"))
		if w, ok := r.NullFloat(i, "wape"); ok {
			acc[m] = w
		}
	}
	// The main method (blend) as bars with its ~95 % range; the other methods
	// as markers to compare; the target as a line.
	a := newAxisChart(cats, false)
	a.bar.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Left: "0", Type: "plain"}),
		charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "60", Bottom: "4", ContainLabel: opts.Bool(true)}))
	a.bars(methodName(e, main), vals[main], query.ColorActual, "")
	if !allNaN(target) {
		a.lineSeries(t(e, "series.target"), target, query.ColorTarget, false)
	}
	if !allNaN(low) {
		a.lineSeries(t(e, "series.low"), low, query.ColorMuted, true)
		a.lineSeries(t(e, "series.high"), high, query.ColorMuted, true)
	}
	for k, m := range names {
		if m == main {
			continue
		}
		a.markers(methodName(e, m), vals[m], query.Palette[(k+3)%len(query.Palette)])
	}
	var parts []string
	for _, m := range names {
		if w, ok := acc[m]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", methodName(e, m), i18n.Percent(e.Lang, w)))
		}
	}
	out := &query.Output{Option: a.option(), Legend: a.legend, Empty: len(r.Rows) == 0}
	if e.Node == "" {
		out.EmptyText = t(e, "state.forecast_per_unit")
	}
	if len(parts) > 0 {
		out.Note = t(e, "note.wape", strings.Join(parts, " · "))
	}
	return out, nil
}

func methodName(e *query.Env, m string) string {
	if k := "method." + m; i18n.Has(e.Lang, k) {
		return t(e, k)
	}
	return m
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// buildTargetsNow: this week's and this month's actual against the whole
// period's target, the progress against the target to date (working days).
func buildTargetsNow(e *query.Env, r *query.Result) (*query.Output, error) {
	out := &query.Output{}
	cur := e.Currency()
	for i := range r.Rows {
		key := r.Str(i, "kpi")
		v, tg, todate := money(e, nullable(r, i, "value")), money(e, nullable(r, i, "target")), money(e, nullable(r, i, "extra"))
		k := query.KPI{Key: key, Label: t(e, "kpi."+key), Point: key, Format: "money", Value: query.Ptr(zeroNaN(v))}
		switch {
		case !math.IsNaN(tg) && !math.IsNaN(todate) && todate > 0:
			k.Target = query.Ptr(tg)
			k.Progress = query.Ptr(zeroNaN(v) / todate)
			k.Sub = t(e, "kpi.sub.target_to_date", i18n.Money(e.Lang, tg, cur), i18n.Money(e.Lang, todate, cur), i18n.Percent(e.Lang, zeroNaN(v)/todate))
		case !math.IsNaN(tg) && tg > 0:
			k.Target = query.Ptr(tg)
			k.Sub = t(e, "kpi.sub.target_none_yet", i18n.Money(e.Lang, tg, cur))
		default:
			k.Sub = t(e, "kpi.sub.no_target")
		}
		out.KPIs = append(out.KPIs, k)
	}
	return out, nil
}

// buildWeeksVsTarget: bars of the weeks' actuals, a line of their targets.
func buildWeeksVsTarget(e *query.Env, r *query.Result, seriesKey string) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	points := make([]query.Point, n)
	actual, target := make([]float64, n), make([]float64, n)
	var sumA, sumT float64
	for i := range r.Rows {
		w := r.Date(i, "week_start")
		cats[i] = t(e, "label.week_of", i18n.Date(e.Lang, w))
		points[i] = query.Point{Key: w.Format("2006-01-02")}
		actual[i] = money(e, nullable(r, i, "actual"))
		target[i] = money(e, nullable(r, i, "target"))
		if !math.IsNaN(actual[i]) && !math.IsNaN(target[i]) {
			sumA += actual[i]
			sumT += target[i]
		}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, seriesKey), actual, query.ColorActual, "")
	if !allNaN(target) {
		a.lineSeries(t(e, "series.weekly_target"), target, query.ColorTarget, false)
	}
	out := &query.Output{Option: a.option(), Points: points, Legend: a.legend, Empty: allZeroOrNaN(actual, target)}
	if sumT > 0 {
		out.Note = t(e, "note.weeks_vs_target", i18n.Money(e.Lang, sumA, e.Currency()), i18n.Money(e.Lang, sumT, e.Currency()), i18n.Percent(e.Lang, sumA/sumT))
	} else if allNaN(target) {
		out.Note = t(e, "note.no_weekly_targets")
	}
	return out, nil
}
