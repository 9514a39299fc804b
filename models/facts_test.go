package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/warehouse"
)

// testRebuildFacts rebuilds the facts after a test changed base tables
// directly (as a load would, whose AfterApply step rebuilds them): a refresh
// only rebuilds facts older than the last committed load.
func testRebuildFacts(t *testing.T, w *warehouse.Warehouse) {
	t.Helper()
	ctx := context.Background()
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		last, err := LastCommittedLoad(ctx, conn)
		if err != nil {
			return err
		}
		return BuildFacts(ctx, conn, "CNY", last)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRefreshEnsuresFacts: a warehouse loaded without the runtime (etl.Load
// alone, no AfterApply step) has no facts; its first refresh builds them for
// the last committed load, in the session's time zone, and a second finds
// them current.
func TestRefreshEnsuresFacts(t *testing.T) {
	ctx := context.Background()
	w := plWarehouse(t, "testdata/win_rate")
	if _, ok, err := ReadFactsState(ctx, w.DB()); err != nil || ok {
		t.Fatalf("facts before the first refresh: ok %v, err %v", ok, err)
	}
	plRefresh(t, w, "2024-06-30", nil, "win_rate")
	st, ok, err := ReadFactsState(ctx, w.DB())
	if err != nil || !ok {
		t.Fatalf("facts after the refresh: ok %v, err %v", ok, err)
	}
	last, err := LastCommittedLoad(ctx, w.DB())
	if err != nil {
		t.Fatal(err)
	}
	if st.LoadID != last || last == 0 || st.Base != "CNY" || st.Definition != FactsDefinition() || st.TimeZone != w.TimeZone() {
		t.Errorf("facts.state = %+v, want load %d, CNY, definition %s, time zone %s", st, last, FactsDefinition(), w.TimeZone())
	}
	if built, err := EnsureFacts(ctx, w, "CNY"); err != nil || built {
		t.Errorf("EnsureFacts after the refresh: built %v, err %v; want the facts current", built, err)
	}
	if built, err := EnsureFacts(ctx, w, "USD"); err != nil || !built {
		t.Errorf("EnsureFacts for another base currency: built %v, err %v; want them rebuilt", built, err)
	}
}

// factsTables are the tables of schema facts that BuildFacts makes and a
// delta must reproduce.
var factsTables = []string{"org_paths", "customers", "contracts", "payments", "paying_months", "collection_months", "opportunities", "activities", "expenses", "customer_owners"}

// deltaLoad loads dir (an incremental load, or a snapshot of the entities
// named) with UpdateFacts as its AfterApply step, as the runtime does, and
// returns whether the facts were built in full.
func deltaLoad(t *testing.T, w *warehouse.Warehouse, dir string, snapshot ...string) bool {
	t.Helper()
	var full bool
	rep, err := etl.Load(context.Background(), w, []string{dir}, etl.Options{Snapshot: snapshot, Force: true,
		AfterApply: func(ctx context.Context, conn *sql.Conn, rep *etl.Report) (err error) {
			why, err := UpdateFacts(ctx, conn, "CNY", rep.LoadID)
			full = why != ""
			return err
		}})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	if rep.Status != "committed" {
		t.Fatalf("load of %s: %s, want committed", dir, rep.Status)
	}
	for _, f := range rep.Files {
		if f.Rejected > 0 {
			t.Fatalf("%s: %d rows rejected: %+v", f.Path, f.Rejected, f.Rejects)
		}
	}
	return full
}

// assertFactsAsBuilt compares every facts table with what a full BuildFacts
// makes of the same base tables (EXCEPT ALL both ways), leaving the facts as
// they were.
func assertFactsAsBuilt(t *testing.T, w *warehouse.Warehouse, when string) {
	t.Helper()
	ctx := context.Background()
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		assertFactsIndexes(t, ctx, conn, when)
		// every table a build makes is compared (but its state row and the
		// log of moved payments, which a full build starts empty)
		var unlisted []string
		if err := plScan(ctx, conn, `SELECT table_name FROM duckdb_tables()
			WHERE schema_name = 'facts' AND table_name NOT IN ('state', 'payment_changes')
			  AND table_name NOT IN ('`+strings.Join(factsTables, "', '")+`')`, func(r *sql.Rows) error {
			var name string
			err := r.Scan(&name)
			unlisted = append(unlisted, name)
			return err
		}); err != nil {
			return err
		}
		if len(unlisted) > 0 {
			t.Errorf("%s: facts tables %v are not in factsTables: a delta's result for them is not compared with a full build", when, unlisted)
		}
		if _, err := conn.ExecContext(ctx, "CREATE SCHEMA delta_facts"); err != nil {
			return err
		}
		for _, tb := range factsTables {
			if _, err := conn.ExecContext(ctx, "CREATE TABLE delta_facts."+tb+" AS SELECT * FROM facts."+tb); err != nil {
				return err
			}
		}
		last, err := LastCommittedLoad(ctx, conn)
		if err != nil {
			return err
		}
		if err := BuildFacts(ctx, conn, "CNY", last); err != nil {
			return err
		}
		for _, tb := range factsTables {
			var only1, only2, n int
			if err := conn.QueryRowContext(ctx, `SELECT
				(SELECT count(*) FROM (SELECT * FROM delta_facts.`+tb+` EXCEPT ALL SELECT * FROM facts.`+tb+`)),
				(SELECT count(*) FROM (SELECT * FROM facts.`+tb+` EXCEPT ALL SELECT * FROM delta_facts.`+tb+`)),
				(SELECT count(*) FROM facts.`+tb+`)`).Scan(&only1, &only2, &n); err != nil {
				return err
			}
			if only1 != 0 || only2 != 0 || n == 0 {
				t.Errorf("%s: facts.%s: %d rows only in the delta, %d only in a full build (of %d)", when, tb, only1, only2, n)
			}
		}
		return errors.New("rollback") // keep the delta's facts
	})
	if err != nil && err.Error() != "rollback" {
		t.Fatal(err)
	}
}

// factsIndexes are the lookup indexes of facts.sql: table, column.
var factsIndexes = [][2]string{{"activities", "customer_id"}, {"activities", "opportunity_id"}, {"payments", "customer_id"},
	{"contracts", "customer_id"}, {"contracts", "opportunity_id"}, {"opportunities", "customer_id"}, {"opportunities", "opportunity_id"}}

// assertFactsIndexes checks that the facts have their lookup indexes, that a
// lookup by one key uses them, and that what they find for a sample of keys
// (the keys the test's edits move rows to among them) is what a scan finds:
// the deletes and inserts of a delta keep them right.
func assertFactsIndexes(t *testing.T, ctx context.Context, conn *sql.Conn, when string) {
	t.Helper()
	for _, ix := range factsIndexes {
		table, col := ix[0], ix[1]
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_indexes() WHERE database_name = current_database()
			AND schema_name = 'facts' AND table_name = $1 AND expressions = $2`, table, "["+col+"]").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: facts.%s has %d indexes on %s, want 1", when, table, n, col)
			continue
		}
		// a sample, and the customers the edits move rows to (the newest
		// deal for the deal columns)
		keys := `SELECT k FROM (SELECT DISTINCT ` + col + ` AS k FROM facts.` + table + ` WHERE ` + col + ` IS NOT NULL ORDER BY hash(k) LIMIT 10)
			UNION SELECT min(customer_id) FROM live.customers UNION SELECT max(customer_id) FROM live.customers`
		if col == "opportunity_id" {
			keys = `SELECT k FROM (SELECT DISTINCT ` + col + ` AS k FROM facts.` + table + ` WHERE ` + col + ` IS NOT NULL ORDER BY hash(k) LIMIT 10)
			UNION SELECT max(opportunity_id) FROM live.opportunities`
		}
		var plan string
		var key string
		if err := conn.QueryRowContext(ctx, `SELECT `+col+` FROM facts.`+table+` WHERE `+col+` IS NOT NULL ORDER BY hash(`+col+`) LIMIT 1`).Scan(&key); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `EXPLAIN ANALYZE SELECT * FROM facts.`+table+` WHERE `+col+` = $1`, key).Scan(new(string), &plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "Index Scan") {
			t.Errorf("%s: a lookup of facts.%s by %s scans the table:\n%s", when, table, col, plan)
		}
		var byIndex, byScan string
		lookups := func(into *string) {
			var ks []string
			rows, err := conn.QueryContext(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k sql.NullString
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				if k.Valid {
					ks = append(ks, k.String)
				}
			}
			rows.Close()
			slices.Sort(ks)
			var out []string
			for _, k := range ks {
				var n int
				if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM facts.`+table+` WHERE `+col+` = $1`, k).Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s:%d", k, n))
			}
			*into = strings.Join(out, " ")
		}
		lookups(&byIndex)
		if _, err := conn.ExecContext(ctx, "SET index_scan_max_count = 0; SET index_scan_percentage = 0"); err != nil {
			t.Fatal(err)
		}
		lookups(&byScan)
		if _, err := conn.ExecContext(ctx, "RESET index_scan_max_count; RESET index_scan_percentage"); err != nil {
			t.Fatal(err)
		}
		if byIndex != byScan {
			t.Errorf("%s: facts.%s by %s: the index finds %s, a scan %s", when, table, col, byIndex, byScan)
		}
	}
}

// copyCSV writes the result of q as a CSV file with a header.
func copyCSV(t *testing.T, w *warehouse.Warehouse, q, path string) {
	t.Helper()
	err := w.Write(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "COPY ("+q+") TO '"+path+"' (HEADER, DELIMITER ',')")
		return err
	})
	if err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// TestFactsDeltaEqualsFullBuild: after loads that insert, update and delete
// rows (a daily load; edits that cascade — a customer's owner, a rep's unit,
// a product's line, a deal's customer, a payment's customer; a snapshot that
// deletes payments and an org tree change; fx rates added, edited and
// deleted), the facts updated by key equal a full BuildFacts of the same data.
func TestFactsDeltaEqualsFullBuild(t *testing.T) {
	ctx := context.Background()
	w := smallDemoWarehouse(t, 11)
	testRebuildFacts(t, w)
	assertFactsAsBuilt(t, w, "after the first build")

	// 1. a daily load
	dir := t.TempDir()
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		res, err := synth.DailyLoad(ctx, conn, synth.DailyConfig{Seed: 3}, dir)
		if err == nil && res.Rows < 50 {
			err = fmt.Errorf("a daily load of %d rows", res.Rows)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if full := deltaLoad(t, w, dir); full {
		t.Error("the daily load rebuilt the facts in full; want a delta")
	}
	assertFactsAsBuilt(t, w, "after a daily load")

	// 2. edits that cascade through the joins
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(rep_id) FROM live.reps) AS owner_rep_id)
		FROM live.customers ORDER BY hash(customer_id) LIMIT 7`, filepath.Join(dir, "customers.csv"))
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(org_unit_id) FROM live.org_units WHERE level = 'department') AS org_unit_id)
		FROM live.reps ORDER BY hash(rep_id) LIMIT 3`, filepath.Join(dir, "reps.csv"))
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ('renamed line' AS product_line) FROM live.products ORDER BY product_id LIMIT 1`,
		filepath.Join(dir, "products.csv"))
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT min(customer_id) FROM live.customers) AS customer_id)
		FROM live.opportunities ORDER BY hash(opportunity_id) LIMIT 5`, filepath.Join(dir, "opportunities.csv"))
	if full := deltaLoad(t, w, dir); full {
		t.Error("the edits rebuilt the facts in full; want a delta")
	}
	assertFactsAsBuilt(t, w, "after cascading edits")

	// 3. a snapshot of payments that deletes some and moves others to
	// another customer, and a new org unit
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id, _k) REPLACE (CASE WHEN _k % 50 = 1 THEN (SELECT max(customer_id) FROM live.customers) ELSE customer_id END AS customer_id)
		FROM (SELECT *, hash(payment_id) % 1000 AS _k FROM live.payments) WHERE _k >= 10`, filepath.Join(dir, "payments.csv"))
	copyCSV(t, w, `SELECT 'ORG-NEW' AS org_unit_id, org_unit_id AS parent_id, 'New department' AS name, 'department' AS level
		FROM live.org_units WHERE level = 'branch' ORDER BY org_unit_id LIMIT 1`, filepath.Join(dir, "org_units.csv"))
	if full := deltaLoad(t, w, dir, "payments"); full {
		t.Error("the snapshot rebuilt the facts in full; want a delta")
	}
	var deleted int
	if err := w.DB().QueryRowContext(ctx, "SELECT count(*) FROM main.payments WHERE _deleted_at IS NOT NULL").Scan(&deleted); err != nil || deleted == 0 {
		t.Fatalf("the snapshot deleted %d payments (%v); want some", deleted, err)
	}
	assertFactsAsBuilt(t, w, "after a snapshot that deleted payments")

	// 4. fx rates: a new latest rate (the rows of its currency from its day
	// on change) and an edit of one in the middle of the history (its rows
	// up to the next rate)
	dir = t.TempDir()
	copyCSV(t, w, `SELECT currency, on_date + 1 AS on_date, rate_to_base * 1.01 AS rate_to_base FROM live.fx_rates
		WHERE currency = (SELECT max(currency) FROM live.fx_rates) ORDER BY on_date DESC LIMIT 1`,
		filepath.Join(dir, "fx_rates.csv"))
	copyCSV(t, w, `SELECT currency, on_date, rate_to_base * 0.97 AS rate_to_base FROM live.fx_rates
		WHERE currency = (SELECT min(currency) FROM live.fx_rates) ORDER BY on_date LIMIT 1 OFFSET (SELECT count(*) // 2 FROM live.fx_rates WHERE currency = (SELECT min(currency) FROM live.fx_rates))`,
		filepath.Join(dir, "fx_rates_edit.csv"))
	if full := deltaLoad(t, w, dir); full {
		t.Error("fx rates rebuilt the facts in full; want a delta")
	}
	assertFactsAsBuilt(t, w, "after fx rates")

	// 5. a snapshot of the rates without one of them: the rows it priced
	// fall back to the rate before it
	dir = t.TempDir()
	copyCSV(t, w, `SELECT currency, on_date, rate_to_base FROM live.fx_rates
		WHERE (currency, on_date) <> (SELECT (currency, on_date) FROM live.fx_rates ORDER BY hash(currency || on_date) LIMIT 1)`,
		filepath.Join(dir, "fx_rates.csv"))
	if full := deltaLoad(t, w, dir, "fx_rates"); full {
		t.Error("a snapshot of the fx rates rebuilt the facts in full; want a delta")
	}
	assertFactsAsBuilt(t, w, "after a snapshot that deleted an fx rate")
}

// TestFirstLoadBuildsFactsInFull: the facts of an empty warehouse are built
// empty when it opens; the first load writes every row, which a delta would
// delete and re-insert key by key: it builds them in full instead (the rule:
// past factsDeltaMax of the rows).
func TestFirstLoadBuildsFactsInFull(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads the small demo company")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Config{Size: "small", Seed: 5}, dir, nil); err != nil {
		t.Fatal(err)
	}
	w := plWarehouse(t)
	if built, err := EnsureFacts(ctx, w, "CNY"); err != nil || !built {
		t.Fatalf("EnsureFacts on an empty warehouse: built %v, err %v", built, err)
	}
	if full := deltaLoad(t, w, dir); !full {
		t.Error("the first load updated the facts by delta; want a full build")
	}
	assertFactsAsBuilt(t, w, "after the first load")
}

// TestCustomerOwnersAreTheOtherOwners: facts.customer_owners lists, for each
// customer, the owners of its rows other than its own owner, by kind of row,
// and nothing else: scoped.visible_customers checks the customer's own owner
// on facts.customers and these rows for the rest, so a row of the
// customer's own owner would only make every scoped query scan more (the
// large demo company: 6.7 M rows with them, 0.4 M without). Checked against
// the rows of every kind as the facts hold them, after cascading edits that
// move customers to another owner.
func TestCustomerOwnersAreTheOtherOwners(t *testing.T) {
	ctx := context.Background()
	w := smallDemoWarehouse(t, 12)
	dir := t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(rep_id) FROM live.reps) AS owner_rep_id)
		FROM live.customers ORDER BY hash(customer_id) LIMIT 9`, filepath.Join(dir, "customers.csv"))
	deltaLoad(t, w, dir)
	const want = `
		SELECT DISTINCT w.customer_id, w.source, w.owner_rep_id, w.owner_org FROM (
			SELECT customer_id, 'contract' AS source, owner_rep_id, owner_org FROM facts.contracts
			UNION ALL SELECT customer_id, 'payment', owner_rep_id, owner_org FROM facts.payments
			UNION ALL SELECT customer_id, 'opportunity', owner_rep_id, owner_org FROM facts.opportunities
			UNION ALL SELECT customer_id, 'activity', owner_rep_id, owner_org FROM facts.activities
			UNION ALL SELECT customer_id, 'expense', owner_rep_id, owner_org FROM facts.expenses) w
		JOIN facts.customers c ON c.customer_id = w.customer_id
		WHERE NOT (w.owner_rep_id IS NOT DISTINCT FROM c.owner_rep_id AND w.owner_org IS NOT DISTINCT FROM c.owner_org)`
	var listed, others, own, missing, extra int
	err := w.DB().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM facts.customer_owners),
		(SELECT count(*) FROM (`+want+`)),
		(SELECT count(*) FROM facts.customer_owners w JOIN facts.customers c USING (customer_id)
		 WHERE w.owner_rep_id IS NOT DISTINCT FROM c.owner_rep_id AND w.owner_org IS NOT DISTINCT FROM c.owner_org),
		(SELECT count(*) FROM (`+want+` EXCEPT SELECT customer_id, source, owner_rep_id, owner_org FROM facts.customer_owners)),
		(SELECT count(*) FROM (SELECT customer_id, source, owner_rep_id, owner_org FROM facts.customer_owners EXCEPT `+want+`))`).
		Scan(&listed, &others, &own, &missing, &extra)
	if err != nil {
		t.Fatal(err)
	}
	if others == 0 {
		t.Fatal("no customer of the small demo company has rows of another owner; the test checks nothing")
	}
	if own > 0 || missing > 0 || extra > 0 {
		t.Errorf("facts.customer_owners: %d rows, %d of them the customer's own owner, %d other owners missing, %d rows not another owner's; want the %d other owners",
			listed, own, missing, extra, others)
	}
}

// TestFactsLogMovedPayments: a delta logs, in facts.payment_changes, the
// customer and contract each payment it moved or deleted had before (what
// the contract execution's cache recomputes besides the keys the loads
// wrote), nothing for payments loaded again unchanged or new; and a cache
// older than the log's start is rebuilt whole rather than trusting it.
func TestFactsLogMovedPayments(t *testing.T) {
	ctx := context.Background()
	w := smallDemoWarehouse(t, 17)
	testRebuildFacts(t, w)
	refreshKinds(t, w, false)
	var built, from int64
	if err := w.DB().QueryRowContext(ctx, "SELECT load_id, changes_from FROM facts.state").Scan(&built, &from); err != nil {
		t.Fatal(err)
	}
	if from != built {
		t.Errorf("a full build starts the log at load %d, want its own load %d", from, built)
	}

	// the old keys of the payments to move, worked out before the load
	type key struct{ customer, contract string }
	want := map[key]bool{}
	rows, err := w.DB().QueryContext(ctx, `SELECT customer_id, contract_id FROM live.payments
		WHERE contract_id IS NOT NULL AND contract_id <> (SELECT max(contract_id) FROM live.contracts)
		ORDER BY hash(payment_id) LIMIT 4`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.customer, &k.contract); err != nil {
			t.Fatal(err)
		}
		want[k] = true
	}
	rows.Close()
	dir := t.TempDir()
	// four payments moved to another contract, three loaded again as they are
	copyCSV(t, w, `(SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(contract_id) FROM live.contracts) AS contract_id)
		FROM live.payments WHERE contract_id IS NOT NULL AND contract_id <> (SELECT max(contract_id) FROM live.contracts)
		ORDER BY hash(payment_id) LIMIT 4)
		UNION ALL (SELECT * EXCLUDE (_load_id) FROM live.payments ORDER BY hash(payment_id) DESC LIMIT 3)`, filepath.Join(dir, "payments.csv"))
	if full := deltaLoad(t, w, dir); full {
		t.Fatal("moving four payments rebuilt the facts in full; want a delta")
	}
	got := map[key]bool{}
	var loads int64
	rows, err = w.DB().QueryContext(ctx, "SELECT customer_id, contract_id, count(DISTINCT load_id) OVER () FROM facts.payment_changes")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.customer, &k.contract, &loads); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	rows.Close()
	if !maps.Equal(got, want) || loads != 1 {
		t.Errorf("facts.payment_changes holds %v (of %d loads), want the moved payments' old keys %v of one load", got, loads, want)
	}
	kinds := refreshKinds(t, w, false)
	if r := kinds["contract_execution"]; !strings.Contains(r.Message, "ce_installments: ") || strings.Contains(r.Message, "cache rebuilt") {
		t.Errorf("after moving payments: contract_execution's message %q; want its cache's keys recomputed", r.Message)
	}
	assertSameAsFull(t, w, "after moving payments, the cache's keys from the facts' log")

	// the log starting after the cache's load (a full build of the facts,
	// or loads pruned): the cache cannot know what moved, and is rebuilt
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT min(contract_id) FROM live.contracts) AS contract_id)
		FROM live.payments WHERE contract_id IS NOT NULL ORDER BY hash(payment_id) LIMIT 2`, filepath.Join(dir, "payments.csv"))
	deltaLoad(t, w, dir)
	if err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "UPDATE facts.state SET changes_from = load_id")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	kinds = refreshKinds(t, w, false)
	if r := kinds["contract_execution"]; !strings.Contains(r.Message, "ce_installments cache rebuilt") {
		t.Errorf("with the log starting after the cache: contract_execution's message %q; want its cache rebuilt", r.Message)
	}
	assertSameAsFull(t, w, "after the cache was rebuilt")
}
