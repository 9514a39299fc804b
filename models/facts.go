package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// The shared facts (sql/facts.sql): every row of customer data with its
// owner, dimensions and base-currency amount, in schema facts. They are the
// one definition of ownership and FX conversion that dashboards, reports and
// ad hoc SQL read (through the scoped relations of package access), and that
// the models read (prep.sql), built on the write path: inside every load's
// transaction (the runtime passes BuildFacts as the load's AfterApply step),
// by EnsureFacts when a warehouse's facts are missing or stale, and as the
// first step of every refresh (Refresh, on its turn of the write lane). A
// read never builds them.

// validCurrency is a currency code that can be written into SQL as it is.
var validCurrency = regexp.MustCompile(`^[A-Z]{3}$`)

// FactsDefinition identifies the definitions the facts are built from: a new
// version of facts.sql rebuilds them.
func FactsDefinition() string {
	q, _ := SQL("facts.sql", nil)
	h := sha256.Sum256([]byte(q))
	return hex.EncodeToString(h[:8])
}

// FactsState is what facts.state records about the facts in a warehouse.
type FactsState struct {
	LoadID     int64  // the committed load they reflect
	Base       string // the base currency of amount_base
	Definition string // FactsDefinition when they were built
	BuiltAt    time.Time
	TimeZone   string // the session time zone their days (created_on, occurred_on) are in
}

// ReadFactsState reads facts.state (ok false when the facts were never built).
func ReadFactsState(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (FactsState, bool, error) {
	var st FactsState
	var exists bool
	if err := q.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables()
		WHERE schema_name = 'facts' AND table_name = 'state' AND database_name = current_database()`).Scan(&exists); err != nil {
		return st, false, fmt.Errorf("looking for the facts: %w", err)
	}
	if !exists {
		return st, false, nil
	}
	// (time_zone through JSON: facts built by an earlier version lack it)
	err := q.QueryRowContext(ctx, `SELECT load_id, base_currency, definition, built_at,
		coalesce(json_extract_string(to_json(s), '$.time_zone'), '') FROM facts.state s`).
		Scan(&st.LoadID, &st.Base, &st.Definition, &st.BuiltAt, &st.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("reading facts.state: %w", err)
	}
	return st, true, nil
}

// BuildFacts (re)builds the facts on conn, inside whatever transaction conn
// has open, for the base currency and the committed load loadID (the load
// being committed, when called from a load).
func BuildFacts(ctx context.Context, conn *sql.Conn, base string, loadID int64) error {
	return execFacts(ctx, conn, base, loadID, factsDelta{})
}

// factsDelta says what a delta build of the facts covers.
type factsDelta struct {
	on         bool
	since      int64 // the load the facts reflect before the delta
	orgChanged bool  // org_units changed: rebuild facts.org_paths
}

func execFacts(ctx context.Context, conn *sql.Conn, base string, loadID int64, d factsDelta) error {
	if !validCurrency.MatchString(base) {
		return fmt.Errorf("building the facts: base currency %q is not a 3-letter code (set base_currency)", base)
	}
	var files []string
	if d.on {
		files = append(files, "facts_delta_keys.sql")
	}
	files = append(files, "facts.sql")
	for _, f := range files {
		q, err := SQL(f, map[string]any{"Base": base, "LoadID": loadID, "Definition": FactsDefinition(),
			"Delta": d.on, "Since": d.since, "OrgChanged": d.orgChanged})
		if err != nil {
			return err
		}
		for _, stmt := range warehouse.SplitStatements(q) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("building the facts: %w\n%s", err, firstLine(stmt))
			}
		}
	}
	if d.on {
		return dropDeltaTables(ctx, conn)
	}
	return nil
}

// dropDeltaTables drops the delta's temp tables (fd_*: the changed keys and
// rows), whichever facts_delta_keys.sql and facts.sql made.
func dropDeltaTables(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'fd\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("building the facts: listing the delta's tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("building the facts: listing the delta's tables: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("building the facts: listing the delta's tables: %w", err)
	}
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+quoteIdent(n)); err != nil {
			return fmt.Errorf("building the facts: dropping %s: %w", n, err)
		}
	}
	return nil
}

// UpdateFacts brings the facts up to the committed load loadID on conn,
// inside its open transaction (a load's AfterApply step): for the rows the
// loads since the last build changed (delete and re-insert by key, through
// the same definitions), or in full when there is nothing to build on —
// no facts yet, other definitions, base currency or time zone, facts of a
// later load than the last committed one. A changed fx rate is a delta too:
// the rows of its currency dated on or after it (facts_delta_keys.sql). It
// reports why it built in full ("" when it updated the changed rows only).
func UpdateFacts(ctx context.Context, conn *sql.Conn, base string, loadID int64) (full string, err error) {
	d, why, err := factsDeltaFor(ctx, conn, base, loadID)
	if err != nil {
		return "", err
	}
	if why != "" {
		return why, BuildFacts(ctx, conn, base, loadID)
	}
	return "", execFacts(ctx, conn, base, loadID, d)
}

// factsDeltaMax is the share of the rows of the large entities that the
// loads since the facts were built may have written for a delta; past it
// the facts are built in full.
const factsDeltaMax = 0.25

// factsRowsWritten counts, per large entity, the rows the loads after $1
// wrote (w) and all of them (n).
const factsRowsWritten = `
	SELECT count(*) FILTER (WHERE _load_id > $1) AS w, count(*) AS n FROM main.customers
	UNION ALL SELECT count(*) FILTER (WHERE _load_id > $1), count(*) FROM main.opportunities
	UNION ALL SELECT count(*) FILTER (WHERE _load_id > $1), count(*) FROM main.contracts
	UNION ALL SELECT count(*) FILTER (WHERE _load_id > $1), count(*) FROM main.payments
	UNION ALL SELECT count(*) FILTER (WHERE _load_id > $1), count(*) FROM main.activities
	UNION ALL SELECT count(*) FILTER (WHERE _load_id > $1), count(*) FROM main.expenses`

// factsDeltaFor decides how the facts on conn can be brought up to date:
// the delta, or why they must be built in full.
func factsDeltaFor(ctx context.Context, conn *sql.Conn, base string, loadID int64) (factsDelta, string, error) {
	st, ok, err := ReadFactsState(ctx, conn)
	if err != nil {
		return factsDelta{}, "", err
	}
	var zone string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return factsDelta{}, "", fmt.Errorf("reading the time zone: %w", err)
	}
	switch {
	case !ok:
		return factsDelta{}, "no facts yet", nil
	case st.Definition != FactsDefinition():
		return factsDelta{}, "definitions changed", nil
	case st.Base != base:
		return factsDelta{}, "base currency changed", nil
	case st.TimeZone != zone:
		return factsDelta{}, "time zone changed", nil
	case st.LoadID > loadID:
		// facts of a load that is no longer committed (a restored
		// backup): a delta cannot take it back
		return factsDelta{}, "facts of a later load", nil
	}
	var org bool
	var written, rows int64
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM main.org_units WHERE _load_id > $1),
			sum(w), sum(n) FROM (`+factsRowsWritten+`)`, st.LoadID).Scan(&org, &written, &rows); err != nil {
		return factsDelta{}, "", fmt.Errorf("looking at what changed since the facts were built: %w", err)
	}
	// A delta deletes and re-inserts by key: past a share of the rows,
	// building afresh costs less (the first load into facts built empty).
	if float64(written) > factsDeltaMax*float64(rows) {
		return factsDelta{}, fmt.Sprintf("the loads since wrote %d of %d rows", written, rows), nil
	}
	return factsDelta{on: true, since: st.LoadID, orgChanged: org}, "", nil
}

// LastCommittedLoad is the id of the last committed load (0 when none).
func LastCommittedLoad(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	var id int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(load_id), 0) FROM main.load_runs WHERE status = 'committed'`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last committed load: %w", err)
	}
	return id, nil
}

// EnsureFacts builds the facts in their own transaction when they are
// missing, older than the last committed load, or built for another base
// currency, time zone or from other definitions. It reports whether it built
// them.
func EnsureFacts(ctx context.Context, w *warehouse.Warehouse, base string) (bool, error) {
	built := false
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) (err error) {
		built, err = ensureFacts(ctx, conn, base)
		return err
	})
	return built, err
}

// EnsureFactsTx is EnsureFacts inside the caller's open transaction on conn,
// so that what is built over the facts (the scoped relations) commits with
// them.
func EnsureFactsTx(ctx context.Context, conn *sql.Conn, base string) (bool, error) {
	return ensureFacts(ctx, conn, base)
}

// ensureFactsOnLane is EnsureFacts on a connection of the write lane that
// the caller holds (a refresh): its own transaction, committed behind the
// commit gate when it built the facts.
func ensureFactsOnLane(ctx context.Context, w *warehouse.Warehouse, conn *sql.Conn, base string) (bool, error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return false, err
	}
	built, err := ensureFacts(ctx, conn, base)
	if err == nil && built {
		err = w.Commit(ctx, conn)
	} else if _, e := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); e != nil && err == nil {
		err = e
	}
	return built, err
}

// ensureFacts builds the facts on conn, inside its open transaction, unless
// they are current.
func ensureFacts(ctx context.Context, conn *sql.Conn, base string) (bool, error) {
	last, err := LastCommittedLoad(ctx, conn)
	if err != nil {
		return false, err
	}
	st, ok, err := ReadFactsState(ctx, conn)
	if err != nil {
		return false, err
	}
	var zone string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return false, fmt.Errorf("reading the time zone: %w", err)
	}
	if ok && st.LoadID == last && st.Base == base && st.Definition == FactsDefinition() && st.TimeZone == zone {
		return false, nil
	}
	_, err = UpdateFacts(ctx, conn, base, last)
	return true, err
}
