package query

import (
	"math"
)

// Palette is the series colours of every chart (a calm, print-friendly set).
var Palette = []string{"#1d4e89", "#2a9d8f", "#e9a23b", "#8d99ae", "#c8553d", "#6a4c93", "#4ea8de", "#94b447"}

// Semantic colours.
const (
	ColorActual  = "#1d4e89"
	ColorTarget  = "#e9a23b"
	ColorCompare = "#a9b4c2"
	ColorGood    = "#2a9d8f"
	ColorWarn    = "#e9a23b"
	ColorBad     = "#c8553d"
	ColorMuted   = "#8d99ae"
)

// EChart is what go-echarts charts (charts.Bar, charts.Line, ...) provide.
type EChart interface {
	Validate()
	JSON() map[string]interface{}
}

// Option turns a go-echarts chart into its option, ready to be served as JSON
// (encoding/json escapes <, > and &). go-echarts' own HTML renderer, which
// writes the option unescaped into an inline <script>, is never used; nor are
// JavaScript functions (opts.FuncOpts): formatting is done by app.js.
func Option(c EChart) map[string]any {
	c.Validate()
	m := c.JSON()
	m["color"] = Palette
	for _, k := range []string{"title", "toolbox"} {
		if v, ok := m[k].(map[string]any); ok && len(v) == 0 {
			delete(m, k)
		}
	}
	return m
}

// Num turns a float into a JSON value for a series: NaN and ±Inf become null
// (a gap); amounts are rounded to cents, small values (shares, rates) keep 6 decimals.
func Num(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	if math.Abs(f) < 100 {
		return math.Round(f*1e6) / 1e6
	}
	return math.Round(f*100) / 100
}

// Ptr returns a pointer to f (KPI fields), nil for NaN.
func Ptr(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}
