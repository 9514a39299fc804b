package etl

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/source"
	"github.com/triscope/triscope/warehouse"
)

func writePayments(tb testing.TB, dir string, rows int) string {
	p := filepath.Join(dir, "payments.csv")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
	for i := range rows {
		fmt.Fprintf(bw, "K%07d,CT%d,C%d,2024-%02d-%02d,%d.25,CNY,bank_transfer\n", i, i%5000, i%2000, 1+i%12, 1+i%28, i%100000)
	}
	bw.Flush()
	f.Close()
	return p
}

// BenchmarkParseCSV measures the Go side of a CSV load (decode, parse, map,
// convert every value) without DuckDB.
func BenchmarkParseCSV(b *testing.B) {
	p := writePayments(b, b.TempDir(), 200_000)
	data, _ := os.ReadFile(p)
	ent, _ := EntityByName("payments")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		set := &settings{delimiter: ',', mode: "incremental", defaults: map[string]string{}}
		src := &input{name: "payments.csv", entity: ent, format: "csv", set: set, report: &FileReport{}}
		rows, _, _ := stageWithoutDB(nil, src, func() (source.Table, error) {
			return csv.NewTable(bytes.NewReader(data), "", ',', source.Limits{})
		})
		if rows != 200_000 {
			b.Fatalf("%d rows", rows)
		}
	}
}

// BenchmarkLoadPayments measures a whole load of 200k payments into an empty warehouse.
func BenchmarkLoadPayments(b *testing.B) {
	dir := b.TempDir()
	p := writePayments(b, dir, 200_000)
	for b.Loop() {
		b.StopTimer()
		w, err := warehouse.Open(context.Background(), warehouse.Options{Path: filepath.Join(b.TempDir(), "w.duckdb"), Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := Load(context.Background(), w, []string{p}, Options{})
		if err != nil || rep.Files[0].Loaded != 200_000 {
			b.Fatalf("%v %+v", err, rep)
		}
		b.StopTimer()
		w.Close()
		b.StartTimer()
	}
}
