package models

import (
	"context"
	"fmt"
	"math"
)

// rep_performance: monthly bookings, collections, the collection commission
// (a higher rate on the part collected above list price) and target attainment
// per rep. See docs/models/collections.md and sql/rep_performance.sql.
//
// Settings (models.rep_performance.*): base_rate (default 0.03) on collections
// at or below list price, premium_rate (default 0.10) on the part above it.
//
// Needs contracts rather than payments: collections are attributed to reps
// through their contracts, and bookings need no payments at all.
func init() {
	register(&Model{
		Name:   "rep_performance",
		Reads:  []string{"contract_lines", "contracts", "payments", "products", "reps", "targets", "fx_rates"},
		Needs:  []string{"contracts"},
		Tables: []string{"mart_rep_performance"},
		Run: func(ctx context.Context, rc *RunContext) error {
			base, err := modelRateSetting(rc.Settings, "rep_performance", "base_rate", 0.03)
			if err != nil {
				return err
			}
			premium, err := modelRateSetting(rc.Settings, "rep_performance", "premium_rate", 0.10)
			if err != nil {
				return err
			}
			return rc.Exec(ctx, "rep_performance.sql", map[string]string{
				"BaseRate":    cvDouble(base),
				"PremiumRate": cvDouble(premium),
			})
		},
	})
}

// modelRateSetting reads a non-negative, finite number setting.
func modelRateSetting(s Settings, model, key string, def float64) (float64, error) {
	v := s.Float(key, def)
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("models.%s.%s = %v: must be a number >= 0", model, key, v)
	}
	return v, nil
}
