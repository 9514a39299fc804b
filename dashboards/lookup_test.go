package dashboards_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/triscope/triscope/query"
)

// TestDetailPagesLookUpByIndex: a customer's and a deal's page read that
// customer's or deal's rows of the facts through the lookup indexes, not by
// scanning the table (DuckDB takes an index only for a scan whose one filter
// is the equality on the indexed column; a second condition pushed into the
// same scan, e.g. a status, or "IS NOT NULL" on the key, makes it scan every
// row group: 0.3-0.5 s a chart on the large demo company). For an executive
// and a region manager, every chart of both pages is run with EXPLAIN
// ANALYZE with the parameters the server binds.
func TestDetailPagesLookUpByIndex(t *testing.T) {
	ctx := context.Background()
	var deal string
	if err := env.w.DB().QueryRowContext(ctx, `SELECT opportunity_id FROM facts.opportunities
		WHERE customer_id = $1 ORDER BY created_on DESC, opportunity_id LIMIT 1`, env.mixed).Scan(&deal); err != nil {
		t.Fatal(err)
	}
	// the facts' lookup indexes (models/sql/facts.sql; the models' tests
	// check that they exist): table → indexed columns
	lookupIndexes := map[string][]string{}
	rows, err := env.w.DB().QueryContext(ctx, `SELECT table_name, trim(expressions, '[]') FROM duckdb_indexes()
		WHERE database_name = current_database() AND schema_name = 'facts'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		lookupIndexes[table] = append(lookupIndexes[table], col)
	}
	if err := rows.Close(); err != nil || len(lookupIndexes) == 0 {
		t.Fatalf("the facts' indexes: %v, %d tables", err, len(lookupIndexes))
	}
	pages := map[string]string{"customers.detail": env.mixed, "microscope.deal": deal}
	for _, user := range []string{"ceo", "east"} {
		c := login(t, user)
		for _, ch := range query.Charts() {
			page := query.PageOfChart(ch.ID)
			if page == nil || pages[page.ID] == "" {
				continue
			}
			var info query.SQLInfo
			if code := c.getJSON("/api/charts/"+ch.ID+"/sql?"+url.Values{"id": {pages[page.ID]}}.Encode(), &info); code != 200 {
				t.Fatalf("%s: %s's SQL: HTTP %d", user, ch.ID, code)
			}
			args, err := namedArgs(info.Params)
			if err != nil {
				t.Fatalf("%s: %v", ch.ID, err)
			}
			var plan string
			if err := env.w.DB().QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+info.SQL, args...).Scan(new(string), &plan); err != nil {
				t.Fatalf("%s: %s: %v", user, ch.ID, err)
			}
			var tree any
			if err := json.Unmarshal([]byte(plan), &tree); err != nil {
				t.Fatalf("%s: the plan: %v", ch.ID, err)
			}
			for _, s := range tableScans(tree) {
				table := strings.TrimPrefix(s.table[strings.Index(s.table, ".")+1:], "facts.")
				for _, col := range lookupIndexes[table] {
					if regexp.MustCompile(`(^|[^_])`+col+`='`).MatchString(s.filters) && s.kind != "Index Scan" {
						t.Errorf("%s: %s looks up facts.%s by %s with a %s (filters %s)", user, ch.ID, table, col, s.kind, s.filters)
					}
				}
			}
		}
	}
}

// namedArgs turns a chart's bound parameters (as the SQL button shows them)
// into the arguments the server binds.
func namedArgs(params []query.Bound) ([]any, error) {
	var args []any
	for _, p := range params {
		v := p.Value
		if list, ok := v.([]any); ok {
			ss := make([]string, len(list))
			for i, x := range list {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("$%s: a list of %T", p.Name, x)
				}
				ss[i] = s
			}
			v = ss
		}
		args = append(args, sql.Named(p.Name, v))
	}
	return args, nil
}

type tableScan struct{ table, kind, filters string }

// tableScans lists the table scans of a plan of EXPLAIN (FORMAT JSON).
func tableScans(n any) []tableScan {
	var out []tableScan
	switch n := n.(type) {
	case []any:
		for _, c := range n {
			out = append(out, tableScans(c)...)
		}
	case map[string]any:
		if info, ok := n["extra_info"].(map[string]any); ok {
			if table, ok := info["Table"].(string); ok {
				kind, _ := info["Type"].(string)
				f, _ := json.Marshal(info["Filters"])
				out = append(out, tableScan{table, kind, string(f)})
			}
		}
		out = append(out, tableScans(n["children"])...)
	}
	return out
}
