package charts

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// segmentOrder is the order of the RFM segments on the customers page: the
// RFM model's segment map from the best to the lost (docs/models/rfm.md).
var segmentOrder = []string{"champions", "loyal", "potential_loyalist", "new", "promising",
	"need_attention", "about_to_sleep", "at_risk", "cant_lose", "hibernating"}

// segmentNone is the segment of a customer with no purchase by the date.
const segmentNone = "none"

// movementAxis orders the segments of one axis: 'none' first when it is
// wanted (always on the previous axis) or present, then segmentOrder, then
// any segment the page does not know yet (sorted), so that no cell is lost.
func movementAxis(seen map[string]bool, withNone bool) []string {
	var out []string
	if withNone || seen[segmentNone] {
		out = append(out, segmentNone)
	}
	out = append(out, segmentOrder...)
	var extra []string
	for s := range seen {
		if s != segmentNone && !slices.Contains(segmentOrder, s) {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// buildSegmentMovement: a heat map of customers by their RFM segment at the
// comparison date (rows, 'none' first) and now (columns). A click on a cell
// lists the customers who moved from the row's segment to the column's.
func buildSegmentMovement(e *query.Env, r *query.Result) (*query.Output, error) {
	prevSeen, curSeen := map[string]bool{}, map[string]bool{}
	var from, to time.Time // the comparison date and the as-of date
	for i := range r.Rows {
		prevSeen[r.Str(i, "previous_segment")] = true
		curSeen[r.Str(i, "segment")] = true
		if d := r.Date(i, "previous_as_of"); !d.IsZero() && (from.IsZero() || d.Before(from)) {
			from = d
		}
		if d := r.Date(i, "as_of"); d.After(to) {
			to = d
		}
	}
	ys := movementAxis(prevSeen, true)
	xs := movementAxis(curSeen, false)
	yLabels, xLabels := make([]string, len(ys)), make([]string, len(xs))
	for i, s := range ys {
		yLabels[i] = segmentName(e, s)
	}
	for i, s := range xs {
		xLabels[i] = segmentName(e, s)
	}
	maxN := 1.0
	var total, changed, first float64
	var data []opts.HeatMapData
	var points []query.Point
	var labels []string
	for i := range r.Rows {
		p, s := r.Str(i, "previous_segment"), r.Str(i, "segment")
		n := r.Float(i, "customers")
		if n == 0 {
			continue
		}
		total += n
		if p != s {
			changed += n
		}
		if p == segmentNone {
			first += n
		}
		maxN = math.Max(maxN, n)
		name := segmentName(e, p) + " → " + segmentName(e, s)
		data = append(data, opts.HeatMapData{Name: name, Value: []any{slices.Index(xs, s), slices.Index(ys, p), n}})
		points = append(points, query.Point{Key: "mv:" + p + ":" + s})
		labels = append(labels, name)
	}
	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "30", Bottom: "36", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: xLabels, Name: t(e, "axis.segment_on", i18n.Date(e.Lang, to)),
			NameLocation: "middle", NameGap: 44}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: yLabels, Name: t(e, "axis.segment_on", i18n.Date(e.Lang, from)),
			NameLocation: "start", Inverse: opts.Bool(true)}),
		charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(false), Min: 0, Max: float32(maxN), Show: opts.Bool(false),
			InRange: &opts.VisualMapInRange{Color: []string{"#eef3fa", "#9bbbe0", "#1d4e89"}}}),
	)
	hm.AddSeries(t(e, "series.customers"), data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true)}))
	m := plain(query.Option(hm))
	// Every segment is labelled (app.js hides overlapping labels by default):
	// long names on the x axis wrap instead.
	for _, ax := range asMaps(m["xAxis"]) {
		ax["axisLabel"] = map[string]any{"interval": 0, "hideOverlap": false, "width": 96, "overflow": "break", "lineHeight": 14}
		ax["nameTextStyle"] = map[string]any{"fontWeight": "bold", "color": "#4a5a6b"}
	}
	for _, ax := range asMaps(m["yAxis"]) {
		ax["axisLabel"] = map[string]any{"interval": 0, "hideOverlap": false}
		ax["nameTextStyle"] = map[string]any{"align": "right", "fontWeight": "bold", "color": "#4a5a6b"}
	}
	for _, s := range asMaps(m["series"]) {
		s["itemStyle"] = map[string]any{"borderColor": "#fff", "borderWidth": 1}
	}
	out := &query.Output{Option: m, Points: points, Labels: labels, Format: "count",
		Legend: []string{t(e, "series.customers")}, Empty: total == 0}
	if total > 0 && !from.IsZero() && !to.IsZero() {
		days := int(math.Round(to.Sub(from).Hours() / 24))
		out.Note = t(e, "note.segment_movement", i18n.Date(e.Lang, from), days,
			fmtInt(e, changed), fmtInt(e, total), fmtInt(e, first))
	}
	return out, nil
}
