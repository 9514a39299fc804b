package parquet

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/triscope/triscope/etl/source"
)

// fuzzDB is one in-memory DuckDB per fuzz worker, bounded like a loader's
// (one thread, a memory limit), created on first use.
var fuzzDB = sync.OnceValues(func() (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, s := range []string{"SET threads = 1", "SET memory_limit = '512MB'"} {
		if _, err := db.Exec(s); err != nil {
			return nil, err
		}
	}
	return db, nil
})

// parquetSeed writes the result of a query as Parquet and returns its bytes.
func parquetSeed(db *sql.DB, dir, query, options string) ([]byte, error) {
	p := filepath.Join(dir, "seed.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet%s)", query, p, options)); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// FuzzParquet: a Parquet file is outside input read by DuckDB's own reader
// (C++, not instrumented: the mutations are blind there, so this is a
// smoke test of the reader on broken files, and a check of the Go side).
// Whatever the bytes, Open returns a table or an error and the process
// survives; the table yields the column names, then rows as wide as them,
// numbered 1, 2, … in order, no value longer than the text limit plus one
// byte (the cut the loader refuses). Seeds: small files written by DuckDB
// (types, nulls, long values, several row groups, compressions) and
// testdata/fuzz/FuzzParquet/.
func FuzzParquet(f *testing.F) {
	db, err := fuzzDB()
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	for _, s := range []struct{ q, opt string }{
		{"SELECT 'P1' AS payment_id, DATE '2024-01-05' AS paid_on, 12.50::DECIMAL(18,2) AS amount", ""},
		{"SELECT i, 'x' || i AS s, i % 3 = 0 AS b, NULL::VARCHAR AS n FROM range(20) t(i)", ", ROW_GROUP_SIZE 4"},
		{"SELECT repeat('z', 300) AS long, [1, 2] AS list, {'k': 1} AS st, TIMESTAMPTZ '2024-01-05 10:00:00+08' AS ts", ", COMPRESSION 'zstd'"},
		{"SELECT '客户' AS 名称, 1.5::DOUBLE AS d, 'a\"b,c' AS q", ", COMPRESSION 'uncompressed'"},
		{"SELECT * FROM range(0) t(i)", ""},
	} {
		b, err := parquetSeed(db, dir, s.q, s.opt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		db, err := fuzzDB()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "x.parquet")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		const limit = 100
		ctx := context.Background()
		tb, err := (&Source{DB: db, Path: p, Limits: source.Limits{MaxTextBytes: limit}}).Open(ctx)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		defer tb.Close()
		head, err := tb.Next()
		if err != nil || head.Line != 0 || len(head.Fields) == 0 {
			t.Fatalf("the header: %+v, %v", head, err)
		}
		width := len(head.Fields)
		total := tb.(*Table).total
		for n := int64(1); ; n++ {
			r, err := tb.Next()
			if err == io.EOF {
				if n-1 != total {
					t.Fatalf("%d rows read, the file says %d", n-1, total)
				}
				return
			}
			if err != nil {
				// A broken page is an error of the whole file, like a broken
				// footer; the loader reports it.
				if !strings.Contains(err.Error(), "rror") {
					t.Fatalf("row %d: %v", n, err)
				}
				return
			}
			if n > total || r.Line != n || len(r.Fields) != width {
				t.Fatalf("row %d of %d: line %d, %d fields of %d", n, total, r.Line, len(r.Fields), width)
			}
			for _, v := range r.Fields {
				if len(v) > limit+1 {
					t.Fatalf("row %d: a value of %d bytes with a limit of %d", n, len(v), limit)
				}
			}
		}
	})
}
