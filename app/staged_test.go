package app_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/warehouse"
)

// A refresh killed mid-way leaves the tables it had staged (each model's
// statements commit one by one): its marts in main under their staged names
// with views of them in schema refresh_stage (models/staging.go), and the
// stage schema's own tables. The runtime drops them when it opens the
// warehouse (found by triscope chaos refresh: 6 to 25 staged tables after a
// kill, until the next refresh).
func TestOpenDropsWhatAKilledRefreshStaged(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "wh.duckdb")
	w, err := warehouse.Open(ctx, warehouse.Options{Path: db, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		for _, s := range []string{"CREATE SCHEMA refresh_stage", "CREATE TABLE main._staged_mart_rfm AS SELECT range AS x FROM range(1000)",
			"CREATE VIEW refresh_stage.mart_rfm AS SELECT * FROM main._staged_mart_rfm",
			"CREATE TABLE refresh_stage.model_fits AS SELECT 1 AS x"} {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.Warehouse().DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'refresh_stage' OR table_name LIKE '%staged%')
		+ (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'refresh_stage')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d staged tables of an unfinished refresh are still there after the runtime opened the warehouse", n)
	}
}
