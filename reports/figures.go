package reports

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
)

// A figure is one chart of a report as its reader sees it (the chart
// engine's JSON, the same the dashboards draw), turned into a table of the
// numbers behind it: categories × series for bars and lines, name × value
// for pies, funnels and treemaps, a grid for heat maps, indicators × series
// for radars, the tiles of a KPI chart, the rows of a table chart.
type figure struct {
	ID      string
	Title   string
	Help    string
	Kind    query.Kind
	State   string // ok, empty, not_computed, error
	Message string
	Format  string
	KPIs    []query.KPI
	Table   *memTable // nil when the chart has nothing to tabulate
	Data    *query.ChartData
	Query   string // the chart API query it was drawn with (the print page repeats it)
}

// memTable is a small table held in memory (a chart's numbers).
type memTable struct {
	Columns []render.Column
	Rows    [][]any
	Chart   *render.Chart
}

func (t *memTable) table(name string) *render.Table {
	return &render.Table{Name: name, Columns: t.Columns, Rows: render.SliceRows(t.Rows), Chart: t.Chart}
}

// series is what figures read of an ECharts option.
type echartsOption struct {
	XAxis  axes            `json:"xAxis"`
	YAxis  axes            `json:"yAxis"`
	Series []echartsSeries `json:"series"`
	Radar  *struct {
		Indicator []struct {
			Name string `json:"name"`
		} `json:"indicator"`
	} `json:"radar"`
}

type axis struct {
	Type string `json:"type"`
	Data []any  `json:"data"`
}

// axes is one axis or a list of them.
type axes []axis

func (a *axes) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var list []axis
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	var one axis
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*a = axes{one}
	return nil
}

type echartsSeries struct {
	Name string            `json:"name"`
	Type string            `json:"type"`
	Data []json.RawMessage `json:"data"`
}

// point is one data item: a number, null, {value: …, name: …}, or an array.
type point struct {
	Name  string
	Value any // float64, []any or nil
}

func parsePoint(raw json.RawMessage) point {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return point{}
	}
	switch x := v.(type) {
	case map[string]any:
		p := point{}
		if n, ok := x["name"].(string); ok {
			p.Name = n
		}
		p.Value = x["value"]
		return p
	default:
		return point{Value: x}
	}
}

func num(v any) any {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		return nil // "-": a gap
	}
	return nil
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// columnName is a machine name for a column label (Parquet field names):
// the label in snake case when it is ASCII, else col_<n>.
func columnName(label string, n int, used map[string]bool) string {
	name := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(label), "_"), "_")
	if name == "" || len(name) > 60 || name[0] >= '0' && name[0] <= '9' {
		name = fmt.Sprintf("col_%d", n)
	}
	base := name
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	used[name] = true
	return name
}

// tabulate turns a chart's JSON into its table.
func tabulate(d *query.ChartData, title, lang string) (*memTable, error) {
	if d.State != "ok" {
		return nil, nil
	}
	used := map[string]bool{}
	col := func(label string, kind render.Kind) render.Column {
		return render.Column{Name: columnName(label, len(used)+1, used), Label: label, Kind: kind}
	}
	switch d.Kind {
	case query.KindKPI:
		t := &memTable{Columns: []render.Column{
			col(word(lang, "indicator"), render.Text), col(word(lang, "value"), render.Number),
			col(word(lang, "shown"), render.Text), col(word(lang, "target"), render.Number),
			col(word(lang, "compare"), render.Number), col(word(lang, "note"), render.Text)}}
		for _, k := range d.KPIs {
			t.Rows = append(t.Rows, []any{k.Label, ptrVal(k.Value), show(lang, d.Currency, k.Format, ptrVal(k.Value)),
				ptrVal(k.Target), ptrVal(k.Compare), k.Sub})
		}
		return t, nil
	case query.KindTable:
		if d.Table == nil {
			return nil, nil
		}
		t := &memTable{}
		for _, c := range d.Table.Columns {
			t.Columns = append(t.Columns, col(c.Label, kindOf(c.Format)))
		}
		for _, r := range d.Table.Rows {
			row := make([]any, len(t.Columns))
			copy(row, r)
			t.Rows = append(t.Rows, row)
		}
		return t, nil
	}
	b, err := json.Marshal(d.Option)
	if err != nil {
		return nil, err
	}
	var o echartsOption
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("chart %s: reading its option: %w", d.ID, err)
	}
	if len(o.Series) == 0 {
		return nil, nil
	}
	kind := kindOf(d.Format)
	first := o.Series[0].Type
	switch first {
	case "pie", "funnel", "treemap":
		s := o.Series[0]
		t := &memTable{Columns: []render.Column{col(word(lang, "name"), render.Text), col(firstNonEmpty(s.Name, word(lang, "value")), kind)}}
		for _, raw := range s.Data {
			p := parsePoint(raw)
			t.Rows = append(t.Rows, []any{p.Name, num(p.Value)})
		}
		ct := render.Bar
		if first == "pie" {
			ct = render.Pie
		}
		t.Chart = &render.Chart{Type: ct, Title: title, Category: t.Columns[0].Name, Series: []string{t.Columns[1].Name}}
		return t, nil
	case "radar":
		if o.Radar == nil {
			return nil, nil
		}
		t := &memTable{Columns: []render.Column{col(word(lang, "series"), render.Text)}}
		for _, ind := range o.Radar.Indicator {
			t.Columns = append(t.Columns, col(ind.Name, render.Number))
		}
		for _, raw := range o.Series[0].Data {
			p := parsePoint(raw)
			row := []any{p.Name}
			vals, _ := p.Value.([]any)
			for i := range o.Radar.Indicator {
				var v any
				if i < len(vals) {
					v = num(vals[i])
				}
				row = append(row, v)
			}
			t.Rows = append(t.Rows, row)
		}
		return t, nil
	case "heatmap":
		if len(o.XAxis) == 0 || len(o.YAxis) == 0 {
			return nil, nil
		}
		xs, ys := o.XAxis[0].Data, o.YAxis[0].Data
		t := &memTable{Columns: []render.Column{col(firstNonEmpty(o.Series[0].Name, ""), render.Text)}}
		t.Columns[0].Label = ""
		for _, x := range xs {
			t.Columns = append(t.Columns, col(fmt.Sprint(x), kind))
		}
		grid := make([][]any, len(ys))
		for i, y := range ys {
			grid[i] = make([]any, len(xs)+1)
			grid[i][0] = fmt.Sprint(y)
		}
		for _, raw := range o.Series[0].Data {
			p := parsePoint(raw)
			v, _ := p.Value.([]any)
			if len(v) < 3 {
				continue
			}
			xi, ok1 := v[0].(float64)
			yi, ok2 := v[1].(float64)
			if ok1 && ok2 && int(yi) < len(grid) && int(xi) < len(xs) {
				grid[int(yi)][int(xi)+1] = num(v[2])
			}
		}
		t.Rows = grid
		return t, nil
	}
	// Bars and lines over a category axis (the y axis of horizontal bars).
	cat := o.XAxis
	if d.Horizontal || (len(o.XAxis) > 0 && o.XAxis[0].Type == "value") {
		cat = o.YAxis
	}
	if len(cat) == 0 || len(cat[0].Data) == 0 {
		return nil, nil
	}
	t := &memTable{Columns: []render.Column{col(word(lang, "category"), render.Text)}}
	for i, s := range o.Series {
		t.Columns = append(t.Columns, col(firstNonEmpty(s.Name, fmt.Sprintf("%s %d", word(lang, "series"), i+1)), kind))
	}
	for i, c := range cat[0].Data {
		row := []any{fmt.Sprint(c)}
		for _, s := range o.Series {
			var v any
			if i < len(s.Data) {
				v = num(parsePoint(s.Data[i]).Value)
			}
			row = append(row, v)
		}
		t.Rows = append(t.Rows, row)
	}
	ct := render.Line
	for _, s := range o.Series {
		if s.Type == "bar" {
			ct = render.Bar
		}
	}
	var series []string
	for _, c := range t.Columns[1:] {
		series = append(series, c.Name)
	}
	t.Chart = &render.Chart{Type: ct, Title: title, Category: t.Columns[0].Name, Series: series}
	return t, nil
}

func ptrVal(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// word is a word of the report writer in a language (catalogue
// report.word.*).
func word(lang, key string) string { return i18n.T(lang, "report.word."+key) }
