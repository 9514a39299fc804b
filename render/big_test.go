package render

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The measurement of a million-row XLSX, run by hand (it takes half a minute
// and most of a core):
//
//	TRISCOPE_RENDER_BIG=1 go test -run TestXLSXMillionRows -v ./render/
//
// It prints the seconds to stream 1,000,000 rows of 8 columns to disk and
// the process's peak RSS, then reads the file back with excelize (with unzip
// limits, as every reader of outside XLSX must) and counts the rows.
func TestXLSXMillionRows(t *testing.T) {
	if os.Getenv("TRISCOPE_RENDER_BIG") == "" {
		t.Skip("set TRISCOPE_RENDER_BIG=1 to measure a 1,000,000-row XLSX")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("TRISCOPE_RENDER_BIG")); err == nil && v > 1 {
		n = v // another size, to see that memory does not grow with it
	}
	path := filepath.Join(t.TempDir(), "big.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	before := peakRSS(t)
	start := time.Now()
	bw := bufio.NewWriterSize(f, 1<<20)
	sheets, err := WriteXLSX(bw, []*Table{bigTable(n)}, XLSXOptions{Options: Options{Location: shanghai}, TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	st, _ := os.Stat(path)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d rows x 8 columns: %.1f s, %.1f MB on disk, peak RSS %d MB (%d MB before), Go heap now %d MB, sheets %+v",
		n, took.Seconds(), float64(st.Size())/1e6, peakRSS(t)>>20, before>>20, ms.HeapInuse>>20, sheets)

	// Read back: excelize with limits on what the zip may unpack.
	xf, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: 2 << 30, UnzipXMLSizeLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	rows, err := xf.Rows(sheets[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for rows.Next() {
		count++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if count != n+1 {
		t.Fatalf("read back %d rows, want %d", count, n+1)
	}
}

// bigTable is n generated rows of the eight kinds, never all in memory.
func bigTable(n int) *Table {
	i := 0
	row := make([]any, 8)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	stages := []string{"won", "lost", "open", "=cmd|' /C calc'!A0"}
	return &Table{Name: "付款明细", Columns: testColumns(), Rows: RowsFunc(func() ([]any, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		row[0] = fmt.Sprintf("客户%07d 有限公司", i%50000)
		row[1] = stages[i%len(stages)]
		row[2] = float64(i%100000)*12.34 - 5000
		row[3] = int64(i % 17)
		row[4] = float64(i%1000) / 1000
		row[5] = base.AddDate(0, 0, i%2000)
		row[6] = base.Add(time.Duration(i) * time.Minute)
		row[7] = i%3 == 0
		return row, nil
	}).Rows()}
}

// peakRSS is the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
