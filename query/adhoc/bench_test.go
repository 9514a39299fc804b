package adhoc

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// benchQueries are over 100 ms on the default demo company (2 cores).
var benchQueries = []struct{ name, sql string }{
	{"payments by industry and month", `SELECT c.industry, date_trunc('month', p.paid_on) AS m, count(*) AS n, sum(p.amount) AS total
		FROM payments p JOIN contracts k USING (contract_id) JOIN customers c ON c.customer_id = k.customer_id
		GROUP BY ALL ORDER BY ALL`},
	{"top customers by collections", `SELECT customer_id, count(*) AS n, sum(amount) AS total, min(paid_on) AS first, max(paid_on) AS last
		FROM payments GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 100`},
	{"deal stage durations", `SELECT stage, count(*) AS n, median(d) AS med FROM (
		SELECT stage, date_diff('hour', entered_at, lead(entered_at) OVER (PARTITION BY opportunity_id ORDER BY entered_at)) AS d
		FROM opportunity_stages) GROUP BY ALL ORDER BY ALL`},
}

// BenchmarkOverhead compares the sandbox with a raw connection on a copy of
// the default demo company (TRISCOPE_ADHOC_DEMO=warehouse file; `triscope
// demo --no-serve --db FILE` makes one). The copy gets scoped macros like the
// lead's (reading through the scope rule's joins); the query runs with an
// All scope so both sides compute the same rows. Reports the medians.
func BenchmarkOverhead(b *testing.B) {
	src := os.Getenv("TRISCOPE_ADHOC_DEMO")
	if src == "" {
		b.Skip("TRISCOPE_ADHOC_DEMO not set")
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "demo.duckdb")
	copyTo(b, src, path)
	ctx := context.Background()
	w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	// The lead's scoped relations when the demo has them (made with the
	// current main), else macros of the same shape in schema bench_scoped.
	schema := "scoped"
	var n int
	w.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_functions() WHERE schema_name = 'scoped' AND function_name = 'payments'").Scan(&n)
	if n == 0 {
		schema = "bench_scoped"
	}
	b.Logf("scoped relations of schema %s", schema)
	err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if schema == "scoped" {
			return nil
		}
		for _, s := range []string{
			`CREATE SCHEMA IF NOT EXISTS bench_scoped`,
			`CREATE OR REPLACE MACRO bench_scoped.visible_reps(scope_all, scope_org, scope_rep) AS TABLE
				SELECT r.rep_id FROM reps r WHERE scope_all OR r.rep_id = scope_rep OR r.org_unit_id = scope_org`,
			`CREATE OR REPLACE MACRO bench_scoped.payments(scope_all, scope_org, scope_rep) AS TABLE
				SELECT p.* FROM payments p WHERE scope_all OR p.contract_id IN (SELECT contract_id FROM contracts
				WHERE owner_rep_id IN (SELECT rep_id FROM bench_scoped.visible_reps(scope_all, scope_org, scope_rep)))`,
			`CREATE OR REPLACE MACRO bench_scoped.contracts(scope_all, scope_org, scope_rep) AS TABLE
				SELECT k.* FROM contracts k WHERE scope_all OR k.owner_rep_id IN (SELECT rep_id FROM bench_scoped.visible_reps(scope_all, scope_org, scope_rep))`,
			`CREATE OR REPLACE MACRO bench_scoped.customers(scope_all, scope_org, scope_rep) AS TABLE
				SELECT c.* FROM customers c WHERE scope_all OR c.owner_rep_id IN (SELECT rep_id FROM bench_scoped.visible_reps(scope_all, scope_org, scope_rep))`,
			`CREATE OR REPLACE MACRO bench_scoped.opportunity_stages(scope_all, scope_org, scope_rep) AS TABLE
				SELECT s.* FROM opportunity_stages s WHERE scope_all OR s.opportunity_id IN (SELECT opportunity_id FROM opportunities
				WHERE owner_rep_id IN (SELECT rep_id FROM bench_scoped.visible_reps(scope_all, scope_org, scope_rep)))`,
		} {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	snaps, err := OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := snaps.Publish(ctx, w); err != nil {
		b.Fatal(err)
	}
	w.Close()
	macro := func(n string) func(Scope) string {
		return func(s Scope) string { return "SELECT * FROM " + schema + "." + n + "(" + s.Args() + ")" }
	}
	cat := MustCatalog(
		Relation{Name: "payments", Define: macro("payments")}, Relation{Name: "contracts", Define: macro("contracts")},
		Relation{Name: "customers", Define: macro("customers")}, Relation{Name: "opportunity_stages", Define: macro("opportunity_stages")})
	sb := testSandbox(b, snaps, func(o *Options) { o.Catalog = cat; o.Threads = 2; o.Timeout = time.Minute; o.AddressSpace = 8 << 30 })
	// The same query through the macros on a raw connection: what the
	// scope rule costs, apart from the sandbox.
	all := "(true, NULL, NULL)"
	viaMacros := strings.NewReplacer("FROM payments p ", "FROM "+schema+".payments"+all+" p ", "FROM payments", "FROM "+schema+".payments"+all+" payments",
		"JOIN contracts k", "JOIN "+schema+".contracts"+all+" k", "JOIN customers c", "JOIN "+schema+".customers"+all+" c",
		"FROM opportunity_stages", "FROM "+schema+".opportunity_stages"+all+" opportunity_stages")
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			var base, macros Overhead
			for i := 0; i < b.N; i++ {
				req := Request{User: "bench", Scope: Scope{All: true}, SQL: q.sql, MaxRows: 100_000}
				o, err := MeasureOverhead(ctx, sb, req, snaps.Current(), q.sql, 9)
				if err != nil {
					b.Fatal(err)
				}
				m, err := MeasureOverhead(ctx, sb, req, snaps.Current(), viaMacros.Replace(q.sql), 9)
				if err != nil {
					b.Fatal(err)
				}
				base, macros = o, m
			}
			b.ReportMetric(float64(base.RawMedian.Microseconds())/1000, "raw-ms")
			b.ReportMetric(float64(macros.RawMedian.Microseconds())/1000, "raw-macros-ms")
			b.ReportMetric(float64(base.SandboxMedian.Microseconds())/1000, "sandbox-ms")
			b.ReportMetric(base.Ratio, "ratio-vs-base")
			b.ReportMetric(macros.Ratio, "ratio-vs-macros")
			b.Log("base tables: ", base)
			b.Log("same macros: ", macros)
		})
	}
}
