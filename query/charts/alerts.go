package charts

import (
	"strings"

	"github.com/triscope/triscope/query"
)

// Alerts: what the alerts model flagged (purchases falling, settlements due or
// overdue, contracts ending, stalled deals, forecast below target), filtered
// by kind and severity, by unit, and as a list with links to the customer or
// deal.
var (
	alertKinds      = []string{"settlement_overdue", "settlement_due", "purchases_down", "stalled_deal", "contract_ending", "forecast_below_target"}
	alertSeverities = []string{"high", "medium", "low"}
)

func init() {
	kinds := []query.Choice{{Value: "", Label: "filter.all_kinds"}}
	for _, k := range alertKinds {
		kinds = append(kinds, query.Choice{Value: k, Label: "val.alert." + k})
	}
	sevs := []query.Choice{{Value: "", Label: "filter.all_severities"}}
	for _, s := range alertSeverities {
		sevs = append(sevs, query.Choice{Value: s, Label: "val.severity." + s})
	}
	query.RegisterPage(&query.Page{
		ID: "alerts", Path: "/alerts", Title: "page.alerts", Nav: 7,
		Filters: []string{"org", "cur"},
		Controls: []query.Control{
			{Param: "kind", Label: "control.alert_kind", Options: kinds},
			{Param: "severity", Label: "control.severity", Options: sevs},
		},
		Sections: []query.Section{
			{Charts: []string{"alerts.kpis"}},
			{Charts: []string{"alerts.by_kind", "alerts.by_org"}},
			{Charts: []string{"alerts.list"}},
			{Charts: []string{"alerts.by_customer"}},
		},
	})
	p := func(e *query.Env) (map[string]any, error) {
		return map[string]any{
			"kind":     nullableStr(e.Param("kind", "", alertKinds...)),
			"severity": nullableStr(e.Param("severity", "", alertSeverities...)),
		}, nil
	}
	drill := &query.Drill{SQL: "alerts_rows.sql", Key: "alert_id", Entity: "alerts"}
	needs := []string{"mart_alerts"}
	query.RegisterChart(&query.Chart{
		ID:       "alerts.kpis",
		Glossary: []string{"alerts"}, Title: "chart.alerts.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "alerts_kpis.sql", Needs: needs, Params: p, Build: buildAlertKPIs, Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "alerts.by_kind",
		Glossary: []string{"alerts"}, Title: "chart.alerts.by_kind", Help: "help.alerts.by_kind", Span: 6, Height: 340,
		SQL: "alerts_by_kind.sql", Needs: needs, Params: p, Build: buildAlertsByKind, Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "alerts.by_org",
		Glossary: []string{"alerts"}, Title: "chart.alerts.by_org", Help: "help.alerts.by_org", Span: 6, Height: 340,
		SQL: "alerts_by_org.sql", Needs: needs, Params: p, Build: buildAlertsByOrg, Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "alerts.by_customer",
		Glossary: []string{"alerts", "at_risk_money"}, Title: "chart.alerts.by_customer", Help: "help.alerts.by_customer", Kind: query.KindTable, Span: 12, Height: 420,
		SQL: "alerts_by_customer.sql", Needs: needs, Params: p, Build: buildAlertsByCustomer, Drill: drill,
	})
	// The top alerts of a home page: the Telescope (executives, managers:
	// their unit) and a rep's page (the rep's own).
	query.RegisterChart(&query.Chart{
		ID:       "alerts.top",
		Glossary: []string{"alerts", "at_risk_money"}, Title: "chart.alerts.top", Help: "help.alerts.top", Kind: query.KindTable, Span: 12, Height: 300,
		SQL: "alerts_top.sql", Needs: needs, Build: buildTopAlerts,
		Params: func(e *query.Env) (map[string]any, error) { return map[string]any{"rep": pathID(e)}, nil },
		Drill:  &query.Drill{SQL: "alerts_top_rows.sql", Key: "alert_id", Entity: "alerts"},
	})
	query.RegisterChart(&query.Chart{
		ID:       "alerts.list",
		Glossary: []string{"alerts"}, Title: "chart.alerts.list", Help: "help.alerts.list", Kind: query.KindTable, Span: 12, Height: 520,
		SQL: "alerts_list.sql", Needs: needs, Params: p, Build: buildAlertList, Drill: drill,
	})
}

func nullableStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var severityColors = map[string]string{"high": query.ColorBad, "medium": query.ColorWarn, "low": "#4ea8de"}

func buildAlertKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	tot := k["total"]
	tk := kpi(e, "alerts_total", "count", tot.v, tot.ok)
	tk.Point = "total"
	tk.Sub = t(e, "kpi.sub.customers_concerned", fmtInt(e, zeroNaN(tot.extra)))
	out := &query.Output{KPIs: []query.KPI{tk}}
	for _, s := range alertSeverities {
		x := k[s]
		sk := kpi(e, "severity_"+s, "count", x.v, x.ok)
		sk.Point = "sev:" + s
		out.KPIs = append(out.KPIs, sk)
	}
	return out, nil
}

func buildAlertsByKind(e *query.Env, r *query.Result) (*query.Output, error) {
	counts := map[string]map[string]float64{}
	var kinds []string
	for i := range r.Rows {
		k := r.Str(i, "kind")
		if counts[k] == nil {
			counts[k] = map[string]float64{}
			kinds = append(kinds, k)
		}
		counts[k][r.Str(i, "severity")] += r.Float(i, "alerts")
	}
	// in the order of alertKinds, unknown kinds last
	var ordered []string
	for _, k := range alertKinds {
		if counts[k] != nil {
			ordered = append(ordered, k)
		}
	}
	for _, k := range kinds {
		if !contains(alertKinds, k) {
			ordered = append(ordered, k)
		}
	}
	cats := make([]string, len(ordered))
	points := make([]query.Point, len(ordered))
	for i, k := range ordered {
		cats[i] = code(e, "alert", k)
		points[i] = query.Point{Key: "k:" + k}
	}
	a := newAxisChart(cats, true)
	total := 0.0
	for _, s := range alertSeverities {
		vals := make([]float64, len(ordered))
		for i, k := range ordered {
			vals[i] = counts[k][s]
			total += vals[i]
		}
		a.bars(code(e, "severity", s), vals, severityColors[s], "sev")
	}
	return &query.Output{Option: finish(a, "count"), Points: points, Labels: cats, Horizontal: true, Format: "count", Legend: a.legend, Empty: total == 0}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func buildAlertsByOrg(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	if n > 15 {
		n = 15
	}
	cats := make([]string, n)
	points := make([]query.Point, n)
	vals := map[string][]float64{}
	for _, s := range alertSeverities {
		vals[s] = make([]float64, n)
	}
	total := 0.0
	for i := 0; i < n; i++ {
		cats[i] = r.Str(i, "label")
		key := r.Str(i, "key")
		if r.Str(i, "kind") == "org" {
			points[i] = query.Point{Key: "u:" + key, Zoom: key}
		} else {
			points[i] = query.Point{Key: "r:" + key[len("rep:"):]}
		}
		for _, s := range alertSeverities {
			vals[s][i] = r.Float(i, s)
			total += vals[s][i]
		}
	}
	a := newAxisChart(cats, true)
	for _, s := range alertSeverities {
		a.bars(code(e, "severity", s), vals[s], severityColors[s], "sev")
	}
	return &query.Output{Option: finish(a, "count"), Points: points, Labels: cats, Horizontal: true, Format: "count", Legend: a.legend, Empty: total == 0}, nil
}

func buildAlertList(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "amount_at_risk", format: "money"},
		{name: "severity", format: "code"},
		{name: "kind", format: "code", ns: "alert"},
		{name: "subject_name", format: "text"},
		{name: "detail", format: "text"},
		{name: "since", format: "date"},
		{name: "rep_name", format: "text"},
	}, 100, func(i int) query.Point { return alertPoint(r, i, "k:"+r.Str(i, "kind")) })
	for i, row := range out.Table.Rows {
		row[4] = AlertDetail(e.Lang, e.Currency(), e.Rate, r.Str(i, "kind"), r.Str(i, "detail"))
	}
	out.Format = "count"
	return out, nil
}

// alertPoint opens what an alert is about: the deal, the unit (zoom) or the
// customer.
func alertPoint(r *query.Result, i int, key string) query.Point {
	p := query.Point{Key: key}
	switch r.Str(i, "subject_type") {
	case "opportunity":
		p.Link = dealLink(r.Str(i, "subject_id"))
	case "org_unit":
		p.Zoom = r.Str(i, "subject_id")
	default:
		p.Link = customerLink(r.Str(i, "customer_id"))
	}
	return p
}

func buildTopAlerts(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "amount_at_risk", format: "money"},
		{name: "severity", format: "code"},
		{name: "kind", format: "code", ns: "alert"},
		{name: "subject_name", format: "text"},
		{name: "detail", format: "text"},
		{name: "rep_name", format: "text"},
	}, 0, func(i int) query.Point { return alertPoint(r, i, r.Str(i, "alert_id")) })
	for i, row := range out.Table.Rows {
		row[4] = AlertDetail(e.Lang, e.Currency(), e.Rate, r.Str(i, "kind"), r.Str(i, "detail"))
	}
	if len(r.Rows) == 0 {
		out.Note = t(e, "note.no_alerts")
	}
	out.Format = "money"
	return out, nil
}

func buildAlertsByCustomer(e *query.Env, r *query.Result) (*query.Output, error) {
	out := tableOf(e, r, []tcol{
		{name: "customer_name", format: "text"},
		{name: "amount_at_risk", format: "money"},
		{name: "alerts", format: "count"},
		{name: "severity", format: "code"},
		{name: "kinds", format: "text"},
		{name: "rep_name", format: "text"},
	}, 50, func(i int) query.Point {
		return query.Point{Key: "c:" + r.Str(i, "customer_id"), Link: customerLink(r.Str(i, "customer_id"))}
	})
	for i, row := range out.Table.Rows {
		var kinds []string
		for _, k := range strings.Split(r.Str(i, "kinds"), ",") {
			kinds = append(kinds, code(e, "alert", k))
		}
		row[4] = strings.Join(kinds, t(e, "list.sep"))
	}
	out.Format = "money"
	return out, nil
}
