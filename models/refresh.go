package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// registry holds every model; each model file registers itself with an order
// that places it after the models whose tables it reads.
var registry []*registered

type registered struct {
	order int
	model *Model
}

func register(order int, m *Model) {
	registry = append(registry, &registered{order, m})
	sort.SliceStable(registry, func(i, j int) bool { return registry[i].order < registry[j].order })
}

// All lists the models in the order a refresh runs them.
func All() []*Model {
	out := make([]*Model, len(registry))
	for i, r := range registry {
		out[i] = r.model
	}
	return out
}

// RefreshOptions choose what a refresh computes.
type RefreshOptions struct {
	AsOf         time.Time           // inclusive; zero = the latest date in the data
	Models       []string            // names; empty = all
	BaseCurrency string              // default CNY
	Settings     map[string]Settings // per model name, from models.<name>.*
	Logger       *slog.Logger
}

// RunResult is one model's outcome.
type RunResult struct {
	Model   string
	Rows    int64
	Elapsed time.Duration
	Status  string // ok, empty, failed
	Message string
}

// Refresh runs the models for one as-of date in one transaction and records
// each run in model_runs.
func Refresh(ctx context.Context, w *warehouse.Warehouse, opts RefreshOptions) (time.Time, []RunResult, error) {
	if opts.BaseCurrency == "" {
		opts.BaseCurrency = "CNY"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	models := All()
	if len(opts.Models) > 0 {
		models = nil
		for _, name := range opts.Models {
			i := slices.IndexFunc(All(), func(m *Model) bool { return m.Name == name })
			if i < 0 {
				return time.Time{}, nil, fmt.Errorf("unknown model %q; models are: %s", name, strings.Join(Names(), ", "))
			}
			models = append(models, All()[i])
		}
		sort.SliceStable(models, func(i, j int) bool { return orderOf(models[i]) < orderOf(models[j]) })
	}
	asOf := opts.AsOf
	if asOf.IsZero() {
		q, _ := SQL("as_of.sql", nil)
		var d sql.NullTime
		if err := w.DB().QueryRowContext(ctx, q).Scan(&d); err != nil {
			return time.Time{}, nil, fmt.Errorf("finding the as-of date: %w", err)
		}
		if !d.Valid {
			return time.Time{}, nil, errors.New("the warehouse holds no dated rows yet: load data first (triscope load), or give --as-of")
		}
		asOf = d.Time
	}
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)

	var results []RunResult
	var refreshID int64
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if err := conn.QueryRowContext(ctx, "SELECT nextval('refresh_id_seq')").Scan(&refreshID); err != nil {
			return err
		}
		setup := []string{
			fmt.Sprintf("SET VARIABLE as_of = DATE '%s'", asOf.Format("2006-01-02")),
			fmt.Sprintf("SET VARIABLE base_currency = '%s'", strings.ReplaceAll(opts.BaseCurrency, "'", "''")),
		}
		for _, s := range setup {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		rc := &RunContext{Conn: conn, AsOf: asOf, BaseCurrency: opts.BaseCurrency, Log: opts.Logger}
		if err := rc.Exec(ctx, "prep.sql", nil); err != nil {
			return err
		}
		for _, m := range models {
			start := time.Now()
			rc.Settings = opts.Settings[m.Name]
			rc.notes = nil
			res := RunResult{Model: m.Name, Status: "ok"}
			if missing := absent(ctx, conn, m.Needs); len(missing) > 0 {
				res.Status = "empty"
				res.Message = "no " + strings.Join(missing, ", no ") + " loaded"
			}
			if err := m.Run(ctx, rc); err != nil {
				res.Status, res.Message, res.Elapsed = "failed", err.Error(), time.Since(start)
				results = append(results, res)
				return fmt.Errorf("model %s: %w", m.Name, err)
			}
			for _, t := range m.Tables {
				var n int64
				if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
					return fmt.Errorf("model %s did not create %s: %w", m.Name, t, err)
				}
				res.Rows += n
			}
			if len(rc.notes) > 0 {
				res.Message = strings.TrimPrefix(res.Message+"; "+strings.Join(rc.notes, "; "), "; ")
			}
			res.Elapsed = time.Since(start)
			results = append(results, res)
			if _, err := conn.ExecContext(ctx, "INSERT INTO model_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
				refreshID, m.Name, asOf, start, time.Now(), res.Rows, res.Status, res.Message); err != nil {
				return err
			}
			opts.Logger.Debug("model done", "model", m.Name, "rows", res.Rows, "seconds", res.Elapsed.Seconds())
		}
		return nil
	})
	if err != nil {
		// Record the failure outside the rolled-back transaction.
		w.Write(context.WithoutCancel(ctx), func(ctx context.Context, conn *sql.Conn) error {
			for _, r := range results {
				if r.Status == "failed" {
					_, e := conn.ExecContext(ctx, "INSERT INTO model_runs VALUES ($1, $2, $3, now(), now(), 0, 'failed', $4)", refreshID, r.Model, asOf, r.Message)
					return e
				}
			}
			return nil
		})
		return asOf, results, err
	}
	return asOf, results, nil
}

// Names lists the model names in run order.
func Names() []string {
	var out []string
	for _, m := range All() {
		out = append(out, m.Name)
	}
	return out
}

func orderOf(m *Model) int {
	for _, r := range registry {
		if r.model == m {
			return r.order
		}
	}
	return 0
}

func absent(ctx context.Context, conn *sql.Conn, entities []string) []string {
	var missing []string
	for _, e := range entities {
		var n int
		conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE _deleted_at IS NULL LIMIT 1)", e)).Scan(&n)
		if n == 0 {
			missing = append(missing, e)
		}
	}
	return missing
}

// sqlModel is a model that is exactly one embedded .sql file.
func sqlModel(name, file string, needs, tables []string) *Model {
	return &Model{Name: name, Needs: needs, Tables: tables, Run: func(ctx context.Context, rc *RunContext) error {
		return rc.Exec(ctx, file, nil)
	}}
}
