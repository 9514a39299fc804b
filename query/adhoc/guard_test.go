package adhoc

import (
	"context"
	"strings"
	"testing"
)

func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := StandardCatalog([]string{"customers", "contracts", "payments", "mart_rfm"}, []string{"products", "reps", "org_units"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckAccepts(t *testing.T) {
	cat := testCatalog(t)
	for _, q := range []string{
		"SELECT 1",
		"SELECT * FROM customers",
		"select c.name, sum(p.amount) from customers c join payments p using (customer_id) group by all order by 2 desc limit 10",
		"FROM customers",
		"VALUES (1, 'a'), (2, 'b')",
		"WITH x AS (SELECT * FROM customers) SELECT count(*) FROM x",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r",
		"SELECT *, row_number() OVER (PARTITION BY owner_rep_id ORDER BY created_at) FROM customers QUALIFY row_number() OVER (PARTITION BY owner_rep_id ORDER BY created_at) = 1",
		"PIVOT contracts ON status IN ('active', 'completed') USING sum(amount) GROUP BY customer_id",
		"DESCRIBE customers",
		"SUMMARIZE contracts",
		"SELECT date_trunc('month', signed_on) AS m, count(*) FROM contracts GROUP BY ALL",
		"SELECT [1, 2, 3][1], {'a': 1}.a, list_transform([1, 2], x -> x + 1)",
		"SELECT * FROM range(10)",
		"SELECT 1;",
		"SELECT 1; -- trailing comment",
		"SELECT ';' AS semi /* ; */",
		"SELECT CAST(amount AS DECIMAL(18,2)), amount::VARCHAR, '{\"a\":1}'::JSON FROM payments",
		"SELECT $from::DATE",
		`SELECT * FROM "customers"`,
		`SELECT * FROM CUSTOMERS`,
	} {
		c, err := Check(q, cat)
		if err != nil {
			t.Errorf("Check(%q): %v", q, err)
			continue
		}
		p, err := NewPlan(context.Background(), c, cat, Scope{Rep: "R1"}, 100)
		if err != nil {
			t.Errorf("NewPlan(%q): %v (%v)", q, err, err.(*Error).Raw)
			continue
		}
		_ = p
	}
}

func TestCheckRefuses(t *testing.T) {
	cat := testCatalog(t)
	for q, want := range map[string]string{
		"SELECT * FROM main.customers":                                     "relation main.customers: qualified names are not allowed; use customers",
		"SELECT * FROM wh.main.payments":                                   "qualified names are not allowed",
		`SELECT * FROM "main"."payments"`:                                  "qualified names",
		"SELECT * FROM read_csv('/etc/passwd')":                            "table function read_csv is not allowed",
		"SELECT 1; DELETE FROM customers":                                  "only one statement",
		"SELECT 1; SELECT 2":                                               "only one statement",
		"DELETE FROM customers":                                            "statement DELETE is not allowed",
		"SET enable_external_access = true":                                "statement SET",
		"WITH customers AS (SELECT 1) SELECT * FROM customers":             "may not take the name",
		"SELECT * FROM duckdb_tables()":                                    "table function duckdb_tables is not allowed",
		"SELECT current_setting('threads')":                                "function current_setting is not allowed",
		"SELECT * FROM secrets":                                            "relation secrets is not available",
		"SHOW TABLES":                                                      "SHOW and DESCRIBE",
		"SELECT repeat('x', 1000000000)":                                   "repeat",
		"SELECT stats(amount) FROM payments":                               "function stats is not allowed",
		"SELECT x::wh.main.t FROM payments":                                "qualified type",
		"SELECT main.sum(1)":                                               "qualified names",
		"WITH pg_class AS (SELECT * FROM pg_class) SELECT * FROM pg_class": "relation pg_class is not available",
	} {
		_, err := Check(q, cat)
		if err == nil {
			t.Errorf("Check(%q) accepted", q)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%q) = %v, want %q", q, err, want)
		}
	}
}

func TestCheckDeepNesting(t *testing.T) {
	cat := testCatalog(t)
	for _, n := range []int{400, 3000, 20000} {
		q := "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n)
		_, err := Check(q, cat)
		if err != nil && ClassOf(err) != Refused && ClassOf(err) != Syntax {
			t.Errorf("depth %d: %v", n, err)
		}
	}
	q := "SELECT 1" + strings.Repeat(" + 1", 5000)
	if _, err := Check(q, cat); err != nil && ClassOf(err) != Refused && ClassOf(err) != Syntax {
		t.Errorf("long chain: %v", err)
	}
}
