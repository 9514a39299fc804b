package models

import "context"

// contract_execution: contract execution (due, paid, overdue, on-time share),
// the settlements to chase and the receivables aging. See
// docs/models/collections.md and sql/contract_execution.sql.
func init() {
	register(&Model{
		Name:   "contract_execution",
		Reads:  []string{"contracts", "payment_schedule", "payments", "customers", "reps", "fx_rates"},
		Needs:  []string{"contracts"},
		Tables: []string{"mart_contract_execution", "mart_settlements_due", "mart_receivables_aging"},
		Run: func(ctx context.Context, rc *RunContext) error {
			return rc.Exec(ctx, "contract_execution.sql", nil)
		},
	})
}
