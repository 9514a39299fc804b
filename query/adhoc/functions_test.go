package adhoc

import (
	"strings"
	"testing"
)

// Every allowed name is a function DuckDB has (a typo or a function removed
// by an upgrade fails here), and no denied name is allowed.
func TestAllowedFunctionsExist(t *testing.T) {
	db, err := parserDB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT DISTINCT lower(function_name) FROM duckdb_functions()")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		have[n] = true
	}
	rows.Close()
	// Names the parser turns into functions or operators that duckdb_functions() does not list.
	syntax := set("coalesce", "ifnull", "!__postfix", "row", "unnest")
	for _, m := range []map[string]bool{allowedFunctions, allowedTableFunctions} {
		for n := range m {
			if !have[n] && !syntax[n] {
				t.Errorf("allowed function %s does not exist in DuckDB", n)
			}
		}
	}
	for n := range deniedFunctions {
		if allowedFunctions[n] || allowedTableFunctions[n] {
			t.Errorf("denied function %s is allowed", n)
		}
	}
	for n := range allowedFunctions {
		for _, p := range []string{"duckdb_", "pragma_", "read_", "pg_", "__internal", "parquet_", "st_", "variant_", "current_setting"} {
			if strings.HasPrefix(n, p) {
				t.Errorf("allowed function %s has a denied prefix %s", n, p)
			}
		}
	}
}
