package models

import "testing"

// Fixture testdata/win_rate, as_of 2024-06-30. Closed by as_of: won O01 100,
// O02 200, O03 300, O05 500, O07 700, O08 USD 100 × 8.00 = 800, O10 1000
// (closed on as_of itself) = 7 deals, 3600; lost O04 400, O06 600, O09 900 =
// 3 deals, 1900. O12 closes after as_of (open), O13 is created after as_of.
//
// Wilson 95 % for 7 of 10 (z = 1.959964, z² = 3.841459):
//
//	p = 0.7, denominator 1 + z²/n = 1.3841459
//	centre = (p + z²/2n) / 1.3841459 = (0.7 + 0.1920730) / 1.3841459 = 0.6444936
//	half   = z·sqrt(p(1−p)/n + z²/4n²) / 1.3841459
//	       = 1.959964 · sqrt(0.021 + 0.0096036) / 1.3841459 = 0.2477158
//	interval 0.396778 … 0.892209 (the textbook 0.3968 … 0.8922)
//
// For 2 of 2 (p = 1) the upper bound is exactly 1: centre (1 + z²/4)/(1 + z²/2)
// = 1.960365/2.920730 = 0.671190, half = (z²/4)/(1 + z²/2) = 0.328810, so
// 0.342380 … 1.
//
// amount_win_rate = 3600 / 5500 = 0.654545.
func TestWinRate(t *testing.T) {
	w := plWarehouse(t, "testdata/win_rate")
	res := plRefresh(t, w, "2024-06-30", nil, "win_rate")
	if res[0].Status != "ok" {
		t.Fatalf("status %s: %s", res[0].Status, res[0].Message)
	}
	// Company, and the org tree rolled up: DE1 (R1, R2) = O01–O06: won 100+200+300+500
	// = 1100, lost 400+600 = 1000, Wilson 4/6; DW1 (R3) = O07–O10: won 700+800+1000 =
	// 2500, lost 900, Wilson 3/4. The regions equal their one department; HQ = all.
	plExpect(t, w, `SELECT dimension, dimension_value, won, lost, win_rate, won_amount, lost_amount, amount_win_rate, ci_low, ci_high, as_of
		FROM mart_win_rate WHERE period = 'all' AND dimension IN ('all', 'org_unit') ORDER BY dimension, dimension_value`, []string{
		"all | all | 7 | 3 | 0.700000 | 3600 | 1900 | 0.654545 | 0.396778 | 0.892209 | 2024-06-30",
		"org_unit | DE1 | 4 | 2 | 0.666667 | 1100 | 1000 | 0.523810 | 0.299993 | 0.903229 | 2024-06-30",
		"org_unit | DW1 | 3 | 1 | 0.750000 | 2500 | 900 | 0.735294 | 0.300642 | 0.954413 | 2024-06-30",
		"org_unit | HQ | 7 | 3 | 0.700000 | 3600 | 1900 | 0.654545 | 0.396778 | 0.892209 | 2024-06-30",
		"org_unit | RE | 4 | 2 | 0.666667 | 1100 | 1000 | 0.523810 | 0.299993 | 0.903229 | 2024-06-30",
		"org_unit | RW | 3 | 1 | 0.750000 | 2500 | 900 | 0.735294 | 0.300642 | 0.954413 | 2024-06-30",
	})
	// By closing month: March O01, O02 won (2/2); April O03 won 300, O04 lost 400;
	// May O05 500 + O07 700 won, O06 600 lost; June O08 800 + O10 1000 won, O09 900 lost.
	plExpect(t, w, `SELECT period, won, lost, won_amount, lost_amount, amount_win_rate, ci_low, ci_high
		FROM mart_win_rate WHERE dimension = 'all' AND period <> 'all' ORDER BY period`, []string{
		"2024-03 | 2 | 0 | 300 | 0 | 1.000000 | 0.342380 | 1.000000",
		"2024-04 | 1 | 1 | 300 | 400 | 0.428571 | 0.094531 | 0.905469",
		"2024-05 | 2 | 1 | 1200 | 600 | 0.666667 | 0.207660 | 0.938508",
		"2024-06 | 2 | 1 | 1800 | 900 | 0.666667 | 0.207660 | 0.938508",
	})
	// Every other dimension (a missing value is "(none)").
	plExpect(t, w, `SELECT dimension, dimension_value, won, lost FROM mart_win_rate
		WHERE period = 'all' AND dimension NOT IN ('all', 'org_unit') ORDER BY dimension, dimension_value`, []string{
		"campaign | (none) | 6 | 3",
		"campaign | CMP1 | 1 | 0",
		"competitor | (none) | 6 | 2",
		"competitor | Kingdee | 1 | 1",
		"industry | manufacturing | 3 | 0",
		"industry | retail | 4 | 3",
		"partner | (none) | 6 | 3",
		"partner | PT1 | 1 | 0",
		"product | P1 | 5 | 0",
		"product | P2 | 2 | 3",
		"product_line | CRM | 2 | 3",
		"product_line | ERP | 5 | 0",
		"rep | R1 | 3 | 0",
		"rep | R2 | 1 | 2",
		"rep | R3 | 3 | 1",
		"source | campaign | 1 | 0",
		"source | inbound | 2 | 3",
		"source | partner | 1 | 0",
		"source | referral | 3 | 0",
	})
	// Furthest open stage reached (history; O07–O12 have none, so they sit in
	// lead, the first open stage, and O11 in its current stage, proposal):
	// O01 4 (skipped needs_analysis), O02 5, O03 1 (lead → won), O04 2, O05 5,
	// O06 4, O07–O10 1, O11 4 (open), O12 1 (open at as_of).
	//   lead: all 12 → won 7, lost 3
	//   qualified: O01 O02 O04 O05 O06 O11 → won 3, lost 2
	//   needs_analysis, proposal: O01 O02 O05 O06 O11 → won 3, lost 1
	//   negotiation: O02 O05 → won 2
	plExpect(t, w, "SELECT stage, position, reached, won, lost, win_rate FROM mart_win_rate_by_stage ORDER BY position", []string{
		"lead | 1 | 12 | 7 | 3 | 0.700000",
		"qualified | 2 | 6 | 3 | 2 | 0.600000",
		"needs_analysis | 3 | 5 | 3 | 1 | 0.750000",
		"proposal | 4 | 5 | 3 | 1 | 0.750000",
		"negotiation | 5 | 2 | 2 | 0 | 1.000000",
	})
	// Reasons: won relationship O02 O03 O07 (1200), price O01 O08 (900), then one
	// deal each: (none) O10 1000 before product fit O05 500; lost price O04 O06
	// (1000), competitor O09 (900).
	plExpect(t, w, "SELECT status, reason, deals, amount, rank FROM mart_close_reasons", []string{
		"won | relationship | 3 | 1200 | 1",
		"won | price | 2 | 900 | 2",
		"won | (none) | 1 | 1000 | 3",
		"won | product fit | 1 | 500 | 4",
		"lost | price | 2 | 1000 | 1",
		"lost | competitor | 1 | 900 | 2",
	})
}

// TestWinRateWithoutStageHistory: opportunities but no stage list or history still
// give win rates; the by-stage table is empty.
func TestWinRateWithoutStageHistory(t *testing.T) {
	w := plWarehouse(t, "testdata/win_rate/nostages")
	plRefresh(t, w, "2024-06-30", nil, "win_rate")
	plExpect(t, w, "SELECT won, lost FROM mart_win_rate WHERE dimension = 'all' AND period = 'all'", []string{"1 | 1"})
	plExpect(t, w, "SELECT count(*) FROM mart_win_rate_by_stage", []string{"0"})
}
