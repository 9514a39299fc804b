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
