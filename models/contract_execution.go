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
			if err := rc.Exec(ctx, "contract_execution_contracts.sql", nil); err != nil {
				return err
			}
			// a view of the cache, or a table: no view may be left when
			// the next refresh makes the table
			defer rc.Conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS temp.main.ce_installments")
			if _, err := rc.Conn.ExecContext(ctx, "DROP VIEW IF EXISTS temp.main.ce_installments"); err != nil {
				return err
			}
			if _, err := installmentsCache.refresh(ctx, rc); err != nil {
				return err
			}
			return rc.Exec(ctx, "contract_execution.sql", nil)
		},
	})
}

// installmentsCache keeps ce_installments (every installment with the
// running sums of its contract's plan and payments: the window over all
// payments, most of the model's time) across refreshes per contract
// (cache.go, contract_execution_cache.sql): a contract is recomputed when a
// load wrote its row, its plan or one of its payments, or moved a payment
// away from it (facts.payment_changes, the facts' log of moved payments:
// the cache kept a map of every payment's contract instead, 22 M rows on
// the large company rewritten at every update); fx rates changing rebuild
// all (payments in another currency are converted through them).
var installmentsCache = keyedCache{
	name: "ce_installments", key: "contract_id", unit: "contracts", tables: []string{"ce_installments"},
	forcing: []string{"fx_rates"}, inputs: []string{"contracts", "payment_schedule", "payments"}, paymentMoves: true,
	file: "contract_execution_cache.sql",
	compute: func(ctx context.Context, rc *RunContext, all bool) error {
		if err := rc.Exec(ctx, "contract_execution_cache.sql", map[string]any{"Step": "contracts", "All": all}); err != nil {
			return err
		}
		return rc.Exec(ctx, "contract_execution_installments.sql", map[string]any{"Contracts": "ce_cx_contracts", "Into": "ce_installments_new"})
	},
	direct: func(ctx context.Context, rc *RunContext) error {
		return rc.Exec(ctx, "contract_execution_installments.sql", map[string]any{"Contracts": "ce_contracts", "Into": "ce_installments"})
	},
}
