package models

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/warehouse"
)

// Helpers shared by the contract_execution, customer_value and rep_performance
// tests (prefixed cvx to stay clear of other models' test helpers).

// cvxWarehouse opens a temporary warehouse and loads the CSVs of
// testdata/<fixture>; with only, just the named entities (file names without .csv).
// The files are copied first so that reject files land in a temp dir.
func cvxWarehouse(t *testing.T, fixture string, only ...string) *warehouse.Warehouse {
	t.Helper()
	ctx := context.Background()
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if fixture == "" {
		return w
	}
	src := filepath.Join("testdata", fixture)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".csv")
		if !ok || (len(only) > 0 && !slices.Contains(only, name)) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no fixture files for %s %v", fixture, only)
	}
	rep, err := etl.Load(ctx, w, []string{dst}, etl.Options{})
	if err != nil {
		t.Fatalf("load %s: %v", fixture, err)
	}
	if tot := rep.Totals(); tot.Rejected > 0 {
		t.Fatalf("load %s rejected %d rows: %+v", fixture, tot.Rejected, rep.Files)
	}
	return w
}

// cvxRefresh runs the named models for asOf and returns the status per model.
func cvxRefresh(t *testing.T, w *warehouse.Warehouse, asOf string, settings map[string]Settings, names ...string) map[string]RunResult {
	t.Helper()
	d, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := Refresh(context.Background(), w, RefreshOptions{AsOf: d, Models: names, Settings: settings})
	if err != nil {
		t.Fatalf("refresh %v: %v", names, err)
	}
	out := map[string]RunResult{}
	for _, r := range res {
		out[r.Model] = r
	}
	return out
}

// refreshErr runs a refresh and returns its error instead of failing the test.
func cvxRefreshErr(w *warehouse.Warehouse, asOf string, settings map[string]Settings, names ...string) (time.Time, []RunResult, error) {
	d, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		return time.Time{}, nil, err
	}
	return Refresh(context.Background(), w, RefreshOptions{AsOf: d, Models: names, Settings: settings})
}

// cvxRows runs q and renders every value as text (NULL as "NULL"), one string
// per row with " | " between the columns. Cast decimals and round doubles in q.
func cvxRows(t *testing.T, w *warehouse.Warehouse, q string) []string {
	t.Helper()
	rows, err := w.DB().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func cvxExpect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// TestContractExecution checks the execution mart, the settlements due and the
// aging against numbers worked out by hand from testdata/contract_execution
// (as of 2024-09-20, base CNY; USD rates 7.10 from 2024-01-01, 7.20 from
// 2024-07-01, 7.00 from 2024-09-01).
//
// K1 120000 CNY, installments 02-01 40000, 05-01 40000, 08-01 40000; paid
// 02-01 40000, 05-20 25000, 07-15 20000 (09-25 35000 is after as-of).
// Cumulative due C = 40000, 80000, 120000; cumulative paid P(as-of) = 85000.
// #1: P(02-01) = 40000 >= 40000 → on time. #2: P(05-01) = 40000 < 80000 → late
// (covered 07-15). #3: P(08-01) = 85000 < 120000 → late, and still uncovered:
// allocated 85000 − 80000 = 5000, unpaid 35000, days 08-01 → 09-20 = 31 + 19 = 50.
// due 120000, paid 85000, outstanding 35000, overdue 35000, on time 1/3.
//
// K2 10000 USD signed 06-10 → booking rate 7.10, amount 71000. Installments
// 07-01 4000 USD (28400), 09-15 6000 USD (42600). Paid 07-01 4000 USD and 09-18
// 2000 USD (in CNY at the day's rates 28800 + 14000 = 42800, but matched in USD:
// 6000 USD × 7.10 = 42600). #1 on time; #2 P(09-15) = 4000 < 10000 → late,
// allocated 2000 USD (14200), unpaid 4000 USD = 28400, 5 days overdue.
// on time 1/2.
//
// K3 50000, no schedule → one installment on start_on 06-01. Paid 06-10 50000
// then refunded 25000 on 07-10: P(as-of) = 25000, so the installment is
// uncovered again; days 06-01 → 09-20 = 30 + 31 + 31 + 19 = 111. On time 0/1.
//
// K4 8000, no schedule and no start_on → due on signed_on 09-01; paid 09-05
// 8000 → settled, but late: on time 0/1, days overdue 0.
//
// K5 30000, installments 09-25, 09-30, 10-25 of 10000; paid 09-12 4000. Nothing
// due yet: due 0, overdue 0, on time NULL, current. FIFO puts the 4000 on 09-25.
//
// K6 cancelled, 20000 due 04-01, unpaid: figures kept (172 days: 30 + 31 + 30 +
// 31 + 31 + 19), status cancelled, left out of settlements and aging.
//
// K7 is signed 10-01, after as-of: absent.
//
// K8 5000, 08-20 2500 and 09-01 2500, unpaid: oldest uncovered 08-20 → 31 days.
// K9 3000 due 09-10, unpaid → 10 days.
func TestContractExecution(t *testing.T) {
	w := cvxWarehouse(t, "contract_execution")
	res := cvxRefresh(t, w, "2024-09-20", nil, "contract_execution")
	if r := res["contract_execution"]; r.Status != "ok" {
		t.Fatalf("status %+v", r)
	}

	cvxExpect(t, "mart_contract_execution", cvxRows(t, w, `
		SELECT contract_id, customer_id, owner_rep_id, amount::VARCHAR, due_to_date::VARCHAR, paid_to_date::VARCHAR,
		       outstanding::VARCHAR, overdue_amount::VARCHAR, days_overdue_max, round(on_time_share, 4), status, as_of::VARCHAR
		FROM mart_contract_execution ORDER BY contract_id`), []string{
		"K1 | C1 | R1 | 120000.00 | 120000.00 | 85000.00 | 35000.00 | 35000.00 | 50 | 0.3333 | overdue | 2024-09-20",
		"K2 | C2 | R2 | 71000.00 | 71000.00 | 42600.00 | 28400.00 | 28400.00 | 5 | 0.5 | overdue | 2024-09-20",
		"K3 | C3 | NULL | 50000.00 | 50000.00 | 25000.00 | 25000.00 | 25000.00 | 111 | 0 | overdue | 2024-09-20",
		"K4 | C4 | R1 | 8000.00 | 8000.00 | 8000.00 | 0.00 | 0.00 | 0 | 0 | settled | 2024-09-20",
		"K5 | C1 | R1 | 30000.00 | 0.00 | 4000.00 | 26000.00 | 0.00 | 0 | NULL | current | 2024-09-20",
		"K6 | C4 | R2 | 20000.00 | 20000.00 | 0.00 | 20000.00 | 20000.00 | 172 | 0 | cancelled | 2024-09-20",
		"K8 | C2 | R1 | 5000.00 | 5000.00 | 0.00 | 5000.00 | 5000.00 | 31 | 0 | overdue | 2024-09-20",
		"K9 | C4 | R1 | 3000.00 | 3000.00 | 0.00 | 3000.00 | 3000.00 | 10 | 0 | overdue | 2024-09-20",
	})

	// Overdue and still unpaid, then K5's 09-25 (5 days: due_7d, 4000 of it
	// prepaid) and 09-30 (10 days, still September: due_this_month). K5 10-25 is
	// next month; K1's and K2's first installments are covered; K6 is cancelled.
	cvxExpect(t, "mart_settlements_due", cvxRows(t, w, `
		SELECT contract_id, due_on::VARCHAR, amount_due::VARCHAR, amount_paid::VARCHAR, days_until_due, status
		FROM mart_settlements_due ORDER BY due_on, contract_id`), []string{
		"K3 | 2024-06-01 | 50000.00 | 25000.00 | -111 | overdue",
		"K1 | 2024-08-01 | 40000.00 | 5000.00 | -50 | overdue",
		"K8 | 2024-08-20 | 2500.00 | 0.00 | -31 | overdue",
		"K8 | 2024-09-01 | 2500.00 | 0.00 | -19 | overdue",
		"K9 | 2024-09-10 | 3000.00 | 0.00 | -10 | overdue",
		"K2 | 2024-09-15 | 42600.00 | 14200.00 | -5 | overdue",
		"K5 | 2024-09-25 | 10000.00 | 4000.00 | 5 | due_7d",
		"K5 | 2024-09-30 | 10000.00 | 0.00 | 10 | due_this_month",
	})

	// Per installment, in the bucket of its own age, under the rep's org unit
	// (K9's customer C4 is in D-SH2, but its rep R1 is in D-SH1):
	// R1 0-30: K8 09-01 2500 (19 d) + K9 3000 (10 d) = 5500, 2 contracts;
	// R1 31-60: K1 35000 (50 d) + K8 08-20 2500 (31 d) = 37500, 2 contracts;
	// R2 0-30: K2 28400 (5 d); K3 has no rep → customer C3's D-SH2, >90: 25000.
	cvxExpect(t, "mart_receivables_aging", cvxRows(t, w, `
		SELECT org_unit_id, owner_rep_id, bucket, amount::VARCHAR, contracts
		FROM mart_receivables_aging ORDER BY org_unit_id, owner_rep_id NULLS LAST, bucket`), []string{
		"D-SH1 | R1 | 0-30 | 5500.00 | 2",
		"D-SH1 | R1 | 31-60 | 37500.00 | 2",
		"D-SH2 | R2 | 0-30 | 28400.00 | 1",
		"D-SH2 | NULL | >90 | 25000.00 | 1",
	})

	// The overdue amount of the mart equals the aging total and the overdue
	// settlements' unpaid part (cancelled K6 aside).
	cvxExpect(t, "totals agree", cvxRows(t, w, `
		SELECT (SELECT sum(overdue_amount) FROM mart_contract_execution WHERE status <> 'cancelled')::VARCHAR,
		       (SELECT sum(amount) FROM mart_receivables_aging)::VARCHAR,
		       (SELECT sum(amount_due - amount_paid) FROM mart_settlements_due WHERE status = 'overdue')::VARCHAR`),
		[]string{"96400.00 | 96400.00 | 96400.00"})

	// The analyst-facing comments are there.
	cvxExpect(t, "comments", cvxRows(t, w, `
		SELECT table_name, comment IS NOT NULL AND comment <> '' FROM duckdb_tables()
		WHERE table_name IN ('mart_contract_execution', 'mart_settlements_due', 'mart_receivables_aging') ORDER BY 1`), []string{
		"mart_contract_execution | true", "mart_receivables_aging | true", "mart_settlements_due | true",
	})
}

// TestContractExecutionAsOfMonthEnd moves the as-of date: on 2024-08-31 K1's
// third installment (08-01) is 30 days overdue (0-30) and the 09-25/09-30
// installments of K5 do not exist yet (K5 is signed 09-10).
func TestContractExecutionAsOfMonthEnd(t *testing.T) {
	w := cvxWarehouse(t, "contract_execution")
	cvxRefresh(t, w, "2024-08-31", nil, "contract_execution")
	// K1: P(08-31) = 85000, #3 uncovered since 08-01 → 30 days. K8 08-20 → 11 days.
	// K2: only 07-01 due and paid 4000 USD on time; nothing overdue.
	cvxExpect(t, "execution", cvxRows(t, w, `
		SELECT contract_id, due_to_date::VARCHAR, paid_to_date::VARCHAR, overdue_amount::VARCHAR, days_overdue_max, status
		FROM mart_contract_execution WHERE contract_id IN ('K1', 'K2', 'K8') ORDER BY 1`), []string{
		"K1 | 120000.00 | 85000.00 | 35000.00 | 30 | overdue",
		"K2 | 28400.00 | 28400.00 | 0.00 | 0 | current",
		"K8 | 2500.00 | 0.00 | 2500.00 | 11 | overdue",
	})
	// Only K8 09-01 is due within 7 days of 08-31 (due_7d); K9's 09-10 is 10
	// days away and in the next month; August has no later days.
	cvxExpect(t, "settlements", cvxRows(t, w, `
		SELECT contract_id, due_on::VARCHAR, days_until_due, status FROM mart_settlements_due ORDER BY due_on, contract_id`), []string{
		"K3 | 2024-06-01 | -91 | overdue",
		"K1 | 2024-08-01 | -30 | overdue",
		"K8 | 2024-08-20 | -11 | overdue",
		"K8 | 2024-09-01 | 1 | due_7d",
	})
}

// TestContractExecutionWithoutContracts: no contracts loaded → status empty,
// the three tables exist and are empty, no error.
func TestContractExecutionWithoutContracts(t *testing.T) {
	w := cvxWarehouse(t, "contract_execution", "customers", "payments", "fx_rates")
	res := cvxRefresh(t, w, "2024-09-20", nil, "contract_execution")
	if r := res["contract_execution"]; r.Status != "empty" || r.Rows != 0 {
		t.Fatalf("want empty with 0 rows, got %+v", r)
	}
	for _, table := range []string{"mart_contract_execution", "mart_settlements_due", "mart_receivables_aging"} {
		cvxExpect(t, table, cvxRows(t, w, fmt.Sprintf("SELECT count(*) FROM %s", table)), []string{"0"})
	}
}

// TestContractExecutionIgnoresDeletedRows: rows a snapshot load marked deleted
// (_deleted_at, migration 0004) are not read. With K8's 08-20 installment
// deleted K8 has one installment (09-01, 2500): due 2500, 19 days overdue. With
// rep R2 deleted, K2's aging falls back to its customer C2's org unit D-SH1.
// The rows are marked here as a snapshot load marks them, and the facts
// rebuilt as the load's AfterApply step would.
func TestContractExecutionIgnoresDeletedRows(t *testing.T) {
	w := cvxWarehouse(t, "contract_execution")
	for _, q := range []string{
		"UPDATE payment_schedule SET _deleted_at = now() WHERE contract_id = 'K8' AND due_on = DATE '2024-08-20'",
		"UPDATE reps SET _deleted_at = now() WHERE rep_id = 'R2'",
	} {
		if _, err := w.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	testRebuildFacts(t, w)
	cvxRefresh(t, w, "2024-09-20", nil, "contract_execution")
	cvxExpect(t, "K8", cvxRows(t, w, `
		SELECT due_to_date::VARCHAR, overdue_amount::VARCHAR, days_overdue_max FROM mart_contract_execution WHERE contract_id = 'K8'`),
		[]string{"2500.00 | 2500.00 | 19"})
	cvxExpect(t, "K2 aging", cvxRows(t, w, `
		SELECT org_unit_id, owner_rep_id, bucket, amount::VARCHAR FROM mart_receivables_aging WHERE owner_rep_id = 'R2'`),
		[]string{"D-SH1 | R2 | 0-30 | 28400.00"})
}
