package models

import (
	"strings"
	"testing"
)

// TestRepPerformance checks bookings, collections, the premium split, the
// commission and the targets against testdata/rep_performance, as of
// 2024-08-31, by hand (base CNY; USD 7.00 from 2024-01-01, 7.35 from 2024-07-15;
// list prices P1 10000, P2 5000).
//
// Premium share s = max(0, amount − list value) / amount:
//
//	K1 125000 CNY, lines 10 × P1 + 4 × P2 → list 100000 + 20000 = 120000 → s = 5000/125000 = 0.04
//	K2 10000 USD signed 06-10 at 7.00 → 70000; 10 × P2 → list 50000 → s = 20000/70000 = 2/7
//	K3 20000, no lines → s = 0 (no evidence of a premium)
//	K4 9000, 2 × P2 → list 10000 > 9000 → s = 0
//	K5 signed 09-05, after as-of: absent (and its payment too)
//
// R1 April: PAY1 50000 on K1 (above 2000) + PAY2 20000 on K3 (above 0)
//
//	collected 70000, above 2000, at/below 68000, commission 0.03×68000 + 0.10×2000 = 2040 + 200 = 2240
//
// R1 May: PAY3 75000 on K1 (above 3000), PAY4 −2000 refund on K3, PAY5 9000 on K4;
// PAY6 has no contract and is not counted
//
//	collected 82000, above 3000, at/below 79000, commission 2370 + 300 = 2670
//
// R2 July: PAY7 6500 USD on 07-01 at 7.00 = 45500, above 45500 × 2/7 = 13000,
//
//	at/below 32500, commission 975 + 1300 = 2275
//
// R2 August: PAY8 3500 USD on 08-01 at 7.35 = 25725, above 7350, at/below 18375,
//
//	commission 551.25 + 735 = 1286.25
//
// Signed: R1 March 125000 (K1), April 20000 (K3), May 9000 (K4); R2 June 70000.
// Targets: R1 March bookings 100000; R1 April collections 80000 → attainment
// 70000/80000 = 0.875; R2 June bookings 60000; R2 07-01..08-31 collections 91000
// over 62 days → July 31/62 = 45500 (attainment 1), August 45500 (25725/45500 =
// 0.5654); R1's September target is after the as-of month; the company target is
// not a rep's.
func TestRepPerformance(t *testing.T) {
	w := cvxWarehouse(t, "rep_performance")
	res := cvxRefresh(t, w, "2024-08-31", nil, "rep_performance")
	if r := res["rep_performance"]; r.Status != "ok" || r.Rows != 6 {
		t.Fatalf("status %+v", r)
	}
	q := `SELECT rep_id, org_unit_id, month::VARCHAR, signed::VARCHAR, collected::VARCHAR,
	             collected_at_or_below_list::VARCHAR, collected_above_list::VARCHAR, commission::VARCHAR,
	             target_bookings::VARCHAR, target_collections::VARCHAR, round(attainment_collections, 4)
	      FROM mart_rep_performance ORDER BY rep_id, month`
	cvxExpect(t, "mart_rep_performance", cvxRows(t, w, q), []string{
		"R1 | D-SH1 | 2024-03-01 | 125000.00 | 0.00 | 0.00 | 0.00 | 0.00 | 100000.00 | NULL | NULL",
		"R1 | D-SH1 | 2024-04-01 | 20000.00 | 70000.00 | 68000.00 | 2000.00 | 2240.00 | NULL | 80000.00 | 0.875",
		"R1 | D-SH1 | 2024-05-01 | 9000.00 | 82000.00 | 79000.00 | 3000.00 | 2670.00 | NULL | NULL | NULL",
		"R2 | D-SH2 | 2024-06-01 | 70000.00 | 0.00 | 0.00 | 0.00 | 0.00 | 60000.00 | NULL | NULL",
		"R2 | D-SH2 | 2024-07-01 | 0.00 | 45500.00 | 32500.00 | 13000.00 | 2275.00 | NULL | 45500.00 | 1",
		"R2 | D-SH2 | 2024-08-01 | 0.00 | 25725.00 | 18375.00 | 7350.00 | 1286.25 | NULL | 45500.00 | 0.5654",
	})

	// Rates from the settings: 5 % and 20 %. R1 April: 0.05×68000 + 0.20×2000 =
	// 3400 + 400 = 3800; R2 August: 0.05×18375 + 0.20×7350 = 918.75 + 1470 = 2388.75.
	cvxRefresh(t, w, "2024-08-31", map[string]Settings{"rep_performance": {"base_rate": 0.05, "premium_rate": "0.2"}}, "rep_performance")
	cvxExpect(t, "commission with settings", cvxRows(t, w, `
		SELECT rep_id, month::VARCHAR, commission::VARCHAR FROM mart_rep_performance
		WHERE (rep_id, month) IN (('R1', DATE '2024-04-01'), ('R2', DATE '2024-08-01')) ORDER BY rep_id`), []string{
		"R1 | 2024-04-01 | 3800.00",
		"R2 | 2024-08-01 | 2388.75",
	})

	// A negative rate is a configuration error that names the setting.
	_, _, err := cvxRefreshErr(w, "2024-08-31", map[string]Settings{"rep_performance": {"premium_rate": -0.1}}, "rep_performance")
	if err == nil || !strings.Contains(err.Error(), "models.rep_performance.premium_rate") {
		t.Fatalf("want a settings error, got %v", err)
	}
}

// TestRepPerformanceWithoutContracts: payments but no contracts → status empty,
// an empty table, no error.
func TestRepPerformanceWithoutContracts(t *testing.T) {
	w := cvxWarehouse(t, "rep_performance", "reps", "org_units", "customers", "payments", "fx_rates")
	res := cvxRefresh(t, w, "2024-08-31", nil, "rep_performance")
	if r := res["rep_performance"]; r.Status != "empty" || r.Rows != 0 {
		t.Fatalf("want empty with 0 rows, got %+v", r)
	}
}
