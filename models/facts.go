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
	if !validCurrency.MatchString(base) {
		return fmt.Errorf("building the facts: base currency %q is not a 3-letter code (set base_currency)", base)
	}
	q, err := SQL("facts.sql", map[string]any{"Base": base, "LoadID": loadID, "Definition": FactsDefinition()})
	if err != nil {
		return err
	}
	for _, stmt := range warehouse.SplitStatements(q) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("building the facts: %w\n%s", err, firstLine(stmt))
		}
	}
	return nil
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
	return true, BuildFacts(ctx, conn, base, last)
}
