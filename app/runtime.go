package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/warehouse"
)

// Runtime owns an open warehouse and application database, and runs every
// write as a job (jobs.go). Open one per process: DuckDB allows one process
// to open a file for writing, so while `triscope serve` runs, the command
// line reaches this runtime through the server's admin API (remote.go).
type Runtime struct {
	cfg    *Config
	log    *slog.Logger
	w      *warehouse.Warehouse
	access *access.Store
	engine *query.Service
	jobs   *jobRunner

	sqlMu sync.Mutex
	sql   *sqlService // ad hoc SQL, once a face or the admin API asks for it (sql.go)
	// reports is the reports face's service, made on first use (reports.go).
	reports reportsState
}

// Open opens the warehouse (migrating it) and the application database, and
// brings what every face reads up to date on the write path: the facts (when
// missing or stale) and the scoped relations.
func Open(ctx context.Context, cfg *Config, log *slog.Logger) (*Runtime, error) {
	if log == nil {
		log = slog.Default()
	}
	w, err := warehouse.Open(ctx, cfg.WarehouseOptions())
	if err != nil {
		return nil, err
	}
	a, err := access.Open(ctx, cfg.AuthPath(), log)
	if err != nil {
		w.Close()
		return nil, err
	}
	r := &Runtime{cfg: cfg, log: log, w: w, access: a}
	if err := r.prepare(ctx); err != nil {
		r.Close()
		return nil, err
	}
	loc, err := time.LoadLocation(w.TimeZone())
	if err != nil {
		loc = time.UTC
	}
	r.engine = query.New(query.Options{DB: w.Reader(), BaseCurrency: cfg.BaseCurrency, FiscalYearStart: cfg.FiscalYearStart, CacheEntries: cfg.ChartCacheEntries, Location: loc, Logger: log})
	r.jobs = newJobRunner(r)
	return r, nil
}

// prepare builds the facts when they are missing or stale (a warehouse
// loaded by an earlier version, or another base currency) and installs the
// scoped relations, in one transaction: a process killed between the two
// left facts without scoped relations for the next reader of the file
// (found by triscope chaos load --first).
func (r *Runtime) prepare(ctx context.Context) error {
	// A refresh killed mid-way leaves the tables it had staged (found by
	// triscope chaos refresh): no refresh runs now, drop them.
	if n, err := models.DropStaged(ctx, r.w); err != nil {
		return err
	} else if n > 0 {
		r.log.Info("dropped the tables an unfinished refresh had staged", "tables", n)
	}
	built := false
	err := r.w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) (err error) {
		if built, err = models.EnsureFactsTx(ctx, conn, r.cfg.BaseCurrency); err != nil {
			return fmt.Errorf("building the facts: %w", err)
		}
		return r.installScoped(ctx, conn)
	})
	if err == nil && built {
		r.log.Info("facts built", "base", r.cfg.BaseCurrency)
	}
	return err
}

// installScoped (re)creates the scoped relations on conn, inside the
// caller's transaction.
func (r *Runtime) installScoped(ctx context.Context, conn *sql.Conn) error {
	_, err := access.Install(ctx, conn, access.InstallOptions{Benchmarks: r.cfg.Benchmarks})
	return err
}

// Config is the runtime's configuration.
func (r *Runtime) Config() *Config { return r.cfg }

// Engine is the query engine every face reads through.
func (r *Runtime) Engine() *query.Service { return r.engine }

// Access is the application database: users, sessions, the audit trail.
func (r *Runtime) Access() *access.Store { return r.access }

// Warehouse is the open warehouse (tests, benchmarks and the demo read it
// directly; faces never do).
func (r *Runtime) Warehouse() *warehouse.Warehouse { return r.w }

// Ready reports whether the warehouse and the application database answer.
func (r *Runtime) Ready(ctx context.Context) error {
	if err := r.w.Ping(ctx); err != nil {
		return err
	}
	return r.access.Ping(ctx)
}

// Close waits for running jobs and closes the databases.
func (r *Runtime) Close() error {
	if r.jobs != nil {
		r.jobs.stop()
	}
	r.closeSQL()
	r.closeReports()
	var errs []error
	if r.access != nil {
		errs = append(errs, r.access.Close())
	}
	if r.w != nil {
		errs = append(errs, r.w.Close())
	}
	return errors.Join(errs...)
}
