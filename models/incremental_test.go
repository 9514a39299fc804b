package models

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/warehouse"
)

// martTables lists main's mart tables and model_fits.
func martTables(t *testing.T, w *warehouse.Warehouse) []string {
	t.Helper()
	var out []string
	for _, r := range plRows(t, w, `SELECT table_name FROM duckdb_tables()
		WHERE schema_name = 'main' AND (table_name LIKE 'mart\_%' ESCAPE '\' OR table_name = 'model_fits') ORDER BY 1`) {
		out = append(out, r)
	}
	return out
}

// refreshKinds runs a refresh at the data's own as-of date and returns each
// model's kind and why.
func refreshKinds(t *testing.T, w *warehouse.Warehouse, full bool) map[string]RunResult {
	t.Helper()
	_, res, err := Refresh(context.Background(), w, RefreshOptions{Full: full})
	if err != nil {
		t.Fatalf("refresh (full %v): %v", full, err)
	}
	out := map[string]RunResult{}
	for _, r := range res {
		out[r.Model] = r
	}
	return out
}

// assertSameAsFull copies every mart (and model_fits) as the incremental
// refresh left them, runs a full refresh and compares each table with
// EXCEPT ALL both ways.
func assertSameAsFull(t *testing.T, w *warehouse.Warehouse, when string) {
	t.Helper()
	ctx := context.Background()
	marts := martTables(t, w)
	if len(marts) < 20 {
		t.Fatalf("only %d mart tables: %v", len(marts), marts)
	}
	db := w.DB()
	if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS incr CASCADE; CREATE SCHEMA incr"); err != nil {
		t.Fatal(err)
	}
	for _, m := range marts {
		if _, err := db.ExecContext(ctx, "CREATE TABLE incr."+m+" AS SELECT * FROM main."+m); err != nil {
			t.Fatal(err)
		}
	}
	for name, r := range refreshKinds(t, w, true) {
		if r.Kind != KindFull {
			t.Errorf("%s: --full ran it as %s (%s)", name, r.Kind, r.Why)
		}
	}
	for _, m := range marts {
		var only1, only2, n int
		if err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM (SELECT * FROM incr.`+m+` EXCEPT ALL SELECT * FROM main.`+m+`)),
			(SELECT count(*) FROM (SELECT * FROM main.`+m+` EXCEPT ALL SELECT * FROM incr.`+m+`)),
			(SELECT count(*) FROM main.`+m+`)`).Scan(&only1, &only2, &n); err != nil {
			t.Fatal(err)
		}
		if only1 != 0 || only2 != 0 {
			t.Errorf("%s: %s: %d rows only in the incremental refresh, %d only in the full one (of %d)", when, m, only1, only2, n)
		}
	}
}

// TestIncrementalRefreshEqualsFull: on the small demo company, after loads
// that move the as-of date and loads that do not, the refresh that
// recomputes only what changed publishes exactly what a full refresh does
// (every mart, EXCEPT ALL both ways), and model_runs says which kind ran and
// why.
func TestIncrementalRefreshEqualsFull(t *testing.T) {
	ctx := context.Background()
	w := smallDemoWarehouse(t, 13)
	testRebuildFacts(t, w)
	first := refreshKinds(t, w, false)
	if r := first["rfm"]; r.Kind != KindFull || r.Why != "no earlier run to build on" {
		t.Errorf("first refresh: rfm ran as %s (%s); want full, no earlier run", r.Kind, r.Why)
	}

	// Nothing loaded: every model is kept.
	for name, r := range refreshKinds(t, w, false) {
		if r.Kind != KindKept {
			t.Errorf("refresh without a load: %s ran as %s (%s), want kept", name, r.Kind, r.Why)
		}
	}
	assertSameAsFull(t, w, "without a load")

	// The holiday file replaced under the same name: targets (and alerts,
	// which reads its results) run again; nothing else does.
	holidays := filepath.Join(t.TempDir(), "holidays.csv")
	days := "date,kind,name\n2025-10-01,holiday,National Day\n"
	os.WriteFile(holidays, []byte(days), 0o644)
	withFile := func() map[string]RunResult {
		t.Helper()
		_, res, err := Refresh(ctx, w, RefreshOptions{Settings: map[string]Settings{"targets": {"holidays_file": holidays}}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]RunResult{}
		for _, r := range res {
			out[r.Model] = r
		}
		return out
	}
	withFile()
	if r := withFile()["targets"]; r.Kind != KindKept {
		t.Errorf("the same holiday file again: targets ran as %s (%s), want kept", r.Kind, r.Why)
	}
	os.WriteFile(holidays, []byte(days+"2025-10-02,holiday,National Day\n"), 0o644)
	for name, r := range withFile() {
		want := KindKept
		if name == "targets" || name == "alerts" {
			want = KindFull
		}
		if r.Kind != want {
			t.Errorf("the holiday file changed: %s ran as %s (%s), want %s", name, r.Kind, r.Why, want)
		}
	}
	refreshKinds(t, w, false) // back to the built-in calendar

	// A daily load: the as-of date moves forward.
	dir := t.TempDir()
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := synth.DailyLoad(ctx, conn, synth.DailyConfig{Seed: 1}, dir)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	deltaLoad(t, w, dir)
	kinds := refreshKinds(t, w, false)
	if r := kinds["rfm"]; r.Kind != KindFull || !strings.Contains(r.Why, "as-of date moved forward") {
		t.Errorf("after a daily load: rfm ran as %s (%s); want full, the as-of date moved", r.Kind, r.Why)
	}
	for _, m := range []string{"collision", "funnel", "win_rate", "contract_execution"} {
		if r := kinds[m]; r.Kind != KindIncremental || !strings.Contains(r.Why, "updated for the") {
			t.Errorf("after a daily load: %s ran as %s (%s); want incremental, from its caches' deltas", m, r.Kind, r.Why)
		}
	}
	// the payments' sums per customer, from their cache
	for _, m := range []string{"clv", "customer_value", "alerts"} {
		if r := kinds[m]; r.Kind != KindIncremental || !strings.Contains(r.Why, "customer_payments updated for the") {
			t.Errorf("after a daily load: %s ran as %s (%s); want incremental, the payments' sums from their cache", m, r.Kind, r.Why)
		}
	}
	assertSameAsFull(t, w, "after a daily load")

	// Edits that leave the as-of date: customers only. The models that read
	// no customer (rfm: payments) are kept; the others run.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ('enterprise' AS size_band, 'Elsewhere' AS city)
		FROM live.customers ORDER BY hash(customer_id) LIMIT 9`, filepath.Join(dir, "customers.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["rfm"]; r.Kind != KindKept {
		t.Errorf("after a customers load: rfm ran as %s (%s); want kept", r.Kind, r.Why)
	}
	if r := kinds["customer_value"]; r.Kind == KindKept {
		t.Errorf("after a customers load: customer_value was kept; want it recomputed")
	}
	assertSameAsFull(t, w, "after a customers load")

	// A customer renamed to another's name (a duplicate record): a deal of
	// the renamed customer now collides with the other's earlier open deal
	// of the same product by another rep. The collision cache matches again
	// only the deals the rename can change.
	var renamed, opp, name, city string
	if err := w.DB().QueryRowContext(ctx, `SELECT oc.customer_id, o.opportunity_id, pc.name, coalesce(pc.city, '')
		FROM live.opportunities o
		JOIN live.opportunities p ON p.product_id = o.product_id AND p.customer_id <> o.customer_id
		 AND p.owner_rep_id <> o.owner_rep_id AND o.partner_id IS NULL AND p.partner_id IS NULL
		 AND p.created_at < o.created_at AND p.created_at > o.created_at - INTERVAL 60 DAY
		 AND (p.closed_on IS NULL OR p.closed_on > CAST(o.created_at AS DATE) + 1)
		JOIN live.customers oc ON oc.customer_id = o.customer_id
		JOIN live.customers pc ON pc.customer_id = p.customer_id
		WHERE o.opportunity_id NOT IN (SELECT opportunity_id FROM main.mart_collisions)
		ORDER BY o.opportunity_id, p.opportunity_id LIMIT 1`).Scan(&renamed, &opp, &name, &city); err != nil {
		t.Fatalf("finding two deals to make collide: %v", err)
	}
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE (`+sqlString(name)+` AS name, `+sqlString(city)+` AS city)
		FROM live.customers WHERE customer_id = `+sqlString(renamed), filepath.Join(dir, "customers.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["collision"]; r.Kind != KindIncremental || !strings.Contains(r.Why, "collision matches updated for the") ||
		!strings.Contains(r.Message, "deals matched again") {
		t.Errorf("after renaming a customer: collision ran as %s (%s; %s); want incremental, from its cache", r.Kind, r.Why, r.Message)
	}
	var kind string
	if err := w.DB().QueryRowContext(ctx, "SELECT min(match_kind) FROM main.mart_collisions WHERE opportunity_id = $1", opp).Scan(&kind); err != nil || kind != "same_name" {
		t.Errorf("after renaming customer %s to %q: deal %s has collision %q (%v), want same_name", renamed, name, opp, kind, err)
	}
	assertSameAsFull(t, w, "after renaming a customer")

	// A rep moved to another unit: the deals of that rep count in the new
	// unit (the funnel's cached cells are per rep's unit).
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(org_unit_id) FROM live.org_units WHERE org_unit_id <> r.org_unit_id) AS org_unit_id)
		FROM live.reps r WHERE rep_id = (SELECT min(owner_rep_id) FROM live.opportunities)`, filepath.Join(dir, "reps.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["funnel"]; r.Kind != KindIncremental {
		t.Errorf("after moving a rep: funnel ran as %s (%s); want incremental, from the deal stages cache", r.Kind, r.Why)
	}
	assertSameAsFull(t, w, "after moving a rep to another unit")

	// A product moved to another line: its open deals count in the new line
	// (the pipeline trend's sums are per product line, kept with the deal
	// stages cache).
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(product_line) FROM live.products WHERE product_line <> p.product_line) AS product_line)
		FROM live.products p WHERE product_id = (SELECT min(product_id) FROM live.opportunities WHERE status = 'open')`, filepath.Join(dir, "products.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["forecast"]; r.Kind != KindIncremental {
		t.Errorf("after moving a product: forecast ran as %s (%s); want incremental, from the deal stages cache", r.Kind, r.Why)
	}
	assertSameAsFull(t, w, "after moving a product to another line")

	// Payments moved to another customer: the marts that sum payments per
	// customer change for both.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(customer_id) FROM live.customers) AS customer_id)
		FROM live.payments WHERE amount > 0 ORDER BY hash(payment_id) LIMIT 5`, filepath.Join(dir, "payments.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	assertSameAsFull(t, w, "after moving payments to another customer")

	// Payments moved to another contract (no as-of move, nothing deleted):
	// contract_execution runs incrementally, its per-contract cache updated
	// for the old and the new contracts.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE ((SELECT max(contract_id) FROM live.contracts) AS contract_id)
		FROM live.payments WHERE contract_id IS NOT NULL ORDER BY hash(payment_id) LIMIT 6`, filepath.Join(dir, "payments.csv"))
	deltaLoad(t, w, dir)
	// Until now the recomputed keys stayed beside the caches (a small
	// update); this time they are written back, with the keys of every
	// load since the caches' own.
	if !strings.Contains(kinds["contract_execution"].Message, "recomputed beside the cache") {
		t.Errorf("after a customers load: contract_execution's message %q does not say its cache's keys stayed beside it", kinds["contract_execution"].Message)
	}
	defer func() { writeBackAlways = false }()
	writeBackAlways = true
	kinds = refreshKinds(t, w, false)
	writeBackAlways = false
	if r := kinds["contract_execution"]; r.Kind != KindIncremental || !strings.Contains(r.Why, "ce_installments updated for the ") ||
		!strings.Contains(r.Message, "keys updated in the cache") {
		t.Errorf("after moving payments: contract_execution ran as %s (%s; %s); want incremental, its cache updated", r.Kind, r.Why, r.Message)
	}
	assertSameAsFull(t, w, "after moving payments to another contract")

	// An fx rate edited in the middle of the history re-prices a payment of
	// its currency: the models that convert amounts follow it.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT currency, on_date, rate_to_base * 0.97 AS rate_to_base FROM live.fx_rates
		WHERE (currency, on_date) = (SELECT (p.currency, max(r.on_date)) FROM live.payments p
			JOIN live.fx_rates r ON r.currency = p.currency AND r.on_date <= p.paid_on
			WHERE p.payment_id = (SELECT payment_id FROM live.payments WHERE amount > 0 AND currency IN (SELECT currency FROM live.fx_rates)
				ORDER BY hash(payment_id) LIMIT 1)
			GROUP BY p.currency)`,
		filepath.Join(dir, "fx_rates.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["contract_execution"]; !strings.Contains(r.Message, "ce_installments cache rebuilt") {
		t.Errorf("after an fx rate: contract_execution's message %q does not say its cache was rebuilt (fx rates re-price its payments)", r.Message)
	}
	assertSameAsFull(t, w, "after an fx rate edited in the middle of the history")

	// A snapshot of payments that deletes some and of the stage history
	// without some rows: the models run in full (rows were deleted) and the
	// caches are rebuilt.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id, _k) REPLACE (
			CASE WHEN _k % 40 = 1 THEN (SELECT min(contract_id) FROM live.contracts) ELSE contract_id END AS contract_id)
		FROM (SELECT *, hash(payment_id) % 1000 AS _k FROM live.payments) WHERE _k >= 8`, filepath.Join(dir, "payments.csv"))
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) FROM live.opportunity_stages WHERE hash(opportunity_id, stage) % 100 <> 3`,
		filepath.Join(dir, "opportunity_stages.csv"))
	deltaLoad(t, w, dir, "payments", "opportunity_stages")
	kinds = refreshKinds(t, w, false)
	if r := kinds["contract_execution"]; r.Kind != KindFull || !strings.Contains(r.Why, "deleted rows of payments") ||
		!strings.Contains(r.Message, "ce_installments cache rebuilt") {
		t.Errorf("after a snapshot: contract_execution ran as %s (%s; %s); want full, deleted payments, its cache rebuilt", r.Kind, r.Why, r.Message)
	}
	if r := kinds["collision"]; !strings.Contains(r.Message, "deal_stages cache rebuilt") {
		t.Errorf("after a snapshot: collision's message %q does not say the deal stages cache was rebuilt", r.Message)
	}
	assertSameAsFull(t, w, "after snapshots that deleted payments and stage history")

	// Stages change: the pipeline models run in full and say why.
	dir = t.TempDir()
	copyCSV(t, w, `SELECT * EXCLUDE (_load_id) REPLACE (CASE WHEN is_closed THEN default_probability ELSE default_probability + 1 END AS default_probability)
		FROM live.stages`, filepath.Join(dir, "stages.csv"))
	deltaLoad(t, w, dir)
	kinds = refreshKinds(t, w, false)
	if r := kinds["win_rate"]; r.Kind != KindFull || r.Why != "stages changed" {
		t.Errorf("after a stages load: win_rate ran as %s (%s); want full, stages changed", r.Kind, r.Why)
	}
	if r := kinds["rfm"]; r.Kind != KindKept {
		t.Errorf("after a stages load: rfm ran as %s (%s); want kept", r.Kind, r.Why)
	}
	assertSameAsFull(t, w, "after a stages load")

	// The as-of date moving backwards recomputes everything.
	var asOf time.Time
	if err := w.DB().QueryRowContext(ctx, "SELECT max(as_of) FROM model_runs").Scan(&asOf); err != nil {
		t.Fatal(err)
	}
	_, res, err := Refresh(ctx, w, RefreshOptions{AsOf: asOf.AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Kind != KindFull {
			t.Errorf("as-of moved backwards: %s ran as %s (%s)", r.Model, r.Kind, r.Why)
		}
	}
	var recorded int
	if err := w.DB().QueryRowContext(ctx, `SELECT count(*) FROM model_runs WHERE refresh_id = (SELECT max(refresh_id) FROM model_runs)
		AND kind = 'full' AND why LIKE 'the as-of date moved backwards%' AND load_id IS NOT NULL AND fingerprint <> ''`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded < len(res)-1 {
		t.Errorf("model_runs records %d runs of the last refresh as full because the as-of date moved backwards, want %d", recorded, len(res)-1)
	}
}
