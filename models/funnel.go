package models

import "context"

// funnel: the sales funnel from the stage history (entered, advanced,
// dropped, still open, conversions, days in stage, amounts) rolled up the org
// tree; sales velocity; the market funnel per campaign.
// Settings: models.funnel.qualified_stage (default "qualified"): from this
// stage on an open deal counts as qualified for velocity.
// See docs/models/pipeline.md.
func init() {
	register(&Model{
		Name:   "funnel",
		Reads:  append([]string{"activities", "campaigns"}, pipelineInputs...),
		Needs:  []string{"opportunities"},
		Tables: []string{"mart_funnel", "mart_velocity", "mart_market_funnel"},
		Run: func(ctx context.Context, rc *RunContext) error {
			if err := plPrep(ctx, rc); err != nil {
				return err
			}
			return rc.Exec(ctx, "funnel.sql", map[string]string{
				"QualifiedStage": sqlString(rc.Settings.String("qualified_stage", "qualified")),
			})
		},
	})
}
