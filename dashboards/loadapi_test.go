package dashboards_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/triscope/triscope/dashboards"
)

const testLoadToken = "test-load-token-0123456789abcdef0123456789abcdef"

func postLoad(t *testing.T, token string, req dashboards.LoadRequest) (int, dashboards.LoadResponse) {
	t.Helper()
	body, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, env.base+"/api/load", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out dashboards.LoadResponse
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// While the server owns the warehouse, `triscope load` loads through it.
func TestLoadThroughServer(t *testing.T) {
	var contract, customer string
	var before int64
	if err := env.w.DB().QueryRow(`SELECT contract_id, customer_id, (SELECT count(*) FROM payments) FROM contracts
		WHERE coalesce(currency, 'CNY') = 'CNY' ORDER BY contract_id LIMIT 1`).Scan(&contract, &customer, &before); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "payments.csv")
	os.WriteFile(path, []byte(fmt.Sprintf("payment_id,contract_id,customer_id,paid_on,amount\nSRV-1,%s,%s,2026-10-30,100.00\n", contract, customer)), 0o644)

	for _, token := range []string{"", "wrong-token"} {
		if code, _ := postLoad(t, token, dashboards.LoadRequest{Paths: []string{path}}); code != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", token, code)
		}
	}
	// A dry run reports and changes nothing.
	code, resp := postLoad(t, testLoadToken, dashboards.LoadRequest{Paths: []string{path}, DryRun: true})
	if code != http.StatusOK || resp.Error != "" || resp.Report == nil || resp.Report.Files[0].Loaded != 1 {
		t.Fatalf("dry run: %d %+v", code, resp)
	}
	count := func() (n int64) {
		env.w.DB().QueryRow("SELECT count(*) FROM payments").Scan(&n)
		return n
	}
	if count() != before {
		t.Fatal("a dry run through the server changed the warehouse")
	}
	code, resp = postLoad(t, testLoadToken, dashboards.LoadRequest{Paths: []string{path}})
	if code != http.StatusOK || resp.Error != "" || resp.Report.Status != "committed" || resp.Report.Files[0].Loaded != 1 {
		t.Fatalf("load: %d %+v", code, resp)
	}
	if count() != before+1 {
		t.Fatalf("payments %d, want %d", count(), before+1)
	}
	events, err := env.auth.AuditLog(context.Background(), 1)
	if err != nil || len(events) != 1 || events[0].Action != "load" {
		t.Errorf("last audit event %+v (%v), want the load", events, err)
	}
	// The dashboards show the new payment: the fact tables were rebuilt for
	// the load before its version was served.
	c := login(t, "ceo")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rows rowsPage
		if code := c.getJSON("/api/charts/customer.payments/rows?id="+url.QueryEscape(customer)+"&size=500", &rows); code != 200 {
			t.Fatalf("customer.payments rows: HTTP %d", code)
		}
		found := false
		for _, r := range rows.Rows {
			for _, v := range r {
				if v == "SRV-1" {
					found = true
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment SRV-1 of customer %s not shown 10 s after its load (%d rows)", customer, rows.Total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var factsLoad, lastLoad int64
	if err := env.w.DB().QueryRow(`SELECT (SELECT load_id FROM dash.facts_state),
		(SELECT max(load_id) FROM load_runs WHERE status = 'committed')`).Scan(&factsLoad, &lastLoad); err != nil {
		t.Fatal(err)
	}
	if factsLoad != lastLoad {
		t.Errorf("fact tables built for load %d, last committed load %d", factsLoad, lastLoad)
	}
}
