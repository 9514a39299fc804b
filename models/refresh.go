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

// registry holds every model, registered by the init of its file.
var registry []*Model

func register(m *Model) { registry = append(registry, m) }

// All lists the models in the order a refresh runs them: each after the
// models whose tables it reads (Reads), otherwise by name. A cycle or a
// model reading a table nobody makes is a programming error: All panics, and
// TestModelOrder fails.
func All() []*Model {
	maker := map[string]*Model{}
	for _, m := range registry {
		for _, t := range m.Tables {
			if other, dup := maker[t]; dup {
				panic(fmt.Sprintf("models %s and %s both make %s", other.Name, m.Name, t))
			}
			maker[t] = m
		}
	}
	deps := map[*Model][]*Model{}
	for _, m := range registry {
		for _, r := range m.Reads {
			if d, ok := maker[r]; ok && d != m {
				deps[m] = append(deps[m], d)
			} else if strings.HasPrefix(r, "mart_") && !ok {
				panic(fmt.Sprintf("model %s reads %s, which no model makes", m.Name, r))
			}
		}
	}
	var out []*Model
	done := map[*Model]bool{}
	for len(out) < len(registry) {
		var ready []*Model
		for _, m := range registry {
			if done[m] {
				continue
			}
			ok := true
			for _, d := range deps[m] {
				ok = ok && done[d]
			}
			if ok {
				ready = append(ready, m)
			}
		}
		if len(ready) == 0 {
			panic("models: the tables the models read form a cycle")
		}
		next := slices.MinFunc(ready, func(a, b *Model) int { return strings.Compare(a.Name, b.Name) })
		done[next] = true
		out = append(out, next)
	}
	return out
}

// Affected lists, in run order, the models a change of the given entities
// (base tables) can change: those that read one of them, and those that read
// their tables, transitively.
func Affected(entities []string) []string {
	changed := map[string]bool{}
	for _, e := range entities {
		changed[e] = true
	}
	var out []string
	for _, m := range All() { // run order: a model's inputs are decided before it
		hit := false
		for _, r := range m.Reads {
			hit = hit || changed[r]
		}
		if hit {
			out = append(out, m.Name)
			for _, t := range m.Tables {
				changed[t] = true
			}
		}
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
	// Full recomputes every model from all rows; otherwise each model runs
	// in full, incrementally or not at all as what changed since its last
	// run calls for (incremental.go).
	Full bool
	// BeforePublish, when set, runs inside the transaction that publishes
	// the marts, just before it commits: the runtime re-creates what reads
	// the marts there (the scoped relations), so that they appear together.
	BeforePublish func(ctx context.Context, conn *sql.Conn) error
}

// RunResult is one model's outcome.
type RunResult struct {
	Model   string
	Rows    int64
	Elapsed time.Duration
	Status  string // ok, empty, failed
	Message string
	Kind    string // full, incremental or kept (incremental.go)
	Why     string // why it ran as Kind

	loadID      int64
	fingerprint string
	delta       []string // how its inputs from per-key caches were updated incrementally

	started, finished time.Time
}

// stageSchema holds what a refresh computes until it publishes it: views of
// the staged marts (staging.go), and model_fits.
const stageSchema = "refresh_stage"

// Refresh runs the models for one as-of date and publishes their tables
// together, so a failed refresh leaves the previous results.
//
// Each model creates its mart tables staged (staging.go: in main under a
// staged name, seen through a view of the schema refresh_stage, first on
// the search path, so a model reads the marts of earlier models of this
// refresh, and main's for models not re-run); its scratch temp tables are
// dropped as soon as it ends. One last transaction renames the staged marts
// over main's, copies any other table the stage schema holds, replaces
// model_fits and records model_runs. Keeping every model inside a single
// transaction, as the first version did, held all scratch tables in memory
// until the end: DuckDB frees a dropped table only at commit, and the large
// demo company spilled 10 GB.
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
	var results []RunResult
	var refreshID int64
	var asOf time.Time
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) (err error) {
		phase := time.Now()
		// The facts first (the models read them, prep.sql): a load through
		// the runtime built them already; a warehouse loaded otherwise (etl.Load
		// without the runtime's AfterApply, an earlier version) gets them here.
		built, err := ensureFactsOnLane(ctx, w, conn, opts.BaseCurrency)
		if err != nil {
			return fmt.Errorf("building the facts: %w", err)
		}
		if built {
			opts.Logger.Debug("facts built", "base", opts.BaseCurrency)
		}
		if asOf, err = refreshAsOf(ctx, conn, opts.AsOf); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, "SELECT nextval('refresh_id_seq')").Scan(&refreshID); err != nil {
			return err
		}
		lastLoad, err := LastCommittedLoad(ctx, conn)
		if err != nil {
			return err
		}
		var zone string
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
			return fmt.Errorf("reading the time zone: %w", err)
		}
		plans, fps, err := planRefresh(ctx, conn, models, asOf, lastLoad, opts, zone)
		if err != nil {
			return err
		}
		opts.Logger.Debug("refresh planned", "seconds", time.Since(phase).Seconds())
		phase = time.Now()
		rc := &RunContext{Conn: conn, AsOf: asOf, BaseCurrency: opts.BaseCurrency, Log: opts.Logger, refreshID: refreshID, full: opts.Full}
		// Whatever happens, leave the lane's connection as a load expects it:
		// no stage schema, no scratch tables, main first.
		defer func() {
			cleanup := context.WithoutCancel(ctx)
			if err != nil {
				conn.ExecContext(cleanup, "ROLLBACK")
			}
			for _, stmt := range []string{"RESET search_path", "RESET preserve_insertion_order"} {
				if _, e := conn.ExecContext(cleanup, stmt); e != nil && err == nil {
					err = fmt.Errorf("cleaning up after the refresh: %w", e)
				}
			}
			if e := dropStaged(cleanup, conn); e != nil && err == nil {
				err = fmt.Errorf("cleaning up after the refresh: %w", e)
			}
			if e := dropTempTables(cleanup, conn, nil); e != nil && err == nil {
				err = e
			}
		}()
		if _, err := conn.ExecContext(ctx, "RESET search_path"); err != nil {
			return err
		}
		if err := dropStaged(ctx, conn); err != nil { // left by a refresh that was killed
			return err
		}
		setup := []string{
			"CREATE SCHEMA " + stageSchema,
			"CREATE TABLE " + stageSchema + ".model_fits AS SELECT * FROM main.model_fits",
			fmt.Sprintf("SET VARIABLE as_of = DATE '%s'", asOf.Format("2006-01-02")),
			fmt.Sprintf("SET VARIABLE base_currency = '%s'", strings.ReplaceAll(opts.BaseCurrency, "'", "''")),
			"SET search_path = '" + stageSchema + ",main'",
			// No model relies on the order rows were inserted in (every
			// ordered read says ORDER BY); without it DuckDB writes the
			// staged tables in parallel and with less memory. The setting is
			// database-wide in DuckDB 1.5 (reset when the refresh ends):
			// other connections of this process see it meanwhile, which is
			// harmless to queries that order what they show, and no refresh
			// runs inside the server today.
			"SET preserve_insertion_order = false",
		}
		for _, s := range setup {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("preparing the refresh (%s): %w", s, err)
			}
		}
		if err := rc.Exec(ctx, "prep.sql", nil); err != nil {
			return err
		}
		if err := rc.keepTempTables(ctx); err != nil {
			return err
		}
		opts.Logger.Debug("refresh prepared", "seconds", time.Since(phase).Seconds())
		for _, m := range models {
			pl := plans[m.Name]
			var res RunResult
			if pl.kind == KindKept {
				res, err = keepModel(ctx, conn, m, pl)
			} else {
				res, err = runModel(ctx, rc, m, opts)
			}
			res.Kind, res.Why, res.loadID, res.fingerprint = pl.kind, pl.why, lastLoad, fps[m.Name]
			if res.Kind == KindFull && len(res.delta) > 0 && err == nil {
				// its largest inputs were brought up to date for what the
				// loads wrote, not recomputed (cache.go)
				res.Kind = KindIncremental
				res.Why += "; " + strings.Join(res.delta, "; ")
			}
			results = append(results, res)
			if err != nil {
				return fmt.Errorf("model %s: %w", m.Name, err)
			}
			opts.Logger.Debug("model done", "model", m.Name, "rows", res.Rows, "seconds", res.Elapsed.Seconds())
		}
		phase = time.Now()
		defer func() { opts.Logger.Debug("refresh published", "seconds", time.Since(phase).Seconds()) }()
		return publish(ctx, w, conn, refreshID, asOf, results, opts.BeforePublish)
	})
	if err != nil && asOf.IsZero() {
		return asOf, results, err
	}
	if err != nil {
		// Record the failure outside the rolled-back transaction.
		w.Write(context.WithoutCancel(ctx), func(ctx context.Context, conn *sql.Conn) error {
			for _, r := range results {
				if r.Status == "failed" {
					_, e := conn.ExecContext(ctx, `INSERT INTO model_runs (refresh_id, model, as_of, started_at, finished_at, rows, status, message, kind, why)
						VALUES ($1, $2, $3, now(), now(), 0, 'failed', $4, $5, $6)`, refreshID, r.Model, asOf, r.Message, r.Kind, r.Why)
					return e
				}
			}
			return nil
		})
		return asOf, results, err
	}
	return asOf, results, nil
}

// refreshAsOf is the as-of date of a refresh: the one asked for, else the
// latest date in the data (as_of.sql), as a UTC midnight.
func refreshAsOf(ctx context.Context, conn *sql.Conn, asked time.Time) (time.Time, error) {
	asOf := asked
	if asOf.IsZero() {
		q, _ := SQL("as_of.sql", nil)
		var d sql.NullTime
		if err := conn.QueryRowContext(ctx, q).Scan(&d); err != nil {
			return time.Time{}, fmt.Errorf("finding the as-of date: %w", err)
		}
		if !d.Valid {
			return time.Time{}, errors.New("the warehouse holds no dated rows yet: load data first (triscope load), or give --as-of")
		}
		asOf = d.Time
	}
	return time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC), nil
}

// DropStaged drops the tables a refresh killed mid-way left staged (its
// marts in main, staging.go, and the stage schema; a model's statements
// commit one by one, so they outlive a killed process; on the large demo
// company they hold gigabytes). Refresh drops them when it starts; the
// runtime calls DropStaged when it opens the warehouse, when no refresh can
// be running. It returns how many tables it dropped.
func DropStaged(ctx context.Context, w *warehouse.Warehouse) (int, error) {
	var n int
	if err := w.DB().QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary AND `+StagedTables).Scan(&n); err != nil {
		return 0, fmt.Errorf("looking for staged tables: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return dropStaged(ctx, conn)
	})
	if err != nil {
		return 0, fmt.Errorf("dropping the staged tables of an unfinished refresh: %w", err)
	}
	return n, nil
}

// runModel runs one model (its marts staged: staging.go) and then drops the
// scratch temp tables it made. Its statements commit one by one: nothing
// main's readers see changes before publish, which replaces main's tables
// in one transaction, and a failed refresh drops what it staged. A
// model-wide transaction would cost time, not safety: DuckDB 1.5
// reads a table created earlier in the same uncommitted transaction much
// more slowly (pl_deal_stages over pl_deals: 34 s against 24 s on the large
// demo company).
func runModel(ctx context.Context, rc *RunContext, m *Model, opts RefreshOptions) (RunResult, error) {
	conn := rc.Conn
	start := time.Now()
	rc.Settings = opts.Settings[m.Name]
	rc.notes = nil
	rc.outputs = map[string]bool{}
	for _, t := range m.Tables {
		rc.outputs[t] = true
	}
	defer func() { rc.outputs = nil }()
	res := RunResult{Model: m.Name, Status: "ok", started: start}
	fail := func(err error) (RunResult, error) {
		res.Status, res.Message, res.Elapsed = "failed", err.Error(), time.Since(start)
		return res, err
	}
	if missing := absent(ctx, conn, m.Needs); len(missing) > 0 {
		res.Status = "empty"
		res.Message = "no " + strings.Join(missing, ", no ") + " loaded"
	}
	rc.used = nil
	if err := m.Run(ctx, rc); err != nil {
		return fail(err)
	}
	for _, c := range rc.used {
		if d := rc.caches[c]; d != "" && !slices.Contains(res.delta, d) {
			res.delta = append(res.delta, d)
		}
	}
	for _, t := range m.Tables {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+stageSchema+"."+t).Scan(&n); err != nil {
			return fail(fmt.Errorf("did not create %s: %w", t, err))
		}
		res.Rows += n
	}
	if err := dropTempTables(ctx, conn, rc.keep); err != nil {
		return fail(err)
	}
	if len(rc.notes) > 0 {
		res.Message = strings.TrimPrefix(res.Message+"; "+strings.Join(rc.notes, "; "), "; ")
	}
	res.Elapsed = time.Since(start)
	res.finished = time.Now()
	return res, nil
}

// keepModel records a model whose tables stay as they are (nothing it
// reads changed): its rows are main's, its status and message the last run's.
func keepModel(ctx context.Context, conn *sql.Conn, m *Model, pl plan) (RunResult, error) {
	now := time.Now()
	res := RunResult{Model: m.Name, Status: pl.prev.status, Message: pl.prev.message, started: now}
	for _, t := range m.Tables {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM main."+quoteIdent(t)).Scan(&n); err != nil {
			return res, fmt.Errorf("counting the kept %s: %w", t, err)
		}
		res.Rows += n
	}
	res.finished = time.Now()
	res.Elapsed = res.finished.Sub(now)
	return res, nil
}

// publish replaces main's marts with the staged ones (renamed over them),
// any other table of the stage schema and model_fits with copies, and
// records the runs, in one transaction.
func publish(ctx context.Context, w *warehouse.Warehouse, conn *sql.Conn, refreshID int64, asOf time.Time, results []RunResult,
	before func(ctx context.Context, conn *sql.Conn) error) error {
	type staged struct{ name, ddl, comment string }
	var tables []staged
	if err := plScan(ctx, conn, `SELECT table_name, sql, coalesce(comment, '') FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = '`+stageSchema+`' AND table_name <> 'model_fits' ORDER BY table_name`,
		func(r *sql.Rows) error {
			var t staged
			if err := r.Scan(&t.name, &t.ddl, &t.comment); err != nil {
				return err
			}
			tables = append(tables, t)
			return nil
		}); err != nil {
		return fmt.Errorf("listing the staged tables: %w", err)
	}
	type colComment struct{ table, column, comment string }
	var cols []colComment
	if err := plScan(ctx, conn, `SELECT table_name, column_name, comment FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = '`+stageSchema+`' AND comment IS NOT NULL AND comment <> ''
		ORDER BY table_name, column_index`, func(r *sql.Rows) error {
		var c colComment
		if err := r.Scan(&c.table, &c.column, &c.comment); err != nil {
			return err
		}
		cols = append(cols, c)
		return nil
	}); err != nil {
		return fmt.Errorf("listing the staged comments: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := publishStaged(ctx, conn); err != nil {
		return err
	}
	prefix := "CREATE TABLE " + stageSchema + "."
	for _, t := range tables {
		if !strings.HasPrefix(t.ddl, prefix) {
			return fmt.Errorf("publishing %s: unexpected definition %q", t.name, t.ddl)
		}
		stmts := []string{
			"DROP TABLE IF EXISTS main." + quoteIdent(t.name),
			"CREATE TABLE main." + strings.TrimPrefix(t.ddl, prefix),
			fmt.Sprintf("INSERT INTO main.%s SELECT * FROM %s.%s", quoteIdent(t.name), stageSchema, quoteIdent(t.name)),
		}
		if t.comment != "" {
			stmts = append(stmts, fmt.Sprintf("COMMENT ON TABLE main.%s IS %s", quoteIdent(t.name), sqlString(t.comment)))
		}
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("publishing %s: %w", t.name, err)
			}
		}
	}
	for _, c := range cols {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("COMMENT ON COLUMN main.%s.%s IS %s", quoteIdent(c.table), quoteIdent(c.column), sqlString(c.comment))); err != nil {
			return fmt.Errorf("publishing the comment of %s.%s: %w", c.table, c.column, err)
		}
	}
	for _, s := range []string{"DELETE FROM main.model_fits", "INSERT INTO main.model_fits SELECT * FROM " + stageSchema + ".model_fits"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("publishing model_fits: %w", err)
		}
	}
	for _, r := range results {
		if _, err := conn.ExecContext(ctx, `INSERT INTO main.model_runs (refresh_id, model, as_of, started_at, finished_at, rows, status, message, kind, why, load_id, fingerprint)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			refreshID, r.Model, asOf, r.started, r.finished, r.Rows, r.Status, r.Message, r.Kind, r.Why, r.loadID, r.fingerprint); err != nil {
			return err
		}
	}
	if before != nil {
		// The stage schema is still first on the search path: what runs here
		// must name main's tables.
		if _, err := conn.ExecContext(ctx, "RESET search_path"); err != nil {
			return err
		}
		if err := before(ctx, conn); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}
	}
	return w.Commit(ctx, conn)
}

// dropTempTables drops the temp tables on conn that are not in keep (all of
// them when keep is nil).
func dropTempTables(ctx context.Context, conn *sql.Conn, keep map[string]bool) error {
	names, err := tempTables(ctx, conn)
	if err != nil {
		return err
	}
	for _, n := range names {
		if keep[n] {
			continue
		}
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+quoteIdent(n)); err != nil {
			return fmt.Errorf("dropping the scratch table %s: %w", n, err)
		}
	}
	return nil
}

func tempTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	var names []string
	err := plScan(ctx, conn, "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name", func(r *sql.Rows) error {
		var n string
		if err := r.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	})
	return names, err
}

// keepTempTables marks the temp tables that exist now as shared inputs that
// outlive the model that made them (prep.sql's, pipeline_prep.sql's).
func (rc *RunContext) keepTempTables(ctx context.Context) error {
	names, err := tempTables(ctx, rc.Conn)
	if err != nil {
		return err
	}
	if rc.keep == nil {
		rc.keep = map[string]bool{}
	}
	for _, n := range names {
		rc.keep[n] = true
	}
	return nil
}

// martSchema says where an unqualified table name resolves during a refresh:
// the stage schema when this refresh made the table, else main; "" when
// neither has it (temp tables do not count).
func martSchema(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	var schema sql.NullString
	// a staged mart is a view of the stage schema (staging.go)
	err := conn.QueryRowContext(ctx, `SELECT schema_name FROM (
		    SELECT schema_name FROM duckdb_tables()
		    WHERE database_name = current_database() AND table_name = $1 AND schema_name IN ($2, 'main') AND NOT temporary
		    UNION ALL
		    SELECT schema_name FROM duckdb_views()
		    WHERE database_name = current_database() AND view_name = $1 AND schema_name = $2 AND NOT temporary)
		ORDER BY schema_name = 'main' LIMIT 1`, table, stageSchema).Scan(&schema)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking for %s: %w", table, err)
	}
	return schema.String, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Names lists the model names in run order.
func Names() []string {
	var out []string
	for _, m := range All() {
		out = append(out, m.Name)
	}
	return out
}

// orderOf is a model's position in the run order.
func orderOf(m *Model) int {
	return slices.Index(All(), m)
}

func absent(ctx context.Context, conn *sql.Conn, entities []string) []string {
	var missing []string
	for _, e := range entities {
		var n int
		conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM live.%s LIMIT 1)", e)).Scan(&n)
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
