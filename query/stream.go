package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Cursor reads the rows behind a point one at a time, for exports that
// stream to a file (a scheduled report's XLSX, CSV or Parquet of a million
// rows) instead of holding every row as Go values like AllRows. Values are
// normalised as in a Result. DuckDB still materialises the result before
// the first row (in its own columnar form): bound it with limit.
type Cursor struct {
	Columns []Column
	rows    *sql.Rows
	cancel  context.CancelFunc
	types   []string
	loc     *time.Location
	vals    []any
	ptrs    []any
	err     error
}

// OpenRows runs a chart's drill-through query for a point (NULL point: the
// rows behind the whole chart) with the request's scope, sorted by a column
// (1-based; 0 = the drill SQL's order), at most limit rows (≤ 0: no limit),
// and returns a cursor over them. The caller closes it.
func (s *Service) OpenRows(e *Env, c *Chart, point string, sortCol int, desc bool, limit int64) (*Cursor, error) {
	q, args, err := s.drillQuery(e, c, point)
	if err != nil {
		return nil, err
	}
	order := ""
	if sortCol > 0 && sortCol <= 64 {
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		order = fmt.Sprintf("ORDER BY %d %s NULLS LAST", sortCol, dir)
	}
	lim := ""
	if limit > 0 {
		lim = fmt.Sprintf("LIMIT %d", limit)
	}
	// An export may take longer than an interactive query.
	ctx, cancel := context.WithTimeout(e.Ctx, 20*s.opts.QueryTimeout)
	rows, err := s.opts.DB.QueryContext(ctx, fmt.Sprintf("SELECT * FROM (\n%s\n) AS rows_behind %s %s", q, order, lim), args...)
	if err != nil {
		cancel()
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		cancel()
		return nil, err
	}
	cur := &Cursor{rows: rows, cancel: cancel, loc: s.opts.Location, types: make([]string, len(types))}
	for i, t := range types {
		cur.types[i] = strings.ToUpper(t.DatabaseTypeName())
		cur.Columns = append(cur.Columns, Column{Name: t.Name(), Type: columnType(t.Name(), cur.types[i])})
	}
	cur.vals = make([]any, len(types))
	cur.ptrs = make([]any, len(types))
	for i := range cur.vals {
		cur.ptrs[i] = &cur.vals[i]
	}
	return cur, nil
}

// Next advances to the next row.
func (c *Cursor) Next() bool {
	if c.err != nil || !c.rows.Next() {
		return false
	}
	for i := range c.vals {
		c.vals[i] = nil
	}
	if err := c.rows.Scan(c.ptrs...); err != nil {
		c.err = err
		return false
	}
	for i, v := range c.vals {
		c.vals[i] = normalize(v, c.types[i], c.loc)
	}
	return true
}

// Values is the current row (reused by the next call to Next).
func (c *Cursor) Values() []any { return c.vals }

// Err is the error that ended the rows, if any.
func (c *Cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.rows.Err()
}

// Close releases the result.
func (c *Cursor) Close() error {
	err := c.rows.Close()
	c.cancel()
	return err
}
