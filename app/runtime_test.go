package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/warehouse"
)

// The runtime builds the facts of a new warehouse and installs the scoped
// relations over them in one transaction. Committed one after the other, a
// process killed between the two left facts without scoped relations, a
// state no reader of the file may find (found by triscope chaos load
// --first: "schema scoped holds no relation"). Here the install fails (an
// unknown company benchmark) instead of the process dying: the facts must
// not have been committed either.
func TestOpenCommitsTheFactsWithTheScopedRelations(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "wh.duckdb")
	_, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY", Benchmarks: []string{"no-such-benchmark"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "no-such-benchmark") {
		t.Fatalf("opening with an unknown benchmark: err %v, want the install to fail on it", err)
	}
	w, err := warehouse.Open(ctx, warehouse.Options{Path: db, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, ok, err := models.ReadFactsState(ctx, w.DB())
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("the facts of load %d were committed although the scoped relations over them were not", st.LoadID)
	}

	// Opened as configured, both are there.
	w.Close()
	r, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var scoped int
	if err := r.Warehouse().DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'scoped')
		+ (SELECT count(*) FROM duckdb_functions() WHERE schema_name = 'scoped')`).Scan(&scoped); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := models.ReadFactsState(ctx, r.Warehouse().DB()); err != nil || !ok || scoped == 0 {
		t.Fatalf("after opening as configured: facts %v (err %v), %d scoped relations; want both", ok, err, scoped)
	}
}
