package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/warehouse"
)

// The 7P fixture (testdata/customer_value), as of 2024-12-31, base CNY, USD 7.00,
// worked out by hand. Customers C1..C6 (C7 is created 2025-02-01: left out).
// Percentile rank pct(x) = 100 × (rank − 1) / (n − 1), ties at the lowest rank; n = 6.
//
// Profitability (margin = revenue − product cost − expenses − 2 % service cost):
//
//	C1 revenue 40000 + 40000 = 80000 (PAY8 is 2025). K1 lines 5 × P1 cost 4000 +
//	   8 × P2 cost 1000 = 28000, 80000/100000 collected → 22400; K1B nothing
//	   collected → 0. Expenses E1 2000 + E2 1000 (through contract K1) = 3000
//	   (E5 is 2025). Service 1600. Margin 80000 − 22400 − 3000 − 1600 = 53000.
//	C2 revenue 40000; K2 has no lines → its opportunity O2's product P3,
//	   cost/list 500/2000 = 0.25 → 40000 × 0.25 × 1 = 10000; service 800 → 29200.
//	C3 no revenue; E4 2000 through opportunity O3 → −2000.
//	C4 payments without contract 10000 (no product cost); E3 1200; service 200 → 8600.
//	C5 nothing → 0.
//	C6 K6 1000 USD × 7.00 = 7000 collected of 7000; line 2 × P3 cost 500 = 1000;
//	   service 140 → 5860.
//	pct(margin): C3 0, C5 20, C6 40, C4 60, C2 80, C1 100.
//
// Profiling (peer group = industry × size_band × region; region from org_units):
//
//	{C1, C2} manufacturing/large/R-E mean (53000 + 29200)/2 = 41100;
//	{C3, C5} retail/small/R-N −1000; {C4} logistics/medium/R-E 8600;
//	{C6} manufacturing/large/R-N 5860.
//	pct: C3, C5 0 (rank 1); C6 40 (rank 3); C4 60; C1, C2 80 (rank 5).
//
// Persistency = mean(pct(tenure days), 100 × active months of 24 / 24, pct(repeat contracts) [, 100 × P(alive)]):
//
//	tenure from the first payment or signature: C1 2023-01-15 → 716 d, C2 2024-03-01 → 305,
//	C4 2024-10-05 → 87, C6 2024-06-01 → 213, C3 and C5 0.
//	pct: C3, C5 0; C4 40; C6 60; C2 80; C1 100.
//	active months 2023-01..2024-12: C1 2 (2023-02, 2024-06), C2 2, C4 2, C6 1 → 8.3333, 4.1667.
//	repeat contracts (contracts − 1): C1 1 (K1, K1B), the others 0 → pct C1 100, others 0.
//	C1 (100 + 8.3333 + 100)/3 = 69.4444; C2 (80 + 8.3333 + 0)/3 = 29.4444; C3 0;
//	C4 (40 + 8.3333 + 0)/3 = 16.1111; C5 0; C6 (60 + 4.1667 + 0)/3 = 21.3889.
//
// Performance (from mart_contract_execution) = mean(100 × paid/due, 100 × on-time share, 100 × max(0, 1 − days/90)):
//
//	C1 K1 due 100000 (02-10 40000, 06-01 40000, 12-01 20000), paid 80000 (02-10, 06-10):
//	   #1 on time, #2 late, #3 open 30 days → (80 + 33.3333 + 66.6667)/3 = 60.
//	   K1B is due 2025-01-15 (start_on; no schedule): nothing due, left out.
//	C2 K2 no schedule → due 40000 on start_on 03-01, paid 03-15 and 09-15: late
//	   but settled → (100 + 0 + 100)/3 = 66.6667.
//	C6 K6 paid on its due date → 100. C3, C4, C5 have no contract: NULL.
//
// Prospecting = pct(weighted open pipeline [+ predicted CLV]):
//
//	C1 O5 10000 × 20 % = 2000; C2 O8 (won 2025-01-10, so open at as-of; stage
//	on 12-31 proposal, default 60 %) 10000 × 60 % = 6000; C3 O3 50000 × 60 % = 30000;
//	C5 O4 20000 × 50 % = 10000 (its own probability, not the stage's 60);
//	C4 O7 is created 2025 → 0; C6 0.
//	pct: C4, C6 0; C1 40; C2 60; C5 80; C3 100.
//
// Product = 100 × lines bought / 3 lines (ERP, CRM, BI):
//
//	C1 ERP + CRM (K1 lines) → 66.6667; C2 BI (K2 has no lines → O2's P3; O8's
//	CRM is won only in 2025) → 33.3333; C6 BI → 33.3333; others 0.
//
// Promotion = pct(activities + campaign responses, last 12 months):
//
//	C1 A1, A2, A3 + CMP1 (A3) = 4; C2 A4 is 2023 → 0; C3 A5 + CMP1 (O3) = 2;
//	C5 A6 through O4 = 1; C6 A7 is 2025 → 0; C4 0.
//	pct: C2, C4, C6 0; C5 60; C3 80; C1 100.
//
// Value index with the default weights .10 .15 .30 .15 .15 .075 .075 (a NULL
// score drops out and the weights are renormalised):
//
//	C1 8 + 10.4167 + 30 + 9 + 6 + 5 + 7.5 = 75.9167
//	C2 8 + 4.4167 + 24 + 10 + 9 + 2.5 + 0 = 57.9167
//	C3 (0 + 0 + 0 + 15 + 0 + 6) / .85 = 24.7059
//	C4 (6 + 2.4167 + 18 + 0 + 0 + 0) / .85 = 31.0784
//	C5 (0 + 0 + 6 + 12 + 0 + 4.5) / .85 = 26.4706
//	C6 4 + 3.2083 + 12 + 15 + 0 + 2.5 + 0 = 36.7083
//
// Tiers: positive margin 53000 + 29200 + 8600 + 5860 = 96660, 80 % = 77328.
// C1 (before it 0) gold; C2 (before it 53000 < 77328; it crosses 80 %) gold;
// C4 (before it 82200) not gold. C3 margin < 0 → unprofitable (despite
// prospecting 100). C5 margin 0, prospecting 80 ≥ 80 → potential_gold. C4, C6 ordinary.
func TestCustomerValue(t *testing.T) {
	w := cvxWarehouse(t, "customer_value")
	res := cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value")
	if r := res["customer_value"]; r.Status != "ok" {
		t.Fatalf("status %+v", r)
	}

	cvxExpect(t, "detail", cvxRows(t, w, `
		SELECT customer_id, region_id, peer_group_size, peer_mean_margin::VARCHAR, revenue::VARCHAR, product_cost::VARCHAR,
		       expenses::VARCHAR, service_cost::VARCHAR, margin::VARCHAR, tenure_days, active_months_24, repeat_contracts,
		       round(collection_ratio, 4), round(on_time_share, 4), days_overdue_max, round(weighted_pipeline, 2),
		       product_lines_bought, product_lines_available, activities_12m, campaign_responses_12m
		FROM mart_customer_value_detail ORDER BY customer_id`), []string{
		"C1 | R-E | 2 | 41100.00 | 80000.00 | 22400.00 | 3000.00 | 1600.00 | 53000.00 | 716 | 2 | 1 | 0.8 | 0.3333 | 30 | 2000 | 2 | 3 | 3 | 1",
		"C2 | R-E | 2 | 41100.00 | 40000.00 | 10000.00 | 0.00 | 800.00 | 29200.00 | 305 | 2 | 0 | 1 | 0 | 0 | 6000 | 1 | 3 | 0 | 0",
		"C3 | R-N | 2 | -1000.00 | 0.00 | 0.00 | 2000.00 | 0.00 | -2000.00 | 0 | 0 | 0 | NULL | NULL | NULL | 30000 | 0 | 3 | 1 | 1",
		"C4 | R-E | 1 | 8600.00 | 10000.00 | 0.00 | 1200.00 | 200.00 | 8600.00 | 87 | 2 | 0 | NULL | NULL | NULL | 0 | 0 | 3 | 0 | 0",
		"C5 | R-N | 2 | -1000.00 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 0 | 0 | 0 | NULL | NULL | NULL | 10000 | 0 | 3 | 1 | 0",
		"C6 | R-N | 1 | 5860.00 | 7000.00 | 1000.00 | 0.00 | 140.00 | 5860.00 | 213 | 1 | 0 | 1 | 1 | 0 | 0 | 1 | 3 | 0 | 0",
	})

	cvxExpect(t, "mart_customer_value", cvxRows(t, w, `
		SELECT customer_id, round(profiling_fit, 4), round(persistency, 4), round(profitability, 4), margin::VARCHAR,
		       round(performance, 4), round(prospecting, 4), round(product, 4), round(promotion, 4),
		       round(value_index, 4), tier, as_of::VARCHAR
		FROM mart_customer_value ORDER BY customer_id`), []string{
		"C1 | 80 | 69.4444 | 100 | 53000.00 | 60 | 40 | 66.6667 | 100 | 75.9167 | gold | 2024-12-31",
		"C2 | 80 | 29.4444 | 80 | 29200.00 | 66.6667 | 60 | 33.3333 | 0 | 57.9167 | gold | 2024-12-31",
		"C3 | 0 | 0 | 0 | -2000.00 | NULL | 100 | 0 | 80 | 24.7059 | unprofitable | 2024-12-31",
		"C4 | 60 | 16.1111 | 60 | 8600.00 | NULL | 0 | 0 | 0 | 31.0784 | ordinary | 2024-12-31",
		"C5 | 0 | 0 | 20 | 0.00 | NULL | 80 | 0 | 60 | 26.4706 | potential_gold | 2024-12-31",
		"C6 | 40 | 21.3889 | 40 | 5860.00 | 100 | 0 | 33.3333 | 0 | 36.7083 | ordinary | 2024-12-31",
	})

	// Cross-sell within peer groups: C1's peer C2 bought BI; C2's peer C1 bought
	// CRM and ERP (equal shares, by name). C3/C5 bought nothing; C4 and C6 have no peers.
	cvxExpect(t, "mart_cross_sell", cvxRows(t, w, `
		SELECT customer_id, product_line, peer_customers, peer_buyers, peer_share, rank FROM mart_cross_sell ORDER BY customer_id, rank`), []string{
		"C1 | BI | 1 | 1 | 1 | 1",
		"C2 | CRM | 1 | 1 | 1 | 1",
		"C2 | ERP | 1 | 1 | 1 | 2",
	})
}

// TestCustomerValueSettings: weights (nested map and flat keys), the service
// cost rate, the gold share and the potential-gold threshold from the settings.
func TestCustomerValueSettings(t *testing.T) {
	w := cvxWarehouse(t, "customer_value")

	// Only profitability and promotion count, equally: value = (profitability + promotion)/2.
	// Service cost 0: margins C1 54600, C2 30000, C3 −2000, C4 8800, C5 0, C6 6000
	// (ranks unchanged). Positive total 99400; with gold_share 0.5 the cut is 49700:
	// C1 (before it 0) is gold, C2 (before it 54600) is not. potential_gold needs
	// prospecting ≥ 81: C5 (80) is ordinary, C2 (60) too.
	settings := map[string]Settings{"customer_value": {
		"weights": map[string]any{"profiling": 0, "persistency": 0, "performance": 0.0, "prospecting": 0, "product": 0},
		// flat keys win over the nested map
		"weights.profitability": 1, "weights.promotion": "1",
		"service_cost_rate": 0, "gold_share": 0.5, "potential_gold_prospecting": 81,
	}}
	cvxRefresh(t, w, "2024-12-31", settings, "contract_execution", "customer_value")
	cvxExpect(t, "with settings", cvxRows(t, w, `
		SELECT customer_id, margin::VARCHAR, round(value_index, 4), tier FROM mart_customer_value ORDER BY customer_id`), []string{
		"C1 | 54600.00 | 100 | gold",
		"C2 | 30000.00 | 40 | ordinary",
		"C3 | -2000.00 | 40 | unprofitable",
		"C4 | 8800.00 | 30 | ordinary",
		"C5 | 0.00 | 40 | ordinary",
		"C6 | 6000.00 | 20 | ordinary",
	})

	// A negative weight is an error naming the setting; so are all-zero weights.
	for _, s := range []Settings{
		{"weights.product": -1},
		{"weights": map[string]any{"profiling": 0, "persistency": 0, "profitability": 0, "performance": 0, "prospecting": 0, "product": 0, "promotion": 0}},
	} {
		_, _, err := cvxRefreshErr(w, "2024-12-31", map[string]Settings{"customer_value": s}, "customer_value")
		if err == nil || !strings.Contains(err.Error(), "models.customer_value.weights") {
			t.Errorf("settings %v: want a weights error, got %v", s, err)
		}
	}
}

// TestCustomerValueWithCLVAndRFM: mart_clv and mart_rfm for the as-of date feed
// P(alive) into persistency and CLV into prospecting; rows of another as-of
// date are ignored (the scores fall back as if there were no CLV).
//
// With P(alive) C1 0.9, C2 0.5, C4 0.2, C6 0.8 (none for C3, C5):
//
//	C1 (100 + 8.3333 + 100 + 90)/4 = 74.5833; C2 (80 + 8.3333 + 0 + 50)/4 = 34.5833;
//	C3 0 (no P(alive): 3 components); C4 (40 + 8.3333 + 0 + 20)/4 = 17.0833;
//	C6 (60 + 4.1667 + 0 + 80)/4 = 36.0417.
//
// Prospecting with CLV C1 1000, C2 50000: C1 3000, C2 56000, C3 30000, C4 0,
// C5 10000, C6 0 → pct C4, C6 0; C1 40; C5 60; C3 80; C2 100. C5 drops to
// ordinary.
func TestCustomerValueWithCLVAndRFM(t *testing.T) {
	w := cvxWarehouse(t, "customer_value")
	cvxExec(t, w, `CREATE TABLE mart_clv (customer_id VARCHAR, frequency INTEGER, recency DOUBLE, t DOUBLE, p_alive DOUBLE,
		expected_purchases DOUBLE, expected_avg_value DOUBLE, clv DOUBLE, as_of DATE)`)
	cvxExec(t, w, `INSERT INTO mart_clv (customer_id, p_alive, clv, as_of) VALUES
		('C1', 0.9, 1000, DATE '2024-12-31'), ('C2', 0.5, 50000, DATE '2024-12-31'),
		('C4', 0.2, 0, DATE '2024-12-31'), ('C6', 0.8, 0, DATE '2024-12-31')`)
	cvxExec(t, w, `CREATE TABLE mart_rfm (customer_id VARCHAR, segment VARCHAR, as_of DATE)`)
	cvxExec(t, w, `INSERT INTO mart_rfm VALUES ('C1', 'champions', DATE '2024-12-31')`)

	cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value")
	cvxExpect(t, "with clv", cvxRows(t, w, `
		SELECT v.customer_id, round(persistency, 4), round(prospecting, 4), tier, d.p_alive, d.predicted_clv, d.rfm_segment
		FROM mart_customer_value v JOIN mart_customer_value_detail d USING (customer_id) ORDER BY customer_id`), []string{
		"C1 | 74.5833 | 40 | gold | 0.9 | 1000 | champions",
		"C2 | 34.5833 | 100 | gold | 0.5 | 50000 | NULL",
		"C3 | 0 | 80 | unprofitable | NULL | 0 | NULL",
		"C4 | 17.0833 | 0 | ordinary | 0.2 | 0 | NULL",
		"C5 | 0 | 60 | ordinary | NULL | 0 | NULL",
		"C6 | 36.0417 | 0 | ordinary | 0.8 | 0 | NULL",
	})
	// The radar's peer groups: C1 by its segment, the others (no RFM row) by
	// their tier; the scores are mart_customer_value's, in the order of the
	// groups.
	cvxExpect(t, "peers", cvxRows(t, w, `
		SELECT p.customer_id, p.peer_group, p.segment, p.tier, round(p.persistency, 4), round(p.prospecting, 4),
		       p.profiling_fit IS NOT DISTINCT FROM v.profiling_fit AND p.profitability IS NOT DISTINCT FROM v.profitability
		       AND p.performance IS NOT DISTINCT FROM v.performance AND p.product IS NOT DISTINCT FROM v.product
		       AND p.promotion IS NOT DISTINCT FROM v.promotion AND p.as_of = v.as_of
		FROM (SELECT *, row_number() OVER () AS n FROM mart_customer_value_peers) p
		JOIN mart_customer_value v USING (customer_id) ORDER BY p.n`), []string{
		"C1 | segment:champions | champions | gold | 74.5833 | 40 | true",
		"C2 | tier:gold | NULL | gold | 34.5833 | 100 | true",
		"C4 | tier:ordinary | NULL | ordinary | 17.0833 | 0 | true",
		"C5 | tier:ordinary | NULL | ordinary | 0 | 60 | true",
		"C6 | tier:ordinary | NULL | ordinary | 36.0417 | 0 | true",
		"C3 | tier:unprofitable | NULL | unprofitable | 0 | 80 | true",
	})

	// Stale marts (another as-of date) are not used.
	cvxExec(t, w, `UPDATE mart_clv SET as_of = DATE '2024-06-30'`)
	cvxExec(t, w, `UPDATE mart_rfm SET as_of = DATE '2024-06-30'`)
	cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value")
	cvxExpect(t, "stale clv", cvxRows(t, w, `
		SELECT v.customer_id, round(persistency, 4), round(prospecting, 4), d.p_alive, d.predicted_clv, d.rfm_segment
		FROM mart_customer_value v JOIN mart_customer_value_detail d USING (customer_id) WHERE customer_id IN ('C1', 'C2') ORDER BY 1`), []string{
		"C1 | 69.4444 | 40 | NULL | NULL | NULL",
		"C2 | 29.4444 | 60 | NULL | NULL | NULL",
	})
}

// TestCustomerValueAbsentInputs: the model runs, creates its tables and says
// why it is empty when inputs are missing.
func TestCustomerValueAbsentInputs(t *testing.T) {
	t.Run("no payments", func(t *testing.T) {
		// Customers only: status empty, one row per customer (C7 created after
		// as-of is left out), margin 0 everywhere, no pipeline, products,
		// promotion or performance inputs → those scores are NULL.
		w := cvxWarehouse(t, "customer_value", "customers", "org_units", "reps")
		res := cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value", "rep_performance")
		for model, want := range map[string]string{"contract_execution": "empty", "customer_value": "empty", "rep_performance": "empty"} {
			if r := res[model]; r.Status != want {
				t.Errorf("%s: want %s, got %+v", model, want, r)
			}
		}
		cvxExpect(t, "no payments", cvxRows(t, w, `
			SELECT customer_id, profiling_fit, persistency, margin::VARCHAR, performance, prospecting, product, promotion, round(value_index, 4), tier
			FROM mart_customer_value ORDER BY customer_id`), []string{
			"C1 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
			"C2 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
			"C3 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
			"C4 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
			"C5 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
			"C6 | 0 | 0 | 0.00 | NULL | NULL | NULL | NULL | 0 | ordinary",
		})
	})

	t.Run("payments only", func(t *testing.T) {
		// No customers: the customers are those of the payments (C1, C2, C4, C6),
		// profiling is NULL (no attributes), no product cost or expenses.
		// Margins: C1 80000 − 1600 = 78400; C2 40000 − 800 = 39200; C4 9800;
		// C6 7000 − 140 = 6860. Total 134260, 80 % = 107408: C1 (0 before) and
		// C2 (78400 before) are gold, C4 (117600 before) is not.
		w := cvxWarehouse(t, "customer_value", "payments", "fx_rates")
		res := cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value")
		if r := res["customer_value"]; r.Status != "ok" || r.Rows == 0 {
			t.Fatalf("status %+v", r)
		}
		if r := res["contract_execution"]; r.Status != "empty" {
			t.Fatalf("contract_execution %+v", r)
		}
		cvxExpect(t, "payments only", cvxRows(t, w, `
			SELECT customer_id, profiling_fit, margin::VARCHAR, round(profitability, 4), performance, prospecting, product, promotion, tier
			FROM mart_customer_value ORDER BY customer_id`), []string{
			"C1 | NULL | 78400.00 | 100 | NULL | NULL | NULL | NULL | gold",
			"C2 | NULL | 39200.00 | 66.6667 | NULL | NULL | NULL | NULL | gold",
			"C4 | NULL | 9800.00 | 33.3333 | NULL | NULL | NULL | NULL | ordinary",
			"C6 | NULL | 6860.00 | 0 | NULL | NULL | NULL | NULL | ordinary",
		})
	})

	t.Run("without contract_execution", func(t *testing.T) {
		// customer_value alone: mart_contract_execution does not exist, so
		// performance is NULL for everyone and the index uses the other six Ps.
		// C6: (4 + 3.2083 + 12 + 0 + 2.5 + 0) / .85 = 21.7083 / .85 = 25.5392.
		w := cvxWarehouse(t, "customer_value")
		if r := cvxRefresh(t, w, "2024-12-31", nil, "customer_value")["customer_value"]; r.Status != "ok" {
			t.Fatalf("status %+v", r)
		}
		cvxExpect(t, "no execution", cvxRows(t, w, `
			SELECT count(*), count(performance), round(max(value_index) FILTER (WHERE customer_id = 'C6'), 4) FROM mart_customer_value`),
			[]string{"6 | 0 | 25.5392"})
	})

	t.Run("nothing", func(t *testing.T) {
		w := cvxWarehouse(t, "")
		res := cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value", "rep_performance")
		for _, m := range []string{"contract_execution", "customer_value", "rep_performance"} {
			if r := res[m]; r.Status != "empty" || r.Rows != 0 {
				t.Errorf("%s: want empty with 0 rows, got %+v", m, r)
			}
		}
	})
}

func TestCustomerValueWeightsSetting(t *testing.T) {
	got, err := customerValueWeights(Settings{"weights": Settings{"product": 0.5}, "weights.promotion": 0.25})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.10, 0.15, 0.30, 0.15, 0.15, 0.5, 0.25}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("weights %v, want %v", got, want)
		}
	}
}

func cvxExec(t *testing.T, w *warehouse.Warehouse, q string) {
	t.Helper()
	if _, err := w.DB().ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestCustomerValuePeerGroups: the peer groups are numbered in the order of
// (industry, size band, region), NULLs last, and customers with none of the
// three (C8, C9: no industry, size band or org unit) form a group of their
// own with its size and mean margin. C8 pays 1000 and C9 3000: margins 980
// and 2940 after the 2 % service cost, mean 1960.
//
//	1 logistics/medium/R-E: C4; 2 manufacturing/large/R-E: C1, C2;
//	3 manufacturing/large/R-N: C6; 4 retail/small/R-N: C3, C5; 5 NULL: C8, C9.
func TestCustomerValuePeerGroups(t *testing.T) {
	w := cvxWarehouse(t, "customer_value")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "customers.csv"), []byte(
		"customer_id,name,industry,size_band,org_unit_id,city,created_at,owner_rep_id,source,lifecycle_stage\n"+
			"C8,Theta,,,,Wuhan,2024-04-01T10:00:00+08:00,R1,referral,transaction\n"+
			"C9,Iota,,,,Wuhan,2024-04-01T10:00:00+08:00,R1,referral,transaction\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "payments.csv"), []byte(
		"payment_id,contract_id,customer_id,paid_on,amount,currency,method\n"+
			"PAY-C8,,C8,2024-05-01,1000.00,CNY,bank_transfer\n"+
			"PAY-C9,,C9,2024-07-01,3000.00,CNY,bank_transfer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := etl.Load(context.Background(), w, []string{dir}, etl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tot := rep.Totals(); tot.Rejected > 0 {
		t.Fatalf("rejected %d rows: %+v", tot.Rejected, rep.Files)
	}
	cvxRefresh(t, w, "2024-12-31", nil, "contract_execution", "customer_value")
	cvxExpect(t, "peer groups", cvxRows(t, w, `
		SELECT customer_id, peer_group, peer_group_size, peer_mean_margin::VARCHAR, margin::VARCHAR
		FROM mart_customer_value_detail ORDER BY customer_id`), []string{
		"C1 | 2 | 2 | 41100.00 | 53000.00",
		"C2 | 2 | 2 | 41100.00 | 29200.00",
		"C3 | 4 | 2 | -1000.00 | -2000.00",
		"C4 | 1 | 1 | 8600.00 | 8600.00",
		"C5 | 4 | 2 | -1000.00 | 0.00",
		"C6 | 3 | 1 | 5860.00 | 5860.00",
		"C8 | 5 | 2 | 1960.00 | 980.00",
		"C9 | 5 | 2 | 1960.00 | 2940.00",
	})
}
