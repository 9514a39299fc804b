package query

import (
	"strings"
	"time"

	"github.com/triscope/triscope/query/i18n"
)

// The glossary: one definition of each figure people steer by — bookings,
// collections, pipeline, win rate, attainment, coverage, overdue… — in the
// catalogues as "glossary.<term>" (zh-CN and en) and in docs/glossary.md.
// The SQL that counts them is written once too, as the relations of schema
// scoped (scoped.bookings, scoped.collections, scoped.open_pipeline,
// scoped.closed_deals: access/sql/scoped.sql). Every KPI tile carries its
// term's definition (an ⓘ in the browser) and says over which time it is
// counted when that differs from the page's period.

// Basis says over which time a figure is counted.
type Basis string

// The bases of the figures.
const (
	BasisPeriod Basis = "period" // the page's period
	BasisNow    Basis = "now"    // as at the as-of date, whatever the period
	BasisNext3M Basis = "next3m" // the three months after the as-of date
	BasisToDate Basis = "todate" // everything up to the as-of date
	BasisModels Basis = "models" // as the models computed it at their as-of date
	// BasisDueMonth: due after the models' as-of date up to the month end
	// (of the next month when that date is a month end).
	BasisDueMonth Basis = "duemonth"
	BasisWeek     Basis = "week"  // the ISO week (Monday to Sunday) holding the as-of date, to that date
	BasisMonth    Basis = "month" // the month holding the as-of date, to that date
)

// term is a glossary entry: its catalogue key and its basis.
type term struct {
	key   string
	basis Basis
}

// tileTerms maps a KPI tile's key to its glossary term (several tiles show the
// same figure under another name).
var tileTerms = map[string]term{
	"bookings":           {"bookings", BasisPeriod},
	"contracted":         {"bookings", BasisToDate},
	"terminations":       {"terminations", BasisPeriod},
	"collections":        {"collections", BasisPeriod},
	"revenue":            {"collections", BasisToDate},
	"collected":          {"collections", BasisPeriod},
	"pipeline":           {"pipeline", BasisNow},
	"coverage":           {"coverage", BasisNext3M},
	"win_rate":           {"win_rate", BasisPeriod},
	"attainment":         {"attainment", BasisPeriod},
	"week_bookings":      {"bookings", BasisWeek},
	"month_bookings":     {"bookings", BasisMonth},
	"week_collections":   {"collections", BasisWeek},
	"month_collections":  {"collections", BasisMonth},
	"overdue":            {"overdue", BasisNow},
	"due_7d":             {"due_7d", BasisNow},
	"due_month":          {"due_month", BasisDueMonth},
	"outstanding":        {"outstanding", BasisNow},
	"customers":          {"customers", BasisNow},
	"paying":             {"paying", BasisModels},
	"gold":               {"gold", BasisModels},
	"margin":             {"margin", BasisModels},
	"clv":                {"clv", BasisModels},
	"at_risk":            {"at_risk", BasisModels},
	"velocity":           {"velocity", BasisModels},
	"qualified_open":     {"qualified_open", BasisModels},
	"avg_won":            {"avg_won", BasisModels},
	"cycle_days":         {"cycle_days", BasisModels},
	"activities":         {"activities", BasisPeriod},
	"stalled":            {"stalled", BasisNow},
	"collisions":         {"collisions", BasisModels},
	"collisions_open":    {"collisions_open", BasisModels},
	"collisions_pending": {"collisions_pending", BasisModels},
	"collisions_ruled":   {"collisions_ruled", BasisModels},
	"alerts_total":       {"alerts", BasisModels},
	"severity_high":      {"alerts", BasisModels},
	"severity_medium":    {"alerts", BasisModels},
	"severity_low":       {"alerts", BasisModels},
}

// Definition is the glossary's definition of a term in lang.
func Definition(lang, termKey string) (string, bool) {
	k := "glossary." + termKey
	if !i18n.Has(lang, k) {
		return "", false
	}
	return i18n.T(lang, k), true
}

// TileTerm is the glossary term of a KPI tile ("" when it has none).
func TileTerm(tileKey string) string { return tileTerms[tileKey].key }

// explainKPIs gives every tile its definition and, when it is not counted
// over the page's period, the time it is counted over.
func (s *Service) explainKPIs(e *Env, st *DataState, kpis []KPI) {
	for i := range kpis {
		t, ok := tileTerms[kpis[i].Key]
		if !ok {
			continue
		}
		kpis[i].Info, _ = Definition(e.Lang, t.key)
		kpis[i].When = basisText(e, st, t.basis)
	}
}

// basisText says over which time a figure is counted, for the figures whose
// time differs from the page's period ("" for those counted over it).
func basisText(e *Env, st *DataState, b Basis) string {
	switch b {
	case BasisNow:
		return i18n.T(e.Lang, "when.now", i18n.Date(e.Lang, e.AsOf))
	case BasisToDate:
		return i18n.T(e.Lang, "when.todate", i18n.Date(e.Lang, e.AsOf))
	case BasisNext3M:
		end := time.Date(e.AsOf.Year(), e.AsOf.Month()+4, 0, 0, 0, 0, 0, time.UTC)
		return i18n.T(e.Lang, "when.next3m", i18n.Date(e.Lang, e.AsOf.AddDate(0, 0, 1)), i18n.Date(e.Lang, end))
	case BasisWeek:
		w0 := e.AsOf.AddDate(0, 0, -((int(e.AsOf.Weekday()) + 6) % 7))
		return i18n.T(e.Lang, "when.week", i18n.Date(e.Lang, w0), i18n.Date(e.Lang, w0.AddDate(0, 0, 6)), i18n.Date(e.Lang, e.AsOf))
	case BasisMonth:
		return i18n.T(e.Lang, "when.month", i18n.Month(e.Lang, e.AsOf), i18n.Date(e.Lang, e.AsOf))
	case BasisDueMonth:
		asOf := e.AsOf
		if st != nil && !st.ModelsAsOf.IsZero() {
			asOf = st.ModelsAsOf // the contract execution model's day
		}
		return i18n.T(e.Lang, "when.due_month", i18n.Date(e.Lang, asOf.AddDate(0, 0, 1)), i18n.Date(e.Lang, MonthEndAfter(asOf)))
	case BasisModels:
		if st != nil && !st.ModelsAsOf.IsZero() {
			return i18n.T(e.Lang, "when.models", i18n.Date(e.Lang, st.ModelsAsOf))
		}
	}
	return ""
}

// chartInfo is the definitions of the terms a chart shows (its ⓘ).
func chartInfo(lang string, c *Chart) string {
	var parts []string
	for _, t := range c.Glossary {
		if d, ok := Definition(lang, t); ok {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, "\n\n")
}

// ChartInfo is what a chart card's ⓘ says: the glossary definitions of the
// figures it shows, else its one-line help.
func ChartInfo(lang string, c *Chart) string {
	if s := chartInfo(lang, c); s != "" {
		return s
	}
	if c.Help != "" {
		return i18n.T(lang, c.Help)
	}
	return ""
}

// MonthEndAfter is the month end "due by month end" runs to from asOf: the
// end of asOf's month, or of the next month when asOf is a month end.
func MonthEndAfter(asOf time.Time) time.Time {
	d := asOf.AddDate(0, 0, 1)
	return time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC)
}
