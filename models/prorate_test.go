package models

import (
	"context"
	"database/sql"
	"testing"

	"github.com/triscope/triscope/access"
)

// scoped.targets_in prorates targets by working days (issue 17 point 2),
// worked by hand on testdata/prorate:
//
//   - October 2025 has 18 working days (23 weekdays less Oct 1, 2, 3, 6, 7, 8,
//     plus Saturday Oct 11). HQ's 180,000 is 10,000 a working day; the last
//     contract is signed on Oct 15, so the bookings target of October to
//     date counts Oct 9, 10, 11, 13, 14, 15 = 6 days: 60,000 — also when the
//     days asked run to Oct 31 (the days after the data are not counted).
//   - R1's collections target 90,000 = 5,000 a day; the last payment is of
//     Oct 20: 9 days (the 6 above and 16, 17, 20) → 45,000.
//   - September 2025 has 23 working days (22 weekdays plus Sunday Sep 28):
//     230,000 = 10,000 a day. Sep 27 – Oct 10: Sep 28, 29, 30 and Oct 9, 10
//     → 30,000 + 20,000 = 50,000.
//   - Oct 1–8 holds no working day: 0.
func TestTargetsProratedByWorkingDays(t *testing.T) {
	w := plWarehouse(t, "testdata/prorate")
	ctx := context.Background()
	install := func() {
		t.Helper()
		if err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			if err := BuildFacts(ctx, conn, "CNY", 1); err != nil {
				return err
			}
			_, err := access.Install(ctx, conn, access.InstallOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	q := `SELECT metric, CAST(sum(amount) AS DOUBLE), sum(workdays), max(period_workdays)
		FROM scoped.targets_in(true, NULL, NULL, $1, $2)
		WHERE (scope_id = 'HQ' AND metric = 'bookings') OR (scope_id = 'R1' AND metric = 'collections') GROUP BY metric ORDER BY metric`
	cases := []struct {
		from, to string
		want     []string
	}{
		{"2025-10-01", "2025-10-31", []string{"bookings | 60000.000000 | 6 | 18", "collections | 45000.000000 | 9 | 18"}},
		{"2025-10-01", "2025-10-15", []string{"bookings | 60000.000000 | 6 | 18", "collections | 30000.000000 | 6 | 18"}},
		{"2025-09-27", "2025-10-10", []string{"bookings | 50000.000000 | 5 | 23", "collections | 10000.000000 | 2 | 18"}},
		{"2025-10-01", "2025-10-08", []string{"bookings | 0.000000 | 0 | 18", "collections | 0.000000 | 0 | 18"}},
	}
	check := func(what string) {
		t.Helper()
		for _, c := range cases {
			got := plRows(t, w, q, c.from, c.to)
			if len(got) != len(c.want) || got[0] != c.want[0] || got[1] != c.want[1] {
				t.Errorf("%s, %s – %s: %v, want %v", what, c.from, c.to, got, c.want)
			}
		}
	}
	// Before the targets model ran: Monday to Friday, the targets as set.
	// October has 23 weekdays, 11 through the 15th: 180,000 × 11/23.
	install()
	plExpect(t, w, `SELECT amount, workdays, period_workdays FROM scoped.targets_in(true, NULL, NULL, '2025-10-01', '2025-10-31') WHERE scope_id = 'HQ' AND period_start = '2025-10-01'`, []string{
		"86086.96 | 11 | 23",
	})
	plRefresh(t, w, "2025-10-20", nil, "targets")
	install()
	check("the calendar of the targets model")
	// A rep sees their own targets only (the company's broken down to them:
	// all of it, the only rep), prorated the same way.
	plExpect(t, w, `SELECT scope_id, metric, amount FROM scoped.targets_in(false, NULL, 'R1', '2025-10-01', '2025-10-31') ORDER BY metric`, []string{
		"R1 | bookings | 60000",
		"R1 | collections | 45000",
	})
}

// A warehouse whose alerts were computed before the money at risk existed
// still gets its scoped relations (the server starts), the money at risk
// NULL until the next refresh: the relation's needs name the column.
func TestScopedAlertsBeforeMoneyAtRisk(t *testing.T) {
	w := plWarehouse(t, "testdata/prorate")
	ctx := context.Background()
	if err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if err := BuildFacts(ctx, conn, "CNY", 1); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `CREATE TABLE main.mart_alerts AS
			SELECT 'contract_ending' AS kind, 'low' AS severity, 'contract' AS subject_type, 'K1' AS subject_id, 'RA' AS org_unit_id,
			       'R1' AS owner_rep_id, 'ends soon' AS detail, DATE '2025-10-30' AS since, DATE '2025-10-20' AS as_of`); err != nil {
			return err
		}
		_, err := access.Install(ctx, conn, access.InstallOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	plExpect(t, w, `SELECT subject_id, coalesce(CAST(amount_at_risk AS VARCHAR), 'NULL') FROM scoped.alerts(true, NULL, NULL)`, []string{"K1 | NULL"})
}
