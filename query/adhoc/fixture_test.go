package adhoc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// The fixture: a small warehouse (the real migrations) with four reps in
// two regions, their customers, contracts, payments and a mart, and a
// schema scoped of our own whose macros filter by owner. The macros use
// unqualified names on purpose (customers, reps, org_tree): the sandbox must
// keep them from finding its views or the user's CTEs.
//
//	C (company)
//	├── E (East)  ── E1: R1, R2   E2: R3
//	└── W (West)  ── W1: R4
//
// Every string of customer data carries its owner as ~Rn~, so a leaked row
// is visible in any result.

var fixtureSQL = []string{
	`INSERT INTO org_units (org_unit_id, parent_id, name, level) VALUES
		('C', NULL, 'Company', 'company'), ('E', 'C', 'East', 'region'), ('W', 'C', 'West', 'region'),
		('E1', 'E', 'East 1', 'branch'), ('E2', 'E', 'East 2', 'branch'), ('W1', 'W', 'West 1', 'branch')`,
	`INSERT INTO reps (rep_id, name, org_unit_id, manager_rep_id, hired_on) VALUES
		('R1', 'Rep One', 'E1', NULL, DATE '2020-01-01'), ('R2', 'Rep Two', 'E1', 'R1', DATE '2021-02-01'),
		('R3', 'Rep Three', 'E2', NULL, DATE '2019-03-01'), ('R4', 'Rep Four', 'W1', NULL, DATE '2018-04-01')`,
	`INSERT INTO products (product_id, name, product_line, list_price, unit_cost) VALUES
		('P1', 'Widget', 'A', 10, 6), ('P2', 'Gadget', 'B', 20, 11)`,
	`INSERT INTO customers (customer_id, name, industry, size_band, org_unit_id, city, created_at, owner_rep_id, source)
		SELECT 'C~' || r.rep_id || '~' || i, 'Customer ~' || r.rep_id || '~ ' || i,
			CASE WHEN i % 2 = 0 THEN 'retail' ELSE 'energy' END, 'small', r.org_unit_id, 'City ~' || r.rep_id || '~',
			TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) DAY, r.rep_id, 'referral'
		FROM reps r, range(1, 4) t(i)`,
	`INSERT INTO contracts (contract_id, customer_id, owner_rep_id, signed_on, amount, currency, status)
		SELECT 'K~' || c.owner_rep_id || '~' || c.customer_id || '-' || j, c.customer_id, c.owner_rep_id,
			DATE '2024-03-01' + INTERVAL (j * 40) DAY, (CAST(substr(c.owner_rep_id, 2) AS INT) * 1000 + j * 10), 'CNY',
			CASE WHEN j = 1 THEN 'active' ELSE 'completed' END
		FROM customers c, range(1, 3) t(j)`,
	`INSERT INTO payments (payment_id, contract_id, customer_id, paid_on, amount, currency, method)
		SELECT 'PAY~' || k.owner_rep_id || '~' || k.contract_id, k.contract_id, k.customer_id, k.signed_on + 30, k.amount / 2, 'CNY', 'bank_transfer'
		FROM contracts k`,
	`CREATE TABLE mart_rfm AS SELECT c.customer_id, c.owner_rep_id, 5 AS r_score, 3 AS f_score, 4 AS m_score, 'Loyal ~' || c.owner_rep_id || '~' AS segment FROM customers c`,
	`COMMENT ON TABLE mart_rfm IS 'RFM scores per customer (fixture).'`,
	`CREATE TABLE org_tree AS
		WITH RECURSIVE t(ancestor, unit) AS (
			SELECT org_unit_id, org_unit_id FROM org_units
			UNION ALL SELECT t.ancestor, o.org_unit_id FROM t JOIN org_units o ON o.parent_id = t.unit)
		SELECT * FROM t`,
	`CREATE SCHEMA scoped`,
	`CREATE MACRO scoped.visible_reps(scope_all, scope_org, scope_rep) AS TABLE
		SELECT r.rep_id FROM reps r
		WHERE scope_all OR r.rep_id = scope_rep OR r.org_unit_id IN (SELECT unit FROM org_tree WHERE ancestor = scope_org)`,
	`CREATE MACRO scoped.customers(scope_all, scope_org, scope_rep) AS TABLE
		SELECT c.* EXCLUDE (_load_id) FROM customers c WHERE c.owner_rep_id IN (SELECT rep_id FROM scoped.visible_reps(scope_all, scope_org, scope_rep))`,
	`CREATE MACRO scoped.contracts(scope_all, scope_org, scope_rep) AS TABLE
		SELECT k.* EXCLUDE (_load_id) FROM contracts k WHERE k.owner_rep_id IN (SELECT rep_id FROM scoped.visible_reps(scope_all, scope_org, scope_rep))`,
	`CREATE MACRO scoped.payments(scope_all, scope_org, scope_rep) AS TABLE
		SELECT p.* EXCLUDE (_load_id) FROM payments p JOIN contracts k USING (contract_id)
		WHERE k.owner_rep_id IN (SELECT rep_id FROM scoped.visible_reps(scope_all, scope_org, scope_rep))`,
	`CREATE MACRO scoped.mart_rfm(scope_all, scope_org, scope_rep) AS TABLE
		SELECT m.* FROM mart_rfm m WHERE m.owner_rep_id IN (SELECT rep_id FROM scoped.visible_reps(scope_all, scope_org, scope_rep))`,
}

// fixtureScopes are the three users of the attack catalogue and the reps
// each may see (the oracle, computed by hand from the tree above).
var fixtureScopes = []struct {
	name  string
	scope Scope
	reps  []string
}{
	{"rep", Scope{Rep: "R1"}, []string{"R1"}},
	{"manager", Scope{Org: "E"}, []string{"R1", "R2", "R3"}},
	{"analyst", Scope{Org: "E2"}, []string{"R3"}},
}

var allReps = []string{"R1", "R2", "R3", "R4"}

func fixtureCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := StandardCatalog([]string{"customers", "contracts", "payments", "mart_rfm"}, []string{"products", "reps", "org_units"},
		map[string]string{"customers": "Customer accounts you may see."})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var fixtureOnce struct {
	sync.Once
	dir string
	err error
}

// fixtureWarehouse builds the fixture once per test binary and returns the
// path of its file (closed: the sandbox reads snapshots of it).
func fixtureWarehouse(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "adhoc-fixture-")
		if err != nil {
			fixtureOnce.err = err
			return
		}
		fixtureOnce.dir = dir
		path := filepath.Join(dir, "fixture.duckdb")
		ctx := context.Background()
		w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 1, ReadConns: 1, MemoryLimit: "512MB", Logger: discard()})
		if err != nil {
			fixtureOnce.err = err
			return
		}
		defer w.Close()
		fixtureOnce.err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			for _, s := range fixtureSQL {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		})
		if fixtureOnce.err == nil {
			_, fixtureOnce.err = w.DB().ExecContext(ctx, "CHECKPOINT")
		}
		os.WriteFile(filepath.Join(dir, "canary.csv"), []byte("secret\nCANARY-7f3a\n"), 0o600)
	})
	if fixtureOnce.err != nil {
		t.Fatal(fixtureOnce.err)
	}
	return filepath.Join(fixtureOnce.dir, "fixture.duckdb")
}

// testSandbox is a sandbox whose workers are this test binary.
func testSandbox(t testing.TB, snap SnapshotSource, mod func(*Options)) *Sandbox {
	t.Helper()
	opts := Options{
		Catalog:   fixtureCatalog(t),
		Snapshots: snap,
		Command:   []string{os.Args[0], WorkerArg},
		Workers:   2,
		PerUser:   2,
		Timeout:   10 * time.Second,
		Threads:   1,
		TempDir:   t.TempDir(),
		Logger:    discard(),
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// oracle runs sql on a database that physically holds only the rows of the
// given reps (the scope done by copying, independent of the macros): the
// sandbox must return exactly what it returns.
type oracle struct {
	db *sql.DB
}

func newOracle(t testing.TB, fixture string, reps []string) *oracle {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	in := "('" + strings.Join(reps, "','") + "')"
	for _, s := range []string{
		"ATTACH " + quoteLiteral(fixture) + " AS fx (READ_ONLY)",
		"CREATE TABLE customers AS SELECT * EXCLUDE (_load_id) FROM fx.main.customers WHERE owner_rep_id IN " + in,
		"CREATE TABLE contracts AS SELECT * EXCLUDE (_load_id) FROM fx.main.contracts WHERE owner_rep_id IN " + in,
		"CREATE TABLE payments AS SELECT p.* EXCLUDE (_load_id) FROM fx.main.payments p JOIN fx.main.contracts k USING (contract_id) WHERE k.owner_rep_id IN " + in,
		"CREATE TABLE mart_rfm AS SELECT * FROM fx.main.mart_rfm WHERE owner_rep_id IN " + in,
		"CREATE TABLE products AS SELECT * FROM fx.main.products",
		"CREATE TABLE reps AS SELECT * FROM fx.main.reps",
		"CREATE TABLE org_units AS SELECT * FROM fx.main.org_units",
		"DETACH fx",
		"SET TimeZone = 'Asia/Shanghai'",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("oracle: %s: %v", s, err)
		}
	}
	return &oracle{db: db}
}

// rows runs q on the oracle and returns its rows as the sandbox encodes them.
func (o *oracle) rows(q string, limit int) ([][]any, error) {
	rows, err := o.db.Query("SELECT * FROM (" + trimStatement(q) + "\n) LIMIT " + fmt.Sprint(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.ColumnTypes()
	w := &workerDB{loc: mustLoc("Asia/Shanghai")}
	var out [][]any
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			row[i] = w.jsonValue(v, cols[i].DatabaseTypeName())
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// canon renders rows as sorted strings (JSON numbers and Go numbers alike),
// for comparing results whose order the query does not fix.
func canon(rows [][]any, ordered bool) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = canonValue(v)
		}
		out[i] = strings.Join(parts, "|")
	}
	if !ordered {
		sort.Strings(out)
	}
	return out
}

func discard() *slogLogger { return newDiscardLogger() }

func osArgs0() string { return os.Args[0] }

func tempDirFor(prefix string) (string, error) { return os.MkdirTemp("", prefix) }

// newOracleShared is newOracle for a database that outlives one test (the
// fuzz target's): it is never closed.
func newOracleShared(t testing.TB, fixture string, reps []string) *oracle {
	return newOracle(noCleanup{t}, fixture, reps)
}

type noCleanup struct{ testing.TB }

func (noCleanup) Cleanup(func()) {}

// canonValue prints a value the same whether it came through the sandbox's
// JSON (json.Number) or straight from DuckDB (Go numbers).
func canonValue(v any) string {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return fmt.Sprint(f)
		}
	case float32:
		return fmt.Sprint(float64(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		var f float64
		fmt.Sscan(fmt.Sprint(x), &f)
		return fmt.Sprint(f)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canonValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + canonValue(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}
