package etl_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/warehouse"
)

// The demo company goes through the same loader as real data: every generated
// row of every entity lands, in CSV and in Parquet, and loading the same files
// again changes nothing.
func TestSmallDemoCompanyLoadsExactly(t *testing.T) {
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			gen, err := synth.Generate(ctx, synth.Config{Size: "small", Seed: 7, Locale: "zh", Format: format}, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			rep, err := etl.Load(ctx, w, []string{dir}, etl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(gen.Files) != len(etl.Entities) || len(rep.Files) != len(gen.Files) {
				t.Fatalf("generated %d files, loaded %d, contract has %d entities", len(gen.Files), len(rep.Files), len(etl.Entities))
			}
			for _, f := range gen.Files {
				var n int64
				if err := w.DB().QueryRow("SELECT count(*) FROM " + f.Entity).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != f.Rows {
					t.Errorf("%s: generated %d rows, the warehouse holds %d", f.Entity, f.Rows, n)
				}
			}
			if tot := rep.Totals(); tot.Rejected != 0 || tot.Duplicates != 0 {
				t.Errorf("the demo company has %d rejected and %d duplicate rows; it must load cleanly", tot.Rejected, tot.Duplicates)
			}
			again, err := etl.Load(ctx, w, []string{dir}, etl.Options{})
			if err != nil || again.Status != "unchanged" {
				t.Fatalf("second load: status %q, err %v; want unchanged", again.Status, err)
			}
		})
	}
}
