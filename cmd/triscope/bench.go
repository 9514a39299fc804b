package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/warehouse"
)

// The ingest benchmark: each run loads the same files into a fresh warehouse
// twice, in separate child processes so that each side's peak RSS is its own:
//
//	raw       DuckDB's own INSERT INTO t SELECT * FROM read_csv(f, declared types)
//	triscope  the loader, validation and quarantine included
//
// and prints the medians and the ratio of rows per second.
func newBenchCmd(cfg *Config) *cobra.Command {
	var size, dir string
	var runs int
	var seed int64
	cmd := &cobra.Command{
		Use:   "bench-load",
		Short: "Benchmark ingest against DuckDB's own read_csv on the same files",
		Example: `  triscope bench-load --size default --runs 3
  triscope bench-load --dir ./bench-data/large --runs 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if dir == "" {
				dir = filepath.Join("bench-data", fmt.Sprintf("%s-%d", size, seed))
			}
			if _, err := os.Stat(filepath.Join(dir, "payments.csv")); err != nil {
				fmt.Fprintf(out, "generating the %s company into %s…\n", size, dir)
				res, err := synth.Generate(ctx, synth.Config{Size: size, Seed: seed, Format: "csv"}, dir, nil)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "generated in %.1fs\n", res.Elapsed.Seconds())
			}
			var bytes int64
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".csv") && !strings.HasSuffix(e.Name(), ".rejects.csv") {
					if st, err := e.Info(); err == nil {
						bytes += st.Size()
					}
				}
			}
			fmt.Fprintf(out, "input: %s (%.0f MB of CSV), %d runs each\n", dir, float64(bytes)/1e6, runs)
			results := map[string][]benchResult{}
			for i := range runs {
				for _, mode := range []string{"raw", "triscope"} {
					r, err := benchChild(ctx, mode, dir)
					if err != nil {
						return fmt.Errorf("%s run %d: %w", mode, i+1, err)
					}
					fmt.Fprintf(out, "  run %d %-8s %9d rows %7.2fs %10.0f rows/s  peak RSS %5.0f MB\n", i+1, mode, r.Rows, r.Seconds, float64(r.Rows)/r.Seconds, r.PeakRSSMB)
					results[mode] = append(results[mode], r)
				}
			}
			raw, tri := median(results["raw"]), median(results["triscope"])
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "\nmedian\trows\tseconds\trows/s\tpeak RSS MB\t")
			for _, x := range []struct {
				name string
				r    benchResult
			}{{"duckdb read_csv", raw}, {"triscope load", tri}} {
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.0f\t\n", x.name, x.r.Rows, x.r.Seconds, float64(x.r.Rows)/x.r.Seconds, x.r.PeakRSSMB)
			}
			tw.Flush()
			fmt.Fprintf(out, "ratio (triscope rows/s ÷ duckdb rows/s): %.2f×\n", (float64(tri.Rows)/tri.Seconds)/(float64(raw.Rows)/raw.Seconds))
			return nil
		},
	}
	cmd.Flags().StringVar(&size, "size", "default", "demo company size to generate when --dir has no data")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the generated company")
	cmd.Flags().StringVar(&dir, "dir", "", "directory of entity CSV files (default bench-data/SIZE-SEED, generated if absent)")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per side; medians are reported")

	child := &cobra.Command{
		Use:    "bench-load-child MODE DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := benchOnce(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
	cmd.AddCommand(child)
	return cmd
}

type benchResult struct {
	Rows      int64
	Seconds   float64
	PeakRSSMB float64
}

func median(rs []benchResult) benchResult {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Seconds < rs[j].Seconds })
	return rs[len(rs)/2]
}

func benchChild(ctx context.Context, mode, dir string) (benchResult, error) {
	self, err := os.Executable()
	if err != nil {
		return benchResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "bench-load", "bench-load-child", mode, dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return benchResult{}, err
	}
	var r benchResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("child output %q: %w", out, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSSMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return r, nil
}

// benchOnce loads dir into a fresh warehouse with one method and times it.
func benchOnce(ctx context.Context, mode, dir string) (benchResult, error) {
	tmp, err := os.MkdirTemp("", "triscope-bench-")
	if err != nil {
		return benchResult{}, err
	}
	defer os.RemoveAll(tmp)
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(tmp, "bench.duckdb"), Logger: discardLogger()})
	if err != nil {
		return benchResult{}, err
	}
	defer w.Close()
	start := time.Now()
	var rows int64
	switch mode {
	case "raw":
		err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			for _, e := range etl.Entities {
				path := filepath.Join(dir, e.Name+".csv")
				if _, err := os.Stat(path); err != nil {
					continue
				}
				var cols []string
				for _, c := range e.Columns {
					cols = append(cols, fmt.Sprintf("'%s': '%s'", c.Name, c.Kind.SQLType(c)))
				}
				q := fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM read_csv('%s', header = true, columns = {%s})",
					e.Name, strings.ReplaceAll(path, "'", "''"), strings.Join(cols, ", "))
				res, err := conn.ExecContext(ctx, q)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				n, _ := res.RowsAffected()
				rows += n
			}
			return nil
		})
	case "triscope":
		var rep *etl.Report
		rep, err = etl.Load(ctx, w, []string{dir}, etl.Options{Logger: discardLogger()})
		if rep != nil {
			rows = rep.Totals().Read
		}
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	return benchResult{Rows: rows, Seconds: time.Since(start).Seconds()}, err
}
