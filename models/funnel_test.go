package models

import "testing"

// Fixture testdata/funnel, as_of 2024-03-31. Stages lead 1 (10 %), qualified 2
// (20 %), proposal 3 (60 %), negotiation 4 (80 %), won 5, lost 6.
//
//	F1 R1 1000 lead 01-01, qualified 01-11, proposal 01-21, negotiation 02-10, won 03-01
//	   days 10, 10, 20, 20 (02-10 → 03-01 in a leap year)
//	F2 R1 2000 lead 01-05, proposal 01-15 (skips qualified), lost 02-04: days 10, 20
//	F3 R2 3000 lead 01-10, qualified 01-20, lost 02-01, qualified 02-15 (re-opened),
//	   proposal 03-01, open: lead 10; qualified 12 + 15 = 27 (entered once);
//	   proposal 03-01 → as_of = 30
//	F4 R2 4000 lead 02-01, open: 59 days to as_of
//	F5 R1 5000 lead 01-15, qualified 01-25, won 03-11 (skips proposal, negotiation): 10, 46
//	F6 R2 6000 no history, current stage proposal, created 03-21, open: proposal 10 days
//	F7 created 04-05, after as_of: not counted
//	F8 R1 8000 lead 03-01; qualified 04-02 is after as_of: in lead 30 days
//
// Furthest open position: F1 4 (won), F2 3 (lost), F3 3, F4 1, F5 2 (won), F6 3, F8 1.
//
//	lead: entered F1 F2 F3 F4 F5 F8 = 6 (F6 never was in lead); advanced F1 F2 F3 F5;
//	  still open F4 F8; won F1 F5 → 4/6, 2/6. days 10,10,10,10,30,59: median 10,
//	  p75 at rank 3.75 = 10 + 0.75·20 = 25. amount 23000, weighted 2300.
//	qualified: F1 F3 F5 (F2 skipped it), all advanced, won 2 → 1, 2/3.
//	  days 10, 27, 46: median 27, p75 at rank 1.5 = 36.5. amount 9000, weighted 1800.
//	proposal: F1 F2 F3 F6; advanced F1; dropped F2; still open F3 F6; won F1 → 1/4, 1/4.
//	  days 10,20,20,30: median 20, p75 at 2.25 = 22.5. amount 12000, weighted 7200.
//	negotiation: F1 only: advanced (won), 20 days. amount 1000, weighted 800.
//	won: F1 F5 = 2, amount 6000.
func TestFunnel(t *testing.T) {
	w := plWarehouse(t, "testdata/funnel")
	plRefresh(t, w, "2024-03-31", nil, "funnel")
	const cols = `stage, position, entered, advanced, dropped, still_open, conversion_next, conversion_won, days_median, days_p75, amount, weighted_amount`
	plExpect(t, w, "SELECT "+cols+" FROM mart_funnel WHERE org_unit_id = 'all' ORDER BY position", []string{
		"lead | 1 | 6 | 4 | 0 | 2 | 0.666667 | 0.333333 | 10.000000 | 25.000000 | 23000 | 2300",
		"qualified | 2 | 3 | 3 | 0 | 0 | 1.000000 | 0.666667 | 27.000000 | 36.500000 | 9000 | 1800",
		"proposal | 3 | 4 | 1 | 1 | 2 | 0.250000 | 0.250000 | 20.000000 | 22.500000 | 12000 | 7200",
		"negotiation | 4 | 1 | 1 | 0 | 0 | 1.000000 | 1.000000 | 20.000000 | 20.000000 | 1000 | 800",
		"won | 5 | 2 | 0 | 0 | 0 | NULL | 1.000000 | NULL | NULL | 6000 | 6000",
	})
	// Dept A (R1: F1 F2 F5 F8): lead entered 4, advanced F1 F2 F5, still open F8,
	// days 10,10,10,30 → median 10, p75 at 2.25 = 15. Dept B (R2: F3 F4 F6):
	// proposal F3 F6 both still open; negotiation never entered (zero row).
	plExpect(t, w, "SELECT org_unit_id, "+cols+" FROM mart_funnel WHERE org_unit_id IN ('DA', 'DB') AND position IN (1, 3, 4) ORDER BY org_unit_id, position", []string{
		"DA | lead | 1 | 4 | 3 | 0 | 1 | 0.750000 | 0.500000 | 10.000000 | 15.000000 | 16000 | 1600",
		"DA | proposal | 3 | 2 | 1 | 1 | 0 | 0.500000 | 0.500000 | 20.000000 | 20.000000 | 3000 | 1800",
		"DA | negotiation | 4 | 1 | 1 | 0 | 0 | 1.000000 | 1.000000 | 20.000000 | 20.000000 | 1000 | 800",
		"DB | lead | 1 | 2 | 1 | 0 | 1 | 0.500000 | 0.000000 | 34.500000 | 46.750000 | 7000 | 700",
		"DB | proposal | 3 | 2 | 0 | 0 | 2 | 0.000000 | 0.000000 | 20.000000 | 25.000000 | 9000 | 5400",
		"DB | negotiation | 4 | 0 | 0 | 0 | 0 | NULL | NULL | NULL | NULL | 0 | 0",
	})
	// The org tree rolls up: each region equals its department, HQ equals all.
	plExpect(t, w, `SELECT count(*) FROM mart_funnel a JOIN mart_funnel b USING (stage)
		WHERE (a.org_unit_id, b.org_unit_id) IN (('RA', 'DA'), ('RB', 'DB'), ('HQ', 'all'))
		  AND (a.entered, a.advanced, a.dropped, a.still_open, a.amount) IS DISTINCT FROM (b.entered, b.advanced, b.dropped, b.still_open, b.amount)`,
		[]string{"0"})
	plExpect(t, w, "SELECT count(DISTINCT org_unit_id) FROM mart_funnel", []string{"6"})
}

// Velocity at as_of 2024-03-31 (qualified = reached position 2 or later):
// qualified on F1 01-11, F2 01-15 (proposal, skipping qualified), F3 01-20,
// F5 01-25, F6 03-21; F4 and F8 never (by as_of). Open at as_of: F3 F4 F6 F8 →
// qualified_open 2. Won F1 1000 in 60 days (01-01 → 03-01), F5 5000 in 56 days
// (01-15 → 03-11): avg 3000, cycle 58; lost F2: win rate 2/3.
// velocity = 2 × 3000 × 2/3 / 58 = 68.965517 per day.
// January (end 01-31): open and qualified F1 F2 F3 F5 = 4, nothing closed.
// February (end 02-29): F2 closed 02-04; F1 F3 F5 = 3; lost 1 → win rate 0.
// March (end = as_of): 2; won F1 F5 → win rate 1, velocity 2 × 3000 / 58 = 103.448276.
func TestVelocityAndMarketFunnel(t *testing.T) {
	w := plWarehouse(t, "testdata/funnel")
	plRefresh(t, w, "2024-03-31", nil, "funnel")
	plExpect(t, w, `SELECT period, qualified_open, avg_won_amount, win_rate, avg_cycle_days, velocity_per_day
		FROM mart_velocity WHERE org_unit_id = 'all'`, []string{
		"all | 2 | 3000.000000 | 0.666667 | 58.000000 | 68.965517",
		"2024-01 | 4 | NULL | NULL | NULL | NULL",
		"2024-02 | 3 | NULL | 0.000000 | NULL | NULL",
		"2024-03 | 2 | 3000.000000 | 1.000000 | 58.000000 | 103.448276",
	})
	// Dept B holds F3 and F6 (both qualified, open) and nothing closed.
	plExpect(t, w, `SELECT org_unit_id, qualified_open, avg_won_amount FROM mart_velocity WHERE period = 'all' AND org_unit_id IN ('DA', 'DB') ORDER BY 1`, []string{
		"DA | 0 | 3000.000000",
		"DB | 2 | NULL",
	})
	// With "proposal" as the qualifying stage F3 (proposal 03-01) and F6 still count;
	// in January F1 (proposal 01-21) and F2 (01-15); in February only F1, as F2
	// closed on 02-04 and F3 reached proposal on 03-01.
	plRefresh(t, w, "2024-03-31", map[string]Settings{"funnel": {"qualified_stage": "proposal"}}, "funnel")
	plExpect(t, w, "SELECT period, qualified_open FROM mart_velocity WHERE org_unit_id = 'all'", []string{
		"all | 2", "2024-01 | 2", "2024-02 | 1", "2024-03 | 2",
	})
	// Market funnel: CMP1 got 3 responses (A1–A3), 2 deals (F2, F5), 1 won (F5);
	// CMP2's only response is after as_of; CMP3 starts after as_of (absent).
	plExpect(t, w, "SELECT campaign_id, stage, position, count FROM mart_market_funnel", []string{
		"CMP1 | responses | 1 | 3",
		"CMP1 | opportunities | 2 | 2",
		"CMP1 | won | 3 | 1",
		"CMP2 | responses | 1 | 0",
		"CMP2 | opportunities | 2 | 0",
		"CMP2 | won | 3 | 0",
		"all | responses | 1 | 3",
		"all | opportunities | 2 | 2",
		"all | won | 3 | 1",
	})
}
