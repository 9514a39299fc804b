package dashboards_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A very long text value (the loader bounds them, but its bound is
// configurable and 64 KiB by default) does not make every page and rows
// request that shows it as large (hardening issue, finding 9: a 50 MB name
// made each request of the customer's payments return 73 MB of JSON).
func TestLongTextIsBoundedWhereServed(t *testing.T) {
	var customer, name string
	queryRow(t, `SELECT p.customer_id, c.name FROM payments p JOIN customers c USING (customer_id)
		GROUP BY ALL HAVING count(*) >= 3 ORDER BY 1 LIMIT 1`, nil, &customer, &name)
	long := strings.Repeat("长名字 long name ", 20000) // 300 KB
	rename := func(to string) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			if _, err := conn.ExecContext(ctx, `UPDATE customers SET name = $1 WHERE customer_id = $2`, to, customer); err != nil {
				return err
			}
			var loadID int64
			if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
				SELECT nextval('load_id_seq'), now(), now(), 'committed', 'long-text test' RETURNING load_id`).Scan(&loadID); err != nil {
				return err
			}
			return rebuildFacts(ctx, conn, loadID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rename(long)
	defer rename(name)

	c := login(t, "ceo")
	var rows struct {
		rowsPage
		Shortened bool `json:"shortened"`
	}
	path := "/api/charts/customer.payments/rows?page_size=500&id=" + url.QueryEscape(customer)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := c.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("rows: %d", resp.StatusCode)
		}
		if strings.Contains(body, "长名字 long name 长名字") || time.Now().After(deadline) {
			if len(body) > 64<<10 {
				t.Errorf("the payments rows of a customer with a 300 KB name are %d bytes", len(body))
			}
			break
		}
		time.Sleep(100 * time.Millisecond) // the new data version
	}
	c.getJSON(path, &rows)
	if rows.Total < 3 || !rows.Shortened {
		t.Fatalf("rows: %d, shortened %v", rows.Total, rows.Shortened)
	}
	col := -1
	for i, cl := range rows.Columns {
		if cl.Name == "customer_name" {
			col = i
		}
	}
	if got, _ := rows.Rows[0][col].(string); !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) || utf8.RuneCountInString(got) > 1001 {
		t.Errorf("the name in the rows is %d characters, want the first 1000 and an ellipsis", utf8.RuneCountInString(got))
	}
	for _, p := range []string{"/api/charts/customer.payments?id=" + url.QueryEscape(customer), "/customers/" + url.PathEscape(customer)} {
		if _, body := c.get(p); len(body) > 256<<10 {
			t.Errorf("%s is %d bytes", p, len(body))
		}
	}
	// The export holds the name whole.
	resp, body := c.get("/api/charts/customer.payments/export?format=csv&id=" + url.QueryEscape(customer))
	if resp.StatusCode != 200 || !strings.Contains(body, long) {
		t.Errorf("the CSV export (%d, %d bytes) does not hold the whole name", resp.StatusCode, len(body))
	}
}
