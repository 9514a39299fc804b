// Package postgres reads a table or query of a PostgreSQL database (a
// company's operational CRM) as a source.Table: the rows stream as
// PostgreSQL's own text output, in a UTC session, with the row ordinal as
// line.
//
// Incremental extraction: with a watermark column (usually updated_at) only
// the rows whose watermark is at or after Since are read, ordered by it, and
// MaxWatermark is the highest value read. The loader keeps the watermark of
// the last committed load (source_watermarks) and saves the new one in the
// load's own transaction, so a failed or killed load leaves it where it was.
// ">=" re-reads the rows of the last instant (they come back unchanged)
// rather than miss rows committed later with the same timestamp. Rows deleted
// in the database are only seen by a snapshot, which reads the whole table.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/triscope/triscope/etl/source"
)

// Source is one table or query of a database.
type Source struct {
	DSN       string // with credentials: used to connect, never stored
	Label     string // postgres://host:port/db: what messages and the warehouse call it
	Query     string // a SELECT, or BaseQuery of a table
	Watermark string // column for incremental reads ("" = read everything)
	Since     string // watermark of the last committed load ("" = everything)
	Snapshot  bool   // read everything, whatever the watermark

	maxWM string
}

// Label is the connection string without credentials or options.
func Label(dsn string) (string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "localhost"
	}
	return fmt.Sprintf("postgres://%s:%d/%s", host, cfg.Port, cfg.Database), nil
}

// BaseQuery is the SELECT that reads a table (schema.table) or query.
func BaseQuery(table, query string) string {
	base := query
	if base == "" {
		var parts []string
		for _, p := range strings.Split(table, ".") {
			parts = append(parts, quoteIdent(p))
		}
		base = "SELECT * FROM " + strings.Join(parts, ".")
	}
	return strings.TrimRight(strings.TrimSpace(base), ";")
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// MaxWatermark is the highest watermark read so far ("" when none).
func (s *Source) MaxWatermark() string { return s.maxWM }

func (s *Source) query() (string, [][]byte) {
	wm := s.Watermark
	if wm == "" {
		return s.Query, nil
	}
	q := fmt.Sprintf("SELECT * FROM (%s) AS _triscope_src", s.Query)
	var args [][]byte
	if s.Since != "" && !s.Snapshot {
		q += fmt.Sprintf(" WHERE %s >= $1 OR %s IS NULL", quoteIdent(wm), quoteIdent(wm))
		args = [][]byte{[]byte(s.Since)}
	}
	return q + fmt.Sprintf(" ORDER BY %s NULLS FIRST", quoteIdent(wm)), args
}

// Open connects and starts the query; rows are read as text.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	conn, err := pgconn.Connect(ctx, s.DSN)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.Label, err)
	}
	for _, set := range []string{"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET default_transaction_read_only = on", "SET extra_float_digits = 1"} {
		if _, err := conn.Exec(ctx, set).ReadAll(); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("%s: %s: %w", s.Label, set, err)
		}
	}
	q, args := s.query()
	rr := conn.ExecParams(ctx, q, args, nil, nil, []int16{0})
	fds := rr.FieldDescriptions()
	if fds == nil {
		_, err := rr.Close()
		conn.Close(ctx)
		if err == nil {
			err = errors.New("the query returns no columns")
		}
		return nil, fmt.Errorf("query: %w", err)
	}
	t := &Table{s: s, conn: conn, rr: rr, wmIdx: -1}
	t.header = make([]string, len(fds))
	for i, fd := range fds {
		t.header[i] = fd.Name
		if s.Watermark != "" && strings.EqualFold(fd.Name, s.Watermark) {
			t.wmIdx = i
		}
	}
	if s.Watermark != "" && t.wmIdx < 0 {
		t.Close()
		return nil, fmt.Errorf("the watermark column %q is not in the result of the query", s.Watermark)
	}
	return t, nil
}

// Table yields the column names (as line 0) and then the rows of the query.
type Table struct {
	s          *Source
	conn       *pgconn.PgConn
	rr         *pgconn.ResultReader
	wmIdx      int
	ordinal    int64
	header     []string
	sentHeader bool
	rec        []string
}

// Next returns the next row.
func (t *Table) Next() (source.Row, error) {
	if !t.sentHeader {
		t.sentHeader = true
		return source.Row{Fields: t.header}, nil
	}
	if t.rr == nil || !t.rr.NextRow() {
		if t.rr != nil {
			_, err := t.rr.Close()
			t.rr = nil
			if err != nil {
				return source.Row{Line: t.ordinal}, fmt.Errorf("reading %s: %w", t.s.Label, err)
			}
		}
		return source.Row{}, io.EOF
	}
	t.ordinal++
	vals := t.rr.Values()
	if cap(t.rec) < len(vals) {
		t.rec = make([]string, len(vals))
	}
	t.rec = t.rec[:len(vals)]
	for i, v := range vals {
		t.rec[i] = string(v)
	}
	if t.wmIdx >= 0 && t.rec[t.wmIdx] != "" {
		t.s.maxWM = t.rec[t.wmIdx]
	}
	return source.Row{Fields: t.rec, Line: t.ordinal}, nil
}

// Pending: nothing is refused by the reader itself.
func (t *Table) Pending() []source.Reject { return nil }

// Traits: text output, as wide as the header, the column names first.
func (t *Table) Traits() source.Traits {
	return source.Traits{Encoding: "postgres", StrictWidth: true, FixedHeader: true}
}

// Close ends the query and the connection.
func (t *Table) Close() error {
	if t.rr != nil {
		t.rr.Close()
		t.rr = nil
	}
	if t.conn != nil {
		t.conn.Close(context.Background())
		t.conn = nil
	}
	return nil
}
