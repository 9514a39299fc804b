package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The collision cache keeps collision's as-of-independent part — every
// customer's normalised name, the similar pairs of names, every deal's
// earlier matching deals — across refreshes (collision_cache.sql), so that a
// daily load matches again only the deals it can have changed: those it
// wrote, those whose customer's name or city it changed, and the later deals
// that matched or may now match one of them. The mart (status, as_of) is
// made from it at each refresh.
//
// It serves a refresh whose as_of is on or after every deal's creation and
// close (then no row depends on as_of). It is rebuilt whole when it is
// missing, its fingerprint differs (code, time zone, facts' definitions,
// settings), products changed (a deal's product line), a snapshot deleted
// customers or deals, or it saw a later load than the last committed one (a
// restored backup). A --full refresh, or an earlier as-of date, computes
// everything directly and leaves the cache as it is:
// TestIncrementalRefreshEqualsFull compares the two ways.
const collisionCacheName = "collision"

// collisionInputs makes the temp relations collision.sql's mart step reads:
// pl_col_keys, pl_col_similar, pl_col_deals and pl_col_matches.
func collisionInputs(ctx context.Context, rc *RunContext, p collisionParams) error {
	exec := func(step string, more map[string]any) error {
		return rc.Exec(ctx, "collision_cache.sql", mergeData(map[string]any{"Step": step}, more))
	}
	if rc.full {
		rc.useCache(collisionCacheName, "")
		return collisionDirect(ctx, rc, p)
	}
	q, err := SQL("collision_cache.sql", map[string]any{"Step": "valid"})
	if err != nil {
		return err
	}
	var valid bool
	if err := rc.Conn.QueryRowContext(ctx, q).Scan(&valid); err != nil {
		return fmt.Errorf("collision: comparing as_of with the deals' dates: %w", err)
	}
	if !valid {
		rc.Note("collisions computed directly (the as-of date is before some deals were created or closed)")
		rc.useCache(collisionCacheName, "")
		return collisionDirect(ctx, rc, p)
	}

	var zone string
	if err := rc.Conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return err
	}
	fp := strings.Join([]string{codeVersion(), zone, FactsDefinition(),
		fmt.Sprintf("similarity=%g window_days=%d max_edits=%d", p.similarity, p.windowDays, p.maxEdits)}, "/")
	last, err := LastCommittedLoad(ctx, rc.Conn)
	if err != nil {
		return err
	}
	since, rebuild, err := collisionCacheState(ctx, rc.Conn, fp, last)
	if err != nil {
		return err
	}
	state := map[string]any{"LoadID": last, "Fingerprint": fp}
	switch {
	case rebuild:
		if err := collisionDirect(ctx, rc, p); err != nil {
			return err
		}
		if err := inTransaction(ctx, rc, "rebuilding the collision cache", func() error {
			for _, step := range []string{"schema", "rebuild", "state"} {
				if err := exec(step, state); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		rc.Note("collision cache rebuilt")
		rc.useCache(collisionCacheName, "")
	case since < last:
		n, err := collisionUpdate(ctx, rc, p, since)
		if err != nil {
			return err
		}
		if err := inTransaction(ctx, rc, "updating the collision cache", func() error {
			if err := exec("update", nil); err != nil {
				return err
			}
			return exec("state", state)
		}); err != nil {
			return err
		}
		rc.Note("collision: %d deals matched again (loads %d to %d)", n, since+1, last)
		rc.useCache(collisionCacheName, fmt.Sprintf("collision matches updated for the %d deals the loads since could change", n))
	default:
		rc.useCache(collisionCacheName, "")
	}
	for _, v := range [][2]string{{"pl_col_keys", "SELECT customer_id, name_key FROM model_cache.col_names"},
		{"pl_col_similar", "SELECT * FROM model_cache.col_similar"}} {
		if _, err := rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+v[0]+" AS "+v[1]); err != nil {
			return err
		}
	}
	if since == last && !rebuild {
		if err := rc.Exec(ctx, "collision.sql", p.data("deals", nil)); err != nil {
			return err
		}
	}
	_, err = rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW pl_col_matches AS SELECT * FROM model_cache.col_matches")
	return err
}

// collisionCacheState reads the load the cache reflects, and whether it has
// to be rebuilt whole.
func collisionCacheState(ctx context.Context, conn *sql.Conn, fp string, last int64) (since int64, rebuild bool, err error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'model_cache'
		  AND table_name IN ('collision_state', 'col_names', 'col_similar', 'col_matches')`).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("looking for the collision cache: %w", err)
	}
	if n < 4 {
		return 0, true, nil
	}
	var loadID sql.NullInt64
	var cachedFP sql.NullString
	err = conn.QueryRowContext(ctx, "SELECT load_id, fingerprint FROM model_cache.collision_state").Scan(&loadID, &cachedFP)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("reading the collision cache's state: %w", err)
	}
	if err != nil || !loadID.Valid || cachedFP.String != fp || loadID.Int64 > last {
		return 0, true, nil
	}
	// a deal's product line comes from products; deleted customers or deals
	// start over (the rule of the refresh: incremental.go)
	var forced bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM main.products WHERE _load_id > $1)
		OR EXISTS (SELECT 1 FROM main.customers WHERE _load_id > $1 AND _deleted_at IS NOT NULL)
		OR EXISTS (SELECT 1 FROM main.opportunities WHERE _load_id > $1 AND _deleted_at IS NOT NULL)`, loadID.Int64).Scan(&forced); err != nil {
		return 0, false, fmt.Errorf("reading what changed since the collision cache: %w", err)
	}
	return loadID.Int64, forced, nil
}

// collisionDirect computes every name, pair and match from the data at
// as_of into col_names_upd, col_similar_upd and col_matches_upd (which a
// rebuild of the cache copies), with the temp relations the mart reads.
func collisionDirect(ctx context.Context, rc *RunContext, p collisionParams) error {
	names, err := collisionNames(ctx, rc.Conn, false)
	if err != nil {
		return err
	}
	if err := appendNames(ctx, rc.Conn, names); err != nil {
		return err
	}
	cores, cities := keyAttributes(names)
	if err := appendPairs(ctx, rc.Conn, similarNamePairs(cores, cities, p.similarity, p.maxEdits)); err != nil {
		return err
	}
	returnFreedMemory() // the names, their index and pairs: none is used below
	for _, q := range []string{
		"CREATE OR REPLACE TEMP VIEW pl_col_keys AS SELECT customer_id, name_key FROM col_names_upd",
		"CREATE OR REPLACE TEMP VIEW pl_col_similar AS SELECT * FROM col_similar_upd",
	} {
		if _, err := rc.Conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := rc.Exec(ctx, "collision.sql", p.data("deals", nil)); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "collision.sql", p.data("matches",
		map[string]any{"Into": "col_matches_upd", "Later": "pl_col_deals", "Earlier": "pl_col_deals"})); err != nil {
		return err
	}
	_, err = rc.Conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW pl_col_matches AS SELECT * FROM col_matches_upd")
	return err
}

// collisionUpdate computes what the loads after since changed into the
// col_*_upd tables and col_affected (the deals matched again), and returns
// how many deals it matched again.
func collisionUpdate(ctx context.Context, rc *RunContext, p collisionParams, since int64) (int64, error) {
	exec := func(file, step string, more map[string]any) error {
		d := map[string]any{"Step": step, "Since": since}
		if file == "collision.sql" {
			d = p.data(step, nil)
		}
		return rc.Exec(ctx, file, mergeData(d, more))
	}
	if err := exec("collision_cache.sql", "changed_customers", nil); err != nil {
		return 0, err
	}
	names, err := collisionNames(ctx, rc.Conn, true)
	if err != nil {
		return 0, err
	}
	if err := appendNames(ctx, rc.Conn, names); err != nil {
		return 0, err
	}
	if err := exec("collision_cache.sql", "changed_keys", nil); err != nil {
		return 0, err
	}
	changed := map[string]bool{}
	if err := plScan(ctx, rc.Conn, "SELECT name_key FROM col_changed_keys", func(r *sql.Rows) error {
		var k string
		err := r.Scan(&k)
		changed[k] = true
		return err
	}); err != nil {
		return 0, err
	}
	var pairs [][]driver.Value
	if len(changed) > 0 {
		// the pairs of the changed keys, against every key as it is now
		var all []colName
		if err := plScan(ctx, rc.Conn, "SELECT name_key, city FROM col_names_cur WHERE name_key <> ''", func(r *sql.Rows) error {
			var n colName
			err := r.Scan(&n.key, &n.city)
			all = append(all, n)
			return err
		}); err != nil {
			return 0, err
		}
		cores, cities := keyAttributes(all)
		pairs = similarNamePairsTouching(cores, cities, changed, p.similarity, p.maxEdits)
	}
	if err := appendPairs(ctx, rc.Conn, pairs); err != nil {
		return 0, err
	}
	if len(changed) > 0 {
		returnFreedMemory() // every key's name was read and indexed
	}
	if err := exec("collision_cache.sql", "similar", nil); err != nil {
		return 0, err
	}
	for _, q := range []string{
		"CREATE OR REPLACE TEMP VIEW pl_col_keys AS SELECT customer_id, name_key FROM col_names_cur",
		"CREATE OR REPLACE TEMP VIEW pl_col_similar AS SELECT * FROM col_similar_cur",
	} {
		if _, err := rc.Conn.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	if err := exec("collision.sql", "deals", nil); err != nil {
		return 0, err
	}
	if err := exec("collision_cache.sql", "changed_deals", nil); err != nil {
		return 0, err
	}
	// the later deals that may match a changed one now
	if err := exec("collision.sql", "matches", map[string]any{"Into": "col_found", "Later": "pl_col_deals", "Earlier": "col_changed_deals"}); err != nil {
		return 0, err
	}
	if err := exec("collision_cache.sql", "affected", nil); err != nil {
		return 0, err
	}
	if err := exec("collision.sql", "matches", map[string]any{"Into": "col_matches_upd", "Later": "col_affected", "Earlier": "pl_col_deals"}); err != nil {
		return 0, err
	}
	var n int64
	if err := rc.Conn.QueryRowContext(ctx, "SELECT count(*) FROM col_affected").Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// appendNames fills temp col_names_upd (customer_id, name_key, city).
func appendNames(ctx context.Context, conn *sql.Conn, names []colName) error {
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE col_names_upd (customer_id VARCHAR, name_key VARCHAR, city VARCHAR)"); err != nil {
		return err
	}
	rows := make([][]driver.Value, len(names))
	for i, n := range names {
		rows[i] = []driver.Value{n.id, n.key, n.city}
	}
	return plAppend(conn, "col_names_upd", rows)
}

// appendPairs fills temp col_similar_upd (key_a, key_b, score).
func appendPairs(ctx context.Context, conn *sql.Conn, pairs [][]driver.Value) error {
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE col_similar_upd (key_a VARCHAR, key_b VARCHAR, score DOUBLE)"); err != nil {
		return err
	}
	return plAppend(conn, "col_similar_upd", pairs)
}

// inTransaction runs fn in one transaction on rc.Conn (a cache's tables and
// its state change together or not at all); what names it in errors.
func inTransaction(ctx context.Context, rc *RunContext, what string, fn func() error) (err error) {
	start := time.Now()
	if _, err := rc.Conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		if err != nil {
			rc.Conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			err = fmt.Errorf("%s: %w", what, err)
		}
	}()
	if err = fn(); err != nil {
		return err
	}
	_, err = rc.Conn.ExecContext(ctx, "COMMIT")
	if rc.Log != nil {
		rc.Log.Debug("cache written", "what", what, "seconds", time.Since(start).Seconds())
	}
	return err
}

// mergeData adds more's entries to a (template data) and returns it.
func mergeData(a, more map[string]any) map[string]any {
	for k, v := range more {
		a[k] = v
	}
	return a
}
