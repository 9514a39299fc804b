package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/etl/synth"
)

//go:embed sql/headline.sql
var headlineSQL string

func newDemoCmd(cfg *app.Config) *cobra.Command {
	var c synth.Config
	var ds demoServe
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate the demo company, load it into the warehouse and show the headline numbers",
		Long: `Generate the built-in demo company (a national sales organisation, see 'triscope gen'),
load it through the same loader as real data into the warehouse file (--db, default
./triscope.duckdb) and print what was loaded and the headline numbers.
Running it again loads nothing new: the files are identical.

Then it starts the dashboards on --addr (default 127.0.0.1:8080) with the demo
accounts admin, ceo (executive), east (manager of the East China region), rep (one
rep with deals) and analyst (one branch), all with one password: random and
printed at start, or --demo-password. --no-serve stops after the models.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if err := ds.start(cmd, out); err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "triscope-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			fmt.Fprintf(out, "Generating the %s demo company (seed %d, locale %s)…\n", c.Size, c.Seed, c.Locale)
			res, err := synth.Generate(ctx, c, dir, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "generated %d files in %.1fs\n\nLoading into %s…\n", len(res.Files), res.Elapsed.Seconds(), cfg.DB)
			r, err := app.Open(ctx, cfg, slog.Default())
			if err != nil {
				return err
			}
			defer r.Close()
			if _, err := runLoad(ctx, r.Admin(), app.LoadRequest{Paths: []string{dir}, By: osUser()}, out, false); err != nil {
				return err
			}
			if err := printHeadline(ctx, r.Warehouse().DB(), cfg.BaseCurrency, out); err != nil {
				return err
			}
			fmt.Fprintln(out, "\nComputing the models…")
			if err := runRefresh(ctx, r.Admin(), app.RefreshRequest{By: osUser()}, out); err != nil {
				return err
			}
			return ds.serve(ctx, r, cfg, out)
		},
	}
	ds.flags(cmd)
	cmd.Flags().StringVar(&c.Size, "size", "default", "small, default or large")
	cmd.Flags().Int64Var(&c.Seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&c.Locale, "locale", "en", "en or zh")
	return cmd
}

func printHeadline(ctx context.Context, db *sql.DB, base string, out io.Writer) error {
	var asOf sql.NullTime
	var customers, reps, open int64
	var bookings, collections float64
	var winRate sql.NullFloat64
	err := db.QueryRowContext(ctx, headlineSQL, base).Scan(&asOf, &customers, &reps, &open, &bookings, &collections, &winRate)
	if err != nil {
		return fmt.Errorf("headline numbers: %w", err)
	}
	fmt.Fprintf(out, "\nHeadline (12 months to %s, %s)\n", asOf.Time.Format("2006-01-02"), base)
	fmt.Fprintf(out, "  customers            %12d\n", customers)
	fmt.Fprintf(out, "  active reps          %12d\n", reps)
	fmt.Fprintf(out, "  open opportunities   %12d\n", open)
	fmt.Fprintf(out, "  bookings (signed)    %15.0f\n", bookings)
	fmt.Fprintf(out, "  collections (paid)   %15.0f\n", collections)
	if winRate.Valid {
		fmt.Fprintf(out, "  win rate (closed)    %14.1f%%\n", winRate.Float64*100)
	}
	return nil
}
