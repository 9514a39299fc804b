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

// Microscope: a rep's page (/reps/{id}) and, without a rep, the same charts
// over every rep in the user's scope with the team table (/microscope; a rep
// user sees their own figures there). A deal's page is /deals/{id} (deal.go).
func init() {
	common := []query.Section{
		{Title: "section.microscope.pipeline", Charts: []string{"microscope.pipeline", "microscope.reasons"}},
		{Title: "section.microscope.deals", Charts: []string{"microscope.timeline"}},
		{Title: "section.microscope.work", Charts: []string{"microscope.activities", "microscope.months"}},
		{Title: "section.microscope.attention", Charts: []string{"microscope.stalled"}},
	}
	overview := append([]query.Section{
		{Charts: []string{"microscope.kpis"}},
		{Title: "section.microscope.team", Charts: []string{"microscope.team"}},
	}, common...)
	query.RegisterPage(&query.Page{
		ID: "microscope", Path: "/microscope", Title: "page.microscope", Nav: 3,
		Filters:  []string{"period", "org", "pl", "cur"},
		Defaults: map[string]string{"period": "ytd"},
		Sections: overview,
	})
	query.RegisterPage(&query.Page{
		ID: "microscope.rep", Path: "/reps/:id", Title: "page.rep",
		Filters:  []string{"period", "pl", "cur"},
		Defaults: map[string]string{"period": "ytd"},
		Sections: append(append([]query.Section{{Charts: []string{"microscope.kpis"}}, {Title: "section.microscope.now", Charts: []string{"targets.now", "targets.weeks_bookings", "targets.weeks_collections"}}}, common...),
			query.Section{Title: "section.microscope.alerts", Charts: []string{"alerts.top"}}),
	})

	repParam := func(e *query.Env) (map[string]any, error) { return map[string]any{"rep": pathID(e)}, nil }
	openDrill := &query.Drill{SQL: "rep_open_rows.sql", Key: "opportunity_id", Entity: "opportunities"}
	query.RegisterChart(&query.Chart{
		ID:       "microscope.kpis",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "activities", "stalled"}, Title: "chart.microscope.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "rep_kpis.sql", Needs: []string{"mart_pipeline", "mart_funnel"}, Params: repParam, Build: buildRepKPIs,
		Drill: &query.Drill{SQL: "rep_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "microscope.team",
		Glossary: []string{"bookings", "collections", "pipeline", "win_rate", "activities", "stalled"}, Title: "chart.microscope.team", Help: "help.microscope.team", Kind: query.KindTable, Span: 12, Height: 420,
		SQL: "rep_team.sql", Needs: []string{"mart_pipeline", "mart_funnel"}, Build: buildTeam,
		Drill: &query.Drill{SQL: "rep_team.sql", Key: "rep_id", Entity: "reps"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "microscope.pipeline",
		Glossary: []string{"pipeline"}, Title: "chart.microscope.pipeline", Help: "help.microscope.pipeline", Span: 6, Height: 340,
		SQL: "rep_pipeline.sql", Params: repParam, Build: buildRepPipeline, Drill: openDrill,
	})
	query.RegisterChart(&query.Chart{
		ID: "microscope.reasons", Title: "chart.microscope.reasons", Help: "help.microscope.reasons", Span: 6, Height: 340,
		SQL: "rep_reasons.sql", Params: repParam, Build: buildReasons,
		Drill: &query.Drill{SQL: "rep_closed_rows.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "microscope.timeline", Title: "chart.microscope.timeline", Help: "help.microscope.timeline", Span: 12, Height: 420,
		SQL: "rep_timeline.sql", Params: repParam, Build: buildDealTimelines, Drill: openDrill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "microscope.activities",
		Glossary: []string{"activities"}, Title: "chart.microscope.activities", Help: "help.microscope.activities", Span: 6, Height: 320,
		SQL: "rep_activities.sql", Params: repParam, Build: buildActivities,
		Drill: &query.Drill{SQL: "rep_activity_rows.sql", Key: "activity_id", Entity: "activities"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "microscope.months",
		Glossary: []string{"bookings", "collections"}, Title: "chart.microscope.months", Help: "help.microscope.months", Span: 6, Height: 320,
		SQL: "rep_months.sql", Params: repParam, Build: buildRepMonths,
		Drill: &query.Drill{SQL: "rep_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "microscope.stalled",
		Glossary: []string{"stalled"}, Title: "chart.microscope.stalled", Help: "help.microscope.stalled", Kind: query.KindTable, Span: 12, Height: 380,
		SQL: "rep_stalled.sql", Needs: []string{"mart_pipeline", "mart_funnel"}, Params: repParam, Build: buildStalled,
		Drill: &query.Drill{SQL: "rep_stalled.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
}

func buildRepKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	b := k["bookings"]
	bk := kpi(e, "bookings", "money", b.v, b.ok)
	bk.Sub = t(e, "kpi.sub.contracts", fmtInt(e, zeroNaN(b.extra)))
	c := k["collections"]
	ck := kpi(e, "collections", "money", c.v, c.ok)
	ck.Sub = t(e, "kpi.sub.payments", fmtInt(e, zeroNaN(c.extra)))
	p := k["pipeline"]
	pk := kpi(e, "pipeline", "money", p.v, p.ok)
	pk.Sub = t(e, "kpi.sub.weighted", fmtMoney(e, zeroNaN(p.extra)))
	w := k["win_rate"]
	wk := kpi(e, "win_rate", "percent", w.v, w.ok)
	wk.Sub = t(e, "kpi.sub.closed", fmtInt(e, zeroNaN(w.extra)))
	a := k["activities"]
	ak := kpi(e, "activities", "count", a.v, a.ok)
	ak.Sub = t(e, "kpi.sub.customers_touched", fmtInt(e, zeroNaN(a.extra)))
	s := k["stalled"]
	sk := kpi(e, "stalled", "count", s.v, s.ok)
	sk.Sub = t(e, "kpi.sub.amount", fmtMoney(e, zeroNaN(s.extra)))
	return &query.Output{KPIs: []query.KPI{bk, ck, pk, wk, ak, sk}}, nil
}

func buildTeam(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "rep_name", format: "text"},
		{name: "org_unit", format: "text"},
		{name: "bookings", format: "money"},
		{name: "collections", format: "money"},
		{name: "pipeline", format: "money"},
		{name: "win_rate", format: "percent"},
		{name: "activities", format: "count"},
		{name: "stalled", format: "count"},
	}, 25, func(i int) query.Point {
		id := r.Str(i, "rep_id")
		return query.Point{Key: id, Link: repLink(id)}
	})
	out.Format = "money"
	return out, nil
}

func buildRepPipeline(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	amount, weighted := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	var deals float64
	for i := range r.Rows {
		s := r.Str(i, "stage")
		cats[i] = stageName(e, s)
		amount[i], weighted[i] = money(e, r.Float(i, "amount")), money(e, r.Float(i, "weighted"))
		points[i] = query.Point{Key: s}
		deals += r.Float(i, "deals")
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.pipeline"), amount, query.ColorMuted, "")
	a.bars(t(e, "series.weighted"), weighted, query.ColorActual, "")
	out := &query.Output{Option: finish(a, "money"), Points: points, Legend: a.legend, Empty: allZeroOrNaN(amount)}
	if n > 0 {
		out.Note = t(e, "note.open_deals", fmtInt(e, deals), fmtShown(e, sum(amount)), fmtShown(e, sum(weighted)))
	}
	return out, nil
}

func buildReasons(e *query.Env, r *query.Result) (*query.Output, error) {
	type agg struct{ won, lost float64 }
	by := map[string]*agg{}
	var order []string
	var won, lost float64
	for i := range r.Rows {
		reason := r.Str(i, "reason")
		a, ok := by[reason]
		if !ok {
			a = &agg{}
			by[reason] = a
			order = append(order, reason)
		}
		if r.Str(i, "status") == "won" {
			a.won += r.Float(i, "deals")
			won += r.Float(i, "deals")
		} else {
			a.lost += r.Float(i, "deals")
			lost += r.Float(i, "deals")
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := by[order[i]], by[order[j]]
		return a.won+a.lost > b.won+b.lost
	})
	n := len(order)
	cats := make([]string, n)
	w, l := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i, reason := range order {
		cats[i] = reasonName(e, reason)
		w[i], l[i] = by[reason].won, by[reason].lost
		points[i] = query.Point{Key: "r:" + reason}
	}
	a := newAxisChart(cats, true)
	a.bars(t(e, "series.won"), w, query.ColorGood, "x")
	a.bars(t(e, "series.lost"), l, query.ColorBad, "x")
	out := &query.Output{Option: finish(a, "count"), Points: points, Horizontal: true, Format: "count", Legend: a.legend, Empty: n == 0}
	if won+lost > 0 {
		out.Note = t(e, "note.reasons", fmtInt(e, won), fmtInt(e, lost), i18n.Percent(e.Lang, won/(won+lost)))
	}
	return out, nil
}

func reasonName(e *query.Env, reason string) string {
	if reason == "" {
		return t(e, "dim.none")
	}
	return code(e, "close_reason", reason)
}

// buildDealTimelines: one stacked bar per deal, a segment per stage (days spent).
func buildDealTimelines(e *query.Env, r *query.Result) (*query.Output, error) {
	type deal struct {
		id, label string
		days      map[string]float64
	}
	var deals []*deal
	idx := map[string]*deal{}
	stagePos := map[string]int64{}
	for i := range r.Rows {
		id := r.Str(i, "opportunity_id")
		d, ok := idx[id]
		if !ok {
			d = &deal{id: id, days: map[string]float64{},
				label: fmt.Sprintf("%s · %s", fmtMoney(e, r.Float(i, "amount_base")), r.Str(i, "customer_name"))}
			idx[id] = d
			deals = append(deals, d)
		}
		s := r.Str(i, "stage")
		d.days[s] += r.Float(i, "days")
		stagePos[s] = r.Int(i, "position")
	}
	var stages []string
	for s := range stagePos {
		stages = append(stages, s)
	}
	sort.Slice(stages, func(i, j int) bool { return stagePos[stages[i]] < stagePos[stages[j]] })
	cats := make([]string, len(deals))
	points := make([]query.Point, len(deals))
	for i, d := range deals {
		cats[i] = d.label
		points[i] = query.Point{Key: "o:" + d.id, Link: dealLink(d.id)}
	}
	a := newAxisChart(cats, true)
	colors := stageColors(len(stages) + 1)
	for j, s := range stages {
		vals := make([]float64, len(deals))
		for i, d := range deals {
			v, ok := d.days[s]
			if !ok {
				v = math.NaN()
			}
			vals[i] = v
		}
		a.bars(stageName(e, s), vals, colors[j], "days")
	}
	a.bar.SetGlobalOptions(charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "34", Bottom: "4", ContainLabel: opts.Bool(true)}))
	return &query.Output{Option: finish(a, "days"), Points: points, Labels: cats, Horizontal: true, Format: "days", Legend: a.legend,
		Empty: len(deals) == 0, Note: t(e, "note.timeline")}, nil
}

var activityKinds = []string{"visit", "meeting", "call", "email", "event"}

func buildActivities(e *query.Env, r *query.Result) (*query.Output, error) {
	var months []string
	seen := map[string]bool{}
	counts := map[string]map[string]float64{}
	multi := spansYears(r, "month")
	labels := map[string]string{}
	for i := range r.Rows {
		m := r.Date(i, "month")
		key := m.Format("2006-01")
		if !seen[key] {
			seen[key] = true
			months = append(months, key)
			labels[key] = monthLabel(e.Lang, m, multi)
		}
		k := r.Str(i, "kind")
		if counts[k] == nil {
			counts[k] = map[string]float64{}
		}
		counts[k][key] += r.Float(i, "n")
	}
	cats := make([]string, len(months))
	points := make([]query.Point, len(months))
	for i, m := range months {
		cats[i] = labels[m]
		points[i] = query.Point{Key: "m:" + m}
	}
	a := newAxisChart(cats, false)
	total := 0.0
	for j, k := range activityKinds {
		vals := make([]float64, len(months))
		for i, m := range months {
			vals[i] = counts[k][m]
			total += vals[i]
		}
		a.bars(code(e, "status", k), vals, query.Palette[j%len(query.Palette)], "kinds")
	}
	out := &query.Output{Option: finish(a, "count"), Points: points, Format: "count", Legend: a.legend, Empty: total == 0}
	if total > 0 {
		out.Note = t(e, "note.activities", fmtInt(e, total))
	}
	return out, nil
}

func buildRepMonths(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	b, c := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	multi := spansYears(r, "month")
	for i := range r.Rows {
		m := r.Date(i, "month")
		cats[i] = monthLabel(e.Lang, m, multi)
		b[i], c[i] = money(e, r.Float(i, "bookings")), money(e, r.Float(i, "collections"))
		points[i] = query.Point{Key: "m:" + m.Format("2006-01")}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.bookings"), b, query.ColorActual, "")
	a.bars(t(e, "series.collections"), c, query.ColorGood, "")
	out := &query.Output{Option: finish(a, "money"), Points: points, Legend: a.legend, Empty: allZeroOrNaN(b, c)}
	if sb := sum(b); sb > 0 {
		out.Note = t(e, "note.collected_share", i18n.Percent(e.Lang, sum(c)/sb))
	}
	return out, nil
}

func buildStalled(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "customer_name", format: "text"},
		{name: "rep_name", format: "text"},
		{name: "stage", format: "code"},
		{name: "stage_entered_on", format: "date"},
		{name: "days_in_stage", format: "days"},
		{name: "stage_median_days", format: "days"},
		{name: "expected_close_on", format: "date"},
		{name: "amount_base", format: "money"},
	}, 20, func(i int) query.Point {
		id := r.Str(i, "opportunity_id")
		return query.Point{Key: id, Link: dealLink(id)}
	})
	out.Format = "money"
	if len(r.Rows) > 0 {
		var total float64
		for i := range r.Rows {
			total += r.Float(i, "amount_base")
		}
		out.Note = t(e, "note.stalled", fmtInt(e, float64(len(r.Rows))), fmtMoney(e, total))
	}
	emptyAs(out, e, "empty.stalled")
	return out, nil
}
