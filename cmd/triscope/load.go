package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/warehouse"
)

func newLoadCmd(cfg *Config) *cobra.Command {
	var entity string
	cmd := &cobra.Command{
		Use:   "load FILE|DIR...",
		Short: "Load CSV, Parquet or NDJSON files into the warehouse (one transaction)",
		Long: `Load files into the warehouse. Each file holds one entity of the data contract,
named after it (payments.csv, customers_2024.parquet) or set with --entity; a directory
loads every such file in it. All files are applied as one transaction: either every
good row lands or nothing changes.

Rows that fail validation are quarantined: they are listed in the load_rejects table
and in FILE.rejects.csv beside each input, with line, column, value and reason. A file
whose share of bad rows exceeds --max-reject-share fails the whole load.

Loading the same files again changes nothing and says so.`,
		Example: `  triscope load ./export/                 # every entity file in a folder
  triscope load payments.csv contracts.csv
  triscope load --entity payments march.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := warehouse.Open(cmd.Context(), cfg.warehouseOptions())
			if err != nil {
				return err
			}
			defer w.Close()
			rep, err := runLoad(cmd.Context(), w, args, cfg, entity, cmd.OutOrStdout())
			if err != nil && rep != nil && rep.Status == "rejected" {
				return exitError{code: 2}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&entity, "entity", "", "entity of every input file (default: from each file name)")
	cmd.Flags().Float64("max-reject-share", 0.05, "largest share of bad rows a file may have (0.05 = 5%)")
	return cmd
}

// runLoad loads, showing progress on a terminal and log lines otherwise, and
// prints the summary.
func runLoad(ctx context.Context, w *warehouse.Warehouse, paths []string, cfg *Config, entity string, out io.Writer) (*etl.Report, error) {
	opts := etl.Options{Entity: entity, MaxRejectShare: cfg.MaxReject, BaseCurrency: cfg.BaseCurrency}
	var bar *progressbar.ProgressBar
	var mu sync.Mutex
	lastLog := time.Now()
	interactive := term.IsTerminal(int(os.Stderr.Fd()))
	opts.Progress = func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if interactive {
			if bar == nil {
				bar = progressbar.DefaultBytes(total, "loading")
			}
			bar.Set64(done)
		} else if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			slog.Info("loading", "bytes_read", done, "bytes_total", total, "percent", fmt.Sprintf("%.0f", 100*float64(done)/float64(max(total, 1))))
		}
	}
	rep, err := etl.Load(ctx, w, paths, opts)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	printLoadReport(out, rep)
	if err != nil && !errors.Is(err, etl.ErrTooManyRejects) {
		return rep, err
	}
	return rep, err
}

func printLoadReport(out io.Writer, rep *etl.Report) {
	if rep == nil || len(rep.Files) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\tloaded\tupdated\tunchanged\trejected\tduplicates\t")
	for _, f := range rep.Files {
		if f.Skipped {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t(same file as load #%d)\n", f.Entity, f.SameAsLoad)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", f.Entity, f.Read, f.Loaded, f.Updated, f.Unchanged, f.Rejected, f.Duplicates)
	}
	t := rep.Totals()
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Read, t.Loaded, t.Updated, t.Unchanged, t.Rejected, t.Duplicates)
	tw.Flush()
	for _, f := range rep.Files {
		for _, warn := range f.Warnings {
			fmt.Fprintf(out, "warning: %s: %s\n", f.Path, warn)
		}
		if f.Rejected+f.Duplicates == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s: %d rows quarantined, %d duplicates superseded", f.Path, f.Rejected, f.Duplicates)
		if f.RejectsCSV != "" {
			fmt.Fprintf(out, " (all listed in %s)", f.RejectsCSV)
		}
		fmt.Fprintln(out)
		for _, r := range f.Rejects {
			col := r.Column
			if col == "" {
				col = "-"
			}
			fmt.Fprintf(out, "  line %d, column %s, value %q: %s\n", r.Line, col, truncate(r.Value, 40), r.Reason)
		}
		if n := f.Rejected + f.Duplicates; n > int64(len(f.Rejects)) {
			fmt.Fprintf(out, "  … and %d more\n", n-int64(len(f.Rejects)))
		}
	}
	secs := rep.Elapsed.Seconds()
	rate := float64(t.Read) / max(secs, 1e-9)
	fmt.Fprintf(out, "\nload #%d %s in %.1fs (%.0f rows/s)", rep.LoadID, rep.Status, secs, rate)
	if rep.Message != "" {
		fmt.Fprintf(out, ": %s", rep.Message)
	}
	fmt.Fprintln(out)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}
