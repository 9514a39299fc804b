package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		body, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1..n without gaps; found %04d at position %d", m.Version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the highest migration applied to the file.
func (w *Warehouse) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := w.read.Load().QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}

// afterMigration, when set (by a test), is called after each migration commits.
var afterMigration func(version int)

func (w *Warehouse) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&current); err != nil {
			return err
		}
		if int(current.Int64) > len(ms) {
			return fmt.Errorf("the warehouse file has schema version %d but this triscope knows only %d: use a newer triscope", current.Int64, len(ms))
		}
		for _, m := range ms[current.Int64:] {
			if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
				conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations VALUES ($1, $2, $3)", m.Version, m.Name, time.Now()); err != nil {
				conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
				return err
			}
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				return fmt.Errorf("migration %04d_%s: commit: %w", m.Version, m.Name, err)
			}
			w.log.Debug("applied migration", "version", m.Version, "name", m.Name)
			if afterMigration != nil {
				afterMigration(m.Version)
			}
		}
		// Move what the migrations wrote from the write-ahead log into the
		// file now: DuckDB 1.5.6 cannot replay a COMMENT ON COLUMN of a table
		// whose column defaults to nextval() (collision_rulings, 0005), so a
		// process killed before its first checkpoint left a warehouse that
		// never opened again (TestKilledAfterMigrationsOpens). A new file is
		// migrated under another name (createAtomically); for an upgrade of
		// an existing file this keeps the window to the last migration, so a
		// new migration must not comment on such a table.
		if int(current.Int64) < len(ms) {
			if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
				return fmt.Errorf("checkpoint after the migrations: %w", err)
			}
		}
		return nil
	})
}
