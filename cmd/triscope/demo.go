package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/warehouse"
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

Then it starts the dashboards on --addr (default 127.0.0.1:8080) as soon as the
data is loaded, and computes the models behind them meanwhile (the pages say so
until they are done), with the demo
accounts admin, ceo (executive), east (manager of the East China region), rep (one
rep with deals) and analyst (one branch), all with one password: random and
printed at start, or --demo-password. --no-serve stops after the models.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			ds.locale = c.Locale
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
			if err := printHeadline(ctx, r.Warehouse().Reader(), cfg.BaseCurrency, out); err != nil {
				return err
			}
			if ds.noServe {
				fmt.Fprintln(out, "\nComputing the models…")
				if err := runRefresh(ctx, r.Admin(), app.RefreshRequest{By: osUser()}, out); err != nil {
					return err
				}
				return ds.serve(ctx, r, cfg, out, nil)
			}
			// The pages are served as soon as they listen; the models are
			// computed meanwhile (and the pages say so).
			fmt.Fprintln(out, "\nComputing the models while the pages start (they say so until the models are done)…")
			models := r.StartRefresh(ctx, app.RefreshRequest{By: osUser()})
			err = ds.serve(ctx, r, cfg, out, models)
			models() // stopped (Ctrl-C) while they were computed: the refresh ends, cancelled, before the runtime closes
			return err
		},
	}
	ds.flags(cmd)
	cmd.Flags().StringVar(&c.Size, "size", "default", "small, default or large")
	cmd.Flags().Int64Var(&c.Seed, "seed", 1, "random seed")
	defLocale := "en"
	if cliLang() == i18n.ZH {
		defLocale = "zh" // a Chinese user's demo company has Chinese names (LANG=zh_CN.UTF-8)
	}
	cmd.Flags().StringVar(&c.Locale, "locale", defLocale, "en or zh: the names of people, companies, regions and products (default: zh when LANG is Chinese)")
	return cmd
}

// printHeadline prints the company's headline numbers, counted by the one
// definition of each figure (docs/glossary.md), with thousands separators —
// and 万/亿 in Chinese (the language of LANG).
func printHeadline(ctx context.Context, r warehouse.Reader, base string, out io.Writer) error {
	var asOf sql.NullTime
	var customers, reps, open int64
	var bookings, collections float64
	var winRate sql.NullFloat64
	err := r.QueryRowContext(ctx, headlineSQL).Scan(&asOf, &customers, &reps, &open, &bookings, &collections, &winRate)
	if err != nil {
		return fmt.Errorf("headline numbers: %w", err)
	}
	lang := cliLang()
	money := func(v float64) string {
		if lang == i18n.ZH {
			return i18n.Compact(lang, v) + " (" + i18n.Int(lang, int64(math.Round(v))) + ")"
		}
		return i18n.Int(lang, int64(math.Round(v)))
	}
	day := asOf.Time.Format(time.DateOnly)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	if lang == i18n.ZH {
		fmt.Fprintf(out, "\n概要（截至 %s 的 12 个月，%s）\n", day, base)
		fmt.Fprintf(tw, "  客户\t%s\t\n", i18n.Int(lang, customers))
		fmt.Fprintf(tw, "  在职销售\t%s\t\n", i18n.Int(lang, reps))
		fmt.Fprintf(tw, "  在途商机（截至 %s）\t%s\t\n", day, i18n.Int(lang, open))
		fmt.Fprintf(tw, "  签约额（不含已取消合同）\t%s\t\n", money(bookings))
		fmt.Fprintf(tw, "  回款\t%s\t\n", money(collections))
		if winRate.Valid {
			fmt.Fprintf(tw, "  赢单率（本期关闭的商机）\t%s\t\n", i18n.Percent(lang, winRate.Float64))
		}
	} else {
		fmt.Fprintf(out, "\nHeadline (12 months to %s, %s)\n", day, base)
		fmt.Fprintf(tw, "  customers\t%s\t\n", i18n.Int(lang, customers))
		fmt.Fprintf(tw, "  active reps\t%s\t\n", i18n.Int(lang, reps))
		fmt.Fprintf(tw, "  open opportunities (at %s)\t%s\t\n", day, i18n.Int(lang, open))
		fmt.Fprintf(tw, "  bookings (signed, not cancelled)\t%s\t\n", money(bookings))
		fmt.Fprintf(tw, "  collections (received)\t%s\t\n", money(collections))
		if winRate.Valid {
			fmt.Fprintf(tw, "  win rate (deals closed)\t%s\t\n", i18n.Percent(lang, winRate.Float64))
		}
	}
	tw.Flush()
	fmt.Fprintln(out, headlineNote(lang))
	return nil
}

func headlineNote(lang string) string {
	if lang == i18n.ZH {
		return "  （与望远镜页“近 12 个月”的数字一致；指标定义见 docs/glossary.md）"
	}
	return "  (the Telescope's figures for the last 12 months; what each means: docs/glossary.md)"
}

// cliLang is the language of the command line's output: zh-CN when LANG (or
// LC_ALL) says Chinese, else English.
func cliLang() string {
	for _, v := range []string{os.Getenv("LC_ALL"), os.Getenv("LANG")} {
		if strings.HasPrefix(strings.ToLower(v), "zh") {
			return i18n.ZH
		}
		if v != "" {
			break
		}
	}
	return i18n.EN
}
