package models

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// customer_value: the 7P customer value model (Profiling, Persistency,
// Profitability, Performance, Prospecting, Product, Promotion), a weighted
// value index and tiers. See docs/models/customer-value.md and
// sql/customer_value.sql.
//
// It reads mart_contract_execution, mart_clv and mart_rfm when they exist
// and hold rows for the as-of date (they do when contract_execution, clv and
// rfm run in the same refresh); otherwise the scores they feed fall back.
//
// Settings (models.customer_value.*):
//
//	weights.{profiling,persistency,profitability,performance,prospecting,product,promotion}
//	                              defaults 0.10 0.15 0.30 0.15 0.15 0.075 0.075
//	service_cost_rate             0.02  (share of collected revenue)
//	potential_gold_prospecting    80    (prospecting score for potential_gold)
//	gold_share                    0.8   (share of positive margin made by gold)
//	late_days                     90    (days overdue at which the lateness part of performance is 0)
func init() {
	register(&Model{
		Name:   "customer_value",
		Reads:  []string{"activities", "campaigns", "contract_lines", "contracts", "customers", "expenses", "opportunities", "opportunity_stages", "org_units", "payments", "products", "reps", "stages", "fx_rates", "mart_clv", "mart_contract_execution", "mart_rfm"},
		Needs:  []string{"payments"},
		Tables: []string{"mart_customer_value", "mart_customer_value_detail", "mart_customer_value_peers", "mart_cross_sell"},
		Run:    runCustomerValue,
	})
}

// CustomerValueWeights are the default weights of the seven scores in the value index.
var CustomerValueWeights = []struct {
	Name   string
	Weight float64
}{
	{"profiling", 0.10},
	{"persistency", 0.15},
	{"profitability", 0.30},
	{"performance", 0.15},
	{"prospecting", 0.15},
	{"product", 0.075},
	{"promotion", 0.075},
}

type customerValueSQL struct {
	HasCLV, HasRFM, HasExec bool
	ServiceCostRate         string
	LateDays                string
	PotentialGold           string
	GoldShare               string
	W                       struct{ Profiling, Persistency, Profitability, Performance, Prospecting, Product, Promotion string }
}

func runCustomerValue(ctx context.Context, rc *RunContext) error {
	var d customerValueSQL
	var err error
	if d.HasCLV, err = cvMartUsable(ctx, rc.Conn, "mart_clv", "customer_id", "p_alive", "clv", "as_of"); err != nil {
		return err
	}
	if d.HasRFM, err = cvMartUsable(ctx, rc.Conn, "mart_rfm", "customer_id", "segment", "as_of"); err != nil {
		return err
	}
	if d.HasExec, err = cvMartUsable(ctx, rc.Conn, "mart_contract_execution",
		"customer_id", "due_to_date", "paid_to_date", "on_time_share", "days_overdue_max", "status", "as_of"); err != nil {
		return err
	}

	weights, err := customerValueWeights(rc.Settings)
	if err != nil {
		return err
	}
	d.W.Profiling, d.W.Persistency, d.W.Profitability = cvDouble(weights[0]), cvDouble(weights[1]), cvDouble(weights[2])
	d.W.Performance, d.W.Prospecting, d.W.Product, d.W.Promotion = cvDouble(weights[3]), cvDouble(weights[4]), cvDouble(weights[5]), cvDouble(weights[6])

	rate, err := modelRateSetting(rc.Settings, "customer_value", "service_cost_rate", 0.02)
	if err != nil {
		return err
	}
	d.ServiceCostRate = cvDouble(rate)
	late, err := modelRateSetting(rc.Settings, "customer_value", "late_days", 90)
	if err != nil {
		return err
	}
	if late == 0 {
		return fmt.Errorf("models.customer_value.late_days must be greater than 0")
	}
	d.LateDays = cvDouble(late)
	pg, err := modelRateSetting(rc.Settings, "customer_value", "potential_gold_prospecting", 80)
	if err != nil {
		return err
	}
	if pg > 100 {
		return fmt.Errorf("models.customer_value.potential_gold_prospecting = %v: must lie in 0..100", pg)
	}
	d.PotentialGold = cvDouble(pg)
	gs, err := modelRateSetting(rc.Settings, "customer_value", "gold_share", 0.8)
	if err != nil {
		return err
	}
	if gs == 0 || gs > 1 {
		return fmt.Errorf("models.customer_value.gold_share = %v: must lie in (0, 1]", gs)
	}
	// Exact decimal, so that the 80 % cut is not subject to floating point.
	d.GoldShare = "CAST(" + strconv.FormatFloat(gs, 'f', -1, 64) + " AS DECIMAL(18,9))"

	if err := paymentSums(ctx, rc); err != nil {
		return err
	}
	return rc.Exec(ctx, "customer_value.sql", d)
}

// customerValueWeights reads models.customer_value.weights.<p> as a flat key
// ("weights.profitability") or from a nested map ("weights": {...}); a weight
// not given keeps its default.
func customerValueWeights(s Settings) ([]float64, error) {
	var nested Settings
	switch m := s["weights"].(type) {
	case map[string]any:
		nested = Settings(m)
	case Settings:
		nested = m
	case map[string]float64:
		nested = Settings{}
		for k, v := range m {
			nested[k] = v
		}
	}
	out := make([]float64, len(CustomerValueWeights))
	var total float64
	for i, w := range CustomerValueWeights {
		v := nested.Float(w.Name, w.Weight)
		v = s.Float("weights."+w.Name, v)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("models.customer_value.weights.%s = %v: must be a number >= 0", w.Name, v)
		}
		out[i] = v
		total += v
	}
	if total == 0 {
		return nil, fmt.Errorf("models.customer_value.weights are all 0: give at least one score a weight")
	}
	return out, nil
}

// cvMartUsable reports whether table exists in the warehouse (not a temp table)
// with all the given columns: the one this refresh staged, else main's. The
// SQL still only uses its rows for the current as-of date.
func cvMartUsable(ctx context.Context, conn *sql.Conn, table string, columns ...string) (bool, error) {
	schema, err := martSchema(ctx, conn, table)
	if err != nil || schema == "" {
		return false, err
	}
	var n int
	if err := conn.QueryRowContext(ctx, `
		SELECT count(DISTINCT column_name) FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2
		  AND list_contains(string_split($3, ','), column_name)`, schema, table, strings.Join(columns, ",")).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for %s: %w", table, err)
	}
	return n == len(columns), nil
}

// cvDouble renders a finite float as a DOUBLE literal (trusted splice).
func cvDouble(v float64) string {
	return "CAST(" + strconv.FormatFloat(v, 'f', -1, 64) + " AS DOUBLE)"
}
