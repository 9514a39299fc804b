// Package app is the runtime of Triscope: it owns the warehouse and the
// application database, runs the jobs that write (loads, refreshes,
// collision rulings) on the warehouse's one write lane, builds what every
// face reads on the write path (the facts and the scoped relations), and
// serves the faces — the dashboards today, reports and ad hoc SQL next —
// over HTTP, with an admin API through which the command line works while a
// server owns the file.
package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/warehouse"
)

// Config is everything that can be set in triscope.yaml, TRISCOPE_* variables
// or flags (Load reads them in that order of precedence, flags first).
type Config struct {
	k *koanf.Koanf

	DB           string `koanf:"db"`
	BaseCurrency string `koanf:"base_currency"`
	TimeZone     string `koanf:"timezone"`
	// FiscalYearStart is the first month of the fiscal year (1 = January),
	// which the periods "fiscal year to date" and "last fiscal year" follow.
	FiscalYearStart int     `koanf:"fiscal_year_start"`
	Threads         int     `koanf:"threads"`
	MemoryLimit     string  `koanf:"memory_limit"`
	MaxReject       float64 `koanf:"max_reject_share"`

	// Bounds of a load (0 = the loader's default): the longest text value
	// (longer ones are quarantined), the largest input file, the largest
	// uncompressed XLSX workbook.
	MaxTextBytes  int   `koanf:"max_text_bytes"`
	MaxFileBytes  int64 `koanf:"max_file_bytes"`
	MaxUnzipBytes int64 `koanf:"max_unzip_bytes"`

	// The server (triscope serve).
	AuthDB        string `koanf:"auth_db"`        // the application database (users, sessions, audit, jobs); default: <db>.auth.duckdb
	Addr          string `koanf:"addr"`           // listen address of the server
	SecureCookies bool   `koanf:"secure_cookies"` // behind a TLS-terminating proxy
	TrustProxy    bool   `koanf:"trust_proxy"`    // client IP from X-Forwarded-For
	MetricsToken  string `koanf:"metrics_token"`  // bearer token of /metrics; "" = loopback clients only

	// RefreshAfterLoad says what a load through the server refreshes once it
	// commits: "affected" (the models that read what the load changed; all
	// of them when the as-of date moves), "all", or "off".
	RefreshAfterLoad string `koanf:"refresh_after_load"`
	// Benchmarks are the company benchmarks shown to every user (the one
	// exception to the scope rule; see access.Scope).
	Benchmarks []string `koanf:"benchmarks"`
	// SQL configures ad hoc SQL (sql.go).
	SQL SQLConfig `koanf:"sql"`

	// Reports (app/reports.go): the folder of report definitions (YAML,
	// validated at start; "" = none), their settings, and the delivery
	// channels an administrator configured (reports/deliver).
	ReportsDir string         `koanf:"reports_dir"`
	Reports    ReportsConfig  `koanf:"reports"`
	Delivery   deliver.Config `koanf:"delivery"`
}

// Load reads the configuration: flags the user set, then TRISCOPE_*
// variables, then the file (path, or triscope.yaml when present), then the
// defaults.
func (c *Config) Load(path string, flags *pflag.FlagSet) error {
	k := koanf.New(".")
	k.Load(confmapDefaults(), nil)
	if path == "" {
		if _, err := os.Stat("triscope.yaml"); err == nil {
			path = "triscope.yaml"
		}
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("config file %s does not exist", path)
			}
			return fmt.Errorf("config file %s: %w", path, err)
		}
	}
	// TRISCOPE_BASE_CURRENCY → base_currency; TRISCOPE_MODELS__CLV__HORIZON → models.clv.horizon
	err := k.Load(env.ProviderWithValue("TRISCOPE_", ".", func(key, v string) (string, any) {
		key = strings.ToLower(strings.TrimPrefix(key, "TRISCOPE_"))
		return strings.ReplaceAll(key, "__", "."), v
	}), nil)
	if err != nil {
		return err
	}
	// Only flags the user set override the file and the environment.
	if err := k.Load(posflag.ProviderWithFlag(flags, ".", k, func(f *pflag.Flag) (string, any) {
		if !f.Changed {
			return "", nil
		}
		return strings.ReplaceAll(f.Name, "-", "_"), posflag.FlagVal(flags, f)
	}), nil); err != nil {
		return err
	}
	if err := k.Unmarshal("", c); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch c.RefreshAfterLoad {
	case "affected", "all", "off":
	default:
		return fmt.Errorf("configuration: refresh_after_load is %q; use affected, all or off", c.RefreshAfterLoad)
	}
	if c.FiscalYearStart < 1 || c.FiscalYearStart > 12 {
		return fmt.Errorf("configuration: fiscal_year_start is %d; give the first month of the fiscal year, 1 (January) to 12", c.FiscalYearStart)
	}
	c.k = k
	return nil
}

type defaults map[string]any

func (d defaults) ReadBytes() ([]byte, error)    { return nil, errors.New("not supported") }
func (d defaults) Read() (map[string]any, error) { return d, nil }

func confmapDefaults() defaults {
	return defaults{
		"db":                 "triscope.duckdb",
		"base_currency":      "CNY",
		"timezone":           warehouse.DefaultTimeZone,
		"fiscal_year_start":  1,
		"threads":            0,
		"memory_limit":       "",
		"max_reject_share":   0.05,
		"auth_db":            "",
		"addr":               "127.0.0.1:8080",
		"secure_cookies":     false,
		"trust_proxy":        false,
		"metrics_token":      "",
		"refresh_after_load": "affected",
		"benchmarks":         access.DefaultBenchmarks,
	}
}

// Sub returns the settings under a prefix (e.g. "models.clv") as a map.
func (c *Config) Sub(prefix string) map[string]any {
	if c.k == nil {
		return map[string]any{}
	}
	return c.k.Cut(prefix).Raw()
}

// AuthPath is the application database (users, sessions, audit, jobs): auth_db, or the warehouse path
// with ".duckdb" replaced by ".auth.duckdb". It is never the warehouse itself,
// so analysts querying the warehouse never see password hashes or sessions.
func (c *Config) AuthPath() string {
	if c.AuthDB != "" {
		return c.AuthDB
	}
	if strings.HasSuffix(c.DB, ".duckdb") {
		return strings.TrimSuffix(c.DB, ".duckdb") + ".auth.duckdb"
	}
	return c.DB + ".auth.duckdb"
}

// WarehouseOptions are the options the warehouse is opened with.
func (c *Config) WarehouseOptions() warehouse.Options {
	return warehouse.Options{Path: c.DB, TimeZone: c.TimeZone, Threads: c.Threads, MemoryLimit: c.MemoryLimit}
}
