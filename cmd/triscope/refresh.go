package main

import (
	"context"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newRefreshCmd(cfg *app.Config) *cobra.Command {
	var asOf, cpuProfile string
	var full bool
	cmd := &cobra.Command{
		Use:   "refresh [MODEL...]",
		Short: "Compute the models (RFM, CLV, 7P, win rate, funnel, forecast, …) into mart_* tables",
		Long: `Compute all models, or the named ones, for one as-of date (default: the latest date
in the data) and publish their tables together: a failed refresh leaves the previous
results.
A model runs only when what it reads changed since its last run (a load, its
settings, the as-of date), and in full unless its incremental form applies;
--full recomputes everything. Each run is recorded in the model_runs table
with its kind (full, incremental, kept) and why. Model settings come from the config
file under models.<name> (for example models.clv.horizon_months).`,
		Example: `  triscope refresh
  triscope refresh --as-of 2025-12-31 rfm clv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asOf != "" {
				if _, err := time.Parse(time.DateOnly, asOf); err != nil {
					return fmt.Errorf("--as-of %q: want a date like 2025-12-31", asOf)
				}
			}
			// For finding where a model spends its Go time; DuckDB's own
			// work shows as runtime.cgocall (use -v for per-statement times).
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			adm, err := app.Connect(cmd.Context(), cfg, slog.Default())
			if err != nil {
				return err
			}
			defer adm.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "refreshing the models of %s %s\n", cfg.DB, adm.Where())
			return runRefresh(cmd.Context(), adm, app.RefreshRequest{AsOf: asOf, Models: args, Full: full, By: osUser()}, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "compute as of this date, inclusive (YYYY-MM-DD)")
	cmd.Flags().BoolVar(&full, "full", false, "recompute every model from all rows, whatever changed")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the refresh to this file (go tool pprof)")
	return cmd
}

// runRefresh refreshes and prints each model's outcome.
func runRefresh(ctx context.Context, adm app.Admin, req app.RefreshRequest, out io.Writer) error {
	res, err := adm.Refresh(ctx, req)
	return printRefresh(out, res, err)
}

// printRefresh prints what a refresh did, model by model.
func printRefresh(out io.Writer, res *app.RefreshResult, err error) error {
	if res == nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\trows\tseconds\tkind\tstatus\n")
	for _, r := range res.Results {
		status := r.Status
		if r.Message != "" {
			status += ": " + r.Message
		}
		kind := r.Kind
		if r.Why != "" && r.Kind != "" {
			kind += " (" + r.Why + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\n", r.Model, r.Rows, r.Elapsed.Seconds(), kind, status)
	}
	tw.Flush()
	if err != nil {
		return fmt.Errorf("refresh as of %s failed, previous results kept: %w", res.AsOf.Format(time.DateOnly), err)
	}
	fmt.Fprintf(out, "refreshed %d models as of %s in %.1fs\n", len(res.Results), res.AsOf.Format(time.DateOnly), res.Elapsed.Seconds())
	return nil
}

// startCPUProfile writes a Go CPU profile to path ("" = none) until stop.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
