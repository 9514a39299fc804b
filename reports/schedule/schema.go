package schedule

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
)

// Schema is the ledger's DDL (ledger.sql): idempotent CREATE … IF NOT
// EXISTS statements for report_schedule_state, report_runs and
// report_deliveries, to run with the application database's migrations.
//
//go:embed ledger.sql
var Schema string

// Migrate runs Schema statement by statement.
func Migrate(ctx context.Context, db DBTX) error {
	for _, stmt := range statements(Schema) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("schedule: ledger schema: %w", err)
		}
	}
	return nil
}

// statements splits Schema at semicolons ending a line, dropping comment
// lines (the file holds no string literals with either).
func statements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}
