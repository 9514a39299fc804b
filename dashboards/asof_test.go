package dashboards_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// A stray row dated after the rest moves the as-of date: the page says so
// — the models were computed on older data (a banner) and, when the as-of
// day is the day of the last load, that the latest complete day is the one
// before (issue 17 point 2).
func TestAMovedAsOfDateIsVisible(t *testing.T) {
	c := login(t, "ceo")
	_, before := c.get("/telescope?lang=en")
	if strings.Contains(before, `notices stale`) || strings.Contains(before, "latest complete day") {
		t.Fatal("the fixture's page already shows a stale banner or a day in progress")
	}
	loc, err := time.LoadLocation(warehouse.DefaultTimeZone) // the server's days
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	today := now.Format("2006-01-02") // the day of the load below
	change := func(add bool) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			q := `DELETE FROM payments WHERE payment_id = 'FIX-STRAY-1'`
			if add {
				q = `INSERT INTO payments (payment_id, contract_id, customer_id, paid_on, amount, currency, method)
					SELECT 'FIX-STRAY-1', contract_id, customer_id, CAST('` + today + `' AS DATE), 7000, 'CNY', 'transfer'
					FROM contracts ORDER BY contract_id LIMIT 1`
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
			var loadID int64
			if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
				SELECT nextval('load_id_seq'), now(), now(), 'committed', 'as-of test' RETURNING load_id`).Scan(&loadID); err != nil {
				return err
			}
			return rebuildFacts(ctx, conn, loadID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	change(true)
	defer change(false)
	var page string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, page = c.get("/telescope?lang=en")
		if strings.Contains(page, `notices stale`) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(page, "The models (customer value, CLV, forecasts, alerts, collisions) were computed on data up to") {
		t.Error("no banner says the models were computed on older data")
	}
	yesterday := now.AddDate(0, 0, -1)
	if want := "latest complete day " + yesterday.Format("2 Jan 2006"); !strings.Contains(page, want) {
		i := strings.Index(page, "As of")
		t.Errorf("the page does not say %q: %s", want, page[i:min(len(page), i+300)])
	}
}
