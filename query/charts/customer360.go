package charts

import (
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// The customer 360 (/customers/{id}): figures, 7P against the segment,
// purchases by month, deals, contracts, settlement plan, payments, activities
// and alerts on one page. The header (profile, lifecycle, owner, RFM, tier,
// cross-sell) is drawn by the server (dashboards/entities.go).
func init() {
	query.RegisterPage(&query.Page{
		ID: "customers.detail", Path: "/customers/:id", Title: "page.customer",
		Filters: []string{"cur"},
		Sections: []query.Section{
			{Charts: []string{"customer.kpis"}},
			{Charts: []string{"customer.months", "customer.radar"}},
			{Title: "section.customer.deals", Charts: []string{"customer.opportunities", "customer.contracts"}},
			{Title: "section.customer.money", Charts: []string{"customer.schedule", "customer.payments"}},
			{Title: "section.customer.contact", Charts: []string{"customer.activities", "customer.alerts"}},
		},
	})
	p := func(e *query.Env) (map[string]any, error) { return map[string]any{"customer": pathID(e)}, nil }
	query.RegisterChart(&query.Chart{
		ID:       "customer.kpis",
		Glossary: []string{"collections", "bookings", "outstanding", "overdue", "pipeline", "clv", "margin"}, Title: "chart.customer.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "customer_kpis.sql", Needs: []string{"mart_contract_execution", "mart_clv", "mart_customer_value"}, Params: p, Build: buildCustomer360KPIs,
		Drill: &query.Drill{SQL: "customer_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "customer.months",
		Glossary: []string{"bookings", "collections"}, Title: "chart.customer.months", Help: "help.customer.months", Span: 8, Height: 320,
		SQL: "customer_months.sql", Params: p, Build: buildCustomerMonths,
		Drill: &query.Drill{SQL: "customer_rows.sql", Key: "record_id"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.radar", Title: "chart.customer.radar", Help: "help.customer.radar", Span: 4, Height: 320,
		SQL: "customer_radar.sql", Needs: []string{"mart_customer_value_peers"}, Params: p, Build: buildCustomerRadar,
		Drill: &query.Drill{SQL: "customers_rows.sql", Key: "customer_id", Entity: "customers"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.opportunities", Glossary: []string{"pipeline", "win_rate"}, Title: "chart.customer.opportunities", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_opps.sql", Params: p, Build: buildCustomerOpps,
		Drill: &query.Drill{SQL: "customer_opps.sql", Key: "opportunity_id", Entity: "opportunities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.contracts", Glossary: []string{"bookings", "outstanding"}, Title: "chart.customer.contracts", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_contracts.sql", Needs: []string{"mart_contract_execution"}, Params: p, Build: buildCustomerContracts,
		Drill: &query.Drill{SQL: "customer_contracts.sql", Key: "contract_id", Entity: "contracts"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.schedule", Title: "chart.customer.schedule", Help: "help.customer.schedule", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_schedule.sql", Needs: []string{"mart_settlements_due"}, Params: p, Build: buildCustomerSchedule,
		Drill: &query.Drill{SQL: "customer_schedule.sql", Key: "installment_id", Entity: "installments"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.payments", Glossary: []string{"collections"}, Title: "chart.customer.payments", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_payments.sql", Params: p, Build: buildCustomerPayments,
		Drill: &query.Drill{SQL: "customer_payments.sql", Key: "payment_id", Entity: "payments"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.activities", Glossary: []string{"activities"}, Title: "chart.customer.activities", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_activities.sql", Params: p, Build: buildCustomerActivities,
		Drill: &query.Drill{SQL: "customer_activities.sql", Key: "activity_id", Entity: "activities"},
	})
	query.RegisterChart(&query.Chart{
		ID: "customer.alerts", Glossary: []string{"alerts"}, Title: "chart.customer.alerts", Kind: query.KindTable, Span: 6, Height: 340,
		SQL: "customer_alerts.sql", Needs: []string{"mart_alerts"}, Params: p, Build: buildCustomerAlerts,
		Drill: &query.Drill{SQL: "customer_alerts.sql", Key: "alert_id", Entity: "alerts"},
	})
}

func buildCustomer360KPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	rv := k["revenue"]
	rk := kpi(e, "revenue", "money", rv.v, rv.ok)
	c := k["contracted"]
	ck := kpi(e, "contracted", "money", c.v, c.ok)
	ck.Sub = t(e, "kpi.sub.contracts", fmtInt(e, zeroNaN(c.extra)))
	if c.ok && c.v > 0 && rv.ok {
		rk.Sub = t(e, "kpi.sub.of_contracted", i18n.Percent(e.Lang, rv.v/c.v))
		rk.Progress = query.Ptr(math.Min(rv.v/c.v, 1))
	}
	o := k["outstanding"]
	ok := kpi(e, "outstanding", "money", o.v, o.ok)
	ok.RowsSum = "unpaid_base"
	if !math.IsNaN(o.extra) && o.extra > 0 {
		ok.Sub = t(e, "kpi.sub.overdue_days", fmtMoney(e, o.extra), fmtInt(e, zeroNaN(o.extra2)))
	} else {
		ok.Sub = t(e, "kpi.sub.nothing_overdue")
	}
	p := k["pipeline"]
	pk := kpi(e, "pipeline", "money", p.v, p.ok)
	pk.Sub = t(e, "kpi.sub.open_weighted", fmtInt(e, zeroNaN(p.extra2)), fmtMoney(e, zeroNaN(p.extra)))
	l := k["clv"]
	lk := kpi(e, "clv", "money", l.v, l.ok)
	lk.Point = "" // a model's figure, not a sum of rows
	if !math.IsNaN(l.extra) {
		lk.Sub = t(e, "kpi.sub.p_alive", i18n.Percent(e.Lang, l.extra))
	}
	m := k["margin"]
	mk := kpi(e, "margin", "money", m.v, m.ok)
	mk.Point = ""
	if !math.IsNaN(m.extra) {
		mk.Sub = t(e, "kpi.sub.value_index", fmtInt(e, m.extra))
	}
	return &query.Output{KPIs: []query.KPI{rk, ck, ok, pk, lk, mk}}, nil
}

func buildCustomerMonths(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	b, c := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i := range r.Rows {
		m := r.Date(i, "month")
		cats[i] = i18n.Month(e.Lang, m)
		b[i], c[i] = money(e, nullable(r, i, "bookings")), money(e, nullable(r, i, "collections"))
		points[i] = query.Point{Key: "m:" + m.Format("2006-01")}
	}
	a := newAxisChart(cats, false)
	a.bars(t(e, "series.bookings"), b, query.ColorActual, "")
	a.bars(t(e, "series.collections"), c, query.ColorGood, "")
	return &query.Output{Option: finish(a, "money"), Points: points, Legend: a.legend, Empty: allZeroOrNaN(b, c)}, nil
}

func buildCustomerRadar(e *query.Env, r *query.Result) (*query.Output, error) {
	rc := radarChart(e)
	var data []opts.RadarData
	var points []query.Point
	var legend []string
	colors := []string{query.ColorActual, query.ColorTarget}
	segment, tier := "", ""
	for i := range r.Rows {
		vals := make([]any, len(sevenP))
		for j, p := range sevenP {
			vals[j] = query.Num(nullable(r, i, p))
		}
		segment, tier = r.Str(i, "segment"), r.Str(i, "tier")
		var name string
		var point query.Point
		if r.Str(i, "who") == "customer" {
			name = t(e, "series.this_customer")
			point = query.Point{Key: "id:" + pathString(e)}
		} else {
			if segment != "" {
				name = t(e, "series.segment_mean", segmentName(e, segment))
				point = query.Point{Key: "seg:" + segment}
			} else {
				name = t(e, "series.tier_mean", code(e, "tier", tier))
				point = query.Point{Key: "tier:" + tier}
			}
		}
		data = append(data, opts.RadarData{Name: name, Value: vals})
		points = append(points, point)
		legend = append(legend, name)
	}
	rc.AddSeries(t(e, "chart.customer.radar"), data,
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.12)}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.ColorBy = "data" }))
	m := plain(query.Option(rc))
	m["color"] = colors
	radarRadius(m, "58%")
	if lg, ok := m["legend"].(map[string]any); ok {
		lg["data"] = legend
	}
	return emptyAs(&query.Output{Option: m, Points: points, Labels: legend, Format: "count", Legend: legend, Empty: len(data) == 0}, e, "empty.customer.radar"), nil
}

func pathString(e *query.Env) string {
	if v, ok := pathID(e).(string); ok {
		return v
	}
	return ""
}

func buildCustomerOpps(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "opportunity_id", format: "text"},
		{name: "created_on", format: "date"},
		{name: "status", format: "code"},
		{name: "amount_base", format: "money"},
		{name: "product_line", format: "text"},
		{name: "competitor", format: "text"},
		{name: "close_reason", format: "code"},
	}, 30, func(i int) query.Point {
		id := r.Str(i, "opportunity_id")
		return query.Point{Key: id, Link: dealLink(id)}
	})
	out.Format = "money"
	emptyAs(out, e, "empty.customer.opportunities")
	return out, nil
}

func buildCustomerContracts(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "contract_id", format: "text"},
		{name: "signed_on", format: "date"},
		{name: "execution", format: "code"},
		{name: "amount_base", format: "money"},
		{name: "paid_to_date", format: "money"},
		{name: "outstanding", format: "money"},
		{name: "days_overdue_max", format: "days"},
	}, 30, func(i int) query.Point { return query.Point{Key: r.Str(i, "contract_id")} })
	out.Format = "money"
	emptyAs(out, e, "empty.customer.contracts")
	return out, nil
}

func buildCustomerSchedule(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "contract_id", format: "text"},
		{name: "due_on", format: "date"},
		{name: "amount_due_base", format: "money"},
		{name: "amount_paid_base", format: "money"},
		{name: "state", format: "code"},
	}, 30, func(i int) query.Point { return query.Point{Key: r.Str(i, "installment_id")} })
	out.Format = "money"
	emptyAs(out, e, "empty.customer.schedule")
	return out, nil
}

func buildCustomerPayments(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "paid_on", format: "date"},
		{name: "contract_id", format: "text"},
		{name: "method", format: "code"},
		{name: "amount_base", format: "money"},
	}, 30, func(i int) query.Point { return query.Point{Key: r.Str(i, "payment_id")} })
	out.Format = "money"
	emptyAs(out, e, "empty.customer.payments")
	return out, nil
}

func buildCustomerActivities(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "date", format: "date"},
		{name: "kind", format: "code", ns: "status"},
		{name: "rep_name", format: "text"},
		{name: "opportunity_id", format: "text"},
		{name: "campaign", format: "text"},
	}, 30, func(i int) query.Point {
		if id := r.Str(i, "opportunity_id"); id != "" {
			return query.Point{Key: r.Str(i, "activity_id"), Link: dealLink(id)}
		}
		return query.Point{Key: r.Str(i, "activity_id")}
	})
	out.Format = "count"
	emptyAs(out, e, "empty.customer.activities")
	return out, nil
}

func buildCustomerAlerts(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "severity", format: "code"},
		{name: "kind", format: "code", ns: "alert"},
		{name: "detail", format: "text"},
		{name: "since", format: "date"},
	}, 30, func(i int) query.Point { return query.Point{Key: r.Str(i, "alert_id")} })
	// The model's detail text, in the user's language.
	for i, row := range out.Table.Rows {
		row[2] = AlertDetail(e.Lang, e.Currency(), e.Rate, r.Str(i, "kind"), r.Str(i, "detail"))
	}
	out.Format = "count"
	emptyAs(out, e, "empty.customer.alerts")
	return out, nil
}
