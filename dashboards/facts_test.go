package dashboards_test

import (
	"fmt"
	"testing"
)

// The fact tables hold exactly what the macros compute from the base tables,
// and dash.payments(base) etc. read them for the server's base currency and
// compute any other. (The scope tests compare every chart's rows with
// reference queries on the base tables.)
func TestFactTablesEqualTheComputedMacros(t *testing.T) {
	db := env.w.DB()
	var builtFor int64
	var base string
	if err := db.QueryRow(`SELECT load_id, base_currency FROM dash.facts_state`).Scan(&builtFor, &base); err != nil {
		t.Fatalf("no fact tables: %v", err)
	}
	if base != "CNY" {
		t.Errorf("facts built for %s, want CNY", base)
	}
	for _, f := range []struct{ table, macro string }{
		{"dash.contract_facts", "dash.contracts_computed('CNY')"},
		{"dash.payment_facts", "dash.payments_computed('CNY')"},
		{"dash.opportunity_facts", "dash.opportunities_computed('CNY')"},
		{"dash.activity_facts", "dash.activities_computed()"},
	} {
		var missing, extra, n int64
		q := fmt.Sprintf(`SELECT (SELECT count(*) FROM (SELECT * FROM %[2]s EXCEPT ALL SELECT * FROM %[1]s)),
			(SELECT count(*) FROM (SELECT * FROM %[1]s EXCEPT ALL SELECT * FROM %[2]s)), (SELECT count(*) FROM %[1]s)`, f.table, f.macro)
		if err := db.QueryRow(q).Scan(&missing, &extra, &n); err != nil {
			t.Fatal(err)
		}
		if missing != 0 || extra != 0 || n < 100 {
			t.Errorf("%s: %d computed rows missing, %d extra, %d rows", f.table, missing, extra, n)
		}
	}
	// Another base currency is computed on the call: the same rows, other amounts.
	var cny, usd, usdComputed int64
	var cnySum, usdSum float64
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM dash.payments('CNY')), (SELECT count(*) FROM dash.payments('USD')),
		(SELECT count(*) FROM dash.payments_computed('USD')),
		(SELECT CAST(sum(amount_base) AS DOUBLE) FROM dash.payments('CNY')), (SELECT CAST(sum(amount_base) AS DOUBLE) FROM dash.payments('USD'))`).Scan(&cny, &usd, &usdComputed, &cnySum, &usdSum); err != nil {
		t.Fatal(err)
	}
	if cny == 0 || usd != cny || usdComputed != usd || cnySum == usdSum {
		t.Errorf("payments: %d rows in CNY, %d in USD (%d computed); sums %.2f and %.2f", cny, usd, usdComputed, cnySum, usdSum)
	}
}
