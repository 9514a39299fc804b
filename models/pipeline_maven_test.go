package models

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMavenCRM maps Maven Analytics' CRM Sales Opportunities data (see
// testdata/maven/README.md) into contract files, loads them, refreshes the
// pipeline models at 2017-12-31 and checks the published figures exactly.
func TestMavenCRM(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 8,800 deals")
	}
	dir := mavenToContract(t, "testdata/maven")
	w := plWarehouse(t, dir)
	for _, r := range plRefresh(t, w, "2017-12-31", nil, "pipeline", "win_rate", "funnel") {
		if r.Status != "ok" {
			t.Fatalf("%s: %s %s", r.Model, r.Status, r.Message)
		}
	}

	// Won 4,238 and lost 2,473 (of 8,800); won revenue 10,005,534; win rate
	// Won/(Won+Lost) = 4238/6711 = 0.6315005 → 0.631501.
	plExpect(t, w, `SELECT won, lost, won_amount, round(win_rate, 6) FROM mart_win_rate
		WHERE dimension = 'all' AND period = 'all'`, []string{"4238 | 2473 | 10005534 | 0.631501"})
	// Average won deal 2,360.91 and mean cycle of won deals (close − engage) 51.78 days.
	plExpect(t, w, `SELECT org_unit_id, round(avg_won_amount, 2), round(avg_cycle_days, 2) FROM mart_velocity
		WHERE org_unit_id IN ('all', 'MT') AND period = 'all' ORDER BY 1`, []string{
		"MT | 2360.910000 | 51.780000",
		"all | 2360.910000 | 51.780000",
	})
	// Won revenue by region (sales_teams.regional_office), and by product.
	plExpect(t, w, `SELECT dimension_value, won_amount FROM mart_win_rate
		WHERE dimension = 'org_unit' AND dimension_value LIKE 'REG-%' AND period = 'all' ORDER BY won_amount DESC`, []string{
		"REG-West | 3568647",
		"REG-Central | 3346293",
		"REG-East | 3090594",
	})
	plExpect(t, w, `SELECT dimension_value, won_amount FROM mart_win_rate
		WHERE dimension = 'product' AND period = 'all' ORDER BY won_amount DESC`, []string{
		"GTX Pro | 3510578",
		"GTX Plus Pro | 2629651",
		"MG Advanced | 2216387",
		"GTX Plus Basic | 705275",
		"GTX Basic | 499263",
		"GTK 500 | 400612",
		"MG Special | 43768",
	})
	// Won revenue and closed deals per quarter of close_date, from the monthly rows:
	// 1,134,672 · 3,086,111 · 2,982,255 · 2,802,496; closed 647 · 2,032 · 2,047 · 1,985.
	plExpect(t, w, `SELECT quarter(strptime(period, '%Y-%m')) AS q, sum(won_amount), sum(won + lost) FROM mart_win_rate
		WHERE dimension = 'all' AND period <> 'all' GROUP BY q ORDER BY q`, []string{
		"1 | 1134672 | 647",
		"2 | 3086111 | 2032",
		"3 | 2982255 | 2047",
		"4 | 2802496 | 1985",
	})
	// Top and bottom agent by won revenue.
	plExpect(t, w, `(SELECT dimension_value, won_amount FROM mart_win_rate WHERE dimension = 'rep' AND period = 'all' ORDER BY won_amount DESC LIMIT 1)
		UNION ALL (SELECT dimension_value, won_amount FROM mart_win_rate WHERE dimension = 'rep' AND period = 'all' ORDER BY won_amount LIMIT 1)`, []string{
		"Darcel Schlecht | 1153214",
		"Violet Mclelland | 123431",
	})
	// Open pipeline at list price: 2,089 deals, 4,966,215 (GTXPro priced as GTX Pro).
	plExpect(t, w, "SELECT count(*), sum(amount) FROM mart_pipeline", []string{"2089 | 4966215"})
	// The funnel: every deal but the 500 Prospecting ones entered engaging; the
	// 1,589 open Engaging deals are still there.
	plExpect(t, w, `SELECT stage, entered, advanced, dropped, still_open FROM mart_funnel WHERE org_unit_id = 'all' ORDER BY position`, []string{
		"prospecting | 500 | 0 | 0 | 500",
		"engaging | 8300 | 4238 | 2473 | 1589",
		"won | 4238 | 0 | 0 | 0",
	})
}

// mavenToContract writes the contract CSVs for the Maven tables in src and
// returns their directory. The mapping is documented in testdata/maven/README.md.
func mavenToContract(t *testing.T, src string) string {
	t.Helper()
	read := func(name string) []map[string]string {
		f, err := os.Open(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out []map[string]string
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = strings.TrimSpace(r[i])
			}
			out = append(out, m)
		}
		return out
	}
	dst := t.TempDir()
	write := func(name string, header []string, rows [][]string) {
		f, err := os.Create(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		cw := csv.NewWriter(f)
		cw.Write(header)
		cw.WriteAll(rows)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Organisation: company → region → one department per manager; reps.
	teams := read("sales_teams.csv")
	orgs := [][]string{{"MT", "", "MavenTech", "company"}}
	seen := map[string]bool{}
	var reps [][]string
	for _, r := range teams {
		region, dept := "REG-"+r["regional_office"], "DEP-"+r["manager"]
		if !seen[region] {
			seen[region] = true
			orgs = append(orgs, []string{region, "MT", r["regional_office"], "region"})
		}
		if !seen[dept] {
			seen[dept] = true
			orgs = append(orgs, []string{dept, region, r["manager"] + "'s team", "department"})
		}
		reps = append(reps, []string{r["sales_agent"], r["sales_agent"], dept})
	}
	write("org_units.csv", []string{"org_unit_id", "parent_id", "name", "level"}, orgs)
	write("reps.csv", []string{"rep_id", "name", "org_unit_id"}, reps)

	var products [][]string
	listPrice := map[string]string{}
	for _, r := range read("products.csv") {
		products = append(products, []string{r["product"], r["product"], r["series"], r["sales_price"]})
		listPrice[r["product"]] = r["sales_price"]
	}
	write("products.csv", []string{"product_id", "name", "product_line", "list_price"}, products)

	write("stages.csv", []string{"stage", "position", "default_probability", "is_closed"}, [][]string{
		{"prospecting", "1", "10", "false"}, {"engaging", "2", "50", "false"},
		{"won", "3", "100", "true"}, {"lost", "4", "0", "true"},
	})

	var customers [][]string
	for _, r := range read("accounts.csv") {
		customers = append(customers, []string{r["account"], r["account"], r["sector"]})
	}

	const asOf = "2017-12-31"
	var opps, history [][]string
	for _, r := range read("sales_pipeline.csv") {
		id, stage := r["opportunity_id"], strings.ToLower(r["deal_stage"])
		product := r["product"]
		if product == "GTXPro" {
			product = "GTX Pro"
		}
		customer := r["account"]
		if customer == "" {
			customer = "UNKNOWN-" + id
			// named after the deal only: a shared prefix such as "unknown"
			// would make all placeholders "similar names" to each other
			customers = append(customers, []string{customer, id, ""})
		}
		status, amount := "open", listPrice[product]
		if stage == "won" || stage == "lost" {
			status, amount = stage, r["close_value"]
		}
		created := r["engage_date"]
		if created == "" {
			created = asOf
		}
		opps = append(opps, []string{id, customer, r["sales_agent"], product, amount, stage, created, r["close_date"], status})
		if stage == "prospecting" {
			history = append(history, []string{id, "prospecting", created})
		} else {
			history = append(history, []string{id, "engaging", created})
		}
		if status != "open" {
			history = append(history, []string{id, status, r["close_date"]})
		}
	}
	write("customers.csv", []string{"customer_id", "name", "industry"}, customers)
	write("opportunities.csv", []string{"opportunity_id", "customer_id", "owner_rep_id", "product_id", "amount",
		"stage", "created_at", "closed_on", "status"}, opps)
	write("opportunity_stages.csv", []string{"opportunity_id", "stage", "entered_at"}, history)
	return dst
}
