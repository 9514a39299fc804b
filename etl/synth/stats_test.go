package synth

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// openGenerated loads every generated CSV of dir into an in-memory DuckDB
// with declared column types.
func openGenerated(t testing.TB, dir, format string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("SET TimeZone = 'Asia/Shanghai'"); err != nil {
		t.Fatal(err)
	}
	for i := range entities {
		e := &entities[i]
		var src string
		if format == "parquet" {
			src = "read_parquet(" + sqlString(filepath.Join(dir, e.name+".parquet")) + ")"
		} else {
			src = csvReadSQL(e, filepath.Join(dir, e.name+".csv"))
		}
		if _, err := db.Exec("CREATE TABLE " + e.name + " AS SELECT * FROM " + src); err != nil {
			t.Fatalf("load %s: %v", e.name, err)
		}
	}
	return db
}

func q1[T any](t testing.TB, db *sql.DB, q string) T {
	t.Helper()
	var v T
	if err := db.QueryRowContext(context.Background(), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// figures are the realism measurements reported for a generated data set.
type figures struct {
	Top20Share       float64 // share of payments held by the top 20% paying customers
	WinRate          float64 // won / closed (count)
	QuarterEndRatio  float64 // seasonal index of won deals: quarter-end months / other months
	DecemberRatio    float64 // seasonal index: December / the next best month
	CNYRatio         float64 // CNY month / mean of its neighbours, averaged over years
	YoY              float64 // opportunities created, last 12 months / previous 12
	PartnerShare     float64
	USDShare         float64
	StalledOpenShare float64 // open deals with no stage change for > 2× the median days of their stage
	CollisionShare   float64
	DupCustomers     int64
	Unprofitable     float64 // of paying customers
	UnprofitableAll  float64 // of all customers with any cost or revenue
	Declining        float64 // of paying customers: monthly payments fell 3 months running to End
	OnTime, Late     float64 // installments fully paid by due / after due
	Partial, Never   float64
	Lifecycle        string
}

func measure(t testing.TB, db *sql.DB) figures {
	var f figures
	f.Top20Share = q1[float64](t, db, `
		WITH c AS (SELECT customer_id, sum(amount * CASE currency WHEN 'USD' THEN 7.15 ELSE 1 END) v
		           FROM payments GROUP BY ALL HAVING v > 0),
		r AS (SELECT v, row_number() OVER (ORDER BY v DESC) rn, count(*) OVER () n FROM c)
		SELECT (sum(v) FILTER (WHERE rn <= n * 0.2) / sum(v))::DOUBLE FROM r`)
	f.WinRate = q1[float64](t, db, `SELECT (count(*) FILTER (WHERE status='won') / count(*))::DOUBLE FROM opportunities WHERE status <> 'open'`)
	// seasonal index of won deals by closing month: count / centred
	// 12-month moving average (2×12 MA), averaged per calendar month
	const seasonIdx = `
		WITH m AS (SELECT date_trunc('month', closed_on)::DATE mo, count(*)::DOUBLE n FROM opportunities WHERE status='won' GROUP BY ALL),
		ma AS (SELECT mo, n, (sum(n) OVER (ORDER BY mo ROWS BETWEEN 6 PRECEDING AND 6 FOLLOWING)
		                      - (first_value(n) OVER w13 + last_value(n) OVER w13) / 2) / 12 avg12,
		              count(*) OVER w13 k
		       FROM m WINDOW w13 AS (ORDER BY mo ROWS BETWEEN 6 PRECEDING AND 6 FOLLOWING)),
		idx AS (SELECT month(mo) mm, avg(n / avg12) i FROM ma WHERE k = 13 GROUP BY ALL)`
	f.QuarterEndRatio = q1[float64](t, db, seasonIdx+`
		SELECT (avg(i) FILTER (WHERE mm IN (3,6,9,12)) / avg(i) FILTER (WHERE mm NOT IN (3,6,9,12)))::DOUBLE FROM idx`)
	f.DecemberRatio = q1[float64](t, db, seasonIdx+`SELECT (max(i) FILTER (WHERE mm = 12) / max(i) FILTER (WHERE mm <> 12))::DOUBLE FROM idx`)
	var cny []string
	for y := 2015; y <= 2040; y++ {
		cny = append(cny, fmt.Sprintf("(DATE '%d-%02d-01')", y, cnyMonthOf(y)))
	}
	f.CNYRatio = q1[float64](t, db, `
		WITH m AS (SELECT date_trunc('month', closed_on)::DATE mo, count(*) n FROM opportunities WHERE status='won' GROUP BY ALL),
		c(mo) AS (VALUES `+strings.Join(cny, ",")+`)
		SELECT avg(cur.n / ((p.n + nx.n) / 2))::DOUBLE FROM c
		JOIN m cur ON cur.mo = c.mo JOIN m p ON p.mo = c.mo - INTERVAL 1 MONTH JOIN m nx ON nx.mo = c.mo + INTERVAL 1 MONTH
		WHERE c.mo - INTERVAL 1 MONTH >= (SELECT min(mo) FROM m) + INTERVAL 6 MONTH`)
	f.YoY = q1[float64](t, db, `
		WITH e AS (SELECT max(created_at) e FROM opportunities)
		SELECT (count(*) FILTER (WHERE created_at > e - INTERVAL 12 MONTH) /
		        count(*) FILTER (WHERE created_at > e - INTERVAL 24 MONTH AND created_at <= e - INTERVAL 12 MONTH) - 1)::DOUBLE
		FROM opportunities, e`)
	f.PartnerShare = q1[float64](t, db, `SELECT avg((partner_id IS NOT NULL)::INT)::DOUBLE FROM opportunities`)
	f.USDShare = q1[float64](t, db, `SELECT avg((currency='USD')::INT)::DOUBLE FROM opportunities`)
	f.StalledOpenShare = q1[float64](t, db, `
		WITH h AS (SELECT opportunity_id, stage, entered_at,
		             lead(entered_at) OVER (PARTITION BY opportunity_id ORDER BY entered_at) nxt FROM opportunity_stages),
		med AS (SELECT stage, median(date_diff('day', entered_at, nxt)) md FROM h WHERE nxt IS NOT NULL GROUP BY stage),
		last AS (SELECT o.opportunity_id, o.stage, max(s.entered_at) t FROM opportunities o JOIN opportunity_stages s USING (opportunity_id)
		         WHERE o.status='open' GROUP BY ALL)
		SELECT avg((date_diff('day', t, (SELECT max(entered_at) FROM opportunity_stages)) > 2 * md)::INT)::DOUBLE
		FROM last JOIN med USING (stage)`)
	f.CollisionShare = q1[float64](t, db, `
		SELECT (count(DISTINCT b.opportunity_id) / (SELECT count(*) FROM opportunities))::DOUBLE
		FROM opportunities a JOIN opportunities b ON a.customer_id = b.customer_id AND a.opportunity_id <> b.opportunity_id
		JOIN products pa ON pa.product_id = a.product_id JOIN products pb ON pb.product_id = b.product_id
		WHERE pa.product_line = pb.product_line AND b.created_at > a.created_at
		  AND b.created_at < coalesce(a.closed_on::TIMESTAMPTZ, TIMESTAMPTZ '2100-01-01')
		  AND b.created_at <= a.created_at + INTERVAL 30 DAY
		  AND (a.owner_rep_id <> b.owner_rep_id OR coalesce(a.partner_id,'') <> coalesce(b.partner_id,''))`)
	// names equal after normalisation: full-width → ASCII, case, legal form, spaces
	f.DupCustomers = q1[int64](t, db, `
		WITH n AS (SELECT regexp_replace(regexp_replace(lower(translate(name, 'ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')),
		             '(group co\.?,? ?ltd\.?|corp(oration)?\.?,? ?(ltd\.?|limited)|co(mpany)?\.?,? ?(ltd\.?|limited)|ltd\.?|股份有限公司|集团有限公司|有限公司|集团|公司)$', ''), '\s', '', 'g') k FROM customers)
		SELECT count(*) - count(DISTINCT k) FROM n`)
	const profit = `
		WITH rev AS (SELECT customer_id, sum(amount * CASE currency WHEN 'USD' THEN 7.15 ELSE 1 END) r FROM payments GROUP BY ALL),
		cost AS (SELECT c.customer_id, sum(l.quantity * p.unit_cost) k FROM contracts c JOIN contract_lines l USING (contract_id)
		         JOIN products p USING (product_id) WHERE c.status <> 'cancelled' GROUP BY ALL),
		ex AS (SELECT customer_id, sum(amount) x FROM expenses GROUP BY ALL),
		all_c AS (SELECT customer_id, coalesce(r, 0) r, coalesce(k, 0) + coalesce(x, 0) cst
		          FROM customers LEFT JOIN rev USING (customer_id) LEFT JOIN cost USING (customer_id) LEFT JOIN ex USING (customer_id))`
	f.Unprofitable = q1[float64](t, db, profit+`SELECT avg((r < cst)::INT)::DOUBLE FROM all_c WHERE r > 0`)
	f.UnprofitableAll = q1[float64](t, db, profit+`SELECT avg((r < cst)::INT)::DOUBLE FROM all_c WHERE r > 0 OR cst > 0`)
	f.Declining = q1[float64](t, db, `
		WITH e AS (SELECT date_trunc('month', max(paid_on)) e FROM payments),
		mon AS (SELECT range::DATE mo FROM e, range(e.e - INTERVAL 4 MONTH, e.e + INTERVAL 1 DAY, INTERVAL 1 MONTH)),
		cu AS (SELECT DISTINCT customer_id FROM payments),
		s AS (SELECT cu.customer_id, mon.mo, coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0) v
		      FROM cu CROSS JOIN mon LEFT JOIN payments p ON p.customer_id = cu.customer_id AND date_trunc('month', p.paid_on) = mon.mo
		      GROUP BY ALL),
		d AS (SELECT customer_id, v < lag(v) OVER (PARTITION BY customer_id ORDER BY mo) AND v > 0 fell, mo FROM s)
		SELECT (count(*) FILTER (WHERE n >= 3) / (SELECT count(*) FROM cu))::DOUBLE FROM
		(SELECT customer_id, count(*) FILTER (WHERE fell AND mo >= (SELECT e FROM e) - INTERVAL 2 MONTH) n FROM d GROUP BY ALL)`)
	// installment outcomes over installments due at least 60 days before End
	var on, late, part, never float64
	err := db.QueryRow(`
		WITH e AS (SELECT max(paid_on) e FROM payments),
		s AS (SELECT contract_id, due_on, amount, sum(amount) OVER (PARTITION BY contract_id ORDER BY due_on) cum FROM payment_schedule),
		p AS (SELECT contract_id, paid_on, sum(amount) OVER (PARTITION BY contract_id ORDER BY paid_on, payment_id) cum FROM payments),
		x AS (SELECT s.contract_id, s.due_on, s.amount, s.cum,
		        (SELECT coalesce(max(p.cum), 0) FROM p WHERE p.contract_id = s.contract_id AND p.paid_on <= s.due_on) paid_by_due,
		        (SELECT coalesce(max(p.cum), 0) FROM p WHERE p.contract_id = s.contract_id) paid_total
		      FROM s JOIN contracts c USING (contract_id), e WHERE c.status <> 'cancelled' AND s.due_on < e.e - INTERVAL 60 DAY)
		SELECT avg((paid_by_due >= cum - 0.05)::INT)::DOUBLE, avg((paid_by_due < cum - 0.05 AND paid_total >= cum - 0.05)::INT)::DOUBLE,
		       avg((paid_total < cum - 0.05 AND paid_total > cum - amount + 0.05)::INT)::DOUBLE,
		       avg((paid_total <= cum - amount + 0.05)::INT)::DOUBLE FROM x`).Scan(&on, &late, &part, &never)
	if err != nil {
		t.Fatal(err)
	}
	f.OnTime, f.Late, f.Partial, f.Never = on, late, part, never
	f.Lifecycle = q1[string](t, db, `SELECT string_agg(lifecycle_stage || ' ' || round(100 * n / tot, 1) || '%', ', ' ORDER BY lifecycle_stage)
		FROM (SELECT lifecycle_stage, count(*) n, sum(count(*)) OVER () tot FROM customers GROUP BY ALL)`)
	return f
}

func (f figures) String() string {
	return fmt.Sprintf("top20 %.1f%%, win rate %.1f%%, quarter-end/other %.2f, December/next best %.2f, CNY/neighbours %.2f, "+
		"YoY %+.1f%%, partner %.1f%%, USD %.1f%%, stalled open %.1f%%, collisions %.2f%%, duplicate customers %d, "+
		"unprofitable %.1f%% of paying (%.1f%% of all with cost), declining %.1f%%, installments on time %.1f%% late %.1f%% partial %.1f%% never %.1f%%, lifecycle: %s",
		100*f.Top20Share, 100*f.WinRate, f.QuarterEndRatio, f.DecemberRatio, f.CNYRatio, 100*f.YoY, 100*f.PartnerShare,
		100*f.USDShare, 100*f.StalledOpenShare, 100*f.CollisionShare, f.DupCustomers, 100*f.Unprofitable, 100*f.UnprofitableAll,
		100*f.Declining, 100*f.OnTime, 100*f.Late, 100*f.Partial, 100*f.Never, f.Lifecycle)
}
