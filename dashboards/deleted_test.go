package dashboards_test

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"
)

// A snapshot load marks the rows missing from a source deleted
// (_deleted_at) instead of removing them: the models ignore them, and so must
// every dashboard (they read schema "live", not main).
func TestDeletedRowsAreNotShown(t *testing.T) {
	var payment, customer string
	if err := env.w.DB().QueryRow(`SELECT payment_id, customer_id FROM payments
		WHERE customer_id IS NOT NULL ORDER BY payment_id LIMIT 1`).Scan(&payment, &customer); err != nil {
		t.Fatal(err)
	}
	c := login(t, "ceo")
	payments := func() (total int64, version string) {
		var rows rowsPage
		if code := c.getJSON("/api/charts/customer.payments/rows?id="+url.QueryEscape(customer), &rows); code != 200 {
			t.Fatalf("customer.payments rows: HTTP %d", code)
		}
		var d struct {
			Version string `json:"version"`
		}
		c.getJSON("/api/charts/customer.kpis?id="+url.QueryEscape(customer), &d)
		return rows.Total, d.Version
	}
	// mark sets or clears the payment's _deleted_at and records a load (with
	// the loader's load id sequence) and rebuilds the facts in its
	// transaction, as a snapshot load does, so that the dashboards see a new
	// data version.
	mark := func(deleted bool) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			q := `UPDATE payments SET _deleted_at = NULL WHERE payment_id = $1`
			if deleted {
				q = `UPDATE payments SET _deleted_at = now() WHERE payment_id = $1`
			}
			if _, err := conn.ExecContext(ctx, q, payment); err != nil {
				return err
			}
			var loadID int64
			if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
				SELECT nextval('load_id_seq'), now(), now(), 'committed', 'deleted-rows test' RETURNING load_id`).Scan(&loadID); err != nil {
				return err
			}
			return rebuildFacts(ctx, conn, loadID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(want int64, since string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, v := payments()
			if v != since && n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("customer %s shows %d payments at version %s, want %d after the change from %s", customer, n, v, want, since)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	before, v1 := payments()
	if before == 0 {
		t.Fatalf("customer %s shows no payments: the test proves nothing", customer)
	}
	mark(true)
	defer func() {
		mark(false)
		waitFor(before, "")
	}()
	waitFor(before-1, v1)
}
