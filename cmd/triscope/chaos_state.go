package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/warehouse"
)

// whState is what a warehouse holds, reduced to what the chaos commands
// compare: a digest (row count and an order-independent hash of every row)
// of each table of the base, the bookkeeping, the facts and the marts, the
// objects of the schemas the faces read (live, scoped), and the facts a
// check needs to name a broken invariant.
type whState struct {
	Parts map[string]string // "main.payments" → "27449 rows #…"

	LastCommitted int64    // the last committed load (0: none)
	FactsLoadID   int64    // facts.state.load_id (-1: no facts)
	Scoped        int      // relations of schema scoped
	MartAsOf      []string // the distinct as_of values of every mart and model_fits
	LastRefresh   int64    // the last refresh_id of model_runs (0: none)
	RefreshModels []string // the models of that refresh, "name:status"
	RefreshAsOf   []string // the distinct as_of of that refresh's model_runs
	StageLeft     int      // tables a refresh killed mid-way left staged (schema refresh_stage, main._staged_*: models/staging.go)
}

// digestProjection is what of a bookkeeping table is compared: the columns
// that are the same whenever the same operation runs (no clock times), and
// not the record of an operation that failed (a load or a refresh records
// its failure after rolling back: the data it holds is the data before).
var digestProjection = map[string]string{
	"main.load_runs": "SELECT load_id, status, rows_read, rows_loaded, rows_updated, rows_unchanged, rows_rejected FROM main.load_runs WHERE status <> 'failed'",
	"main.load_files": `SELECT * EXCLUDE (path) FROM main.load_files
		WHERE load_id NOT IN (SELECT load_id FROM main.load_runs WHERE status = 'failed')`,
	"main.load_rejects": `SELECT * FROM main.load_rejects
		WHERE load_id NOT IN (SELECT load_id FROM main.load_runs WHERE status = 'failed')`,
	"main.model_runs":        "SELECT refresh_id, model, as_of, rows, status FROM main.model_runs WHERE status <> 'failed'",
	"facts.state":            "SELECT load_id, base_currency, definition FROM facts.state",
	"main.schema_migrations": "SELECT version, name FROM main.schema_migrations",
}

// readWarehouseState opens the warehouse file as the server would (migrated,
// read-write: a write-ahead log left by a killed process is replayed) and
// reads its state. Nothing is built or repaired first: the facts and the
// scoped relations are read as the killed process left them.
func readWarehouseState(ctx context.Context, path string) (*whState, error) {
	w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 2, Logger: discardLogger()})
	if err != nil {
		return nil, fmt.Errorf("the warehouse does not open: %w", err)
	}
	defer w.Close()
	return stateOf(ctx, w.DB())
}

func stateOf(ctx context.Context, db *sql.DB) (*whState, error) {
	st := &whState{Parts: map[string]string{}, FactsLoadID: -1}
	var tables []string
	if err := scanAll(ctx, db, `SELECT schema_name || '.' || table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary AND schema_name IN ('main', 'facts')
		  AND NOT `+models.StagedTables+` -- StageLeft
		ORDER BY 1`, func(r *sql.Rows) error {
		var t string
		if err := r.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
		return nil
	}); err != nil {
		return nil, err
	}
	for _, t := range tables {
		q := digestProjection[t]
		if q == "" {
			q = "SELECT * FROM " + t
		}
		var n int64
		var h string
		if err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(CAST(sum(CAST(hash(d) AS HUGEINT)) AS VARCHAR), '0') FROM ("+q+") AS d").
			Scan(&n, &h); err != nil {
			return nil, fmt.Errorf("digest of %s: %w", t, err)
		}
		st.Parts[t] = fmt.Sprintf("%d rows #%s", n, h)
	}
	// The relations of the schemas the faces read, by name.
	for _, schema := range []string{"live", "scoped"} {
		var names []string
		if err := scanAll(ctx, db, `SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = $1
			UNION ALL SELECT DISTINCT function_name FROM duckdb_functions() WHERE database_name = current_database() AND schema_name = $1
			ORDER BY 1`, func(r *sql.Rows) error {
			var n string
			if err := r.Scan(&n); err != nil {
				return err
			}
			names = append(names, n)
			return nil
		}, schema); err != nil {
			return nil, err
		}
		st.Parts["schema "+schema] = strings.Join(names, ",")
		if schema == "scoped" {
			st.Scoped = len(names)
		}
	}
	var err error
	if st.LastCommitted, err = models.LastCommittedLoad(ctx, db); err != nil {
		return nil, err
	}
	if fs, ok, err := models.ReadFactsState(ctx, db); err != nil {
		return nil, err
	} else if ok {
		st.FactsLoadID = fs.LoadID
	}
	// Every mart's as_of (and model_fits'), as one set.
	var asOfTables []string
	if err := scanAll(ctx, db, `SELECT DISTINCT table_name FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND column_name = 'as_of'
		  AND (table_name LIKE 'mart\_%' ESCAPE '\' OR table_name = 'model_fits') ORDER BY 1`, func(r *sql.Rows) error {
		var t string
		if err := r.Scan(&t); err != nil {
			return err
		}
		asOfTables = append(asOfTables, t)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(asOfTables) > 0 {
		var parts []string
		for _, t := range asOfTables {
			parts = append(parts, fmt.Sprintf("SELECT DISTINCT CAST(as_of AS VARCHAR) AS d FROM main.%q", t))
		}
		if err := scanAll(ctx, db, "SELECT DISTINCT d FROM ("+strings.Join(parts, " UNION ALL ")+") ORDER BY 1", func(r *sql.Rows) error {
			var d string
			if err := r.Scan(&d); err != nil {
				return err
			}
			st.MartAsOf = append(st.MartAsOf, d)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// The last published refresh (a failed one records its failed model
	// alone, outside the transaction that would have published it).
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(refresh_id), 0) FROM main.model_runs WHERE status IN ('ok', 'empty')").Scan(&st.LastRefresh); err != nil {
		return nil, err
	}
	asOfs := map[string]bool{}
	if err := scanAll(ctx, db, "SELECT model, status, CAST(as_of AS VARCHAR) FROM main.model_runs WHERE refresh_id = $1 ORDER BY model",
		func(r *sql.Rows) error {
			var m, s, d string
			if err := r.Scan(&m, &s, &d); err != nil {
				return err
			}
			st.RefreshModels = append(st.RefreshModels, m+":"+s)
			asOfs[d] = true
			return nil
		}, st.LastRefresh); err != nil {
		return nil, err
	}
	st.RefreshAsOf = slices.Sorted(maps.Keys(asOfs))
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary AND `+models.StagedTables).
		Scan(&st.StageLeft); err != nil {
		return nil, err
	}
	return st, nil
}

func scanAll(ctx context.Context, db *sql.DB, q string, f func(*sql.Rows) error, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// diffParts lists the parts in which two states differ.
func diffParts(a, b *whState) []string {
	var out []string
	keys := map[string]bool{}
	for k := range a.Parts {
		keys[k] = true
	}
	for k := range b.Parts {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if a.Parts[k] != b.Parts[k] {
			out = append(out, k)
		}
	}
	return out
}

// invariants are what must hold in any state a warehouse is left in,
// whatever the two states around an operation are: the facts reflect the
// last committed load, the scoped relations exist, and the marts and
// model_runs come from one refresh.
func (st *whState) invariants(models int) []string {
	var bad []string
	// (A new warehouse that was never loaded may have neither facts nor
	// scoped relations yet: the runtime builds them when it opens it.)
	nothing := st.LastCommitted == 0 && st.FactsLoadID == -1
	if st.FactsLoadID != st.LastCommitted && !nothing {
		bad = append(bad, fmt.Sprintf("facts.state.load_id is %d, the last committed load %d", st.FactsLoadID, st.LastCommitted))
	}
	if st.Scoped == 0 && !nothing {
		bad = append(bad, "schema scoped holds no relation")
	}
	if len(st.MartAsOf) > 1 {
		bad = append(bad, fmt.Sprintf("the marts hold more than one as_of: %v (half a refresh published)", st.MartAsOf))
	}
	if st.LastRefresh > 0 {
		if len(st.RefreshModels) != models {
			bad = append(bad, fmt.Sprintf("refresh %d recorded %d models of %d: %v", st.LastRefresh, len(st.RefreshModels), models, st.RefreshModels))
		}
		for _, m := range st.RefreshModels {
			if !strings.HasSuffix(m, ":ok") && !strings.HasSuffix(m, ":empty") {
				bad = append(bad, fmt.Sprintf("refresh %d: model %s", st.LastRefresh, m))
			}
		}
		if len(st.MartAsOf) == 1 && !slices.Equal(st.RefreshAsOf, st.MartAsOf) {
			bad = append(bad, fmt.Sprintf("model_runs of refresh %d say as of %v, the marts %v", st.LastRefresh, st.RefreshAsOf, st.MartAsOf))
		}
	}
	return bad
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// neverLoaded says whether a warehouse holds no committed load and no row
// in any base table (a new warehouse, whatever of its setup had run).
func (st *whState) neverLoaded() bool {
	if st.LastCommitted != 0 {
		return false
	}
	for _, e := range warehouse.Contract {
		if p, ok := st.Parts["main."+e.Name]; ok && !strings.HasPrefix(p, "0 rows") {
			return false
		}
	}
	return true
}
