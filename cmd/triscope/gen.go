package main

import (
	"fmt"
	"github.com/triscope/triscope/app"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/etl/synth"
)

func newGenCmd(cfg *app.Config) *cobra.Command {
	var c synth.Config
	var out string
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write the demo company's data files (the data contract, one file per entity)",
		Long: `Generate a realistic national sales organisation: one company, 7 regions, 46 branches,
~600 reps, ~600 channel partners, customers, opportunities with stage histories,
contracts, payment schedules, payments, expenses, activities, campaigns and targets.
The same seed always gives the same files. Load them with 'triscope load DIR'.`,
		Example: `  triscope gen --out ./demo-data
  triscope gen --size large --seed 7 --locale zh --format parquet --out /data/big`,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := synth.Generate(cmd.Context(), c, out, func(entity string, rows int64) {
				slog.Debug("generating", "entity", entity, "rows", rows)
			})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "entity\trows\tMB\tfile\t")
			var rows, bytes int64
			for _, f := range res.Files {
				fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t\n", f.Entity, f.Rows, float64(f.Bytes)/1e6, f.Path)
				rows += f.Rows
				bytes += f.Bytes
			}
			fmt.Fprintf(tw, "total\t%d\t%.1f\t\t\n", rows, float64(bytes)/1e6)
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "generated in %.1fs\n", res.Elapsed.Seconds())
			return nil
		},
	}
	cmd.Flags().StringVar(&c.Size, "size", "default", "small (tests), default (~60k customers, 3 years) or large (benchmarks)")
	cmd.Flags().Int64Var(&c.Seed, "seed", 1, "random seed; the same seed gives the same files")
	cmd.Flags().StringVar(&c.Locale, "locale", "en", "en or zh (Chinese names of people, companies, cities and regions)")
	cmd.Flags().StringVar(&c.Format, "format", "csv", "csv or parquet")
	cmd.Flags().StringVar(&out, "out", "demo-data", "directory to write the files into")
	return cmd
}
