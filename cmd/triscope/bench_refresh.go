package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/etl/synth"
)

//go:embed sql/bench_rfm_floor.sql
var rfmFloorSQL string

// newBenchRefreshCmd times a full refresh of the warehouse (--db) model by
// model, next to the floor: one hand-written DuckDB query for RFM on the same
// data, so the RFM model's overhead is a ratio measured in the same run.
//
// With --delta it measures the incremental refresh instead (benchDelta).
func newBenchRefreshCmd(cfg *app.Config) *cobra.Command {
	var delta bool
	var runs int
	var seed int64
	var writeLoad string
	cmd := &cobra.Command{
		Use:   "bench-refresh",
		Short: "Benchmark a full refresh against a hand-written RFM query (the floor), or (--delta) an incremental one against a full one",
		Long: `Without --delta: a full refresh of the warehouse (--db), model by model, next to a
hand-written RFM query on the same data.

With --delta: generate a realistic daily load for the company in the file (about
0.5 % of the rows: new payments, deals, stage moves that close some, contracts for
the won ones, activities, expenses, a few edited customers and contracts; the same
for the same file and --seed), load it, time the refresh that follows it (which
recomputes only what the load can change) and then a full refresh of the same
data. Each of --runs rounds loads one more day (it changes the file). The last
line is stable, for people and scripts:
  full refresh: S s; incremental after a 0.5 % load: T s (T/S = P %)`,
		Example: `  triscope demo --size default --no-serve && triscope bench-refresh
  triscope bench-refresh --db large.duckdb
  triscope bench-refresh --db default.duckdb --delta --runs 3`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			r, err := app.Open(ctx, cfg, slog.Default())
			if err != nil {
				return err
			}
			defer r.Close()
			if writeLoad != "" {
				// only the files: to time their load with another binary
				// (triscope load --db FILE DIR)
				return r.Warehouse().Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
					gen, err := synth.DailyLoad(ctx, conn, synth.DailyConfig{Seed: seed}, writeLoad)
					if err == nil {
						fmt.Fprintf(out, "wrote the daily load of %s into %s: %d rows in %d files\n", gen.Day.Format(time.DateOnly), writeLoad, gen.Rows, len(gen.Files))
					}
					return err
				})
			}
			if delta {
				return benchDelta(ctx, r, runs, seed, out)
			}
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
	cmd.Flags().BoolVar(&delta, "delta", false, "time the refresh after a generated daily load (about 0.5 % of the rows) against a full refresh")
	cmd.Flags().IntVar(&runs, "runs", 1, "with --delta: rounds of load, incremental refresh and full refresh (medians)")
	cmd.Flags().Int64Var(&seed, "seed", 1, "with --delta: the seed of the generated loads")
	cmd.Flags().StringVar(&writeLoad, "write-load", "", "only write the daily load --delta would load into this directory (to load it with triscope load)")
	return cmd
}

// benchDelta brings the models up to date, then, per round, generates and
// loads a daily load, times the refresh after it (incremental) and a full
// refresh of the same data, and prints the medians.
func benchDelta(ctx context.Context, r *app.Runtime, runs int, seed int64, out io.Writer) error {
	if runs < 1 {
		return fmt.Errorf("--runs %d: give at least 1", runs)
	}
	w := r.Warehouse()
	var rows int64
	if err := w.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM live.payments) + (SELECT count(*) FROM live.opportunities)
		+ (SELECT count(*) FROM live.opportunity_stages) + (SELECT count(*) FROM live.contracts) + (SELECT count(*) FROM live.customers)
		+ (SELECT count(*) FROM live.activities) + (SELECT count(*) FROM live.expenses)`).Scan(&rows); err != nil {
		return fmt.Errorf("counting the rows: %w", err)
	}
	fmt.Fprintf(out, "warehouse %s: %d rows in the entities a daily load touches\n", w.Path(), rows)
	fmt.Fprintln(out, "bringing the models up to date first (not timed)…")
	if _, err := r.Refresh(ctx, app.RefreshRequest{By: osUser()}); err != nil {
		return err
	}
	var incs, fulls []float64
	for i := 0; i < runs; i++ {
		dir, err := os.MkdirTemp("", "triscope-daily-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		var gen synth.DailyResult
		err = w.Write(ctx, func(ctx context.Context, conn *sql.Conn) (err error) {
			gen, err = synth.DailyLoad(ctx, conn, synth.DailyConfig{Seed: seed + int64(i)}, dir)
			return err
		})
		if err != nil {
			return err
		}
		start := time.Now()
		lr, err := r.Load(ctx, app.LoadRequest{Paths: []string{dir}, By: osUser()}, nil, false)
		if err != nil {
			return fmt.Errorf("loading the daily load: %w", err)
		}
		fmt.Fprintf(out, "\nround %d: daily load of %s, %d rows (%.2f %%), loaded (facts updated with it) in %.2fs, status %s\n",
			i+1, gen.Day.Format(time.DateOnly), gen.Rows, 100*float64(gen.Rows)/float64(rows), time.Since(start).Seconds(), lr.Report.Status)
		inc, err := r.Refresh(ctx, app.RefreshRequest{By: osUser()})
		if err != nil {
			return err
		}
		printKinds(out, "incremental", inc)
		full, err := r.Refresh(ctx, app.RefreshRequest{Full: true, By: osUser()})
		if err != nil {
			return err
		}
		printKinds(out, "full", full)
		incs = append(incs, inc.Elapsed.Seconds())
		fulls = append(fulls, full.Elapsed.Seconds())
	}
	s, t := medianSeconds(fulls), medianSeconds(incs)
	fmt.Fprintf(out, "\nincremental %s s, full %s s (medians of %d)\n", secondsList(incs), secondsList(fulls), runs)
	fmt.Fprintf(out, "full refresh: %.2f s; incremental after a 0.5 %% load: %.2f s (T/S = %.0f %%)\n", s, t, 100*t/s)
	return nil
}

// printKinds prints how each model of a refresh ran.
func printKinds(out io.Writer, label string, res *app.RefreshResult) {
	fmt.Fprintf(out, "%s: %.2fs\n", label, res.Elapsed.Seconds())
	for _, m := range res.Results {
		fmt.Fprintf(out, "  %-20s %6.2fs  %-11s %s\n", m.Model, m.Elapsed.Seconds(), m.Kind, m.Why)
	}
}

func secondsList(xs []float64) string {
	var b []string
	for _, x := range xs {
		b = append(b, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(b, ", ")
}

func medianSeconds(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
