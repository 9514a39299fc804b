package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/reports"
)

func newReportCmd(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Reports and subscriptions: list, run, preview, send, history, pause, resume, validate",
		Long: `Reports are defined in YAML files in reports_dir (validated at start; errors name the
file and line) or in the web UI (/reports). Each recipient's copy is rendered as that
recipient, in their own data scope, and delivered through the channels an administrator
configured (delivery.channels in triscope.yaml). Scheduled reports run inside
'triscope serve'; each (schedule, fire time) is delivered once.

While 'triscope serve' runs, these commands work through it (and say so).`,
	}
	cmd.AddCommand(newReportListCmd(cfg), newReportRunCmd(cfg, false), newReportRunCmd(cfg, true), newReportSendCmd(cfg),
		newReportHistoryCmd(cfg), newReportPauseCmd(cfg, true), newReportPauseCmd(cfg, false), newReportValidateCmd(cfg))
	return cmd
}

func reportAdmin(cmd *cobra.Command, cfg *app.Config) (app.Admin, error) {
	adm, err := app.Connect(cmd.Context(), cfg, discardLogger())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "reports of %s %s\n", cfg.DB, adm.Where())
	return adm, nil
}

func newReportListCmd(cfg *app.Config) *cobra.Command {
	var format, lang string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the reports: a header, then one report per line, name first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "csv" {
				return fmt.Errorf("--format %q: table or csv", format)
			}
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			list, err := adm.ReportList(cmd.Context())
			if err != nil {
				return err
			}
			return printReportList(cmd.OutOrStdout(), list, format, lang)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or csv")
	cmd.Flags().StringVar(&lang, "lang", "en", "language of the titles: en or zh-CN")
	return cmd
}

func printReportList(out io.Writer, list []app.ReportSummary, format, lang string) error {
	header := []string{"name", "title", "source", "owner", "schedule", "status", "formats", "channels", "recipients", "last_run", "last_status"}
	row := func(s app.ReportSummary) []string {
		status := "active"
		if s.Paused {
			status = "paused"
		}
		return []string{s.Name, s.Title.Get(lang), s.Source, s.Owner, s.Schedule, status, strings.Join(s.Formats, ","),
			strings.Join(s.Channels, ","), fmt.Sprint(s.Recipients), s.LastRun, s.LastStatus}
	}
	if format == "csv" {
		w := csv.NewWriter(out)
		w.Write(header)
		for _, s := range list {
			w.Write(row(s))
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, s := range list {
		cells := row(s)
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func newReportRunCmd(cfg *app.Config, preview bool) *cobra.Command {
	var as, formats, out string
	use, short := "run NAME --as USER --format F --out DIR", "Render a report as a user into a folder; deliver nothing"
	if preview {
		use, short = "preview NAME [--recipient KEY] [--format F] --out DIR", "Render a report for one of its recipients (the first by default) into a folder; send nothing"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.
Formats: pdf, xlsx, csv, html, parquet (comma-separated; default: the report's). A PDF,
and the charts of an HTML body, are printed by headless Chromium from the report's print
page: without a running server one is started on a loopback port for the time of the run.`,
		Example: "  triscope report run weekly-exec-pack --as east --format pdf --out ./out",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out: the folder to write into")
			}
			dir, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			var fs []string
			for _, f := range strings.Split(formats, ",") {
				if f = strings.TrimSpace(f); f != "" {
					fs = append(fs, f)
				}
			}
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			req := app.ReportRunRequest{Name: args[0], As: as, Formats: fs, Out: dir, By: osUser()}
			var cp *reports.Copy
			if preview {
				cp, err = adm.ReportPreview(cmd.Context(), req)
			} else {
				cp, err = adm.ReportRun(cmd.Context(), req)
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s rendered for %s (scope %s) in %.1fs:\n", args[0], cp.Display, cp.Scope, cp.Seconds)
			if cp.Skipped != "" {
				fmt.Fprintf(w, "  (its condition would hold it back: %s)\n", cp.Skipped)
			}
			for _, f := range cp.Files {
				fmt.Fprintf(w, "  %s  %d bytes\n", f.Path, f.Size)
			}
			return nil
		},
	}
	if preview {
		cmd.Flags().StringVar(&as, "recipient", "", "the recipient (a user name, or ext:<slug> for an external one)")
	} else {
		cmd.Flags().StringVar(&as, "as", "", "the user whose scope and language the report is rendered in (required)")
	}
	cmd.Flags().StringVar(&formats, "format", "", "pdf, xlsx, csv, html, parquet (comma-separated; default: the report's formats)")
	cmd.Flags().StringVar(&out, "out", "", "the folder the files are written into (required)")
	return cmd
}

func newReportSendCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "send NAME",
		Short: "Run a report now for all its recipients and deliver it (recorded in the run ledger)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			info, err := adm.ReportSend(cmd.Context(), args[0], osUser())
			if info != nil && info.ID != "" {
				printRuns(cmd.OutOrStdout(), []reports.RunInfo{*info})
			}
			return err
		},
	}
}

func newReportHistoryCmd(cfg *app.Config) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "A report's runs: status, each recipient, each delivery, the files kept",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			runs, err := adm.ReportHistory(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no run yet")
			}
			printRuns(cmd.OutOrStdout(), runs)
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "at most this many runs, newest first")
	return cmd
}

func printRuns(out io.Writer, runs []reports.RunInfo) {
	for _, r := range runs {
		fmt.Fprintf(out, "%s  %s  %s  attempt %d", r.ID, r.Trigger, r.Status, r.Attempt)
		if r.Error != "" {
			fmt.Fprintf(out, "  error: %s", r.Error)
		}
		fmt.Fprintln(out)
		if r.Note != "" {
			fmt.Fprintf(out, "  note: %s\n", r.Note)
		}
		for _, rc := range r.Recipients {
			fmt.Fprintf(out, "  %-24s %s", rc.Key, rc.Status)
			if rc.Note != "" {
				fmt.Fprintf(out, " (%s)", rc.Note)
			}
			fmt.Fprintln(out)
			for _, d := range rc.Deliveries {
				fmt.Fprintf(out, "    %-12s %-8s key %s", d.Channel, d.Status, d.Key)
				if d.Error != "" {
					fmt.Fprintf(out, "  %s", d.Error)
				}
				fmt.Fprintln(out)
			}
			for _, f := range rc.Files {
				fmt.Fprintf(out, "    file %s (%d bytes)\n", f.Name, f.Size)
			}
		}
	}
}

func newReportPauseCmd(cfg *app.Config, pause bool) *cobra.Command {
	use, short := "pause NAME", "Pause a report's schedule (run now still works)"
	if !pause {
		use, short = "resume NAME", "Resume a paused report's schedule from now on"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			if err := adm.ReportPause(cmd.Context(), args[0], pause, osUser()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", args[0], map[bool]string{true: "paused", false: "resumed"}[pause])
			return nil
		},
	}
}

func newReportValidateCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the report definitions of reports_dir (every problem with its file and line)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := reportAdmin(cmd, cfg)
			if err != nil {
				return err
			}
			defer adm.Close()
			if err := adm.ReportValidate(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "the report definitions are valid")
			return nil
		},
	}
}
