package adhoc

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// demoCatalog lists the analyst-facing relations the snapshot's schema
// scoped offers (table macros of the three scope arguments, not helpers).
func demoCatalog(t testing.TB, db *sql.DB) *Catalog {
	t.Helper()
	rows, err := db.Query(`SELECT DISTINCT function_name FROM duckdb_functions()
		WHERE schema_name = 'scoped' AND function_type = 'table_macro' AND len(parameters) = 3
		  AND function_name NOT LIKE '%\_facts' ESCAPE '\' AND function_name NOT IN ('org_paths', 'visible_customers')`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if len(names) < 10 {
		t.Skipf("the demo warehouse has no scoped relations (%v): make it with the current main", names)
	}
	cat, err := ScopedCatalog(names, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestDemoScopes runs the sandbox on the default demo company with the
// lead's scoped relations (TRISCOPE_ADHOC_DEMO): for a rep, a regional
// manager and a branch analyst, every relation shows as many rows as the
// scoped macro called directly, and a join agrees too.
func TestDemoScopes(t *testing.T) {
	src := os.Getenv("TRISCOPE_ADHOC_DEMO")
	if src == "" {
		t.Skip("TRISCOPE_ADHOC_DEMO not set")
	}
	snap := filepath.Join(t.TempDir(), "snap.duckdb")
	copyTo(t, src, snap)
	connector, err := duckdb.NewConnector(snap+"?access_mode=READ_ONLY", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := sql.OpenDB(connector)
	defer raw.Close()
	cat := demoCatalog(t, raw)
	var rep, region, branch string
	raw.QueryRow("SELECT owner_rep_id FROM live.customers GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1").Scan(&rep)
	raw.QueryRow("SELECT org_unit_id FROM live.org_units WHERE level = 'region' ORDER BY 1 LIMIT 1").Scan(&region)
	raw.QueryRow("SELECT org_unit_id FROM live.org_units WHERE level = 'branch' ORDER BY 1 LIMIT 1").Scan(&branch)
	sb := testSandbox(t, StaticSnapshot(snap), func(o *Options) { o.Catalog = cat; o.Timeout = time.Minute; o.AddressSpace = 6 << 30 })
	ctx := context.Background()
	for _, sc := range []Scope{{Rep: rep}, {Org: region}, {Org: branch}} {
		for _, rel := range cat.Names() {
			var want int64
			if err := raw.QueryRow("SELECT count(*) FROM scoped." + rel + "(" + sc.Args() + ")").Scan(&want); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			res, err := sb.Run(ctx, Request{User: "demo", Scope: sc, SQL: "SELECT count(*) FROM " + rel})
			if err != nil {
				t.Fatalf("%s %s: %v", sc.Key(), rel, forAdmin(err))
			}
			if got := canon(res.Rows, true)[0]; got != canonValue(want) {
				t.Errorf("%s %s: sandbox %s rows, macro %d", sc.Key(), rel, got, want)
			}
		}
		q := "SELECT c.industry, count(DISTINCT c.customer_id) AS n, sum(p.amount) AS paid FROM customers c JOIN payments p USING (customer_id) GROUP BY ALL ORDER BY ALL"
		rq := strings.NewReplacer("FROM customers c", "FROM scoped.customers("+sc.Args()+") c", "JOIN payments p", "JOIN scoped.payments("+sc.Args()+") p").Replace(q)
		res, err := sb.Run(ctx, Request{User: "demo", Scope: sc, SQL: q})
		if err != nil {
			t.Fatal(forAdmin(err))
		}
		want, err := (&oracle{db: raw}).rows(rq, 100_000)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(canon(res.Rows, true), "\n") != strings.Join(canon(want, true), "\n") {
			t.Errorf("%s: join differs:\n%v\n%v", sc.Key(), canon(res.Rows, true), canon(want, true))
		}
		t.Logf("%s: %d relations agree, join %d rows", sc.Key(), len(cat.Names()), len(res.Rows))
	}
}
