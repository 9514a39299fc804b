package models

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// A refresh publishes all its tables or none: when a model fails after others
// have run (and committed into the stage schema), main keeps the previous
// results, model_fits included; the stage schema and the scratch tables are
// gone; the failure is recorded; and the next refresh works.
func TestFailedRefreshKeepsThePreviousResults(t *testing.T) {
	ctx := context.Background()
	w := testWarehouse(t, "testdata/rfm")
	first, _ := time.Parse(time.DateOnly, "2024-12-31")
	if _, _, err := Refresh(ctx, w, RefreshOptions{AsOf: first, Models: []string{"rfm", "clv"}}); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT string_agg(customer_id || ':' || segment || ':' || CAST(as_of AS VARCHAR), ',' ORDER BY customer_id) FROM mart_rfm",
			"SELECT string_agg(customer_id || ':' || CAST(as_of AS VARCHAR), ',' ORDER BY customer_id) FROM mart_clv",
			"SELECT string_agg(model || ':' || param || ':' || CAST(value AS VARCHAR), ',' ORDER BY model, param) FROM model_fits",
		} {
			var s sql.NullString
			if err := w.DB().QueryRowContext(ctx, q).Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s.String + "\n")
		}
		return b.String()
	}
	before := snapshot()
	if !strings.Contains(before, "2024-12-31") || !strings.Contains(before, "bgnbd") {
		t.Fatalf("first refresh produced too little to compare:\n%s", before)
	}

	// clv and rfm run (as of another date) and commit into the stage; the
	// customer value model, which runs after them, fails.
	second, _ := time.Parse(time.DateOnly, "2024-11-30")
	_, res, err := Refresh(ctx, w, RefreshOptions{AsOf: second, Models: []string{"rfm", "clv", "customer_value"},
		Settings: map[string]Settings{"customer_value": {"gold_share": -1.0}}})
	if err == nil || !strings.Contains(err.Error(), "gold_share") {
		t.Fatalf("refresh with a bad setting: err %v", err)
	}
	if len(res) != 3 || res[0].Status != "ok" || res[1].Status != "ok" || res[2].Model != "customer_value" || res[2].Status != "failed" {
		t.Fatalf("results %+v: want clv and rfm ok, customer_value failed", res)
	}
	if after := snapshot(); after != before {
		t.Fatalf("a failed refresh changed the published results:\nbefore\n%s\nafter\n%s", before, after)
	}
	var stages, failed int
	w.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'refresh_stage'").Scan(&stages)
	w.DB().QueryRowContext(ctx, "SELECT count(*) FROM model_runs WHERE status = 'failed' AND model = 'customer_value'").Scan(&failed)
	if stages != 0 || failed != 1 {
		t.Fatalf("after the failure: %d stage schemas (want 0), %d failed customer_value runs recorded (want 1)", stages, failed)
	}
	assertNoStage(t, w) // rfm's and clv's marts were staged in main before customer_value failed
	// The write lane's connection is left clean: no scratch tables, main first.
	err = w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		names, err := tempTables(ctx, conn)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			t.Errorf("temp tables left on the write lane: %v", names)
		}
		var path string
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('search_path')").Scan(&path); err != nil {
			return err
		}
		if strings.Contains(path, "refresh_stage") {
			t.Errorf("search_path left as %q", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The next refresh publishes as usual.
	if _, _, err := Refresh(ctx, w, RefreshOptions{AsOf: second, Models: []string{"rfm", "clv"}}); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after == before || !strings.Contains(after, "2024-11-30") {
		t.Fatalf("the refresh after the failure did not publish:\n%s", after)
	}
	assertNoStage(t, w)
	// the marts are published with the comments their SQL gave them
	var tableComment string
	var columnComments int
	if err := w.DB().QueryRowContext(ctx, `SELECT (SELECT comment FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'mart_clv'),
		(SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'mart_clv' AND comment <> '')`).Scan(&tableComment, &columnComments); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tableComment, "Customer lifetime value") || columnComments < 5 {
		t.Fatalf("mart_clv published with the comment %q and %d column comments", tableComment, columnComments)
	}
}

// assertNoStage: nothing a refresh staged is left (staging.go): no table or
// view of the stage schema, no staged mart in main.
func assertNoStage(t *testing.T, w *warehouse.Warehouse) {
	t.Helper()
	var n, staged, views int
	w.DB().QueryRow("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'refresh_stage'").Scan(&n)
	w.DB().QueryRow("SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, '_staged_')").Scan(&staged)
	w.DB().QueryRow("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'refresh_stage'").Scan(&views)
	if n != 0 || staged != 0 || views != 0 {
		t.Fatalf("left staged: %d tables in refresh_stage, %d views there, %d staged marts in main", n, views, staged)
	}
}

// Two refreshes of the same data for the same date publish the same rows,
// float columns included: nothing may depend on the order in which DuckDB's
// threads or Go's maps hand over rows (forecast sums and accuracies were once
// summed in map order, the weighted pipeline in thread order). On the small
// demo company, every mart table is compared with EXCEPT ALL both ways.
func TestRefreshIsDeterministic(t *testing.T) {
	w := smallDemoWarehouse(t, 5)
	ctx := context.Background()
	plRefresh(t, w, "2026-10-31", nil)
	var marts []string
	rows, err := w.DB().QueryContext(ctx, `SELECT table_name FROM duckdb_tables()
		WHERE schema_name = 'main' AND table_name LIKE 'mart\_%' ESCAPE '\' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		marts = append(marts, name)
	}
	rows.Close()
	if len(marts) < 20 {
		t.Fatalf("only %d mart tables: %v", len(marts), marts)
	}
	if _, err := w.DB().ExecContext(ctx, "CREATE SCHEMA first_run"); err != nil {
		t.Fatal(err)
	}
	for _, m := range marts {
		if _, err := w.DB().ExecContext(ctx, "CREATE TABLE first_run."+m+" AS SELECT * FROM main."+m); err != nil {
			t.Fatal(err)
		}
	}
	plRefresh(t, w, "2026-10-31", nil)
	for _, m := range marts {
		var only1, only2, n int
		if err := w.DB().QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM (SELECT * FROM first_run.`+m+` EXCEPT ALL SELECT * FROM main.`+m+`)),
			(SELECT count(*) FROM (SELECT * FROM main.`+m+` EXCEPT ALL SELECT * FROM first_run.`+m+`)),
			(SELECT count(*) FROM main.`+m+`)`).Scan(&only1, &only2, &n); err != nil {
			t.Fatal(err)
		}
		if only1 != 0 || only2 != 0 {
			t.Errorf("%s: %d rows only in the first refresh, %d only in the second (of %d)", m, only1, only2, n)
		}
	}
}
