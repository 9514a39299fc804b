package access

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

//go:embed sql/scoped.sql
var scopedSQL string

// ScopedSchema is the schema of the scoped relations.
const ScopedSchema = "scoped"

// Benchmarks are the company benchmarks a deployment may show to every user
// (the one exception to the scope rule); DefaultBenchmarks are on unless the
// configuration says otherwise.
var (
	Benchmarks        = []string{"stage_days", "win_rate", "forecast_accuracy"}
	DefaultBenchmarks = Benchmarks
)

// Relation is one block of scoped.sql: a relation (or helper macro) of schema
// scoped, what it reads and its comment.
type Relation struct {
	Name      string   // scoped.<Name>
	Needs     []string // schema.table it reads (schema.table.column of a mart: a column added later); installed only when all exist
	Absent    []string // installed only when these do not exist (the fallback of another block)
	Benchmark string   // a company benchmark: installed only when configured
	Comment   string   // what it is, from the comment lines
	SQL       string   // the CREATE statement
	Table     bool     // a table macro (a relation), not a scalar macro
}

// Relations parses scoped.sql into its blocks, in file order.
func Relations() []Relation {
	var out []Relation
	var cur *Relation
	flush := func() {
		if cur != nil {
			cur.SQL = strings.TrimSuffix(strings.TrimSpace(cur.SQL), ";")
			cur.Table = strings.Contains(cur.SQL, ") AS TABLE")
			cur.Comment = strings.TrimSpace(cur.Comment)
			out = append(out, *cur)
		}
		cur = nil
	}
	for _, line := range strings.Split(scopedSQL, "\n") {
		if head, ok := strings.CutPrefix(line, "-- @ "); ok {
			flush()
			cur = &Relation{}
			for _, kv := range strings.Fields(head) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "name":
					cur.Name = v
				case "needs":
					cur.Needs = strings.Split(v, ",")
				case "absent":
					cur.Absent = strings.Split(v, ",")
				case "benchmark":
					cur.Benchmark = v
				}
			}
			continue
		}
		if cur == nil {
			continue
		}
		if c, ok := strings.CutPrefix(line, "--"); ok {
			if cur.SQL == "" {
				cur.Comment += strings.TrimSpace(c) + " "
			}
			continue
		}
		cur.SQL += line + "\n"
	}
	flush()
	return out
}

// InstallOptions configure Install.
type InstallOptions struct {
	// Benchmarks enabled for every user (nil: DefaultBenchmarks).
	Benchmarks []string
}

// Install (re)creates schema scoped on conn, inside the caller's
// transaction: every relation whose inputs exist, the fallback of those that
// do not, and the enabled benchmarks. Readers see the previous relations
// until the caller commits. It returns the names installed.
//
// When the schema already holds exactly these statements (the fingerprint
// macro says so) it writes nothing: a server that starts on an unchanged
// warehouse leaves the file as it was, so that ad hoc SQL can keep the
// snapshot it already has instead of copying the whole file again.
func Install(ctx context.Context, conn *sql.Conn, opts InstallOptions) ([]string, error) {
	if opts.Benchmarks == nil {
		opts.Benchmarks = DefaultBenchmarks
	}
	for _, b := range opts.Benchmarks {
		if !slices.Contains(Benchmarks, b) {
			return nil, fmt.Errorf("unknown company benchmark %q (known: %s)", b, strings.Join(Benchmarks, ", "))
		}
	}
	exists := map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database()
		UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
		UNION ALL SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name LIKE 'mart%'`)
	if err != nil {
		return nil, fmt.Errorf("installing the scoped relations: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		exists[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var installed []string
	var relations []Relation
	for _, r := range Relations() {
		if r.Benchmark != "" && !slices.Contains(opts.Benchmarks, r.Benchmark) {
			continue
		}
		if !allExist(exists, r.Needs) || anyExists(exists, r.Absent) {
			continue
		}
		relations = append(relations, r)
		if !slices.Contains(installed, r.Name) {
			installed = append(installed, r.Name)
		}
	}
	fingerprint := installFingerprint(relations)
	var current sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT any_value(macro_definition) FROM duckdb_functions()
		WHERE database_name = current_database() AND schema_name = $1 AND function_name = $2`,
		ScopedSchema, fingerprintMacro).Scan(&current); err != nil {
		return nil, fmt.Errorf("installing the scoped relations: reading what is installed: %w", err)
	}
	if current.String == "'"+fingerprint+"'" {
		return installed, nil
	}
	for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + ScopedSchema + " CASCADE", "CREATE SCHEMA " + ScopedSchema} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("installing the scoped relations: %w", err)
		}
	}
	for _, r := range relations {
		if _, err := conn.ExecContext(ctx, r.SQL); err != nil {
			return nil, fmt.Errorf("installing scoped.%s: %w", r.Name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "CREATE MACRO "+ScopedSchema+"."+fingerprintMacro+"() AS '"+fingerprint+"'"); err != nil {
		return nil, fmt.Errorf("installing the scoped relations: %w", err)
	}
	return installed, nil
}

// fingerprintMacro is the scalar macro of schema scoped that returns the
// fingerprint of the statements that made it (not a relation: the catalogs
// list the table macros only).
const fingerprintMacro = "_installed_fingerprint"

// installFingerprint identifies a set of installed statements. It hashes
// the statements themselves, since DuckDB's catalog does not show
// everything they say (a macro's parameter defaults, for one).
func installFingerprint(relations []Relation) string {
	h := sha256.New()
	for _, r := range relations {
		h.Write([]byte(r.SQL))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func allExist(exists map[string]bool, names []string) bool {
	for _, n := range names {
		if !exists[n] {
			return false
		}
	}
	return true
}

func anyExists(exists map[string]bool, names []string) bool {
	for _, n := range names {
		if exists[n] {
			return true
		}
	}
	return false
}
