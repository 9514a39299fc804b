package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/triscope/triscope/app"

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
	"github.com/triscope/triscope/etl/parquet"
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
func newBenchCmd(cfg *app.Config) *cobra.Command {
	var size, dir string
	var runs int
	var seed int64
	var noVariants bool
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
			if runs < 1 {
				return fmt.Errorf("--runs must be at least 1")
			}
			load0 := loadAverage()
			fmt.Fprintf(out, "input: %s (%.0f MB of CSV), %d runs each; load average %s\n", dir, float64(bytes)/1e6, runs, load0)
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
			ratio := (float64(tri.Rows) / tri.Seconds) / (float64(raw.Rows) / raw.Seconds)
			fmt.Fprintf(out, "ratio (triscope rows/s ÷ duckdb rows/s): %.2f×\n", ratio)
			// The last line, kept stable: people and scripts read it.
			last := func() {
				fmt.Fprintf(out, "load average: %s (at the start: %s)\n", loadAverage(), load0)
				fmt.Fprintf(out, "ingest ratio: %.2f× of DuckDB read_csv (median of %d), peak RSS %.0f MB vs %.0f MB\n",
					ratio, runs, medianRSS(results["triscope"]), medianRSS(results["raw"]))
			}
			if noVariants {
				last()
				return nil
			}
			// The payments file alone, as DuckDB reads it (UTF-8 CSV) and as
			// exports deliver it: GBK with Chinese headers and values, and XLSX.
			fmt.Fprintf(out, "\npayments.csv variants (preparing in %s)…\n", filepath.Join(dir, "variants"))
			if err := prepareVariants(dir); err != nil {
				return err
			}
			variants := []string{"raw-payments", "triscope-payments", "triscope-gbk", "triscope-xlsx"}
			vres := map[string][]benchResult{}
			for i := range runs {
				for _, mode := range variants {
					r, err := benchChild(ctx, mode, dir)
					if err != nil {
						return fmt.Errorf("%s run %d: %w", mode, i+1, err)
					}
					fmt.Fprintf(out, "  run %d %-17s %9d rows %7.2fs %10.0f rows/s  peak RSS %5.0f MB\n", i+1, mode, r.Rows, r.Seconds, float64(r.Rows)/r.Seconds, r.PeakRSSMB)
					vres[mode] = append(vres[mode], r)
				}
			}
			base := median(vres["raw-payments"])
			tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "\nmedian (payments)\trows\tseconds\trows/s\tpeak RSS MB\tratio to duckdb read_csv (UTF-8)\t")
			for _, mode := range variants {
				r := median(vres[mode])
				ratio := (float64(r.Rows) / r.Seconds) / (float64(base.Rows) / base.Seconds)
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.0f\t%.2f×\t\n", variantNames[mode], r.Rows, r.Seconds, float64(r.Rows)/r.Seconds, r.PeakRSSMB, ratio)
			}
			tw.Flush()
			last()
			return nil
		},
	}
	cmd.Flags().StringVar(&size, "size", "default", "demo company size to generate when --dir has no data")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the generated company")
	cmd.Flags().StringVar(&dir, "dir", "", "directory of entity CSV files (default bench-data/SIZE-SEED, generated if absent)")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per side; medians are reported")
	cmd.Flags().BoolVar(&noVariants, "no-variants", false, "skip the payments variants (GBK CSV, XLSX)")
	cmd.Flags().StringVar(&benchMemoryLimit, "memory-limit", "", "DuckDB's memory_limit in both children (e.g. 2GB; default: half of RAM)")

	child := &cobra.Command{
		Use:    "bench-load-child MODE DIR [MEMORY_LIMIT]",
		Hidden: true,
		Args:   cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 {
				benchMemoryLimit = args[2]
			}
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

// benchMemoryLimit is DuckDB's memory_limit in the children ("": the warehouse's default).
var benchMemoryLimit string

type benchResult struct {
	Rows      int64
	Seconds   float64
	PeakRSSMB float64
}

// medianRSS is the median of the runs' peak RSS.
func medianRSS(rs []benchResult) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.PeakRSSMB
	}
	sort.Float64s(v)
	return v[len(v)/2]
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
	cmd := exec.CommandContext(ctx, self, "bench-load", "bench-load-child", mode, dir, benchMemoryLimit)
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
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(tmp, "bench.duckdb"), Logger: discardLogger(), MemoryLimit: benchMemoryLimit})
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
					e.Name, strings.ReplaceAll(parquet.Pattern(path), "'", "''"), strings.Join(cols, ", "))
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
	case "raw-payments":
		err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			e, _ := etl.EntityByName("payments")
			var cols []string
			for _, c := range e.Columns {
				cols = append(cols, fmt.Sprintf("'%s': '%s'", c.Name, c.Kind.SQLType(c)))
			}
			res, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO payments BY NAME SELECT * FROM read_csv('%s', header = true, columns = {%s})",
				strings.ReplaceAll(parquet.Pattern(filepath.Join(dir, "payments.csv")), "'", "''"), strings.Join(cols, ", ")))
			if err != nil {
				return err
			}
			rows, _ = res.RowsAffected()
			return nil
		})
	case "triscope-payments", "triscope-gbk", "triscope-xlsx":
		path := map[string]string{"triscope-payments": filepath.Join(dir, "payments.csv"),
			"triscope-gbk": filepath.Join(dir, "variants", "gbk", "payments.csv"), "triscope-xlsx": filepath.Join(dir, "variants", "xlsx", "payments.xlsx")}[mode]
		// Exchange rates first (untimed), so that USD payments convert; the
		// references (contracts, customers) are not loaded: they are warned
		// about, not checked, the same for every variant.
		if _, err := etl.Load(ctx, w, []string{filepath.Join(dir, "fx_rates.csv")}, etl.Options{Logger: discardLogger()}); err != nil {
			return benchResult{}, err
		}
		start = time.Now()
		var rep *etl.Report
		rep, err = etl.Load(ctx, w, []string{path}, etl.Options{Logger: discardLogger()})
		if rep != nil {
			rows = rep.Totals().Read
			if t := rep.Totals(); err == nil && t.Loaded != t.Read {
				err = fmt.Errorf("%s: %d rows read but %d loaded (%d rejected)", path, t.Read, t.Loaded, t.Rejected)
			}
		}
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	return benchResult{Rows: rows, Seconds: time.Since(start).Seconds()}, err
}

var variantNames = map[string]string{
	"raw-payments":      "duckdb read_csv, UTF-8 CSV",
	"triscope-payments": "triscope, UTF-8 CSV",
	"triscope-gbk":      "triscope, GBK CSV (Chinese)",
	"triscope-xlsx":     "triscope, XLSX",
}

var methodsZH = map[string]string{"bank_transfer": "银行转账", "acceptance_bill": "承兑汇票", "cheque": "支票", "cash": "现金", "card": "刷卡", "online": "在线支付"}

// prepareVariants writes payments.csv again as an export from a Chinese CRM
// would deliver it: GBK with Chinese headers and method names, and as an XLSX
// workbook with date cells and number cells. Existing variants are reused.
func prepareVariants(dir string) error {
	src := filepath.Join(dir, "payments.csv")
	gbkPath := filepath.Join(dir, "variants", "gbk", "payments.csv")
	xlsxPath := filepath.Join(dir, "variants", "xlsx", "payments.xlsx")
	if _, err := os.Stat(xlsxPath); err == nil {
		if _, err := os.Stat(gbkPath); err == nil {
			return nil
		}
	}
	if err := synth.WritePaymentsGBK(src, gbkPath, methodZH); err != nil {
		return err
	}
	return synth.WritePaymentsWorkbook(src, xlsxPath, methodZH)
}

// methodZH is a payment method as a Chinese CRM names it (as it is when it
// has no Chinese name).
func methodZH(m string) string {
	if zh := methodsZH[m]; zh != "" {
		return zh
	}
	return m
}
