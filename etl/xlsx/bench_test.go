package xlsx

import (
	"context"
	"io"
	"os"
	"testing"
)

// benchWorkbook is bench-load's payments workbook (1 M rows), present where
// the bench data was generated; the tests that read it skip without it.
const benchWorkbook = "/work/bench/default-1/variants/xlsx/payments.xlsx"

// BenchmarkReadWorkbook reads every row of bench-load's payments workbook.
func BenchmarkReadWorkbook(b *testing.B) {
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
