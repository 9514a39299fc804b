package xlsx

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadWorkbook reads every row of bench-load's payments workbook
// (TRISCOPE_BENCH_DIR, default ../../bench-data/default-1; skipped without it).
func BenchmarkReadWorkbook(b *testing.B) {
	dir := os.Getenv("TRISCOPE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "bench-data", "default-1")
	}
	benchWorkbook := filepath.Join(dir, "variants", "xlsx", "payments.xlsx")
	if _, err := os.Stat(benchWorkbook); err != nil {
		b.Skip("no bench workbook")
	}
	for b.Loop() {
		tb, err := (&Source{Path: benchWorkbook, Sheet: "回款"}).Open(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := tb.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		tb.Close()
		b.ReportMetric(float64(n), "rows")
	}
}
