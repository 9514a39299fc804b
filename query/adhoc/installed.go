package adhoc

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/triscope/triscope/access"
)

// Queryer is what InstalledCatalog reads the scoped schema with (a
// *sql.DB, *sql.Conn or the warehouse's gated reader).
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// helperRelations are table macros of schema scoped that the scoped
// relations are built from; analysts read the relations, not these.
func helperRelation(name string) bool {
	return strings.HasSuffix(name, "_facts") || name == "org_paths" || name == "visible_customers"
}

// InstalledCatalog is the catalog of ad hoc SQL for a warehouse (or a
// snapshot of it): every table macro of schema scoped whose arguments are
// the three scope arguments (and after them only the optional one_*
// arguments of access/sql/scoped.sql, which ad hoc SQL leaves unset: every
// row) and is an analyst relation (the entities, the reference tables, the
// marts, the company benchmarks; not the helpers), each with the comment of
// its block in access/sql/scoped.sql. What the warehouse lacks (a mart no
// refresh has computed yet) is not offered.
func InstalledCatalog(ctx context.Context, q Queryer) (*Catalog, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT function_name FROM duckdb_functions()
		WHERE schema_name = 'scoped' AND database_name = current_database() AND function_type = 'table_macro'
		  AND parameters[1:3] = ['scope_all', 'scope_org', 'scope_rep'] AND len(list_filter(parameters[4:], lambda p: NOT starts_with(p, 'one_'))) = 0
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("listing the scoped relations: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !helperRelation(n) && identRE.MatchString(n) {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	comments := map[string]string{}
	for _, r := range access.Relations() {
		if r.Comment != "" && comments[r.Name] == "" {
			comments[r.Name] = r.Comment
		}
	}
	return ScopedCatalog(names, comments)
}

// OpenInstalledCatalog reads the catalog of a warehouse file that no
// process has open for writing (the command line without a server): it
// opens the file read-only, lists, and closes it.
func OpenInstalledCatalog(ctx context.Context, path string) (*Catalog, error) {
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return InstalledCatalog(ctx, db)
}
