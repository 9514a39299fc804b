package reports_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/query"
)

// A chart for the measurement below: every payment of the small company,
// a hundred and twenty times over (its drill-through rows are the Telescope's collections
// rows with a copy number in the id), so one report part holds more than a
// million real rows in the ceo's scope.
func init() {
	query.RegisterSQL(fstest.MapFS{"reports_bench_rows.sql": {Data: []byte(`
SELECT p.payment_id || '-' || c.copy AS payment_id, p.paid_on, p.customer_name, p.contract_id, r.name AS rep_name, u.name AS org_unit,
       p.product_line, p.method, p.currency, p.amount, p.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
CROSS JOIN (SELECT range AS copy FROM range(120)) c
LEFT JOIN live.reps r ON r.rep_id = p.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = p.owner_org
WHERE p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
ORDER BY p.paid_on DESC, 1`)}})
	query.RegisterChart(&query.Chart{ID: "reportsbench.rows", Title: "chart.telescope.collections", SQL: "reports_bench_rows.sql",
		Build: func(*query.Env, *query.Result) (*query.Output, error) { return &query.Output{}, nil },
		Drill: &query.Drill{SQL: "reports_bench_rows.sql", Key: "payment_id"}})
	testReports["bench-1m"] = `
title: {en: A million payments, zh-CN: 一百万笔回款}
content: [{rows: reportsbench.rows}]
params: {period: custom, from: "2000-01-01", to: "2026-12-31"}
formats: [xlsx]
recipients: [{user: ceo}]
channels: [archive]
`
}

// TestXLSXMillionRows measures a report's XLSX of more than a million rows
// through the whole path (the engine's cursor, codes for people, the
// streaming writer): seconds and the peak RSS of the rendering (the
// process's high-water mark is reset first). TRISCOPE_REPORTS_BIG=1 runs it.
func TestXLSXMillionRows(t *testing.T) {
	if os.Getenv("TRISCOPE_REPORTS_BIG") == "" {
		t.Skip("TRISCOPE_REPORTS_BIG=1 measures a 1 M-row XLSX")
	}
	setup(t)
	out := t.TempDir()
	runtime.GC()
	base := procStatus("VmRSS:")
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	cp, err := env.rt.ReportRun(context.Background(), app.ReportRunRequest{Name: "bench-1m", As: "ceo", Formats: []string{"xlsx"}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	hwm := procStatus("VmHWM:")
	py := debianPython(t)
	n := countRows(t, py, cp.Files[0].Path)
	t.Logf("XLSX of %d rows (%d sheets): %.1f s (%.1f s of CPU), %.1f MB file, peak RSS %s (%s before)", n.rows, n.sheets, elapsed.Seconds(), cpu.Seconds(), float64(cp.Files[0].Size)/1e6, hwm, base)
	if n.rows < 1_000_000 {
		t.Errorf("%d rows: not a million", n.rows)
	}
}

// procStatus is a line of /proc/self/status (Linux).
func procStatus(key string) string {
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, key) {
			return strings.TrimSpace(strings.TrimPrefix(line, key))
		}
	}
	return "?"
}

type counted struct{ rows, sheets int }

// countRows counts a workbook's data rows (the <row> elements of its
// sheets, read from the zip in chunks) and its sheets.
func countRows(t *testing.T, py, path string) counted {
	t.Helper()
	out, err := execOutput(py, "-c", `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
rows = 0
for n in sheets:
    tail = b""
    with z.open(n) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            rows += (tail + b).count(b"<row ") - tail.count(b"<row ")
            tail = b[-8:]
print(rows - len(sheets), len(sheets))`, path)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(out)
	rows, _ := strconv.Atoi(f[0])
	sheets, _ := strconv.Atoi(f[1])
	return counted{rows, sheets}
}
