package models

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/models/internal/btyd"
	"github.com/triscope/triscope/warehouse"
)

// --- helpers -----------------------------------------------------------------

func clvWarehouse(t testing.TB) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// clvLoadPayments writes rows (payment_id, customer_id, paid_on, amount) as a
// payments CSV in a temp dir and loads it with the ETL.
func clvLoadPayments(t testing.TB, w *warehouse.Warehouse, rows [][4]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payments.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"payment_id", "contract_id", "customer_id", "paid_on", "amount", "currency", "method"})
	for _, r := range rows {
		cw.Write([]string{r[0], "", r[1], r[2], r[3], "", ""})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := etl.Load(context.Background(), w, []string{path}, etl.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if tot := rep.Totals(); tot.Rejected > 0 || tot.Loaded != int64(len(rows)) {
		t.Fatalf("load: %d loaded, %d rejected of %d (%s)", tot.Loaded, tot.Rejected, len(rows), rep.Message)
	}
}

func clvRefresh(t testing.TB, w *warehouse.Warehouse, asOf string, s Settings) RunResult {
	t.Helper()
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := Refresh(context.Background(), w, RefreshOptions{AsOf: d, Models: []string{"clv"},
		Settings: map[string]Settings{"clv": s}, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("refresh ran %d models, want 1", len(res))
	}
	return res[0]
}

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelInfo
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type clvFit struct {
	unitDays float64
	bg       btyd.BGNBD
	gg       btyd.GammaGamma
	bgLL     float64
	ggLL     float64
	bgN      int64
	ggN      int64
	hasBG    bool
	hasGG    bool
	params   int
}

func clvFits(t testing.TB, w *warehouse.Warehouse) clvFit {
	t.Helper()
	rows, err := w.DB().Query("SELECT model, param, value, log_likelihood, n FROM model_fits WHERE model IN ('bgnbd', 'gamma_gamma')")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var f clvFit
	for rows.Next() {
		var model, param string
		var v, ll float64
		var n int64
		if err := rows.Scan(&model, &param, &v, &ll, &n); err != nil {
			t.Fatal(err)
		}
		f.params++
		if model == "bgnbd" {
			f.hasBG, f.bgLL, f.bgN = true, ll, n
			switch param {
			case "r":
				f.bg.R = v
			case "alpha":
				f.bg.Alpha = v
			case "a":
				f.bg.A = v
			case "b":
				f.bg.B = v
			case "time_unit_days":
				f.unitDays = v
			}
		} else {
			f.hasGG, f.ggLL, f.ggN = true, ll, n
			switch param {
			case "p":
				f.gg.P = v
			case "q":
				f.gg.Q = v
			case "gamma":
				f.gg.Gamma = v
			}
		}
	}
	return f
}

type clvRow struct {
	x                     int64
	recency, t            float64
	pAlive, expected, eav float64
	clv                   float64
	asOf                  time.Time
}

func clvMart(t testing.TB, w *warehouse.Warehouse) map[string]clvRow {
	t.Helper()
	rows, err := w.DB().Query(`SELECT customer_id, frequency, recency, t, coalesce(p_alive, 'NaN'), coalesce(expected_purchases, 'NaN'),
		coalesce(expected_avg_value, 'NaN'), coalesce(clv, 'NaN'), as_of FROM mart_clv`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]clvRow{}
	for rows.Next() {
		var id string
		var r clvRow
		if err := rows.Scan(&id, &r.x, &r.recency, &r.t, &r.pAlive, &r.expected, &r.eav, &r.clv, &r.asOf); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func clvCount(t testing.TB, w *warehouse.Warehouse, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.6f, want %.6f ± %g", name, got, want, tol)
	}
}

func nearRel(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	if !(math.Abs(got-want) <= rel*math.Abs(want)) {
		t.Errorf("%s = %.6f, want %.6f ± %g%%", name, got, want, rel*100)
	}
}

// --- CDNOW end to end --------------------------------------------------------

// cdnowPayments turns CDNOW_sample.txt into payments (payment_id = line
// number, customer_id = master id) and returns the sample id → master id map.
func cdnowPayments(t testing.TB) ([][4]string, map[int]string) {
	t.Helper()
	f, err := os.Open("testdata/cdnow/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][4]string
	ids := map[int]string{}
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		fs := strings.Fields(s.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 5 || len(fs[2]) != 8 {
			t.Fatalf("CDNOW_sample.txt line %d: %q", line, s.Text())
		}
		sid, err := strconv.Atoi(fs[1])
		if err != nil {
			t.Fatal(err)
		}
		ids[sid] = fs[0]
		day := fs[2][:4] + "-" + fs[2][4:6] + "-" + fs[2][6:]
		rows = append(rows, [4]string{strconv.Itoa(line), fs[0], day, fs[4]})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6919 || len(ids) != 2357 {
		t.Fatalf("CDNOW sample: %d rows, %d customers; want 6919, 2357", len(rows), len(ids))
	}
	return rows, ids
}

type cdnowSummary struct{ x, tx, T, zbar float64 }

// cdnowSummaries reads cdnow_customers_summary_with_transactions.csv and
// checks it against cdnow_customers_summary.csv; keyed by sample id.
func cdnowSummaries(t testing.TB) map[int]cdnowSummary {
	t.Helper()
	read := func(name string) [][]string {
		f, err := os.Open("testdata/cdnow/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[1:]
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	out := map[int]cdnowSummary{}
	for _, r := range read("cdnow_customers_summary_with_transactions.csv") {
		id, _ := strconv.Atoi(r[0])
		out[id] = cdnowSummary{num(r[1]), num(r[2]), num(r[3]), num(r[4])}
	}
	plain := read("cdnow_customers_summary.csv")
	if len(plain) != 2357 || len(out) != 2357 {
		t.Fatalf("summaries: %d and %d rows", len(plain), len(out))
	}
	for _, r := range plain {
		id, _ := strconv.Atoi(r[0])
		s := out[id]
		if s.x != num(r[1]) || s.tx != num(r[2]) || s.T != num(r[3]) {
			t.Fatalf("summary files disagree on ID %d", id)
		}
	}
	return out
}

func TestCLVModelCDNOW(t *testing.T) {
	w := clvWarehouse(t)
	rows, ids := cdnowPayments(t)
	clvLoadPayments(t, w, rows)
	res := clvRefresh(t, w, "1997-09-30", Settings{"time_unit": "week"})
	if res.Status != "ok" || res.Rows != 2357 {
		t.Fatalf("run: %+v", res)
	}
	t.Logf("clv model on CDNOW: %v", res.Elapsed)

	// Fitted parameters against the published fits.
	f := clvFits(t, w)
	if f.unitDays != 7 {
		t.Errorf("model_fits time_unit_days = %v, want 7 (weeks)", f.unitDays)
	}
	if !f.hasBG || !f.hasGG || f.params != 8 {
		t.Fatalf("model_fits: %+v", f)
	}
	t.Logf("BG/NBD %+v LL %.4f n %d; Gamma-Gamma %+v LL %.4f n %d", f.bg, f.bgLL, f.bgN, f.gg, f.ggLL, f.ggN)
	nearRel(t, "r", f.bg.R, 0.243, 0.005)
	nearRel(t, "alpha", f.bg.Alpha, 4.414, 0.005)
	nearRel(t, "a", f.bg.A, 0.793, 0.005)
	nearRel(t, "b", f.bg.B, 2.426, 0.005)
	near(t, "BG/NBD LL", f.bgLL, -9582.4, 0.5)
	nearRel(t, "p", f.gg.P, 6.25, 0.005)
	nearRel(t, "q", f.gg.Q, 3.74, 0.005)
	nearRel(t, "gamma", f.gg.Gamma, 15.44, 0.005)
	if f.bgN != 2357 || f.ggN != 946 {
		t.Errorf("n = %d, %d; want 2357, 946", f.bgN, f.ggN)
	}
	if n := clvCount(t, w, "SELECT count(*) FROM model_fits WHERE as_of = DATE '1997-09-30'"); n != 8 {
		t.Errorf("model_fits rows at the as-of date: %d", n)
	}

	mart := clvMart(t, w)
	sums := cdnowSummaries(t)
	if len(mart) != 2357 {
		t.Fatalf("mart_clv has %d customers", len(mart))
	}
	row := func(sid int) clvRow {
		r, ok := mart[ids[sid]]
		if !ok {
			t.Fatalf("sample id %d (master %s) not in mart_clv", sid, ids[sid])
		}
		return r
	}

	// (x, t_x, T) computed in SQL equal the published summary for everyone,
	// and E(Z | x, zbar) agrees with the published zbar (rounded to cents).
	round2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	bad := 0
	for sid, s := range sums {
		r := row(sid)
		if float64(r.x) != s.x || round2(r.recency) != s.tx || round2(r.t) != s.T {
			if bad++; bad <= 5 {
				t.Errorf("sample id %d: (x, t_x, T) = (%d, %.4f, %.4f), want (%v, %v, %v)", sid, r.x, r.recency, r.t, s.x, s.tx, s.T)
			}
		}
		if want := f.gg.ExpectedAvgValue(s.x, s.zbar); math.Abs(r.eav-want) > 0.01 {
			if bad++; bad <= 5 {
				t.Errorf("sample id %d: E(Z|x,zbar) = %.4f, want %.4f from the published zbar", sid, r.eav, want)
			}
		}
		if !r.asOf.Equal(time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("as_of = %v", r.asOf)
		}
	}

	// Sample ID 1: x=2, t_x=30.43, T=38.86.
	r1 := row(1)
	if r1.x != 2 || round2(r1.recency) != 30.43 || round2(r1.t) != 38.86 {
		t.Fatalf("sample id 1: %+v", r1)
	}
	near(t, "P(alive) ID 1", r1.pAlive, 0.7266, 0.0005)
	near(t, "E[Y(39)] ID 1", r1.pAlive*f.bg.ExpectedPurchasesIfAlive(39, 2, r1.t), 1.226, 0.001)

	// Quickstart top 5 by expected purchases in the next week.
	top5 := map[int]float64{1516: 0.710623, 157: 0.662396, 1981: 0.486526, 841: 0.474738, 509: 0.424877}
	for sid, want := range top5 {
		r := row(sid)
		near(t, fmt.Sprintf("E[Y(1)] ID %d", sid), r.pAlive*f.bg.ExpectedPurchasesIfAlive(1, float64(r.x), r.t), want, 0.001)
	}
	r1516 := row(1516)
	if r1516.x != 26 || round2(r1516.recency) != 30.86 || round2(r1516.t) != 31 {
		t.Errorf("sample id 1516: %+v", r1516)
	}

	// Hardie's E(Z | x, zbar) for sample IDs 1–10.
	for i, want := range []float64{24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17} {
		near(t, fmt.Sprintf("E(Z|x,zbar) ID %d", i+1), row(i+1).eav, want, 0.1)
	}

	// Every stored forecast follows from the stored parameters: P(alive),
	// E[Y(12 months)] and the monthly discounted sum, evaluated directly.
	m := 30.4375 / 7
	for sid := 1; sid <= 60; sid++ {
		r := row(sid)
		x := float64(r.x)
		nearRel(t, fmt.Sprintf("P(alive) ID %d", sid), r.pAlive, f.bg.PAlive(x, r.recency, r.t), 1e-12)
		nearRel(t, fmt.Sprintf("E[Y(12m)] ID %d", sid), r.expected, f.bg.ExpectedPurchases(12*m, x, r.recency, r.t), 1e-9)
		var sum, prev float64
		for k := 1; k <= 12; k++ {
			cur := f.bg.ExpectedPurchases(float64(k)*m, x, r.recency, r.t)
			sum += (cur - prev) / math.Pow(1.01, float64(k))
			prev = cur
		}
		nearRel(t, fmt.Sprintf("CLV ID %d", sid), r.clv, r.eav*sum, 1e-9)
	}
	t.Logf("sample id 1: %+v", r1)
	if n := clvCount(t, w, "SELECT count(*) FROM model_runs WHERE model = 'clv' AND status = 'ok' AND rows = 2357"); n != 1 {
		t.Errorf("model_runs: %d ok rows", n)
	}
}

// --- hand-computed fixture ---------------------------------------------------

func TestCLVModelFixture(t *testing.T) {
	w := clvWarehouse(t)
	clvLoadPayments(t, w, [][4]string{
		// A: two payments on Jan 1 (one purchase day), a zero-value day,
		// a repeat purchase, a refund (not a purchase, no effect on spend)
		// and a payment after the as-of date (ignored).
		{"A1", "A", "2024-01-01", "100.00"},
		{"A2", "A", "2024-01-01", "50.00"},
		{"A3", "A", "2024-01-15", "0.00"},
		{"A4", "A", "2024-02-12", "30.00"},
		{"A5", "A", "2024-02-20", "-40.00"},
		{"A6", "A", "2024-04-01", "500.00"},
		// B: one purchase on the as-of date (T = 0).
		{"B1", "B", "2024-03-31", "25.00"},
		// C: a repeat day with a refund and a purchase (the day counts, value 20).
		{"C1", "C", "2024-02-01", "10.00"},
		{"C2", "C", "2024-03-01", "-5.00"},
		{"C3", "C", "2024-03-01", "20.00"},
		// D: only a refund up to the as-of date: not a customer of mart_clv.
		{"D1", "D", "2024-01-10", "-20.00"},
		{"D2", "D", "2024-04-05", "80.00"},
		// E: two purchases a week apart.
		{"E1", "E", "2024-03-01", "12.00"},
		{"E2", "E", "2024-03-08", "18.00"},
	})
	type want struct {
		x             int64
		tx, T         float64 // days
		repeatValue   float64
		expectedAvgOK bool
	}
	wants := map[string]want{
		"A": {2, 42, 90, 30, true},
		"B": {0, 0, 0, 0, true},
		"C": {1, 29, 59, 20, true},
		"E": {1, 7, 30, 18, true},
	}
	for _, unit := range []struct {
		name string
		days float64
	}{{"day", 1}, {"week", 7}, {"month", 30.4375}, {"year", 365.25}} {
		res := clvRefresh(t, w, "2024-03-31", Settings{"time_unit": unit.name})
		if res.Status != "ok" || res.Rows != 4 {
			t.Fatalf("%s: run %+v", unit.name, res)
		}
		mart := clvMart(t, w)
		f := clvFits(t, w)
		if !f.hasBG {
			t.Fatalf("%s: no BG/NBD fit", unit.name)
		}
		if f.bgN != 3 {
			t.Errorf("%s: BG/NBD n = %d, want 3 (T = 0 is left out)", unit.name, f.bgN)
		}
		for id, wt := range wants {
			r, ok := mart[id]
			if !ok {
				t.Fatalf("%s: customer %s missing", unit.name, id)
			}
			if r.x != wt.x || r.recency != wt.tx/unit.days || r.t != wt.T/unit.days {
				t.Errorf("%s: %s: (x, t_x, T) = (%d, %v, %v), want (%d, %v, %v)", unit.name, id, r.x, r.recency, r.t, wt.x, wt.tx/unit.days, wt.T/unit.days)
			}
			if !(r.pAlive >= 0 && r.pAlive <= 1) || !(r.expected >= 0) {
				t.Errorf("%s: %s: p_alive %v, expected %v", unit.name, id, r.pAlive, r.expected)
			}
			if f.hasGG {
				zbar := 0.0
				if wt.x > 0 {
					zbar = wt.repeatValue / float64(wt.x)
				}
				nearRel(t, unit.name+": E(Z) "+id, r.eav, f.gg.ExpectedAvgValue(float64(wt.x), zbar), 1e-12)
			}
		}
		if len(mart) != 4 {
			t.Errorf("%s: mart_clv has %d rows", unit.name, len(mart))
		}
		if f.hasGG && f.ggN != 3 {
			t.Errorf("gamma_gamma n = %d", f.ggN)
		}
		if unit.name == "week" {
			t.Logf("fit %+v %+v; A %+v", f.bg, f.gg, mart["A"])
		}
	}

	// An as-of date at which nobody has repeated: no fit, empty mart, and
	// the previous refresh's parameters are gone.
	res := clvRefresh(t, w, "2024-01-14", nil)
	if res.Status != "ok" || res.Rows != 0 {
		t.Errorf("nobody repeats: run %+v", res)
	}
	if f := clvFits(t, w); f.params != 0 {
		t.Errorf("nobody repeats: model_fits still holds %d rows", f.params)
	}

	// Bad settings fail the refresh with a clear message.
	d := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	_, _, err := Refresh(context.Background(), w, RefreshOptions{AsOf: d, Models: []string{"clv"},
		Settings: map[string]Settings{"clv": {"time_unit": "fortnight"}}, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "time_unit") {
		t.Errorf("bad time_unit: err = %v", err)
	}
}

// --- absent entity -----------------------------------------------------------

func TestCLVModelNoPayments(t *testing.T) {
	w := clvWarehouse(t)
	res := clvRefresh(t, w, "2024-03-31", nil)
	if res.Status != "empty" || res.Rows != 0 || !strings.Contains(res.Message, "payments") {
		t.Errorf("run: %+v", res)
	}
	if n := clvCount(t, w, "SELECT count(*) FROM mart_clv"); n != 0 {
		t.Errorf("mart_clv has %d rows", n)
	}
	if n := clvCount(t, w, "SELECT count(*) FROM model_runs WHERE model = 'clv' AND status = 'empty'"); n != 1 {
		t.Errorf("model_runs: %d empty rows", n)
	}
	if n := clvCount(t, w, "SELECT count(*) FROM model_fits"); n != 0 {
		t.Errorf("model_fits has %d rows", n)
	}
}

// --- 1M customers ------------------------------------------------------------

// clvSynth inserts synthetic payments for n customers straight into the
// payments table, generated by the BG/NBD process: first purchases spread
// uniformly over the two years to 2024-12-31; purchase rate λ ~ Gamma(½,
// rate 50 days) (so r = 0.5, α = 50 days); after each repeat purchase the
// customer drops out with probability p ~ Beta(1, 3); repeat purchases are
// a Poisson process with rate λ (exponential gaps) until dropout or the end.
// Each customer has a mean spend; a payment is that mean × U(0.5, 1.5), and
// 1 in 40 is a zero-value payment, 1 in 40 a refund of 5 on top of the
// purchase. Deterministic: uniforms are hash(n)/2^64 with a distinct n per
// draw (DuckDB's hash(a, b) of consecutive b are correlated, so never that).
const clvSynth = `
INSERT INTO payments (payment_id, customer_id, paid_on, amount, currency)
WITH u AS (
    SELECT i,
           CAST(floor(hash(i * 16 + 1) / 18446744073709551616.0 * 730) AS INTEGER) AS first_off,
           1 - hash(i * 16 + 2) / 18446744073709551616.0 AS u2,
           hash(i * 16 + 3) / 18446744073709551616.0 AS u3,
           hash(i * 16 + 4) / 18446744073709551616.0 AS u4,
           1 - hash(i * 16 + 5) / 18446744073709551616.0 AS u5,
           hash(i * 16 + 6) / 18446744073709551616.0 AS u6
    FROM range($1) t(i)
), c AS (
    SELECT i, first_off, 730 - first_off AS span, 10 + 60 * u6 * u6 AS spend,
           -- λ = χ²₁ / 100 per day: Gamma(½, rate 50 days)
           greatest(1e-9, 0.01 * pow(sqrt(-2 * ln(u2)) * cos(2 * pi() * u3), 2)) AS rate,
           -- repeat purchases before dropout: shifted geometric with p ~ Beta(1, 3)
           1 + floor(ln(u5) / ln(greatest(1e-12, pow(1 - u4, 1.0 / 3)))) AS g
    FROM u
), e AS (
    SELECT i, first_off, span, spend, rate,
           -- candidates: at most g, and beyond the Poisson count's practical maximum
           unnest(range(1, CAST(least(g, 200, ceil(rate * span + 6 * sqrt(rate * span) + 6)) AS INTEGER) + 1)) AS k
    FROM c
), t AS (
    SELECT i, first_off, spend, k,
           sum(-ln(1 - hash((i * 256 + k) * 16 + 8) / 18446744073709551616.0) / rate) OVER (PARTITION BY i ORDER BY k) AS tk,
           span
    FROM e
), d AS (
    SELECT i, first_off, spend, 0 AS k, 0 AS day FROM c
    UNION ALL
    SELECT i, first_off, spend, k, CAST(floor(tk) AS INTEGER) FROM t WHERE tk < span
)
SELECT 'P' || i || '-' || k || '-' || j,
       'C' || i,
       DATE '2023-01-01' + first_off + day,
       CASE WHEN j = 1 THEN -5.00
            WHEN hash((i * 256 + k) * 16 + 9) % 40 = 1 THEN 0.00
            ELSE CAST(spend * (0.5 + hash((i * 256 + k) * 16 + 10) / 18446744073709551616.0) AS DECIMAL(18, 2)) END,
       NULL
FROM d, range(CASE WHEN hash((i * 256 + k) * 16 + 9) % 40 = 0 THEN 2 ELSE 1 END) r(j)`

// BenchmarkCLVModel1M runs the clv model on 1,000,000 synthetic customers.
func BenchmarkCLVModel1M(b *testing.B) {
	const customers = 1_000_000
	w, err := warehouse.Open(context.Background(), warehouse.Options{Path: filepath.Join(b.TempDir(), "w.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	if err := w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, clvSynth, customers)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	nPay := clvCount(b, w, "SELECT count(*) FROM payments")
	b.Logf("synthesised %d payments for %d customers in %v", nPay, customers, time.Since(start).Round(time.Millisecond))
	asOf := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	var res []RunResult
	for b.Loop() {
		_, res, err = Refresh(context.Background(), w, RefreshOptions{AsOf: asOf, Models: []string{"clv"}, Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(res[0].Elapsed.Seconds(), "clv-s")
	b.ReportMetric(float64(clvCount(b, w, "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, t FROM mart_clv)")), "groups")
	f := clvFits(b, w)
	b.Logf("clv: %d rows in %v; BG/NBD %+v; Gamma-Gamma %+v", res[0].Rows, res[0].Elapsed.Round(time.Millisecond), f.bg, f.gg)
}

func TestCLVSettings(t *testing.T) {
	c, err := clvSettings(nil)
	if err != nil || c.unit != "week" || c.unitDays != 7 || c.horizonMonths != 12 || c.discount != 0.01 {
		t.Errorf("defaults: %+v %v", c, err)
	}
	c, err = clvSettings(Settings{"time_unit": " Month ", "horizon_months": 24, "monthly_discount_rate": "0.02"})
	if err != nil || c.unitDays != 30.4375 || c.horizonMonths != 24 || c.discount != 0.02 {
		t.Errorf("month: %+v %v", c, err)
	}
	for _, s := range []Settings{
		{"time_unit": "fortnight"},
		{"horizon_months": 0},
		{"monthly_discount_rate": -1.0},
	} {
		if _, err := clvSettings(s); err == nil {
			t.Errorf("%v: no error", s)
		}
	}
}

// Zero-value purchases only: BG/NBD is fitted, Gamma-Gamma cannot be (no
// positive spend), so expected_avg_value and clv are NULL.
func TestCLVModelNoSpend(t *testing.T) {
	w := clvWarehouse(t)
	clvLoadPayments(t, w, [][4]string{
		{"A1", "A", "2024-01-01", "0.00"}, {"A2", "A", "2024-02-01", "0.00"}, {"A3", "A", "2024-03-01", "0.00"},
		{"B1", "B", "2024-01-15", "0.00"}, {"B2", "B", "2024-01-20", "0.00"},
		{"C1", "C", "2024-02-10", "0.00"},
	})
	res := clvRefresh(t, w, "2024-03-31", nil)
	if res.Status != "ok" || res.Rows != 3 {
		t.Fatalf("run: %+v", res)
	}
	f := clvFits(t, w)
	if !f.hasBG || f.hasGG {
		t.Errorf("fits: %+v", f)
	}
	if n := clvCount(t, w, "SELECT count(*) FROM mart_clv WHERE expected_avg_value IS NULL AND clv IS NULL AND p_alive BETWEEN 0 AND 1"); n != 3 {
		t.Errorf("%d rows with NULL spend", n)
	}
}

// When the spend model has no finite mean (q <= 1, as on the small demo
// company), the refresh says what it means for the figures in plain words;
// the model's reason ("population mean spend is infinite") and its
// parameters are at debug level only (issue 17 point 11).
func TestCLVOneTimeBuyersMessageIsPlain(t *testing.T) {
	w := smallDemoWarehouse(t, 1)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, res, err := Refresh(context.Background(), w, RefreshOptions{Models: []string{"clv"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	msg := ""
	for _, r := range res {
		msg += r.Message
	}
	if !strings.Contains(msg, "bought only once") {
		t.Fatalf("the small demo company's CLV run says %q: no plain word on one-time buyers (is q still <= 1 there?)", msg)
	}
	for _, jargon := range []string{"Gamma", "population mean", "infinite", "q ="} {
		if strings.Contains(msg, jargon) {
			t.Errorf("the run's message says %q: %s", jargon, msg)
		}
	}
	if !strings.Contains(logs.String(), "population mean spend") || !strings.Contains(logs.String(), "level=DEBUG") {
		t.Error("the technical reason is not logged at debug level")
	}
}
