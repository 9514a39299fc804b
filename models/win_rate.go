package models

import "context"

// win_rate: won / (won + lost) of closed deals by every dimension with a
// Wilson 95 % interval, by the furthest stage reached, and the close reasons.
// See docs/models/pipeline.md.
func init() {
	register(&Model{
		Name:   "win_rate",
		Reads:  pipelineInputs,
		Needs:  []string{"opportunities"},
		Tables: []string{"mart_win_rate", "mart_win_rate_by_stage", "mart_close_reasons"},
		Run: func(ctx context.Context, rc *RunContext) error {
			if err := plPrep(ctx, rc); err != nil {
				return err
			}
			return rc.Exec(ctx, "win_rate.sql", nil)
		},
	})
}
