package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A keyedCache keeps a shared input of some models across refreshes, in
// schema model_cache, per key (a deal, a contract), so that a refresh after
// a small load recomputes the keys the load touched instead of all of them:
// the as-of-independent part of a model (the rest is computed from it at
// each refresh's as_of). It applies only when as_of is on or after every
// date its rows come from (valid): then nothing in them depends on as_of,
// which the read step adds. Which keys a load touched comes from _load_id
// (keys step: the rows the loads after .Since wrote, deleted ones too).
// The cache is rebuilt whole when it is missing, its fingerprint differs
// (the code, the time zone, the base currency, the facts' definitions), a
// table in forcing changed since, or it saw a later load than the last
// committed one (a restored backup). A --full refresh (and an as-of date
// before some of the data) computes the input directly and leaves the
// cache as it is: TestIncrementalRefreshEqualsFull compares the two ways.
// A small update is not written back (cacheWriteBack): the read step reads
// the view cached_<t>, the cache with the recomputed keys replaced.
type keyedCache struct {
	name    string   // the cache's state table is model_cache.<name>_state; its keys temp <name>_keys
	key     string   // the key column of every cached table
	unit    string   // what a key is, plural (deals)
	tables  []string // the cached tables: model_cache.<t>, computed into temp <t>_new
	forcing []string // base tables whose change rebuilds the cache whole
	// inputs are the base tables its rows come from: a snapshot load that
	// deleted rows of one of them rebuilds the cache whole too (deleted keys
	// would be handled like changed ones, but the rule of the refresh is to
	// start over when a snapshot deleted rows: incremental.go)
	inputs []string
	// paymentMoves: its keys step reads facts.payment_changes (the keys the
	// loads since moved payments away from), so a cache older than the
	// log's start (facts.state.changes_from) is rebuilt whole
	paymentMoves bool
	file         string // its SQL (.Step): valid (one row: may the cache serve this as_of), keys (temp <name>_keys: the keys the loads after .Since wrote), read (the temp tables the models read, from the cache, as of as_of)
	// derive, when set, makes tables of model_cache from the cached rows
	// (sums over every key), in the transaction that writes them
	derive func(ctx context.Context, rc *RunContext) error
	// compute fills temp <t>_new for every cached table t: for the keys in
	// <name>_keys, or for all (a rebuild); direct makes what read makes,
	// from the base data at as_of.
	compute func(ctx context.Context, rc *RunContext, all bool) error
	direct  func(ctx context.Context, rc *RunContext) error
}

// refresh brings the input up to date on rc and makes the temp tables the
// models read (the read step: cached is true), or computes them directly
// (direct).
func (c keyedCache) refresh(ctx context.Context, rc *RunContext) (cached bool, err error) {
	step := func(name string, data map[string]any) error {
		return rc.Exec(ctx, c.file, mergeData(map[string]any{"Step": name, "Name": c.name, "Key": c.key}, data))
	}
	if rc.full {
		rc.useCache(c.name, "")
		return false, c.direct(ctx, rc)
	}
	q, err := SQL(c.file, map[string]any{"Step": "valid", "Name": c.name, "Key": c.key})
	if err != nil {
		return false, err
	}
	var valid bool
	if err := rc.Conn.QueryRowContext(ctx, q).Scan(&valid); err != nil {
		return false, fmt.Errorf("%s: comparing as_of with the data's dates: %w", c.name, err)
	}
	if !valid {
		rc.Note("%s computed directly (the as-of date is before some of the data)", c.name)
		rc.useCache(c.name, "")
		return false, c.direct(ctx, rc)
	}
	var zone string
	if err := rc.Conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return false, err
	}
	fp := strings.Join([]string{codeVersion(), zone, rc.BaseCurrency, FactsDefinition()}, "/")
	last, err := LastCommittedLoad(ctx, rc.Conn)
	if err != nil {
		return false, err
	}
	var since sql.NullInt64
	var cachedFP sql.NullString
	forced := false
	var n int
	if err := rc.Conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'model_cache' AND table_name IN (SELECT unnest($1::VARCHAR[]))`,
		append([]string{c.name + "_state"}, c.tables...)).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for the %s cache: %w", c.name, err)
	}
	if n == len(c.tables)+1 {
		err := rc.Conn.QueryRowContext(ctx, "SELECT load_id, fingerprint FROM model_cache."+c.name+"_state").Scan(&since, &cachedFP)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("reading the %s cache's state: %w", c.name, err)
		}
		for _, t := range c.forcing {
			if since.Valid && !forced {
				if err := rc.Conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main."+quoteIdent(t)+" WHERE _load_id > $1)", since.Int64).Scan(&forced); err != nil {
					return false, err
				}
			}
		}
		for _, t := range c.inputs {
			if since.Valid && !forced {
				if err := rc.Conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM main."+quoteIdent(t)+" WHERE _load_id > $1 AND _deleted_at IS NOT NULL)", since.Int64).Scan(&forced); err != nil {
					return false, err
				}
			}
		}
		if c.paymentMoves && since.Valid && !forced {
			if err := rc.Conn.QueryRowContext(ctx, "SELECT coalesce(max(changes_from), 0) > $1 FROM facts.state", since.Int64).Scan(&forced); err != nil {
				return false, fmt.Errorf("reading where the facts' log of moved payments starts: %w", err)
			}
		}
	}
	data := map[string]any{"Since": since.Int64, "LoadID": last, "Fingerprint": fp}
	// the cached rows and the state change together or not at all
	inTx := func(what string, steps ...string) error {
		return inTransaction(ctx, rc, what+" the "+c.name+" cache", func() error {
			for _, s := range steps {
				if s == "derive" {
					if c.derive != nil {
						if err := c.derive(ctx, rc); err != nil {
							return err
						}
					}
					continue
				}
				if s == "state" || s == "schema" {
					if err := rc.Exec(ctx, "model_cache.sql", map[string]any{"Step": s, "Name": c.name, "LoadID": last, "Fingerprint": fp}); err != nil {
						return err
					}
					continue
				}
				for _, t := range c.tables {
					if err := rc.Exec(ctx, "model_cache.sql", map[string]any{"Step": s, "Name": c.name, "Key": c.key, "Table": t}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	overlay := false
	switch {
	case !since.Valid || cachedFP.String != fp || forced || since.Int64 > last:
		if err := c.compute(ctx, rc, true); err != nil {
			return false, err
		}
		if err := inTx("rebuilding", "schema", "rebuild", "derive", "state"); err != nil {
			return false, err
		}
		rc.Note("%s cache rebuilt", c.name)
		rc.useCache(c.name, "")
	case since.Int64 < last:
		if err := step("keys", data); err != nil {
			return false, err
		}
		if err := c.compute(ctx, rc, false); err != nil {
			return false, err
		}
		var k, rows int64
		if err := rc.Conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM "+c.name+"_keys), (SELECT count(*) FROM model_cache."+c.tables[0]+")").Scan(&k, &rows); err != nil {
			return false, err
		}
		if writeBackAlways || float64(k) > cacheWriteBack*float64(rows) {
			if err := inTx("updating", "replace", "derive", "state"); err != nil {
				return false, err
			}
			rc.Note("%s: %d keys updated in the cache (loads %d to %d)", c.name, k, since.Int64+1, last)
		} else {
			overlay = true
			rc.Note("%s: %d keys recomputed beside the cache (loads %d to %d; written back past %.0f %% of its rows)",
				c.name, k, since.Int64+1, last, 100*cacheWriteBack)
		}
		rc.useCache(c.name, fmt.Sprintf("%s updated for the %d %s the loads since wrote", c.name, k, c.unit))
	default: // current: nothing to update, nothing to say
		rc.useCache(c.name, "")
	}
	// What the read step reads: the cache, or (overlay) the cache with the
	// keys recomputed in this refresh replaced. The overlay's tables exist
	// either way (empty without one), so that the read step can tell the
	// recomputed keys' cached rows from their new ones.
	keys := "SELECT " + c.key + " FROM " + quoteIdent(c.name+"_keys")
	if !overlay {
		keys = "SELECT " + c.key + " FROM model_cache." + quoteIdent(c.tables[0]) + " LIMIT 0"
	}
	if _, err := rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+quoteIdent(c.name+"_overlay_keys")+" AS "+keys); err != nil {
		return false, fmt.Errorf("reading the %s cache: %w", c.name, err)
	}
	for _, t := range c.tables {
		rows := "SELECT * FROM " + quoteIdent(t+"_new")
		if !overlay {
			rows = "SELECT * FROM model_cache." + quoteIdent(t) + " LIMIT 0"
		}
		q := "CREATE OR REPLACE TEMP TABLE " + quoteIdent(t+"_overlay") + " AS " + rows + ";\n" +
			"CREATE OR REPLACE TEMP VIEW " + quoteIdent("cached_"+t) + " AS SELECT * FROM model_cache." + quoteIdent(t)
		if overlay {
			q += " WHERE " + c.key + " NOT IN (SELECT " + c.key + " FROM " + quoteIdent(c.name+"_overlay_keys") + ")" +
				" UNION ALL SELECT * FROM " + quoteIdent(t+"_overlay")
		}
		if _, err := rc.Conn.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("reading the %s cache: %w", c.name, err)
		}
	}
	if err := step("read", data); err != nil {
		return false, err
	}
	for _, t := range append([]string{c.name + "_keys"}, c.tables...) {
		if !strings.HasSuffix(t, "_keys") {
			t += "_new"
		}
		if _, err := rc.Conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+quoteIdent(t)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// cacheWriteBack is the share of a cache's rows above which the keys the
// loads since it was written are written back into it; below it, they are
// recomputed at each refresh beside the cache (the overlay), which costs
// less than rewriting the table and committing it after every daily load.
// The keys of every load since the cache's own accumulate until then.
var cacheWriteBack = 0.02

// writeBackAlways writes every update back (tests of that path).
var writeBackAlways = false

// useCache records that the running model reads the input of cache name,
// and how it was made for this refresh: delta describes an incremental
// update ("" for a rebuild or a direct computation). A model whose inputs
// came from its caches' deltas ran incrementally (runModel).
func (rc *RunContext) useCache(name, delta string) {
	if rc.caches == nil {
		rc.caches = map[string]string{}
	}
	rc.caches[name] = delta
	rc.used = append(rc.used, name)
}
