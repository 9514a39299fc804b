package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triscope/triscope/etl"
)

type loadFlags struct {
	entity, mapping, encoding, source string
	snapshot                          []string
	force, dryRun, showMapping        bool
	suggestMapping                    bool
}

func newLoadCmd(cfg *app.Config) *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load [FILE|DIR...]",
		Short: "Load CSV, XLSX, Parquet or NDJSON files, or a PostgreSQL database, into the warehouse (one transaction)",
		Long: `Load files into the warehouse. Each file (or XLSX sheet) holds one entity of the data
contract, named after it (payments.csv, 回款2024.csv, a sheet called 客户) or set with
--entity or a mapping file; a directory loads every such file in it. All inputs are
applied as one transaction: either every good row lands or nothing changes.

Headers are matched to the contract by name, by the built-in Chinese and English
aliases (客户编号, 金额, 签订日期, "Close Value", ...) and by the mapping file, which
can also map values (赢单 → won), declare date order, time zone, decimal commas,
default values and snapshot mode. Text files may be UTF-8, UTF-16 or GBK/GB18030
(detected, or declared with --encoding).

Rows that fail validation are quarantined: they are listed in the load_rejects table
and in FILE.rejects.csv beside each input, with line, column, value and reason. A file
whose share of bad rows exceeds --max-reject-share fails the whole load.

Incremental loads (the default) add and update rows; a snapshot (--snapshot ENTITY or
mode: snapshot in the mapping) also marks the rows it no longer contains as deleted
(_deleted_at), and is held back when it is more than 30% smaller than what the
warehouse holds, unless --force.

--source postgres://... reads the tables or queries the mapping's tables: list names,
incrementally by their watermark column (kept in source_watermarks).

Headers that match no name or alias are read as the column they clearly resemble
(业务员编码 as a rep id, "Payment Amt" as an amount), with a warning; when a required
column is still missing, the message names the closest headers. --suggest-mapping
prints a mapping file for the given files to check and pass to --mapping.

--dry-run does everything, reports what would be loaded, the column mapping and every
problem, and changes nothing. Loading the same files again changes nothing and says so.`,
		Example: `  triscope load ./export/                 # every entity file in a folder
  triscope load payments.csv contracts.csv
  triscope load --entity payments march.csv
  triscope load --mapping mapping.yaml --dry-run crm-export.xlsx
  triscope load --encoding gbk 回款.csv
  triscope load --suggest-mapping crm-export.xlsx > mapping.yaml
  triscope load --snapshot customers customers.csv
  triscope load --source postgres://etl@crm-db/crm --mapping pg.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.source == "" {
				return errors.New("give files or directories to load, or --source")
			}
			out := cmd.OutOrStdout()
			if f.suggestMapping {
				return suggestMapping(cmd, f, args)
			}
			maxReject, _ := cmd.Flags().GetFloat64("max-reject-share")
			if !cmd.Flags().Changed("max-reject-share") {
				maxReject = 0 // the configured share
			}
			req, err := f.request(args, maxReject)
			if err != nil {
				return err
			}
			req.MaxTextBytes, _ = cmd.Flags().GetInt("max-text-bytes")
			req.MaxFileBytes, _ = cmd.Flags().GetInt64("max-file-bytes")
			req.MaxUnzipBytes, _ = cmd.Flags().GetInt64("max-unzip-bytes")
			profile, _ := cmd.Flags().GetString("cpuprofile")
			stop, err := startCPUProfile(profile)
			if err != nil {
				return err
			}
			defer stop()
			adm, err := app.Connect(cmd.Context(), cfg, slog.Default())
			if err != nil {
				return err
			}
			defer adm.Close()
			fmt.Fprintf(out, "loading into %s %s\n", cfg.DB, adm.Where())
			res, err := runLoad(cmd.Context(), adm, req, out, f.dryRun || f.showMapping)
			if res != nil && res.Report != nil {
				if res.Refresh != "" {
					fmt.Fprintf(out, "the server refreshes the models the load affects in the background: %s\n", res.Refresh)
				} else if res.Report.Status == "committed" && !f.dryRun && !strings.HasPrefix(adm.Where(), "through") {
					fmt.Fprintln(out, "run 'triscope refresh' to compute the models on the new data")
				}
			}
			if err != nil && res != nil && res.Report != nil && (res.Report.Status == "rejected" || res.Report.Status == "held") {
				return exitError{code: 2}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&f.entity, "entity", "", "entity of every input file (default: from the mapping, or each file or sheet name)")
	cmd.Flags().StringVar(&f.mapping, "mapping", "", "mapping file (YAML): column aliases, value maps, formats, modes per file, sheet or table")
	cmd.Flags().StringVar(&f.encoding, "encoding", "", "encoding of text files: utf-8, gbk, gb18030, utf-16le, utf-16be, big5, latin1 (default: detected)")
	cmd.Flags().StringSliceVar(&f.snapshot, "snapshot", nil, "load ENTITY as a full snapshot: rows it does not contain are marked deleted (repeatable; all for every entity)")
	cmd.Flags().BoolVar(&f.force, "force", false, "apply a snapshot even when it is more than 30% smaller than what the warehouse holds")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "do everything, report, and change nothing")
	cmd.Flags().BoolVar(&f.showMapping, "show-mapping", false, "print the column mapping of every file (always shown with --dry-run)")
	cmd.Flags().BoolVar(&f.suggestMapping, "suggest-mapping", false, "read the files' headers and print a mapping file that loads them (loads nothing; needs no warehouse)")
	cmd.Flags().StringVar(&f.source, "source", "", "a PostgreSQL connection string to read from (needs --mapping with tables:)")
	cmd.Flags().Float64("max-reject-share", 0.05, "largest share of bad rows a file may have (0.05 = 5%)")
	cmd.Flags().Int("max-text-bytes", 0, "longest text value; a row with a longer one is quarantined (0 = 64 KiB)")
	cmd.Flags().Int64("max-file-bytes", 0, "largest input file; a larger one fails the load (0 = 16 GiB)")
	cmd.Flags().Int64("max-unzip-bytes", 0, "largest uncompressed size of an XLSX workbook (0 = 1 GiB)")
	cmd.Flags().String("cpuprofile", "", "write a Go CPU profile of a load run in this process to this file (go tool pprof)")
	return cmd
}

// request is the load the flags describe, with absolute paths (a server
// may run in another directory).
func (f loadFlags) request(paths []string, maxReject float64) (app.LoadRequest, error) {
	req := app.LoadRequest{Entity: f.entity, Encoding: f.encoding, Source: f.source, Snapshot: f.snapshot,
		Force: f.force, DryRun: f.dryRun, MaxRejectShare: maxReject, By: osUser()}
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return req, err
		}
		req.Paths = append(req.Paths, a)
	}
	if f.mapping != "" {
		m, err := filepath.Abs(f.mapping)
		if err != nil {
			return req, err
		}
		req.Mapping = m
	}
	return req, nil
}

// suggestMapping prints a mapping file for the files' headers (SuggestMapping).
func suggestMapping(cmd *cobra.Command, f loadFlags, args []string) error {
	if len(args) == 0 {
		return errors.New("--suggest-mapping reads files: give the files or folders to load")
	}
	opts := etl.Options{Entity: f.entity, Encoding: f.encoding}
	if f.mapping != "" {
		m, err := etl.LoadMapping(f.mapping)
		if err != nil {
			return err
		}
		opts.Mapping = m
	}
	opts.MaxFileBytes, _ = cmd.Flags().GetInt64("max-file-bytes")
	opts.MaxUnzipBytes, _ = cmd.Flags().GetInt64("max-unzip-bytes")
	b, err := etl.SuggestMapping(cmd.Context(), args, opts)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(b)
	return err
}

// osUser names the operating-system user in the audit trail.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return "os:" + u.Username
	}
	return "cli"
}

// runLoad loads, showing progress on a terminal and log lines otherwise
// (when the load runs in this process), and prints the summary.
func runLoad(ctx context.Context, adm app.Admin, req app.LoadRequest, out io.Writer, showMapping bool) (*app.LoadResult, error) {
	var bar *progressbar.ProgressBar
	var mu sync.Mutex
	lastLog := time.Now()
	interactive := term.IsTerminal(int(os.Stderr.Fd()))
	progress := func(done, total int64) {
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
	res, err := adm.Load(ctx, req, progress)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	if res != nil {
		printLoadReport(out, res.Report, showMapping)
	}
	return res, err
}

func printLoadReport(out io.Writer, rep *etl.Report, showMapping bool) {
	if rep == nil {
		return
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(out, "note: %s\n", warn)
	}
	if len(rep.Files) == 0 {
		if rep.Message != "" {
			fmt.Fprintf(out, "load %s: %s\n", rep.Status, rep.Message)
		}
		return
	}
	if showMapping {
		for _, f := range rep.Files {
			if f.Skipped {
				continue
			}
			fmt.Fprintf(out, "%s → %s (%s", f.Path, f.Entity, f.Format)
			if f.Encoding != "" && f.Encoding != f.Format {
				fmt.Fprintf(out, ", %s", f.Encoding)
			}
			if f.HeaderLine > 1 {
				fmt.Fprintf(out, ", header on line %d", f.HeaderLine)
			}
			fmt.Fprintf(out, ", %s)\n", f.Mode)
			for _, m := range f.Mapping {
				switch m.How {
				case "default":
					fmt.Fprintf(out, "    %-22s ← %q (default: the column is absent)\n", m.Column, m.Source)
				case "name":
					fmt.Fprintf(out, "    %-22s ← %s\n", m.Column, m.Source)
				default:
					fmt.Fprintf(out, "    %-22s ← %s (%s)\n", m.Column, m.Source, m.How)
				}
			}
		}
		fmt.Fprintln(out)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\tloaded\tupdated\tunchanged\trejected\tduplicates\tdeleted\t")
	for _, f := range rep.Files {
		if f.Skipped {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t(same file as load #%d)\n", f.Entity, f.SameAsLoad)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", f.Entity, f.Read, f.Loaded, f.Updated+f.Restored, f.Unchanged, f.Rejected, f.Duplicates, f.Deleted)
	}
	t := rep.Totals()
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Read, t.Loaded, t.Updated+t.Restored, t.Unchanged, t.Rejected, t.Duplicates, t.Deleted)
	tw.Flush()
	for _, f := range rep.Files {
		if f.Error != "" {
			fmt.Fprintf(out, "error: %s: %s\n", f.Path, f.Error)
		}
		for _, warn := range f.Warnings {
			fmt.Fprintf(out, "warning: %s: %s\n", f.Path, warn)
		}
		if f.Restored > 0 {
			fmt.Fprintf(out, "%s: %d rows marked deleted earlier reappeared and were restored\n", f.Path, f.Restored)
		}
		if f.Rejected+f.Duplicates == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s: %d rows quarantined", f.Path, f.Rejected)
		if f.Duplicates > 0 {
			fmt.Fprintf(out, ", %d rows superseded by a later row with the same key (%d keys appeared more than once)", f.Duplicates, f.DuplicateKeys)
		}
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
			fmt.Fprintf(out, "  … and more (%d rows in all)\n", n)
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
