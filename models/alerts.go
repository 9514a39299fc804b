package models

import "context"

// alerts: customers whose purchases fall three months running, settlements
// due within 7 days or overdue, contracts ending within 30 days, deals
// stalled at more than twice the median days of their stage, and forecast
// months below the bookings target. See docs/models/pipeline.md ("Alerts").
// The forecast alerts need the forecast and targets models of the same
// refresh (they run before alerts); without them that kind is left out.
func init() {
	register(&Model{
		Name:   "alerts",
		Reads:  append([]string{"payments", "payment_schedule", "contracts", "customers", "reps", "org_units", "targets", "mart_forecast", "mart_targets_monthly"}, pipelineInputs...),
		Needs:  nil, // every kind has its own inputs; with none of them the table is empty
		Tables: []string{"mart_alerts"},
		Run: func(ctx context.Context, rc *RunContext) error {
			if err := plPrep(ctx, rc); err != nil {
				return err
			}
			// staged by this refresh or published by an earlier one
			forecast := true
			for _, t := range []string{"mart_forecast", "mart_targets_monthly"} {
				schema, err := martSchema(ctx, rc.Conn, t)
				if err != nil {
					return err
				}
				forecast = forecast && schema != ""
			}
			if !forecast {
				rc.Note("forecast_below_target left out: run the forecast and targets models first")
			}
			return rc.Exec(ctx, "alerts.sql", map[string]bool{"Forecast": forecast})
		},
	})
}
