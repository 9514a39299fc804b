package models

import (
	"context"
	"database/sql"
	"fmt"
)

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
			if err := lvCreate(ctx, rc.Conn, "payment_schedule", "reps", "customers"); err != nil {
				return err
			}
			return rc.Exec(ctx, "contract_execution.sql", nil)
		},
	})
}

// lvCreate makes a temp view lv_<table> over each base table without the rows
// a snapshot load marked deleted (_deleted_at, migration 0004), or over the
// whole table when the warehouse has no _deleted_at yet. The prep.sql base_*
// tables are the framework's business.
func lvCreate(ctx context.Context, conn *sql.Conn, tables ...string) error {
	for _, t := range tables {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns()
			WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1 AND column_name = '_deleted_at'`, t).Scan(&n); err != nil {
			return fmt.Errorf("inspecting %s: %w", t, err)
		}
		q := fmt.Sprintf("CREATE OR REPLACE TEMP VIEW lv_%s AS SELECT * FROM main.%s", t, t)
		if n > 0 {
			q += " WHERE _deleted_at IS NULL"
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("view over %s: %w", t, err)
		}
	}
	return nil
}
