package app_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/warehouse"
)

// A server that starts again on a warehouse nothing wrote to since its last
// start writes nothing to the file and keeps the snapshot ad hoc SQL copied
// then: every start used to reinstall the scoped relations (a write) and
// copy the whole file again, 8-14 GB on the large demo company, which also
// pushed the pages' data out of the page cache just before the first views.
// A commit in between makes a new copy.
func TestRestartKeepsTheSnapshotOfAnUnchangedWarehouse(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "wh.duckdb")
	start := func() string {
		t.Helper()
		r, err := app.Open(ctx, &app.Config{DB: db, BaseCurrency: "CNY", RefreshAfterLoad: "off"}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Dashboards(ctx, "", true); err != nil {
			t.Fatal(err)
		}
		r.WaitForSnapshots()
		b, err := os.ReadFile(filepath.Join(db+".snapshots", "CURRENT"))
		if err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(string(b), "\n")
		if _, err := os.Stat(filepath.Join(db+".snapshots", name)); err != nil {
			t.Fatalf("the current snapshot: %v", err)
		}
		return name
	}
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	first := start()
	before := stat()
	second := start()
	after := stat()
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Errorf("a start wrote to an unchanged warehouse: modified %v, %d bytes -> %v, %d bytes",
			before.ModTime(), before.Size(), after.ModTime(), after.Size())
	}
	if second != first {
		t.Errorf("a start copied an unchanged warehouse again: snapshot %s -> %s", first, second)
	}

	w, err := warehouse.Open(ctx, warehouse.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO org_units (org_unit_id, name, level) VALUES ('HQ', 'Head office', 'company')")
		return err
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if third := start(); third == second {
		t.Errorf("a start after a commit kept the snapshot %s made before it", third)
	}
}
