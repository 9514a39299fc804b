package charts

import (
	"math"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// Collections: receivables aging, settlements due within 7 days and this
// month, overdue customers, collected against contracted by unit or rep, and
// month by month what was due against what came in.
func init() {
	query.RegisterPage(&query.Page{
		ID: "collections", Path: "/collections", Title: "page.collections", Nav: 6,
		Filters:  []string{"period", "org", "pl", "cur"},
		Defaults: map[string]string{"period": "ytd"},
		Sections: []query.Section{
			{Charts: []string{"collections.kpis"}},
			{Title: "section.collections.receivables", Charts: []string{"collections.aging", "collections.overdue_customers"}},
			{Title: "section.collections.due", Charts: []string{"collections.due", "collections.trend"}},
			{Title: "section.collections.who", Charts: []string{"collections.by_org"}},
		},
	})
	// The installments behind a chart: the overdue ones behind the aging and
	// the customers owing most, those due soon behind "due soon" (the drill
	// SQL lists every installment to chase when asked for no point).
	inst := func(all string) *query.Drill {
		return &query.Drill{SQL: "collections_installments.sql", Key: "installment_id", Entity: "installments", All: all}
	}
	needs := []string{"mart_contract_execution", "mart_settlements_due"}
	query.RegisterChart(&query.Chart{
		ID:       "collections.kpis",
		Glossary: []string{"overdue", "due_7d", "due_month", "collections", "bookings"}, Title: "chart.collections.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "collections_kpis.sql", Needs: needs, Build: buildCollectionKPIs,
		Drill: &query.Drill{SQL: "collections_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "collections.aging",
		Glossary: []string{"overdue"}, Title: "chart.collections.aging", Help: "help.collections.aging", Span: 5, Height: 340,
		SQL: "collections_aging.sql", Needs: needs, Build: buildAging, Drill: inst("overdue"),
	})
	query.RegisterChart(&query.Chart{
		ID:       "collections.overdue_customers",
		Glossary: []string{"overdue"}, Title: "chart.collections.overdue_customers", Help: "help.collections.overdue_customers",
		Span: 7, Height: 340, SQL: "collections_overdue_customers.sql", Needs: needs, Build: buildOverdueCustomers, Drill: inst("overdue"),
	})
	query.RegisterChart(&query.Chart{
		ID:       "collections.due",
		Glossary: []string{"due_7d", "due_month"}, Title: "chart.collections.due", Help: "help.collections.due", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "collections_due.sql", Needs: needs, Build: buildDueSoon, Drill: inst("soon"),
	})
	query.RegisterChart(&query.Chart{
		ID:       "collections.trend",
		Glossary: []string{"collections"}, Title: "chart.collections.trend", Help: "help.collections.trend", Span: 6, Height: 340,
		SQL: "collections_trend.sql", Build: buildCollectionTrend,
		Drill: &query.Drill{SQL: "collections_trend_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "collections.by_org",
		Glossary: []string{"bookings", "collections", "overdue"}, Title: "chart.collections.by_org", Help: "help.collections.by_org", Span: 12, Height: 400,
		SQL: "collections_by_org.sql", Needs: needs, Build: buildCollectedVsContracted,
		Drill: &query.Drill{SQL: "collections_org_rows.sql", Key: "record_id"},
	})
}

func buildCollectionKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	o := k["outstanding"]
	ok := kpi(e, "outstanding", "money", o.v, o.ok)
	ok.RowsSum = "unpaid_base"
	ok.Sub = t(e, "kpi.sub.contracts", fmtInt(e, zeroNaN(o.extra)))
	od := k["overdue"]
	odk := kpi(e, "overdue", "money", od.v, od.ok)
	odk.RowsSum = "unpaid_base"
	odk.Sub = t(e, "kpi.sub.contracts", fmtInt(e, zeroNaN(od.extra)))
	if o.ok && o.v > 0 && od.ok {
		odk.Sub = t(e, "kpi.sub.of_outstanding", i18n.Percent(e.Lang, od.v/o.v), fmtInt(e, zeroNaN(od.extra)))
	}
	d7 := k["due_7d"]
	d7k := kpi(e, "due_7d", "money", d7.v, d7.ok)
	d7k.RowsSum = "unpaid_base"
	d7k.Sub = t(e, "kpi.sub.installments", fmtInt(e, zeroNaN(d7.extra)))
	dm := k["due_month"]
	dmk := kpi(e, "due_month", "money", dm.v, dm.ok)
	dmk.RowsSum = "unpaid_base"
	dmk.Sub = t(e, "kpi.sub.installments", fmtInt(e, zeroNaN(dm.extra)))
	c := k["collected"]
	ck := kpi(e, "collected", "money", c.v, c.ok)
	if !math.IsNaN(c.extra) && c.extra > 0 {
		ck.Sub = t(e, "kpi.sub.vs_contracted", fmtMoney(e, c.extra), i18n.Percent(e.Lang, c.v/c.extra))
		ck.Progress = query.Ptr(math.Min(c.v/c.extra, 1))
	}
	return &query.Output{KPIs: []query.KPI{ok, odk, d7k, dmk, ck}}, nil
}

var agingColors = []string{"#e9c46a", query.ColorWarn, "#e07a3f", query.ColorBad}

func buildAging(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats, vals, colors := make([]string, n), make([]float64, n), make([]string, n)
	points := make([]query.Point, n)
	var total, over90 float64
	for i := range r.Rows {
		b := r.Str(i, "bucket")
		cats[i] = t(e, "aging."+b)
		vals[i] = money(e, r.Float(i, "amount"))
		colors[i] = agingColors[min(i, len(agingColors)-1)]
		points[i] = query.Point{Key: "b:" + b}
		total += vals[i]
		if b == ">90" {
			over90 = vals[i]
		}
	}
	a := newAxisChart(cats, false)
	a.coloredBars(t(e, "series.overdue"), vals, colors, true)
	out := &query.Output{Option: finish(a, "money"), Points: points, Legend: a.legend, Empty: total == 0}
	if total > 0 {
		out.Note = t(e, "note.aging", fmtShown(e, total), i18n.Percent(e.Lang, over90/total))
	}
	return out, nil
}

func buildOverdueCustomers(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats, vals, colors := make([]string, n), make([]float64, n), make([]string, n)
	points := make([]query.Point, n)
	for i := range r.Rows {
		cats[i] = r.Str(i, "customer_name")
		vals[i] = money(e, r.Float(i, "overdue_amount"))
		d := r.Float(i, "days_overdue_max")
		switch {
		case d > 90:
			colors[i] = query.ColorBad
		case d > 30:
			colors[i] = "#e07a3f"
		default:
			colors[i] = query.ColorWarn
		}
		points[i] = query.Point{Key: "c:" + r.Str(i, "customer_id")}
	}
	a := newAxisChart(cats, true)
	a.coloredBars(t(e, "series.overdue"), vals, colors, true)
	return &query.Output{Option: finish(a, "money"), Points: points, Labels: cats, Horizontal: true, Legend: a.legend,
		Empty: n == 0, Note: t(e, "note.overdue_customers")}, nil
}

func buildDueSoon(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "due_on", format: "date"},
		{name: "customer_name", format: "text"},
		{name: "contract_id", format: "text"},
		{name: "rep_name", format: "text"},
		{name: "status", format: "code", ns: "due"},
		{name: "unpaid_base", format: "money"},
	}, 25, func(i int) query.Point {
		return query.Point{Key: "soon", Link: customerLink(r.Str(i, "customer_id"))}
	})
	out.Format = "money"
	if len(r.Rows) > 0 {
		var total float64
		for i := range r.Rows {
			total += r.Float(i, "unpaid_base")
		}
		out.Note = t(e, "note.due_soon", fmtInt(e, float64(len(r.Rows))), fmtMoney(e, total))
	}
	emptyAs(out, e, "empty.due_soon")
	return out, nil
}

func buildCollectionTrend(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	due, paid := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	multi := spansYears(r, "month")
	for i := range r.Rows {
		m := r.Date(i, "month")
		cats[i] = monthLabel(e.Lang, m, multi)
		due[i], paid[i] = money(e, r.Float(i, "scheduled")), money(e, r.Float(i, "collected"))
		points[i] = query.Point{Key: m.Format("2006-01")}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.collections"), paid, query.ColorGood, "")
	a.lineSeries(t(e, "series.scheduled"), due, query.ColorTarget, false)
	out := &query.Output{Option: finish(a, "money"), Points: points, Legend: a.legend, Empty: allZeroOrNaN(due, paid)}
	if sd := sum(due); sd > 0 {
		out.Note = t(e, "note.collection_rate", fmtShown(e, sum(paid)), fmtShown(e, sd))
	}
	return out, nil
}

func buildCollectedVsContracted(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	contracted, collected, overdue := make([]float64, n), make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i := range r.Rows {
		cats[i] = r.Str(i, "label")
		key := r.Str(i, "key")
		if r.Str(i, "kind") == "org" {
			points[i] = query.Point{Key: "u:" + key, Zoom: key}
		} else {
			points[i] = query.Point{Key: "r:" + key[len("rep:"):]}
		}
		contracted[i] = money(e, r.Float(i, "contracted"))
		collected[i] = money(e, r.Float(i, "collected"))
		overdue[i] = money(e, r.Float(i, "overdue"))
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.contracted"), contracted, query.ColorActual, "")
	a.bars(t(e, "series.collections"), collected, query.ColorGood, "")
	a.bars(t(e, "series.overdue_now"), overdue, query.ColorBad, "")
	out := &query.Output{Option: finish(a, "money"), Points: points, Labels: cats, Legend: a.legend, Empty: allZeroOrNaN(contracted, collected, overdue)}
	if sc := sum(contracted); sc > 0 {
		out.Note = t(e, "note.collected_vs_contracted", fmtShown(e, sum(collected)), fmtShown(e, sc), i18n.Percent(e.Lang, sum(collected)/sc))
	}
	return out, nil
}
