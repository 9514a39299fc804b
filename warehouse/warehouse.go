// Package warehouse owns the DuckDB file: it opens it with verified settings,
// applies the numbered schema migrations, and hands out connections through
// one write lane (a single writer at a time) and a bounded read pool.
//
// DuckDB allows one read-write process per file; inside it, MVCC lets readers
// see the last committed state while a write transaction runs, so loads and
// model refreshes never block readers and readers never see half a write.
package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Options configure how the warehouse file is opened.
type Options struct {
	Path        string // DuckDB file; "" opens an in-memory database (tests)
	ReadConns   int    // size of the read pool (default: number of CPUs, at least 2)
	Threads     int    // DuckDB worker threads (default: number of CPUs)
	MemoryLimit string // e.g. "8GB"; "" keeps DuckDB's default (80% of RAM)
	TimeZone    string // session time zone for TIMESTAMPTZ ↔ DATE; default Asia/Shanghai
	ReadOnly    bool   // open the file read-only (no migrations, no write lane)
	Logger      *slog.Logger
}

// Warehouse is an open DuckDB database.
type Warehouse struct {
	opts Options
	// The DuckDB instance and its two pools. A fatal DuckDB error (a failed
	// checkpoint on a full disk) invalidates the instance; reopen (recover.go)
	// then replaces all three, so they are read through atomic pointers.
	connector atomic.Pointer[duckdb.Connector]
	read      atomic.Pointer[sql.DB] // bounded pool for queries
	write     atomic.Pointer[sql.DB] // exactly one connection: the write lane
	reopening sync.Mutex             // one reopen at a time
	lane      chan struct{}          // held for the duration of a write
	// gate is held exclusively while a write transaction commits and shared by
	// gated readers (Reader, ReadGate). DuckDB 1.5.6 lets a query that starts
	// while a large commit is being applied see part of it (reproduced in
	// etl/concurrent_test.go); a reader that waits for the commit to finish
	// sees either the old or the new state, as MVCC promises.
	gate sync.RWMutex
	// turns orders the queries waiting for the read pool (turns.go).
	turns *turns
	log   *slog.Logger
}

// DefaultTimeZone is the zone in which the demo company and most users work.
const DefaultTimeZone = "Asia/Shanghai"

// Open opens (or creates) the warehouse, applies settings and reads them back,
// and brings the schema up to date.
func Open(ctx context.Context, opts Options) (*Warehouse, error) {
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(2, runtime.NumCPU())
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.TimeZone == "" {
		opts.TimeZone = DefaultTimeZone
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if !opts.ReadOnly && opts.Path != "" {
		if err := createAtomically(ctx, opts); err != nil {
			return nil, err
		}
	}
	return open(ctx, opts)
}

// open opens an existing (or in-memory) warehouse; Open has created the file.
func open(ctx context.Context, opts Options) (*Warehouse, error) {
	w := &Warehouse{opts: opts, log: opts.Logger, lane: make(chan struct{}, 1), turns: newTurns(opts.ReadConns)}
	if err := w.connect(); err != nil {
		return nil, err
	}
	if err := w.applySettings(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if err := w.migrate(ctx); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// createAtomically creates a warehouse file that does not exist yet under
// another name, migrates and checkpoints it, and renames it into place, so
// that the path holds either no warehouse or a whole new one. A process
// killed while it migrated a new file in place left the migrations in the
// write-ahead log, and DuckDB 1.5.6 cannot replay some of them ("Failure
// while replaying WAL file: Calling DatabaseManager::GetDefaultDatabase with
// no default database set": a COMMENT ON COLUMN of a table whose column
// defaults to nextval()): the warehouse never opened again
// (TestKilledWhileCreatingOpens; found by triscope chaos load --first).
func createAtomically(ctx context.Context, opts Options) error {
	if _, err := os.Stat(opts.Path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil // it exists (or cannot be looked at: opening it says why)
	}
	// What a creator killed earlier left behind is not a warehouse.
	creating := opts.Path + ".creating"
	for _, p := range []string{creating, creating + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s left by an unfinished creation of the warehouse: %w", p, err)
		}
	}
	tmp := opts
	tmp.Path = creating
	w, err := open(ctx, tmp)
	if err != nil {
		return fmt.Errorf("create the warehouse %s: %w", opts.Path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("create the warehouse %s: close: %w", opts.Path, err)
	}
	if _, err := os.Stat(creating + ".wal"); err == nil {
		return fmt.Errorf("create the warehouse %s: DuckDB left a write-ahead log after a clean close; not renaming", opts.Path)
	}
	if err := os.Rename(creating, opts.Path); err != nil {
		return fmt.Errorf("create the warehouse %s: %w", opts.Path, err)
	}
	// The rename is durable once the directory is on disk.
	if d, err := os.Open(filepath.Dir(opts.Path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// connect opens the DuckDB instance and its pools.
func (w *Warehouse) connect() error {
	opts := w.opts
	dsn := opts.Path
	if opts.ReadOnly {
		if dsn == "" {
			return errors.New("warehouse: read-only needs a file path")
		}
		dsn += "?access_mode=READ_ONLY"
	}
	// The session time zone is per connection in DuckDB: set it on every new
	// connection so that ::DATE of a TIMESTAMPTZ means the same thing everywhere.
	tz := opts.TimeZone
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		_, err := execer.ExecContext(context.Background(), "SET TimeZone = '"+strings.ReplaceAll(tz, "'", "''")+"'", nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("open warehouse %q: %w (is another triscope process using it? only one process may open the file for writing)", opts.Path, err)
	}
	read := sql.OpenDB(connector)
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	write := sql.OpenDB(connector)
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	w.connector.Store(connector)
	w.read.Store(read)
	w.write.Store(write)
	return nil
}

// applySettings sets the database-wide settings on one bootstrap connection,
// in a fixed order, and refuses to continue unless duckdb_settings() shows them.
func (w *Warehouse) applySettings(ctx context.Context) error {
	want := [][2]string{{"threads", strconv.Itoa(w.opts.Threads)}}
	limit := w.opts.MemoryLimit
	if limit == "" {
		// DuckDB's default (80 % of RAM) is not a hard cap, and the Go side of
		// a refresh (CLV groups, collision indexes) needs room too: a refresh
		// of the large demo company was killed by the OOM killer at 24 GB on a
		// 24 GB machine. Half of RAM makes DuckDB spill to its temp directory
		// sooner.
		if total := physicalMemory(); total > 0 {
			limit = fmt.Sprintf("%dMB", total/2/(1<<20))
		}
	}
	if limit != "" {
		want = append(want, [2]string{"memory_limit", limit})
	}
	conn, err := w.write.Load().Conn(ctx)
	if err != nil {
		return fmt.Errorf("warehouse settings: %w", err)
	}
	defer conn.Close()
	for _, kv := range want {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET GLOBAL %s = '%s'", kv[0], kv[1])); err != nil {
			return fmt.Errorf("warehouse setting %s=%s: %w", kv[0], kv[1], err)
		}
	}
	checks := map[string]string{"threads": strconv.Itoa(w.opts.Threads), "TimeZone": w.opts.TimeZone}
	for name, expect := range checks {
		var got string
		if err := conn.QueryRowContext(ctx, "SELECT current_setting($1)::VARCHAR", name).Scan(&got); err != nil {
			return fmt.Errorf("warehouse: read back setting %s: %w", name, err)
		}
		if got != expect {
			return fmt.Errorf("warehouse: setting %s is %q, want %q; refusing to start with unverified settings", name, got, expect)
		}
	}
	return nil
}

// Path is the file the warehouse was opened from ("" for in-memory).
func (w *Warehouse) Path() string { return w.opts.Path }

// TimeZone is the session time zone of every connection.
func (w *Warehouse) TimeZone() string { return w.opts.TimeZone }

// DB is the read pool. Use it for queries; writes through it are a bug
// (they would bypass the write lane).
func (w *Warehouse) DB() *sql.DB { return w.read.Load() }

// Write runs fn with the write lane: the one connection allowed to change the
// warehouse. Only one Write runs at a time; others wait (or give up when ctx ends).
// fn manages its own transaction (see WriteTx for the common case).
//
// An error that says the disk holding the warehouse is full names it
// (explain); one that invalidated the DuckDB instance (a fatal error: a
// checkpoint that could not be written) reopens it before Write returns, so
// that readers and the next write find a working warehouse (reopen).
func (w *Warehouse) Write(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	if w.opts.ReadOnly {
		return errors.New("warehouse is open read-only")
	}
	err := w.onLane(ctx, fn)
	if IsInvalidated(err) {
		if rerr := w.reopen(context.WithoutCancel(ctx)); rerr != nil {
			w.log.Error("reopening the warehouse after a fatal error failed", "err", rerr, "cause", err)
		}
	}
	return w.explain(err)
}

func (w *Warehouse) onLane(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	select {
	case w.lane <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the write lane: %w", ctx.Err())
	}
	defer func() { <-w.lane }()
	conn, err := w.write.Load().Conn(ctx)
	if err != nil {
		return fmt.Errorf("write lane: %w", err)
	}
	defer conn.Close()
	return fn(ctx, conn)
}

// WriteTx runs fn inside one transaction on the write lane: all of it commits
// or none of it does.
func (w *Warehouse) WriteTx(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	return w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(ctx, conn); err != nil {
			// Rollback on a fresh context: the caller's may be cancelled already.
			if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
				w.log.Warn("rollback failed", "err", rbErr)
			}
			return err
		}
		w.gate.Lock()
		defer w.gate.Unlock()
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// Commit commits the transaction open on conn (a connection of the write
// lane, inside Write) behind the commit gate, as WriteTx does: for callers
// that run several transactions on one lane turn, like a model refresh.
func (w *Warehouse) Commit(ctx context.Context, conn *sql.Conn) error {
	w.gate.Lock()
	defer w.gate.Unlock()
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ReadGate waits until no commit is being applied and keeps commits out until
// release is called. Hold it while a query executes (DuckDB materialises the
// whole result before the first row is returned), not while rows are used.
func (w *Warehouse) ReadGate() (release func()) {
	w.gate.RLock()
	return w.gate.RUnlock
}

// Reader is the read pool behind the commit gate: every query starts when no
// commit is being applied, so it sees a whole load or none of it; and, when
// the pool is busy, in the order the queries came (turns.go).
type Reader struct{ w *Warehouse }

// Reader returns the gated read pool. Servers and reports read through it.
func (w *Warehouse) Reader() Reader { return Reader{w} }

// QueryContext runs a query on the read pool once no commit is being
// applied. A query that finds the DuckDB instance invalidated by a fatal
// error reopens it and runs again (once).
func (r Reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := r.query(ctx, query, args)
	if IsInvalidated(err) && r.w.reopen(context.WithoutCancel(ctx)) == nil {
		rows, err = r.query(ctx, query, args)
	}
	return rows, r.w.explain(err)
}

func (r Reader) query(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	if err := r.w.turns.take(ctx); err != nil {
		return nil, err
	}
	defer r.w.turns.give()
	defer r.w.ReadGate()()
	return r.w.read.Load().QueryContext(ctx, query, args...)
}

// QueryRowContext is QueryContext for one row.
func (r Reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row := r.queryRow(ctx, query, args)
	if IsInvalidated(row.Err()) && r.w.reopen(context.WithoutCancel(ctx)) == nil {
		row = r.queryRow(ctx, query, args)
	}
	return row
}

func (r Reader) queryRow(ctx context.Context, query string, args []any) *sql.Row {
	if err := r.w.turns.take(ctx); err == nil {
		defer r.w.turns.give()
	} // (else ctx is done: the pool's Row carries its error)
	defer r.w.ReadGate()()
	return r.w.read.Load().QueryRowContext(ctx, query, args...)
}

// Append bulk-inserts rows into table through DuckDB's appender on conn, inside
// whatever transaction conn has open. next is called until it returns false;
// the row slice it fills is reused between calls.
func Append(conn *sql.Conn, table string, columns []string, next func(row []driver.Value) (bool, error)) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderWithColumns(dc.(driver.Conn), "", "", table, columns)
		if err != nil {
			return fmt.Errorf("appender for %s: %w", table, err)
		}
		row := make([]driver.Value, len(columns))
		for {
			more, err := next(row)
			if err != nil {
				app.Close()
				return err
			}
			if !more {
				break
			}
			if err := app.AppendRow(row...); err != nil {
				app.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
			n++
		}
		return app.Close()
	})
	return n, err
}

// Close closes the pools and the database.
func (w *Warehouse) Close() error {
	w.reopening.Lock()
	defer w.reopening.Unlock()
	return w.closeInstance()
}

// closeInstance closes the pools and the DuckDB instance.
func (w *Warehouse) closeInstance() error {
	var errs []error
	if db := w.read.Load(); db != nil {
		errs = append(errs, db.Close())
	}
	if db := w.write.Load(); db != nil {
		errs = append(errs, db.Close())
	}
	if c := w.connector.Load(); c != nil {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// physicalMemory is the machine's RAM in bytes from /proc/meminfo (0 when unknown).
func physicalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
