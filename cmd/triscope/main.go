// Command triscope is the one binary of Triscope: it generates the demo company,
// loads data into the DuckDB warehouse, and (in later subcommands) computes the
// models and serves the dashboards.
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// Every file this process creates — the warehouse, the application
	// database (users, sessions, tokens), their write-ahead logs, exports —
	// is readable by its owner only (issue 18, finding 8: files were created
	// with the process's umask, typically world-readable).
	syscall.Umask(0o077)
	// A file that would grow past the process's size limit (ulimit -f,
	// RLIMIT_FSIZE) makes the write fail (EFBIG) and the load or refresh
	// fail with an error naming the disk, instead of the kernel killing the
	// process with SIGXFSZ: DuckDB writes from its own threads, where Go's
	// handler applies the signal's default action (found by triscope chaos
	// disk-full --method fsize: the server died).
	signal.Ignore(syscall.SIGXFSZ)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a code after the command printed its own message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func newRootCmd() *cobra.Command {
	var cfgFile string
	var verbose bool
	cfg := &app.Config{}
	root := &cobra.Command{
		Use:   "triscope",
		Short: "Triscope: analytical CRM and BI reporting on DuckDB",
		Long: `Triscope loads a sales organisation's opportunities, contracts and payments into a
DuckDB warehouse and computes the numbers executives steer by.

Start here:
  triscope demo                      generate the demo company and load it
  triscope gen --out DIR             write the demo company's files
  triscope load FILE|DIR...          load CSV, Parquet or NDJSON files into the warehouse

Configuration comes from flags, then TRISCOPE_* environment variables
(e.g. TRISCOPE_DB=/data/triscope.duckdb), then triscope.yaml in the current directory
(or --config FILE).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			return cfg.Load(cfgFile, cmd.Flags())
		},
	}
	root.PersistentFlags().StringVar(&cfgFile, "config", "", "config file (default: triscope.yaml if present)")
	root.PersistentFlags().String("db", "triscope.duckdb", "the warehouse file")
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug detail")
	root.AddCommand(newVersionCmd(cfg), newGenCmd(cfg), newLoadCmd(cfg), newRefreshCmd(cfg), newDemoCmd(cfg), newBenchCmd(cfg), newBenchRefreshCmd(cfg))
	root.AddCommand(newServeCmd(cfg), newUsersCmd(cfg), newScreenshotsCmd(cfg), newBenchServeCmd(cfg), newSQLCmd(cfg), newBenchSQLCmd(cfg), newReportCmd(cfg))
	root.AddCommand(newChaosCmd()) // hidden: the fault tests (chaos.go)
	return root
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
