package models

import (
	"context"
	"database/sql"
	"testing"

	"github.com/triscope/triscope/warehouse"
)

// testRebuildFacts rebuilds the facts after a test changed base tables
// directly (as a load would, whose AfterApply step rebuilds them): a refresh
// only rebuilds facts older than the last committed load.
func testRebuildFacts(t *testing.T, w *warehouse.Warehouse) {
	t.Helper()
	ctx := context.Background()
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		last, err := LastCommittedLoad(ctx, conn)
		if err != nil {
			return err
		}
		return BuildFacts(ctx, conn, "CNY", last)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRefreshEnsuresFacts: a warehouse loaded without the runtime (etl.Load
// alone, no AfterApply step) has no facts; its first refresh builds them for
// the last committed load, in the session's time zone, and a second finds
// them current.
func TestRefreshEnsuresFacts(t *testing.T) {
	ctx := context.Background()
	w := plWarehouse(t, "testdata/win_rate")
	if _, ok, err := ReadFactsState(ctx, w.DB()); err != nil || ok {
		t.Fatalf("facts before the first refresh: ok %v, err %v", ok, err)
	}
	plRefresh(t, w, "2024-06-30", nil, "win_rate")
	st, ok, err := ReadFactsState(ctx, w.DB())
	if err != nil || !ok {
		t.Fatalf("facts after the refresh: ok %v, err %v", ok, err)
	}
	last, err := LastCommittedLoad(ctx, w.DB())
	if err != nil {
		t.Fatal(err)
	}
	if st.LoadID != last || last == 0 || st.Base != "CNY" || st.Definition != FactsDefinition() || st.TimeZone != w.TimeZone() {
		t.Errorf("facts.state = %+v, want load %d, CNY, definition %s, time zone %s", st, last, FactsDefinition(), w.TimeZone())
	}
	if built, err := EnsureFacts(ctx, w, "CNY"); err != nil || built {
		t.Errorf("EnsureFacts after the refresh: built %v, err %v; want the facts current", built, err)
	}
	if built, err := EnsureFacts(ctx, w, "USD"); err != nil || !built {
		t.Errorf("EnsureFacts for another base currency: built %v, err %v; want them rebuilt", built, err)
	}
}
