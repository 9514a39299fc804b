package synth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // DuckDB driver for the parquet conversion
)

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// csvReadSQL is a read_csv call over a generated file with every column's
// type declared (no auto-detection).
func csvReadSQL(e *entitySpec, path string) string {
	return fmt.Sprintf("read_csv(%s, header=true, auto_detect=false, delim=',', quote='\"', escape='\"', columns=%s)",
		sqlString(path), e.duckColumns())
}

// openConverter opens the in-memory DuckDB that converts CSV to Parquet.
func openConverter(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "SET TimeZone = 'Asia/Shanghai'"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// toParquet converts a generated CSV file (row order is preserved).
func toParquet(ctx context.Context, db *sql.DB, e *entitySpec, csvPath, out string) error {
	q := fmt.Sprintf("COPY (SELECT * FROM %s) TO %s (FORMAT parquet)", csvReadSQL(e, csvPath), sqlString(out))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("synth: parquet %s: %w", e.name, err)
	}
	return nil
}
