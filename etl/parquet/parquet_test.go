package parquet

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// A path with pattern characters reads exactly its file, across row batches,
// with row numbers as lines; values over the text limit are cut just past it.
func TestExactPathAndBatches(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	for _, name := range []string{"p[1]*?.parquet", "p1x.parquet"} {
		p := filepath.Join(dir, name)
		tmp := filepath.Join(dir, "tmp.parquet")
		if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT i, CASE WHEN i = 7 THEN repeat('x', 100) ELSE '%s' END AS s FROM range(%d) t(i)) TO '%s' (FORMAT parquet)`,
			name, batchRows+10, tmp)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(fmt.Sprintf(`COPY (FROM '%s') TO '%s' (FORMAT parquet)`, tmp, strings.ReplaceAll(p, "'", "''"))); err != nil {
			t.Fatal(err)
		}
	}
	src := &Source{DB: db, Path: filepath.Join(dir, "p[1]*?.parquet")}
	src.Limits.MaxTextBytes = 50
	tb, err := src.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	n := 0
	for {
		r, err := tb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && (r.Line != int64(n) || r.Fields[0] != fmt.Sprint(n-1)) {
			t.Fatalf("row %d: line %d fields %v", n, r.Line, r.Fields)
		}
		if n > 0 && r.Fields[0] != "7" && r.Fields[1] != "p[1]*?.parquet" {
			t.Fatalf("row %d from another file: %v", n, r.Fields)
		}
		if r.Fields[0] == "7" && len(r.Fields[1]) != 51 {
			t.Fatalf("long value cut to %d bytes, want 51", len(r.Fields[1]))
		}
		n++
	}
	if n != batchRows+11 {
		t.Fatalf("%d rows with the header, want %d", n, batchRows+11)
	}
}
