package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"github.com/triscope/triscope/app"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
)

//go:embed sql/bench_rfm_floor.sql
var rfmFloorSQL string

// newBenchRefreshCmd times a full refresh of the warehouse (--db) model by
// model, next to the floor: one hand-written DuckDB query for RFM on the same
// data, so the RFM model's overhead is a ratio measured in the same run.
func newBenchRefreshCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "bench-refresh",
		Short: "Benchmark a full refresh against a hand-written RFM query (the floor)",
		Example: `  triscope demo --size default --no-serve && triscope bench-refresh
  triscope bench-refresh --db large.duckdb`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			r, err := app.Open(ctx, cfg, slog.Default())
			if err != nil {
				return err
			}
			defer r.Close()
			w := r.Warehouse()
			var payments int64
			w.DB().QueryRowContext(ctx, "SELECT count(*) FROM payments").Scan(&payments)
			fmt.Fprintf(out, "warehouse %s: %d payments\n\n", cfg.DB, payments)
			if err := runRefresh(ctx, r.Admin(), app.RefreshRequest{By: osUser()}, out); err != nil {
				return err
			}
			var asOf time.Time
			var rfmModelSeconds float64
			w.DB().QueryRowContext(ctx, `SELECT as_of, epoch(finished_at) - epoch(started_at) FROM model_runs WHERE model = 'rfm' ORDER BY refresh_id DESC LIMIT 1`).Scan(&asOf, &rfmModelSeconds)
			var floor time.Duration
			var n int64
			err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
				start := time.Now()
				if _, err := conn.ExecContext(ctx, rfmFloorSQL, asOf.Format(time.DateOnly)); err != nil {
					return err
				}
				floor = time.Since(start)
				return conn.QueryRowContext(ctx, "SELECT count(*) FROM bench_rfm_floor").Scan(&n)
			})
			if err != nil {
				return fmt.Errorf("RFM floor query: %w", err)
			}
			fmt.Fprintf(out, "\nRFM floor (one hand-written query, %d customers): %.2fs; rfm model: %.2fs; ratio model/floor %.1f×\n",
				n, floor.Seconds(), rfmModelSeconds, rfmModelSeconds/floor.Seconds())
			fmt.Fprintln(out, "(the rfm model's time excludes prep.sql, the shared base-currency inputs every model uses, timed separately above the table)")
			return nil
		},
	}
}
