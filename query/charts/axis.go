package charts

import (
	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/triscope/triscope/query"
)

// axisChart builds a category × value chart (bars and lines) with go-echarts
// types. Formatting of values (money, percent) is applied in the browser by
// app.js from ChartData.Format, never by JavaScript in the option.
type axisChart struct {
	bar        *charts.Bar
	line       *charts.Line
	horizontal bool
	legend     []string
	unlegended []string // series drawn in per-bar colours: kept out of the legend
	markLine   *float64
}

func newAxisChart(cats []string, horizontal bool) *axisChart {
	a := &axisChart{bar: charts.NewBar(), line: charts.NewLine(), horizontal: horizontal}
	a.bar.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Left: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "4", Right: "16", Top: "34", Bottom: "4", ContainLabel: opts.Bool(true)}),
	)
	if horizontal {
		a.bar.XYReversal()
		a.bar.SetGlobalOptions(
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}),
			charts.WithXAxisOpts(opts.XAxis{Type: "value"}),
		)
	} else {
		a.bar.SetGlobalOptions(
			charts.WithXAxisOpts(opts.XAxis{Type: "category"}),
			charts.WithYAxisOpts(opts.YAxis{Type: "value"}),
		)
	}
	a.bar.SetXAxis(cats)
	a.line.SetXAxis(cats)
	return a
}

// bars adds a bar series; stack groups bars on top of each other ("" = side by side).
func (a *axisChart) bars(name string, vals []float64, color, stack string) {
	so := []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: color})}
	if stack != "" {
		so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: stack}))
	}
	so = append(so, charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.BarMaxWidth = "36" }))
	a.bar.AddSeries(name, barData(vals), so...)
	a.legend = append(a.legend, name)
}

// coloredBars adds a bar series with one colour per bar.
func (a *axisChart) coloredBars(name string, vals []float64, colors []string, label bool) {
	data := make([]opts.BarData, len(vals))
	for i, v := range vals {
		data[i] = opts.BarData{Value: query.Num(v), ItemStyle: &opts.ItemStyle{Color: colors[i]}}
	}
	so := []charts.SeriesOpts{charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.BarMaxWidth = "28" })}
	if label {
		pos := "top"
		if a.horizontal {
			pos = "right"
			a.bar.SetGlobalOptions(charts.WithGridOpts(opts.Grid{Left: "4", Right: "48", Top: "34", Bottom: "4", ContainLabel: opts.Bool(true)}))
		}
		so = append(so, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: pos}))
	}
	a.bar.AddSeries(name, data, so...)
	// No legend entry: its swatch would show one colour for bars of several
	// (the note under the chart says what the colours mean).
	a.unlegended = append(a.unlegended, name)
}

// lineSeries adds a line; dashed for comparisons, area for filled trends.
func (a *axisChart) lineSeries(name string, vals []float64, color string, dashed bool) {
	style := opts.LineStyle{Color: color, Width: 2}
	if dashed {
		style.Type = "dashed"
	}
	a.line.AddSeries(name, lineData(vals),
		charts.WithLineStyleOpts(style),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: color}),
		charts.WithLineChartOpts(opts.LineChart{Symbol: "circle", ConnectNulls: opts.Bool(false)}),
	)
	a.legend = append(a.legend, name)
}

// markers adds a series drawn as points only (no line), for comparison.
func (a *axisChart) markers(name string, vals []float64, color string) {
	a.line.AddSeries(name, lineData(vals),
		charts.WithLineStyleOpts(opts.LineStyle{Color: color, Width: 0, Opacity: opts.Float(0)}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: color}),
		charts.WithLineChartOpts(opts.LineChart{Symbol: "diamond", ConnectNulls: opts.Bool(false)}),
	)
	a.legend = append(a.legend, name)
}

// option renders the chart.
func (a *axisChart) option() map[string]any {
	if len(a.line.MultiSeries) > 0 {
		a.bar.Overlap(a.line)
	}
	if len(a.unlegended) > 0 {
		// The legend lists only the series whose swatch is their colour.
		a.bar.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(a.legend) > 0), Top: "0", Left: "0", Data: a.legend}))
	}
	return query.Option(a.bar)
}
