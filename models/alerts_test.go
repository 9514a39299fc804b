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

// Money at risk (what the pages rank by), worked from the fixture above:
// A1 12 × (1000 − 200) = 9,600, A3 12 × (1000 − 700) = 3,600; the unpaid
// part of CT2 (500) and of CT1's instalments (1,000 due, 600 overdue); CT1's
// amount 4,000 (ending); the deals S6 600 and S5 500.
//
// Settings move the thresholds and severities (issue 17 point 7): due_days
// 21 brings CT1's 07-20 instalment in (20 days); overdue_high_days 20 makes
// CT1's 29 days high; contract_ending fixed at medium; min_amount 550 drops
// CT2 (500) and S5 (500); high_amount 3,000 raises A3 (3,600) to high, while
// the 4,000 ending contract stays medium: a kind's fixed severity wins.
func TestAlertsMoneyAtRiskAndSettings(t *testing.T) {
	w := plWarehouse(t, "testdata/alerts")
	q := `SELECT kind, subject_id, severity, amount_at_risk FROM mart_alerts
		WHERE kind <> 'forecast_below_target' ORDER BY amount_at_risk DESC, kind, since`
	plRefresh(t, w, "2024-06-30", nil, "targets", "forecast", "alerts")
	plExpect(t, w, q, []string{
		"purchases_down | A1 | high | 9600",
		"contract_ending | CT1 | low | 4000",
		"purchases_down | A3 | medium | 3600",
		"settlement_due | CT1 | medium | 1000",
		"settlement_overdue | CT1 | medium | 600",
		"stalled_deal | S6 | high | 600",
		"settlement_overdue | CT2 | high | 500",
		"stalled_deal | S5 | medium | 500",
	})
	plRefresh(t, w, "2024-06-30", map[string]Settings{"alerts": {
		"due_days": 21, "overdue_high_days": 20, "min_amount": 550, "high_amount": 3000,
		"severities": map[string]any{"contract_ending": "medium"},
	}}, "alerts")
	plExpect(t, w, q, []string{
		"purchases_down | A1 | high | 9600",
		"contract_ending | CT1 | medium | 4000",
		"purchases_down | A3 | high | 3600",
		"settlement_due | CT1 | medium | 1000",
		"settlement_due | CT1 | medium | 1000",
		"settlement_overdue | CT1 | high | 600",
		"stalled_deal | S6 | high | 600",
	})
	for _, bad := range []Settings{
		{"due_days": 1.5}, {"due_days": "soon"}, {"min_amount": -1}, {"bogus": 1},
		{"severities": map[string]any{"nope": "high"}}, {"severities": map[string]any{"stalled_deal": "urgent"}},
		{"stalled_factor": 5, "stalled_high_factor": 4},
	} {
		if err := CheckAlertSettings(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
