package access

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// The application database (the file Open opens) holds what the product
// keeps about its users and their work, never in the warehouse analysts
// query: users, sessions, the audit trail, and the tables of the rooms
// above (saved queries, report definitions, the report run ledger). Each
// room owns its tables and migrates them itself, numbered per component, with
// Migrate: component "access" holds the tables of this package.

// Migrate applies the migrations of a component that the application
// database has not seen yet, in order, each in its own transaction
// (migrations[i] is version i+1; never edit a released one, add the next).
func (s *Store) Migrate(ctx context.Context, component string, migrations []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS app_migrations (
		component VARCHAR NOT NULL, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("application database migrations: %w", err)
	}
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM app_migrations WHERE component = $1`, component).Scan(&current); err != nil {
		return fmt.Errorf("application database migrations of %s: %w", component, err)
	}
	if current > len(migrations) {
		return fmt.Errorf("the application database has %s at version %d but this triscope knows only %d: use a newer triscope", component, current, len(migrations))
	}
	for i := current; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, stmt := range warehouse.SplitStatements(migrations[i]) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("application database: %s migration %d: %w", component, i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_migrations VALUES ($1, $2, $3)`, component, i+1, time.Now()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("application database: %s migration %d: %w", component, i+1, err)
		}
	}
	return nil
}

// DB is the application database, for the rooms that keep tables in it
// (after Migrate): saved queries, reports, the run ledger.
func (s *Store) DB() *sql.DB { return s.db }
