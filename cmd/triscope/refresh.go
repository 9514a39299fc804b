package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/warehouse"
)

func newRefreshCmd(cfg *Config) *cobra.Command {
	var asOf, cpuProfile string
	cmd := &cobra.Command{
		Use:   "refresh [MODEL...]",
		Short: "Compute the models (RFM, CLV, 7P, win rate, funnel, forecast, …) into mart_* tables",
		Long: `Compute all models, or the named ones, for one as-of date (default: the latest date
in the data) and publish their tables together: a failed refresh leaves the previous
results.
Each run is recorded in the model_runs table. Model settings come from the config
file under models.<name> (for example models.clv.horizon_months).`,
		Example: `  triscope refresh
  triscope refresh --as-of 2025-12-31 rfm clv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := models.RefreshOptions{Models: args}
			if asOf != "" {
				d, err := time.Parse("2006-01-02", asOf)
				if err != nil {
					return fmt.Errorf("--as-of %q: want a date like 2025-12-31", asOf)
				}
				opts.AsOf = d
			}
			if cpuProfile != "" {
				// For finding where a model spends its Go time; DuckDB's own
				// work shows as runtime.cgocall (use -v for per-statement times).
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			w, err := warehouse.Open(cmd.Context(), cfg.warehouseOptions())
			if err != nil {
				return err
			}
			defer w.Close()
			return runRefresh(cmd.Context(), w, cfg, opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "compute as of this date, inclusive (YYYY-MM-DD)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the refresh to this file (go tool pprof)")
	return cmd
}

func runRefresh(ctx context.Context, w *warehouse.Warehouse, cfg *Config, opts models.RefreshOptions, out io.Writer) error {
	opts.BaseCurrency = cfg.BaseCurrency
	opts.Settings = map[string]models.Settings{}
	for _, name := range models.Names() {
		opts.Settings[name] = cfg.Sub("models." + name)
	}
	start := time.Now()
	asOf, results, err := models.Refresh(ctx, w, opts)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\trows\tseconds\tstatus\n")
	for _, r := range results {
		status := r.Status
		if r.Message != "" {
			status += ": " + r.Message
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\n", r.Model, r.Rows, r.Elapsed.Seconds(), status)
	}
	tw.Flush()
	if err != nil {
		return fmt.Errorf("refresh as of %s failed, previous results kept: %w", asOf.Format("2006-01-02"), err)
	}
	fmt.Fprintf(out, "refreshed %d models as of %s in %.1fs\n", len(results), asOf.Format("2006-01-02"), time.Since(start).Seconds())
	return nil
}
