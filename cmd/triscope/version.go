package main

import (
	"database/sql"
	"fmt"
	"github.com/triscope/triscope/app"
	"runtime"
	"runtime/debug"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newVersionCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of Triscope, Go and DuckDB",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := version
			if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						v += "+" + s.Value[:min(12, len(s.Value))]
					}
				}
			}
			duck := "unknown"
			if db, err := sql.Open("duckdb", ""); err == nil {
				db.QueryRowContext(cmd.Context(), "SELECT version()").Scan(&duck)
				db.Close()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "triscope %s\ngo        %s %s/%s\nduckdb    %s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, duck)
			return nil
		},
	}
}
