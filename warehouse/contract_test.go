package warehouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestMigrationsMatchContract creates a fresh warehouse (every migration
// applied) and compares each base table with the data contract: the same
// columns in the same order with the same types and NOT NULL, then the
// bookkeeping columns. It fails when a migration and contract.go disagree.
func TestMigrationsMatchContract(t *testing.T) {
	ctx := context.Background()
	w, err := Open(ctx, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rows, err := w.DB().QueryContext(ctx, `SELECT table_name, column_name, data_type, is_nullable
		FROM duckdb_columns() WHERE schema_name = 'main' AND database_name = current_database()
		ORDER BY table_name, column_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var table, col, typ string
		var nullable bool
		if err := rows.Scan(&table, &col, &typ, &nullable); err != nil {
			t.Fatal(err)
		}
		got[table] = append(got[table], describe(col, typ, !nullable))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(Contract) != 17 {
		t.Errorf("the contract has %d entities, want the 17 of the design", len(Contract))
	}
	for _, e := range Contract {
		var want []string
		for _, c := range append(slices.Clone(e.Columns), BookkeepingColumns...) {
			want = append(want, describe(c.Name, c.Type, c.Required))
		}
		if g := got[e.Name]; !slices.Equal(g, want) {
			t.Errorf("table %s differs from the contract:\n  migrations: %s\n  contract:   %s", e.Name, strings.Join(g, ", "), strings.Join(want, ", "))
		}
	}
}

func describe(col, typ string, notNull bool) string {
	typ = strings.ReplaceAll(typ, "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
	if notNull {
		return fmt.Sprintf("%s %s NOT NULL", col, typ)
	}
	return col + " " + typ
}

// The contract check itself refuses what would break the loader.
func TestCheckContract(t *testing.T) {
	if err := checkContract(); err != nil {
		t.Fatal(err)
	}
	saved := Contract
	defer func() { Contract = saved }()
	bad := &ContractEntity{Name: "x", Key: []string{"id"}, Columns: []ContractColumn{reqd(text("id")), text("y_id")},
		Refs: []ContractRef{ref("y_id", "later")}}
	Contract = append(slices.Clone(saved), bad)
	if err := checkContract(); err == nil || !strings.Contains(err.Error(), "not defined before it") {
		t.Fatalf("a reference to an entity defined later: %v", err)
	}
}
