package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/triscope/triscope/query/i18n"
)

// Output is what a chart's Build returns.
type Output struct {
	Option     any      // KindECharts: the option (see Option()); never contains functions
	KPIs       []KPI    // KindKPI
	Table      *Table   // KindTable (or an extra table under a chart)
	Format     string   // how values are shown: money (default), percent, count, days
	Horizontal bool     // values on the x axis (horizontal bars)
	Points     []Point  // per category (data index): what a click does
	Crumbs     []Crumb  // breadcrumbs above the chart
	Note       string   // a localised line under the chart
	Empty      bool     // nothing to show for this selection
	EmptyText  string   // why (localised); default: "no data for this selection"
	Legend     []string // series names, for tests and screen readers
	Labels     []string // per point: its name (treemap clicks are matched by name)
}

// KPI is one tile.
type KPI struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Value   *float64 `json:"value"`
	Format  string   `json:"format"` // money, percent, count, ratio
	Target  *float64 `json:"target,omitempty"`
	Compare *float64 `json:"compare,omitempty"` // the comparison period's value
	Sub     string   `json:"sub,omitempty"`     // localised detail line
	Info    string   `json:"info,omitempty"`    // the glossary's definition of the figure (set by the engine)
	When    string   `json:"when,omitempty"`    // the time it is counted over, when not the page's period
	Point   string   `json:"point,omitempty"`   // drill key ("" = no drill)
	// RowsSum says how the rows behind a money tile make its value: the
	// column they sum ("" = amount_base), "mean:<column>" for an average, or
	// "-" for a formula of them (velocity). TestEveryTileAgreesWithItsRows
	// holds every tile to it.
	RowsSum  string   `json:"rows_sum,omitempty"`
	Progress *float64 `json:"progress,omitempty"`
}

// Table is a small table drawn by the browser.
type Table struct {
	Columns []TableColumn `json:"columns"`
	Rows    [][]any       `json:"rows"`
}

// TableColumn is a column of a Table.
type TableColumn struct {
	Label  string `json:"label"`
	Format string `json:"format"` // text, money, percent, count, date
}

// Point says what a click on a data point (by data index) does.
type Point struct {
	Key  string `json:"key"`            // drill key passed as $point; "" = nothing
	Zoom string `json:"zoom,omitempty"` // org unit to zoom into (sets ?org=) instead of drilling
	Link string `json:"link,omitempty"` // a page of ours to open instead ("/customers/C1"; local paths only)
	// Filter is a global filter a click sets instead (a cross-filter, e.g.
	// {"pl": "Cloud"}): the page reloads filtered, with the value as a chip.
	Filter map[string]string `json:"filter,omitempty"`
}

// Crumb is a step of the breadcrumbs.
type Crumb struct {
	Key   string `json:"key"` // org unit ("" = not a link)
	Label string `json:"label"`
}

// ChartData is the JSON served at /api/charts/{id}.
type ChartData struct {
	ID         string    `json:"id"`
	Kind       Kind      `json:"kind"`
	State      string    `json:"state"` // ok, empty, not_computed, error
	Missing    []string  `json:"missing,omitempty"`
	Message    string    `json:"message,omitempty"`
	Option     any       `json:"option,omitempty"`
	KPIs       []KPI     `json:"kpis,omitempty"`
	Table      *Table    `json:"table,omitempty"`
	Format     string    `json:"format"`
	Currency   string    `json:"currency"`
	Horizontal bool      `json:"horizontal,omitempty"`
	Points     []Point   `json:"points,omitempty"`
	Crumbs     []Crumb   `json:"crumbs,omitempty"`
	Note       string    `json:"note,omitempty"`
	Drill      bool      `json:"drill"`
	Legend     []string  `json:"legend,omitempty"`
	Labels     []string  `json:"labels,omitempty"`
	Freshness  Freshness `json:"freshness"`
	Version    string    `json:"version"`
	Millis     int64     `json:"ms"`
}

// Missing lists the Needs of a chart that do not exist at this data state.
func (c *Chart) missing(st *DataState) []string {
	var out []string
	for _, n := range c.Needs {
		if !st.Objects[n] {
			out = append(out, n)
		}
	}
	return out
}

func (c *Chart) usesModels() bool {
	if q, err := ReadSQL(c.SQL); err == nil && (strings.Contains(q, "mart_") || strings.Contains(q, "pipeline_at")) {
		return true
	}
	return false
}

// Data returns the chart's JSON for a request, from the cache when the same
// chart, parameters, scope, language and data version were asked before.
// The returned bool says whether it came from the cache.
func (s *Service) Data(e *Env, c *Chart) ([]byte, bool, error) {
	start := time.Now()
	st, err := s.State(e.Ctx)
	if err != nil {
		return nil, false, err
	}
	p, err := e.params(c)
	if err != nil {
		return nil, false, err
	}
	key := strings.Join([]string{"data", c.ID, st.Version, e.Lang, e.Currency(), sortedKey(allBound(p))}, "|")
	if b, ok := s.cache.get(key); ok {
		s.observe(c.ID, "data", time.Since(start), true, nil)
		return b, true, nil
	}
	v, err, _ := s.group.Do(key, func() (any, error) {
		// Shared by every request waiting for this key: a client that goes
		// away must not cancel it for the others (and the result is cached).
		shared := *e
		shared.Ctx = context.WithoutCancel(e.Ctx)
		out := s.build(&shared, c, st, p)
		out.Millis = time.Since(start).Milliseconds()
		b, err := jsonBytes(out)
		if err != nil {
			return nil, err
		}
		if out.State != "error" {
			s.cache.put(key, b)
		}
		return b, nil
	})
	s.observe(c.ID, "data", time.Since(start), false, err)
	if err != nil {
		return nil, false, err
	}
	return v.([]byte), false, nil
}

func allBound(p map[string]any) []Bound {
	out := make([]Bound, 0, len(p))
	for k, v := range p {
		out = append(out, Bound{k, v})
	}
	return out
}

func (s *Service) observe(chart, kind string, d time.Duration, cached bool, err error) {
	if f, _ := s.observer.Load().(func(string, string, time.Duration, bool, error)); f != nil {
		f(chart, kind, d, cached, err)
	} else if s.opts.Observe != nil {
		s.opts.Observe(chart, kind, d, cached, err)
	}
}

func (s *Service) build(e *Env, c *Chart, st *DataState, p map[string]any) *ChartData {
	out := &ChartData{ID: c.ID, Kind: c.Kind, State: "ok", Format: "money", Currency: e.Currency(),
		Drill: c.Drill != nil, Version: st.Version, Freshness: s.Freshness(st, e.Lang, c.usesModels())}
	if c.OneUnit && len(e.F.Orgs) > 1 {
		out.State, out.Message = "empty", i18n.T(e.Lang, "state.one_unit")
		return out
	}
	if miss := c.missing(st); len(miss) > 0 {
		out.State, out.Missing = "not_computed", miss
		out.Message = i18n.T(e.Lang, "state.not_computed", strings.Join(miss, ", "))
		return out
	}
	q, err := ReadSQL(c.SQL)
	if err != nil {
		return s.fail(out, e, c, err)
	}
	_, args, err := bind(q, p)
	if err != nil {
		return s.fail(out, e, c, err)
	}
	res, err := s.result(e.Ctx, st, c.SQL, q, args)
	if err != nil {
		return s.fail(out, e, c, err)
	}
	o, err := c.Build(e, res)
	if err != nil {
		return s.fail(out, e, c, err)
	}
	if o.Empty {
		out.State = "empty"
		out.Message = i18n.T(e.Lang, "state.empty")
		if o.EmptyText != "" {
			out.Message = o.EmptyText
		}
	}
	s.explainKPIs(e, st, o.KPIs)
	out.Option, out.KPIs, out.Table, out.Horizontal = o.Option, o.KPIs, o.Table, o.Horizontal
	out.Points, out.Crumbs, out.Note, out.Legend, out.Labels = o.Points, o.Crumbs, o.Note, o.Legend, o.Labels
	if o.Format != "" {
		out.Format = o.Format
	}
	return out
}

// result runs a chart's query, once per data version and arguments: the
// same query in another language or display currency is the same result,
// and so is another chart's drawing of it (the magnifier's breakdown, share
// and table read one query), also when a page asks for them at the same time
// (a browser loads a page's charts at once: three runs of the same query on
// two cores made the first view of the magnifier slower than one). The run
// is shared, so no one request's going away cancels it.
func (s *Service) result(ctx context.Context, st *DataState, file, q string, args []any) (*Result, error) {
	key := st.Version + "|" + file + "|" + fmt.Sprintf("%#v", args)
	if res, ok := s.results.get(key); ok {
		return res, nil
	}
	v, err, _ := s.group.Do("result|"+key, func() (any, error) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.QueryTimeout)
		defer cancel()
		res, err := run(ctx, s.opts.DB, q, args, s.opts.Location)
		s.observe(file, "sql", time.Since(start), false, err)
		if err != nil {
			return nil, err
		}
		shorten(res.Rows) // a chart's labels and tables, not whole long texts
		s.results.put(key, res)
		return res, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Result), nil
}

func (s *Service) fail(out *ChartData, e *Env, c *Chart, err error) *ChartData {
	s.log.Error("chart failed", "chart", c.ID, "scope", e.Scope.Key(), "err", err)
	out.State = "error"
	out.Message = i18n.T(e.Lang, "state.error")
	return out
}

// SQLInfo is what the "SQL" button shows.
type SQLInfo struct {
	Chart       string  `json:"chart"`
	File        string  `json:"file"`
	SQL         string  `json:"sql"`
	Params      []Bound `json:"params"`
	DrillFile   string  `json:"drill_file,omitempty"`
	DrillSQL    string  `json:"drill_sql,omitempty"`
	DrillParams []Bound `json:"drill_params,omitempty"`
	Definitions string  `json:"definitions"`
}

// SQL returns the exact SQL of a chart and the values bound to it for this request.
func (s *Service) SQL(e *Env, c *Chart, point string) (*SQLInfo, error) {
	p, err := e.params(c)
	if err != nil {
		return nil, err
	}
	q, err := ReadSQL(c.SQL)
	if err != nil {
		return nil, err
	}
	b, _, err := bind(q, p)
	if err != nil {
		return nil, err
	}
	info := &SQLInfo{Chart: c.ID, File: c.SQL, SQL: q, Params: b}
	texts := []string{q}
	if c.Drill != nil {
		dq, err := ReadSQL(c.Drill.SQL)
		if err != nil {
			return nil, err
		}
		if point == "" {
			point = c.Drill.All
		}
		p["point"] = nullable(point)
		db, _, err := bind(dq, p)
		if err != nil {
			return nil, err
		}
		info.DrillFile, info.DrillSQL, info.DrillParams = c.Drill.SQL, dq, db
		texts = append(texts, dq)
	}
	info.Definitions = s.Definitions(texts...)
	return info, nil
}

// Rows is a page of drill-through rows.
type Rows struct {
	Chart    string   `json:"chart"`
	Point    string   `json:"point"`
	Columns  []Column `json:"columns"`
	Labels   []string `json:"labels"`
	Rows     [][]any  `json:"rows"`
	Total    int64    `json:"total"`
	Page     int      `json:"page"`
	PageSize int      `json:"page_size"`
	Sort     int      `json:"sort"` // 1-based column
	Desc     bool     `json:"desc"`
	Currency string   `json:"currency"`
	Rate     float64  `json:"rate"`
	// Shortened says some text values were cut to fit the dialog (the
	// export holds them whole).
	Shortened bool `json:"shortened,omitempty"`
}

// Bounds of the text a rows page carries: a value longer than
// MaxCellChars characters is cut (a dialog cell cannot show more), and once
// a page holds maxPageTextBytes of text the rest are cut to a glimpse. With
// the loader's bound on text values this keeps a page's JSON to a few MB
// whatever the data holds (hardening issue, finding 9).
const (
	MaxCellChars     = 1000
	glimpseChars     = 40
	maxPageTextBytes = 4 << 20
)

// shorten cuts the text values of rows to the bounds above and says whether
// it cut any.
func shorten(rows [][]any) bool {
	cut, budget := false, maxPageTextBytes
	for _, row := range rows {
		for i, v := range row {
			s, ok := v.(string)
			if !ok {
				continue
			}
			limit := MaxCellChars
			if budget <= 0 {
				limit = glimpseChars
			}
			if short, ok := cutText(s, limit); ok {
				row[i], s, cut = short, short, true
			}
			budget -= len(s)
		}
	}
	return cut
}

// ShortText is s cut to MaxCellChars characters (with an ellipsis when it
// was longer): what a page shows of a text value.
func ShortText(s string) string {
	short, _ := cutText(s, MaxCellChars)
	return short
}

// cutText returns s cut to n characters with an ellipsis, and whether it
// was longer.
func cutText(s string, n int) (string, bool) {
	if len(s) <= n { // bytes ≥ characters
		return s, false
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…", true
		}
		i++
	}
	return s, false
}

// ErrNoDrill is returned for a chart without drill-through.
var ErrNoDrill = errors.New("chart has no drill-through")

// ErrBadParam is returned (wrapped) for a request parameter out of range: a
// page past what can be listed, a sort column the rows do not have, a point
// the query cannot read. The HTTP faces answer 400.
var ErrBadParam = errors.New("bad parameter")

// Bounds of a rows page.
const (
	MaxPageSize = 500
	maxSortCol  = 64
)

// badParamError classifies a query error caused by a request's parameters
// (a sort column past the last, a point that does not convert) as ErrBadParam.
func badParamError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range []string{"ORDER term out of range", "Conversion Error", "Out of Range Error"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: %s", ErrBadParam, firstLine(msg))
		}
	}
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// checkPage validates a rows page request.
func checkPage(sortCol, page, size int) error {
	switch {
	case size < 1 || size > MaxPageSize:
		return fmt.Errorf("%w: page size %d (1 to %d)", ErrBadParam, size, MaxPageSize)
	case page < 1 || page > MaxExportRows/size+1:
		return fmt.Errorf("%w: page %d (1 to %d at %d rows a page)", ErrBadParam, page, MaxExportRows/size+1, size)
	case sortCol < 0 || sortCol > maxSortCol:
		return fmt.Errorf("%w: sort column %d", ErrBadParam, sortCol)
	}
	return nil
}

// MaxExportRows bounds an export (a LIMIT in the SQL: DuckDB materialises results).
const MaxExportRows = 1_000_000

func (s *Service) drillQuery(e *Env, c *Chart, point string) (string, []any, error) {
	if c.Drill == nil {
		return "", nil, ErrNoDrill
	}
	if st, err := s.State(e.Ctx); err != nil {
		return "", nil, err
	} else if miss := c.missing(st); len(miss) > 0 {
		return "", nil, fmt.Errorf("not computed yet: %s", strings.Join(miss, ", "))
	}
	p, err := e.params(c)
	if err != nil {
		return "", nil, err
	}
	if !utf8.ValidString(point) {
		return "", nil, fmt.Errorf("%w: the point is not UTF-8 text", ErrBadParam)
	}
	if point == "" {
		point = c.Drill.All
	}
	p["point"] = nullable(clean(point, 200))
	q, err := ReadSQL(c.Drill.SQL)
	if err != nil {
		return "", nil, err
	}
	q = strings.TrimRight(strings.TrimSpace(q), ";")
	_, args, err := bind(q, p)
	return q, args, err
}

// DrillRows returns one page of the rows behind a point, sorted by a column
// (1-based position; 0 = the drill SQL's own order).
func (s *Service) DrillRows(e *Env, c *Chart, point string, sortCol int, desc bool, page, size int) (*Rows, error) {
	start := time.Now()
	q, args, err := s.drillQuery(e, c, point)
	if err != nil {
		return nil, err
	}
	if err := checkPage(sortCol, page, size); err != nil {
		return nil, err
	}
	st, err := s.State(e.Ctx)
	if err != nil {
		return nil, err
	}
	key := strings.Join([]string{"rows", c.ID, st.Version, e.Lang, e.Currency(), point, itoa(sortCol), fmt.Sprint(desc), itoa(page), itoa(size), sortedKey(argsBound(args))}, "|")
	if b, ok := s.cache.get(key); ok {
		var r Rows
		if err := jsonUnmarshal(b, &r); err == nil {
			s.observe(c.ID, "rows", time.Since(start), true, nil)
			return &r, nil
		}
	}
	ctx, cancel := context.WithTimeout(e.Ctx, s.opts.QueryTimeout)
	defer cancel()
	order := ""
	if sortCol > 0 && sortCol <= 64 {
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		order = fmt.Sprintf("ORDER BY %d %s NULLS LAST", sortCol, dir)
	}
	wrapped := fmt.Sprintf("SELECT *, count(*) OVER () AS __total FROM (\n%s\n) AS rows_behind %s LIMIT %d OFFSET %d", q, order, size, (page-1)*size)
	res, err := run(ctx, s.opts.DB, wrapped, args, s.opts.Location)
	s.observe(c.ID, "rows", time.Since(start), false, err)
	if err != nil {
		return nil, badParamError(err)
	}
	out := &Rows{Chart: c.ID, Point: point, Page: page, PageSize: size, Sort: sortCol, Desc: desc, Currency: e.Currency(), Rate: e.Rate}
	n := len(res.Columns) - 1
	out.Columns = res.Columns[:n]
	for _, col := range out.Columns {
		out.Labels = append(out.Labels, ColumnLabel(e.Lang, col.Name))
	}
	for _, row := range res.Rows {
		out.Total = toInt(row[n])
		out.Rows = append(out.Rows, row[:n])
	}
	if len(res.Rows) == 0 && page > 1 {
		// Past the end: count the rows.
		cres, err := run(ctx, s.opts.DB, fmt.Sprintf("SELECT count(*) AS n FROM (\n%s\n) AS rows_behind", q), args, nil)
		if err == nil {
			out.Total = cres.Int(0, "n")
		}
	}
	if out.Columns == nil {
		out.Columns = []Column{}
	}
	out.Shortened = shorten(out.Rows)
	if b, err := jsonBytes(out); err == nil {
		s.cache.put(key, b)
	}
	return out, nil
}

func argsBound(args []any) []Bound {
	var out []Bound
	for _, a := range args {
		out = append(out, Bound{fmt.Sprint(a), nil})
	}
	return out
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// ColumnLabel is the localised header of a result column ("col.<name>" in
// the catalogue), else the column name.
func ColumnLabel(lang, name string) string {
	if k := "col." + name; i18n.Has(lang, k) {
		return i18n.T(lang, k)
	}
	return name
}

// CodeLabel is the label the UI shows for a code value of a column (a
// status, a stage, a channel, an industry…: "val.<kind>.<code>" in the
// catalogue), and whether the value is a known code. It is the rule app.js
// applies in the browser, for exports and reports.
func CodeLabel(lang, col string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", false
	}
	kinds := []string{col}
	switch col {
	case "status":
		kinds = []string{"status", "stage", "method"}
	case "previous_segment":
		kinds = []string{"segment"}
	}
	for _, k := range kinds {
		if key := "val." + k + "." + s; i18n.Has(lang, key) {
			return i18n.T(lang, key), true
		}
	}
	return "", false
}

// AllRows returns every row behind a point (up to MaxExportRows), for export.
func (s *Service) AllRows(e *Env, c *Chart, point string, sortCol int, desc bool) (*Result, bool, error) {
	q, args, err := s.drillQuery(e, c, point)
	if err != nil {
		return nil, false, err
	}
	if sortCol < 0 || sortCol > maxSortCol {
		return nil, false, fmt.Errorf("%w: sort column %d", ErrBadParam, sortCol)
	}
	order := ""
	if sortCol > 0 {
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		order = fmt.Sprintf("ORDER BY %d %s NULLS LAST", sortCol, dir)
	}
	ctx, cancel := context.WithTimeout(e.Ctx, 5*s.opts.QueryTimeout)
	defer cancel()
	res, err := run(ctx, s.opts.DB, fmt.Sprintf("SELECT * FROM (\n%s\n) AS rows_behind %s LIMIT %d", q, order, MaxExportRows+1), args, s.opts.Location)
	if err != nil {
		return nil, false, badParamError(err)
	}
	truncated := len(res.Rows) > MaxExportRows
	if truncated {
		res.Rows = res.Rows[:MaxExportRows]
	}
	return res, truncated, nil
}

// Query runs an embedded SQL file of the registry (query/charts/sql) that is
// not a chart — an entity page's header, the collision list — with the
// request's standard parameters (the scope among them) and extra ones, through
// the same gated read pool, timeout and normalisation as every chart. It is
// the one way the faces read the warehouse besides charts.
func (s *Service) Query(e *Env, file string, extra map[string]any) (*Result, error) {
	q, err := ReadSQL(file)
	if err != nil {
		return nil, err
	}
	p := e.StandardParams()
	for k, v := range extra {
		if _, std := p[k]; std {
			return nil, fmt.Errorf("%s: parameter $%s is a standard parameter", file, k)
		}
		p[k] = v
	}
	res, err := s.query(e.Ctx, q, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return res, nil
}

// Map returns row i as a map from column name to value.
func (r *Result) Map(i int) map[string]any {
	m := make(map[string]any, len(r.Columns))
	for j, c := range r.Columns {
		m[c.Name] = r.Rows[i][j]
	}
	return m
}
