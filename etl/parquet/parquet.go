// Package parquet reads a Parquet file as a source.Table through DuckDB's
// reader, every value cast to text (Traits.Typed: the values are typed
// already, so the loader casts them back without the text parsers). Line
// numbers are row numbers (1-based).
//
// DuckDB's read_parquet takes a glob pattern, not a path: payments[1].parquet
// would match payments1.parquet. Pattern characters in the path are escaped
// as one-character classes ([[] for [), and the pattern is checked to match
// exactly the file before it is read.
package parquet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/triscope/triscope/etl/source"
)

// Source is a Parquet file read through the DuckDB database db (any
// connection: reading a file writes nothing).
type Source struct {
	DB     *sql.DB
	Path   string
	Limits source.Limits
}

// batchRows is how many rows one query reads: DuckDB materialises a result
// before it returns it, so a file is read in row ranges (the reader skips
// the row groups outside a range).
const batchRows = 50000

// Table yields the rows of the file.
type Table struct {
	ctx     context.Context
	db      *sql.DB
	from    string // read_parquet(...)
	header  []string
	sel     string
	total   int64
	next    int64 // first row of the next batch
	rows    *sql.Rows
	vals    []sql.NullString
	ptrs    []any
	rec     []string
	started bool
}

// Pattern is the glob pattern that matches exactly path in DuckDB's file
// functions (read_parquet, read_csv, read_json, glob).
func Pattern(path string) string {
	var b strings.Builder
	for _, r := range path {
		switch r {
		case '[', ']', '*', '?':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func quote(s string) string      { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Open checks that DuckDB reads exactly this file and reads its columns.
func (s *Source) Open(ctx context.Context) (source.Table, error) {
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		return nil, err
	}
	pat := quote(Pattern(abs))
	rows, err := s.DB.QueryContext(ctx, "SELECT file FROM glob("+pat+")")
	if err != nil {
		return nil, err
	}
	var files []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return nil, err
		}
		files = append(files, f)
	}
	rows.Close()
	if len(files) != 1 || filepath.Clean(files[0]) != abs {
		return nil, fmt.Errorf("the path cannot be handed to DuckDB exactly (it matches %d files: %s); rename the file without [ ] * ? characters", len(files), strings.Join(files, ", "))
	}
	t := &Table{ctx: ctx, db: s.DB, from: "read_parquet(" + pat + ", file_row_number = true)"}
	lim := s.Limits.WithDefaults()
	cols, err := s.DB.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+t.from+")")
	if err != nil {
		return nil, fmt.Errorf("cannot read as Parquet: %v", err)
	}
	var sel []string
	for cols.Next() {
		var n string
		cols.Scan(&n)
		if n == "file_row_number" {
			continue
		}
		t.header = append(t.header, n)
		// A value longer than the limit is cut just past it, so that a huge
		// one is neither materialised nor passed on; the loader refuses it.
		v := "CAST(" + quoteIdent(n) + " AS VARCHAR)"
		sel = append(sel, fmt.Sprintf("CASE WHEN strlen(%s) > %d THEN %s[1:%d] ELSE %s END", v, lim.MaxTextBytes, v, lim.MaxTextBytes+1, v))
	}
	cols.Close()
	if len(t.header) == 0 {
		return nil, errors.New("cannot read as Parquet: the file has no columns")
	}
	if err := s.DB.QueryRowContext(ctx, "SELECT count(*) FROM "+t.from).Scan(&t.total); err != nil {
		return nil, fmt.Errorf("cannot read as Parquet: %v", err)
	}
	t.sel = "SELECT file_row_number + 1, " + strings.Join(sel, ", ") + " FROM " + t.from +
		" WHERE file_row_number >= $1 AND file_row_number < $2 ORDER BY file_row_number"
	t.vals = make([]sql.NullString, len(t.header)+1)
	t.ptrs = make([]any, len(t.vals))
	for i := range t.vals {
		t.ptrs[i] = &t.vals[i]
	}
	t.rec = make([]string, len(t.header))
	return t, nil
}

// Next returns the header first (line 0), then the rows.
func (t *Table) Next() (source.Row, error) {
	if !t.started {
		t.started = true
		return source.Row{Fields: t.header, Line: 0}, nil
	}
	for t.rows == nil || !t.rows.Next() {
		if t.rows != nil {
			err := t.rows.Err()
			t.rows.Close()
			t.rows = nil
			if err != nil {
				return source.Row{}, err
			}
		}
		if t.next >= t.total {
			return source.Row{}, io.EOF
		}
		rows, err := t.db.QueryContext(t.ctx, t.sel, t.next, t.next+batchRows)
		if err != nil {
			return source.Row{}, err
		}
		t.rows = rows
		t.next += batchRows
	}
	if err := t.rows.Scan(t.ptrs...); err != nil {
		return source.Row{}, err
	}
	var line int64
	fmt.Sscan(t.vals[0].String, &line)
	for i := range t.rec {
		t.rec[i] = t.vals[i+1].String
	}
	return source.Row{Fields: t.rec, Line: line}, nil
}

// Pending: nothing is refused by the reader itself.
func (t *Table) Pending() []source.Reject { return nil }

// Traits: typed values, the column names first.
func (t *Table) Traits() source.Traits {
	return source.Traits{Encoding: "parquet", FixedHeader: true, Typed: true}
}

// Close ends the current batch.
func (t *Table) Close() error {
	if t.rows != nil {
		return t.rows.Close()
	}
	return nil
}
