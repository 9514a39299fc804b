package models

import (
	"context"
	"fmt"
)

// RFM scores every customer at as_of (mart_rfm) and again at an earlier date
// (models.rfm.movement_days before, default 90), so that mart_rfm_movement can
// tell who moved between segments since then.
func init() {
	register(&Model{
		Name:   "rfm",
		Reads:  []string{"payments", "fx_rates"},
		Needs:  []string{"payments"},
		Tables: []string{"mart_rfm", "mart_rfm_movement"},
		Run:    runRFM,
	})
}

type rfmParams struct {
	At, Date, Out, Kind string
	Comments            bool
}

func runRFM(ctx context.Context, rc *RunContext) error {
	days := rc.Settings.Int("movement_days", 90)
	if days < 1 {
		return fmt.Errorf("models.rfm.movement_days: %d must be at least 1", days)
	}
	previous := fmt.Sprintf("DATE '%s'", rc.AsOf.AddDate(0, 0, -days).Format("2006-01-02"))
	if err := rc.Exec(ctx, "rfm_sums.sql", map[string]string{"Previous": previous}); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "rfm.sql", rfmParams{At: previous, Date: "previous", Out: "rfm_previous", Kind: "TEMP"}); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "rfm.sql", rfmParams{At: "getvariable('as_of')", Date: "now", Out: "mart_rfm", Comments: true}); err != nil {
		return err
	}
	return rc.Exec(ctx, "rfm_movement.sql", map[string]string{"Previous": previous})
}
