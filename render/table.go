// Package render writes tables and documents in the formats every face of
// Triscope hands out: CSV, XLSX (with native Excel charts), Parquet and a
// mail-safe HTML; render/chromium turns pages and HTML into PDF and PNG.
//
// A Table is a header (columns with a kind) and a row iterator: no writer
// needs all rows in memory, so a million-row export streams to its writer.
// Every CSV the product writes goes through WriteCSV (or at least
// NeutraliseCell), which defuses spreadsheet formulas.
//
// Values a writer understands, per kind (what query results and
// database/sql give):
//
//	text      string, []byte, fmt.Stringer, anything else through fmt.Sprint
//	number,   int*, uint*, float*, *big.Int, *big.Rat, a decimal with
//	integer,  Float64() float64 (duckdb.Decimal), a decimal string ("-12.50")
//	money,
//	percent   (a percent is a fraction: 0.253 is 25.3 %)
//	date      time.Time (its own calendar day), "2006-01-02"
//	time      time.Time (an instant, shown in Options.Location)
//	bool      bool
//
// nil is an empty cell (NULL in Parquet); so is a NaN or infinite number.
package render

import (
	"database/sql"
	"fmt"
	"io"
	"time"
)

// Kind is what a column holds. The names are the chart engine's column
// types, so a query result's column converts with Kind(col.Type).
type Kind string

// The kinds of column.
const (
	Text    Kind = "text"
	Number  Kind = "number"  // a measure with decimals (DOUBLE)
	Integer Kind = "integer" // a count (BIGINT)
	Money   Kind = "money"   // an amount with cents (DECIMAL(18,2))
	Percent Kind = "percent" // a fraction shown as a percentage
	Date    Kind = "date"    // a calendar day
	Time    Kind = "time"    // an instant (TIMESTAMPTZ)
	Bool    Kind = "bool"
)

func (k Kind) numeric() bool { return k == Number || k == Integer || k == Money || k == Percent }

// Column is one column of a table.
type Column struct {
	Name  string // machine name, snake_case: the Parquet field
	Label string // localised header shown to people ("" = Name)
	Kind  Kind   // "" = Text
}

func (c Column) header() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

func (c Column) kind() Kind {
	if c.Kind == "" {
		return Text
	}
	return c.Kind
}

// Rows iterates over a table's rows, once.
type Rows interface {
	// Next advances to the next row; false at the end or on an error.
	Next() bool
	// Values is the current row, one value per column. The writer does not
	// keep it after the next call to Next, so an iterator may reuse it.
	Values() []any
	// Err is the error that stopped the iteration, if any.
	Err() error
}

// Table is what a writer writes: a name, columns and rows.
type Table struct {
	Name    string // sheet name (XLSX), caption (HTML); localised
	Columns []Column
	Rows    Rows
	Chart   *Chart // a native chart of the rows (XLSX); nil = none
}

// ChartType is the type of a native chart.
type ChartType string

// The chart types of Chart.
const (
	Bar  ChartType = "bar" // vertical bars (Excel's column chart)
	Line ChartType = "line"
	Pie  ChartType = "pie"
)

// Chart describes a chart over a table's rows: one category column and one
// or more value columns (a pie uses the first).
type Chart struct {
	Type     ChartType
	Title    string   // localised
	Category string   // column name of the categories (x axis, pie slices)
	Series   []string // column names of the values
}

// Options are the choices shared by the writers.
type Options struct {
	// Translate, when set, gives the text the UI shows for a value (a code's
	// label, a localised enum, a formatted amount). It is asked for every
	// value of a CSV and of an HTML table, and for text and bool values of
	// an XLSX (whose numbers and dates stay numbers and dates). ok=false
	// leaves the value to the writer's own formatting.
	Translate func(c Column, v any) (s string, ok bool)
	// Location is the time zone in which instants (Time columns) are shown
	// in CSV, XLSX and HTML. nil = UTC. Parquet stores instants in UTC.
	Location *time.Location
}

func (o *Options) loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// SliceRows iterates over rows held in memory.
func SliceRows(rows [][]any) Rows { return &sliceRows{rows: rows, i: -1} }

type sliceRows struct {
	rows [][]any
	i    int
}

func (s *sliceRows) Next() bool    { s.i++; return s.i < len(s.rows) }
func (s *sliceRows) Values() []any { return s.rows[s.i] }
func (s *sliceRows) Err() error    { return nil }

// RowsFunc iterates by calling a function that returns the next row, or
// io.EOF after the last one.
type RowsFunc func() ([]any, error)

// Rows adapts f to the Rows interface.
func (f RowsFunc) Rows() Rows { return &funcRows{f: f} }

type funcRows struct {
	f   func() ([]any, error)
	cur []any
	err error
}

func (r *funcRows) Next() bool {
	if r.err != nil {
		return false
	}
	row, err := r.f()
	if err != nil { // io.EOF at the end
		r.cur, r.err = nil, err
		return false
	}
	r.cur = row
	return true
}

func (r *funcRows) Values() []any { return r.cur }

func (r *funcRows) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// SQLRows iterates over a database/sql result (the caller closes it). Byte
// slices become strings.
func SQLRows(rows *sql.Rows) (Rows, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	r := &sqlRows{rows: rows, vals: make([]any, len(cols)), ptrs: make([]any, len(cols))}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

type sqlRows struct {
	rows       *sql.Rows
	vals, ptrs []any
	err        error
}

func (r *sqlRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = err
		return false
	}
	for i, v := range r.vals {
		if b, ok := v.([]byte); ok {
			r.vals[i] = string(b)
		}
	}
	return true
}

func (r *sqlRows) Values() []any { return r.vals }

func (r *sqlRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// rowError names the row and column of a value a writer cannot write.
func rowError(t *Table, row int64, col int, err error) error {
	return fmt.Errorf("render: table %q, row %d, column %s: %w", t.Name, row, t.Columns[col].Name, err)
}

func errWidth(got, want int) error {
	return fmt.Errorf("a row of %d values for %d columns", got, want)
}

// check validates a table's shape and its chart's columns.
func (t *Table) check() error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("render: table %q has no columns", t.Name)
	}
	if t.Rows == nil {
		return fmt.Errorf("render: table %q has no rows iterator (use SliceRows(nil) for none)", t.Name)
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		switch c.kind() {
		case Text, Number, Integer, Money, Percent, Date, Time, Bool:
		default:
			return fmt.Errorf("render: table %q, column %s: unknown kind %q", t.Name, c.Name, c.Kind)
		}
		if c.Name == "" {
			return fmt.Errorf("render: table %q has a column without a name", t.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("render: table %q has two columns named %s", t.Name, c.Name)
		}
		seen[c.Name] = true
	}
	if ch := t.Chart; ch != nil {
		switch ch.Type {
		case Bar, Line, Pie:
		default:
			return fmt.Errorf("render: table %q: unknown chart type %q", t.Name, ch.Type)
		}
		if t.col(ch.Category) < 0 {
			return fmt.Errorf("render: table %q: chart category %q is not a column", t.Name, ch.Category)
		}
		if len(ch.Series) == 0 {
			return fmt.Errorf("render: table %q: chart has no series", t.Name)
		}
		for _, s := range ch.Series {
			i := t.col(s)
			if i < 0 {
				return fmt.Errorf("render: table %q: chart series %q is not a column", t.Name, s)
			}
			if !t.Columns[i].kind().numeric() {
				return fmt.Errorf("render: table %q: chart series %q is not numeric", t.Name, s)
			}
		}
	}
	return nil
}

func (t *Table) col(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}
