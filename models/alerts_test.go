package models

import "testing"

// Fixture testdata/alerts, as_of 2024-06-30 (so June is the last complete month).
//
//	purchases_down, months Mar → Jun:
//	  A1 1000 → 800 → 500 → 200: falls 3 times; 200 <= half of 1000 → high
//	  A2 1000 → 800 → 900 → 100: rises in May → none
//	  A3 1000 → 900 → 800 → 900 − 200 refund = 700 → medium (no org of its own: owner R2's DA)
//	  A4 0 → 500 → 300 → 100: rises in April → none
//	settlements, CT1 paid 1000 + 400 = 1400 against 1000 (05-01), 1000 (06-01),
//	  1000 (07-05), 1000 (07-20), settled in due order:
//	  05-01 covered; 06-01 600 outstanding, 29 days overdue → medium;
//	  07-05 1000 outstanding, due in 5 days → settlement_due; 07-20 is beyond 7 days.
//	  CT2 500 due 05-15, nothing paid: 46 days overdue → high. CT3 is cancelled.
//	contract_ending: CT1 ends 07-20 (20 days) → low; CT4 ends 07-31, 31 days: none.
//	stalled_deal: proposal stays 10, 20, 30 (closed), 20, 60, 121 (open) → median
//	  25; S5 60 > 50 → medium; S6 121 > 4 × 25 → high; S4 20 → none.
//	forecast_below_target: July target 1,000,000 for HQ (and so DA) is far above
//	  any forecast (the pipeline is 1,500 at 60 %) → high; August's target is 0.
func TestAlerts(t *testing.T) {
	w := plWarehouse(t, "testdata/alerts")
	plRefresh(t, w, "2024-06-30", nil, "targets", "forecast", "alerts")
	plExpect(t, w, `SELECT kind, severity, subject_type, subject_id, org_unit_id, coalesce(owner_rep_id, '-'), since,
			CASE WHEN kind = 'forecast_below_target' THEN left(detail, 28) ELSE detail END, as_of
		FROM mart_alerts`, []string{
		"forecast_below_target | high | org_unit | DA | DA | - | 2024-07-01 | forecast for 2024-07 (blend) | 2024-06-30",
		"forecast_below_target | high | org_unit | HQ | HQ | - | 2024-07-01 | forecast for 2024-07 (blend) | 2024-06-30",
		"purchases_down | high | customer | A1 | DA | R1 | 2024-04-01 | monthly purchases 2024-03 to 2024-06: 1000.00 → 800.00 → 500.00 → 200.00 | 2024-06-30",
		"settlement_overdue | high | contract | CT2 | DA | R2 | 2024-05-15 | due 2024-05-15, 46 days overdue: 500.00 outstanding of 500.00 | 2024-06-30",
		"stalled_deal | high | opportunity | S6 | DA | R2 | 2024-03-01 | in proposal for 121 days; the median is 25.0 days | 2024-06-30",
		"purchases_down | medium | customer | A3 | DA | R2 | 2024-04-01 | monthly purchases 2024-03 to 2024-06: 1000.00 → 900.00 → 800.00 → 700.00 | 2024-06-30",
		"settlement_due | medium | contract | CT1 | DA | R2 | 2024-07-05 | due 2024-07-05, in 5 days: 1000.00 outstanding of 1000.00 | 2024-06-30",
		"settlement_overdue | medium | contract | CT1 | DA | R2 | 2024-06-01 | due 2024-06-01, 29 days overdue: 600.00 outstanding of 1000.00 | 2024-06-30",
		"stalled_deal | medium | opportunity | S5 | DA | R1 | 2024-05-01 | in proposal for 60 days; the median is 25.0 days | 2024-06-30",
		"contract_ending | low | contract | CT1 | DA | R2 | 2024-07-20 | ends 2024-07-20, in 20 days (amount 4000.00) | 2024-06-30",
	})
	// The forecast alert compares the blend with the monthly target.
	plExpect(t, w, `SELECT count(*) FROM mart_alerts a JOIN mart_forecast f ON f.org_unit_id = a.subject_id AND f.month = '2024-07' AND f.method = 'blend'
		WHERE a.kind = 'forecast_below_target' AND a.detail = printf('forecast for 2024-07 (blend) %.2f vs target 1000000.00: %.0f%%', CAST(f.amount AS DOUBLE), CAST(f.amount AS DOUBLE) / 10000)`, []string{"2"})
	// Alerts alone in a fresh warehouse (no forecast, no targets tables): no forecast kind, no error.
	w2 := plWarehouse(t, "testdata/alerts")
	plRefresh(t, w2, "2024-06-30", nil, "alerts")
	plExpect(t, w2, "SELECT count(*), count(*) FILTER (WHERE kind = 'forecast_below_target') FROM mart_alerts", []string{"8 | 0"})
}
