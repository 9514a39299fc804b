package charts

import (
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
)

// A deal's page (/deals/{id}): every stage with the day it was entered and the
// days spent in it, the activities, the contracts it became, the collisions it
// is part of. The header (customer, rep, amount, competitor, reason) is drawn
// by the server (dashboards/entities.go).
func init() {
	query.RegisterPage(&query.Page{
		ID: "microscope.deal", Path: "/deals/:id", Title: "page.deal",
		Filters: []string{"cur"},
		Sections: []query.Section{
			{Charts: []string{"deal.timeline", "deal.stages"}},
			{Charts: []string{"deal.activities", "deal.contracts"}},
			{Charts: []string{"deal.collisions"}},
		},
	})
	dealParam := func(e *query.Env) (map[string]any, error) { return map[string]any{"deal": pathID(e)}, nil }
	stages := &query.Drill{SQL: "deal_stages.sql", Key: "entry_id", Entity: "stage_entries"}
	query.RegisterChart(&query.Chart{
		ID: "deal.timeline", Title: "chart.deal.timeline", Help: "help.deal.timeline", Span: 7, Height: 340,
		SQL: "deal_stages.sql", Params: dealParam, Build: buildDealGantt, Drill: stages,
	})
	query.RegisterChart(&query.Chart{
		ID: "deal.stages", Title: "chart.deal.stages", Help: "help.deal.stages", Kind: query.KindTable, Span: 5, Height: 340,
		SQL: "deal_stages.sql", Params: dealParam, Build: buildDealStages, Drill: stages,
	})
	query.RegisterChart(&query.Chart{
		ID: "deal.activities", Glossary: []string{"activities"}, Title: "chart.deal.activities", Kind: query.KindTable, Span: 6, Height: 320,
		SQL: "deal_activities.sql", Params: dealParam, Build: buildDealActivities,
		Drill: &query.Drill{SQL: "deal_activities.sql", Key: "activity_id", Entity: "activities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "deal.contracts", Glossary: []string{"bookings", "outstanding"}, Title: "chart.deal.contracts", Kind: query.KindTable, Span: 6, Height: 320,
		SQL: "deal_contracts.sql", Needs: []string{"mart_contract_execution"}, Params: dealParam, Build: buildDealContracts,
		Drill: &query.Drill{SQL: "deal_contracts.sql", Key: "contract_id", Entity: "contracts"},
	})
	query.RegisterChart(&query.Chart{
		ID: "deal.collisions", Title: "chart.deal.collisions", Help: "help.deal.collisions", Kind: query.KindTable, Span: 12, Height: 260,
		SQL: "deal_collisions.sql", Needs: []string{"mart_collisions", "collision_rulings"}, Params: dealParam, Build: buildDealCollisions,
		Drill: &query.Drill{SQL: "deal_collisions.sql", Key: "collision_id", Entity: "collisions"},
	})
}

// dealRows keeps the rows of one deal (the first in the result): without a
// deal the SQL lists every deal's stages, and a chart shows one.
func dealRows(r *query.Result) []int {
	var idx []int
	first := ""
	for i := range r.Rows {
		id := r.Str(i, "opportunity_id")
		if first == "" {
			first = id
		}
		if id == first {
			idx = append(idx, i)
		}
	}
	return idx
}

// buildDealGantt: each stage as a bar that starts on the day (since the deal
// was created) it was entered and is as long as the days spent in it.
func buildDealGantt(e *query.Env, r *query.Result) (*query.Output, error) {
	idx := dealRows(r)
	cats := make([]string, len(idx))
	offset, days := make([]float64, len(idx)), make([]float64, len(idx))
	colors := make([]string, len(idx))
	points := make([]query.Point, len(idx))
	ramp := stageColors(8)
	var total float64
	for j, i := range idx {
		s := r.Str(i, "stage")
		cats[j] = fmt.Sprintf("%s · %s", stageName(e, s), r.Str(i, "entered_on"))
		offset[j] = r.Float(i, "days_from_start")
		d, ok := r.NullFloat(i, "days")
		if !ok {
			d = 0.6 // a closed stage: a thin mark
		}
		days[j] = d
		switch {
		case s == "won":
			colors[j] = query.ColorGood
		case s == "lost":
			colors[j] = query.ColorBad
		default:
			med := nullable(r, i, "stage_median_days")
			colors[j] = ramp[min(int(r.Int(i, "position")), len(ramp)-2)]
			if !math.IsNaN(med) && ok && d > 2*math.Max(med, 1) {
				colors[j] = query.ColorWarn
			}
		}
		points[j] = query.Point{Key: r.Str(i, "entry_id")}
		total = math.Max(total, offset[j]+d)
	}
	a := newAxisChart(cats, true)
	a.bars(t(e, "series.days_before"), offset, "rgba(0,0,0,0)", "gantt")
	data := make([]opts.BarData, len(days))
	for i, v := range days {
		data[i] = opts.BarData{Value: query.Num(v), ItemStyle: &opts.ItemStyle{Color: colors[i]}}
	}
	a.bar.AddSeries(t(e, "series.days_in_stage"), data, charts.WithBarChartOpts(opts.BarChart{Stack: "gantt"}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.BarMaxWidth = "22" }))
	a.legend = append(a.legend, t(e, "series.days_in_stage"))
	a.bar.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	out := &query.Output{Option: finish(a, "days"), Points: points, Labels: cats, Horizontal: true, Format: "days",
		Legend: a.legend, Empty: len(idx) == 0}
	if len(idx) > 0 {
		out.Note = t(e, "note.deal_timeline", fmt.Sprintf("%.0f", total))
	}
	return out, nil
}

func buildDealStages(e *query.Env, r *query.Result) (*query.Output, error) {
	idx := dealRows(r)
	sub := &query.Result{Columns: r.Columns}
	for _, i := range idx {
		sub.Rows = append(sub.Rows, r.Rows[i])
	}
	out := tableOf(e, sub, []tcol{
		{name: "stage", format: "code"},
		{name: "entered_on", format: "date"},
		{name: "left_on", format: "date"},
		{name: "days", format: "days"},
		{name: "stage_median_days", format: "days"},
	}, 0, func(i int) query.Point { return query.Point{Key: sub.Str(i, "entry_id")} })
	out.Format = "days"
	return out, nil
}

func buildDealActivities(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "date", format: "date"},
		{name: "kind", format: "code", ns: "status"},
		{name: "rep_name", format: "text"},
		{name: "campaign", format: "text"},
	}, 30, func(i int) query.Point { return query.Point{Key: r.Str(i, "activity_id")} })
	out.Format = "count"
	emptyAs(out, e, "empty.deal.activities")
	return out, nil
}

func buildDealContracts(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "contract_id", format: "text"},
		{name: "signed_on", format: "date"},
		{name: "execution", format: "code"},
		{name: "amount_base", format: "money"},
		{name: "paid_to_date", format: "money"},
		{name: "outstanding", format: "money"},
		{name: "overdue_amount", format: "money"},
	}, 20, func(i int) query.Point {
		return query.Point{Key: r.Str(i, "contract_id")}
	})
	out.Format = "money"
	emptyAs(out, e, "empty.deal.contracts")
	return out, nil
}

func buildDealCollisions(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "opportunity_id", format: "text"},
		{name: "conflicts_with_opportunity_id", format: "text"},
		{name: "match_kind", format: "code"},
		{name: "other_customer", format: "text"},
		{name: "registered_on", format: "date"},
		{name: "status", format: "code", ns: "collision_status"},
		{name: "decision", format: "code", ns: "decision"},
		{name: "ruled_by", format: "text"},
	}, 20, func(i int) query.Point {
		return query.Point{Key: r.Str(i, "collision_id"), Link: "/collisions?status="}
	})
	out.Format = "count"
	emptyAs(out, e, "empty.deal.collisions")
	return out, nil
}
