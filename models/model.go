// Package models computes the numbers executives steer by from the base tables
// and materialises them as mart_* tables. Every model is a Go file plus its
// embedded .sql; all models of a refresh run for one as-of date into a stage
// schema and are published together in one transaction, so a failed refresh
// leaves the previous results in place (refresh.go).
package models

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/triscope/triscope/warehouse"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Model is one computation that produces mart tables.
type Model struct {
	Name string
	// Needs are the entities without which the model's result is empty (the
	// run is recorded as "empty" with the reason, never an error).
	Needs []string
	// Reads are the base tables (entities) and the tables of other models
	// the model reads. The refresh order follows from them (a model runs
	// after the models whose tables it reads), and so does what a load
	// affects: the models reading an entity the load changed, and the
	// models reading theirs.
	Reads []string
	// Tables the model (re)creates.
	Tables []string
	// Depends, when set, names what else the result depends on besides the
	// data, the as-of date and the settings (the content of a file a setting
	// names): it goes into the run's fingerprint, so a change re-runs it.
	Depends func(s Settings) string
	// Run computes the tables on rc.Conn; rc.Exec writes the marts staged
	// (staging.go) and the search path reads them back through the stage
	// schema.
	Run func(ctx context.Context, rc *RunContext) error
}

// RunContext is what a model sees while it runs.
type RunContext struct {
	Conn         *sql.Conn
	AsOf         time.Time
	BaseCurrency string
	Settings     Settings
	Log          *slog.Logger
	notes        []string
	refreshID    int64             // tells shared inputs of this refresh from stale ones
	full         bool              // a full refresh: no shared input from a cache (--full)
	caches       map[string]string // how each per-key cache was made in this refresh (useCache)
	stagesCached bool              // pl_deal_stages and pl_stage_history were read from the deal-stages cache (plPrep)
	used         []string          // the caches the running model read
	keep         map[string]bool   // temp tables that outlive a model (shared inputs)
	outputs      map[string]bool   // the running model's marts, written staged (staging.go)
}

// Note records something a user should know about this run (a fit that did not
// converge, an input that made part of the result empty); it is shown by
// `triscope refresh` and kept in model_runs.message.
func (rc *RunContext) Note(format string, args ...any) {
	rc.notes = append(rc.notes, fmt.Sprintf(format, args...))
}

// Settings are a model's options from the config file (models.<name>.*).
type Settings map[string]any

// Float returns a numeric setting or def.
func (s Settings) Float(key string, def float64) float64 {
	switch v := s[key].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return def
}

// Int returns an integer setting or def.
func (s Settings) Int(key string, def int) int { return int(s.Float(key, float64(def))) }

// String returns a text setting or def.
func (s Settings) String(key string, def string) string {
	if v, ok := s[key].(string); ok && v != "" {
		return v
	}
	return def
}

// SQL returns an embedded .sql file rendered as a text/template with data.
// Templates only splice trusted values (table names, numbers from settings);
// values from data are always bound parameters.
func SQL(name string, data any) (string, error) {
	body, err := sqlFS.ReadFile("sql/" + name)
	if err != nil {
		return "", fmt.Errorf("model SQL %s: %w", name, err)
	}
	if data == nil {
		return string(body), nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return "", fmt.Errorf("model SQL %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("model SQL %s: %w", name, err)
	}
	return b.String(), nil
}

// Exec runs an embedded .sql file, one statement at a time. The as-of date and
// the base currency are session variables (getvariable('as_of'),
// getvariable('base_currency')), so an analyst can run the same file by hand
// after SET VARIABLE as_of = DATE '2025-12-31'.
func (rc *RunContext) Exec(ctx context.Context, name string, data any) error {
	q, err := SQL(name, data)
	if err != nil {
		return err
	}
	for i, stmt := range warehouse.SplitStatements(q) {
		start := time.Now()
		stmt, created := rc.stage(stmt)
		if _, err := rc.Conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if created != "" {
			if err := stageView(ctx, rc.Conn, created); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if rc.Log != nil {
			rc.Log.Debug("statement done", "file", name, "statement", i+1, "seconds", time.Since(start).Seconds(), "sql", firstLine(stmt))
		}
	}
	return nil
}

func firstLine(stmt string) string {
	line, _, _ := strings.Cut(stmt, "\n")
	return line
}
