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

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// without it, the module's version, else the VCS revision (see buildVersion).
var version = ""

func newVersionCmd(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of Triscope, Go and DuckDB",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := buildVersion()
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

// buildVersion is what `triscope version` prints first: the version set at
// build time, else the module version (a tagged `go install`), else the VCS
// revision with "-dirty" for uncommitted changes (a build from a checkout),
// never "dev" or "(devel)".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module information)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty, when := "", false, ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			dirty = s.Value == "true"
		case "vcs.time":
			when = s.Value
		}
	}
	if rev == "" {
		return "unknown (built without version control information: build from a git checkout or set -ldflags -X main.version=…)"
	}
	if dirty {
		rev += "-dirty"
	}
	if when != "" {
		rev += " (" + when + ")"
	}
	return rev
}
