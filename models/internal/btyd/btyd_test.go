package btyd

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

// Reference values: see testdata/README.md.
var (
	paperBG = BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	// Full-precision MLE re-derived from the test data (scipy).
	mleBG   = BGNBD{R: 0.242593, Alpha: 4.413532, A: 0.792886, B: 2.425754}
	mleBGLL = -9582.4256
	paperGG = GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	mleGG   = GammaGamma{P: 6.248803, Q: 3.744588, Gamma: 15.447747}
	mleGGLL = -4055.9232
)

type cdnowRow struct {
	id           int
	x, tx, T, zb float64
}

func readCSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
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

func atof(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// loadSummary reads cdnow_customers_summary.csv (ID,frequency,recency,T).
func loadSummary(t testing.TB) []cdnowRow {
	var rows []cdnowRow
	for _, r := range readCSV(t, "cdnow_customers_summary.csv") {
		rows = append(rows, cdnowRow{id: int(atof(t, r[0])), x: atof(t, r[1]), tx: atof(t, r[2]), T: atof(t, r[3])})
	}
	if len(rows) != 2357 {
		t.Fatalf("got %d rows, want 2357", len(rows))
	}
	return rows
}

// loadWithTx reads cdnow_customers_summary_with_transactions.csv (ID,x,t_x,T,zbar).
func loadWithTx(t testing.TB) []cdnowRow {
	var rows []cdnowRow
	for _, r := range readCSV(t, "cdnow_customers_summary_with_transactions.csv") {
		rows = append(rows, cdnowRow{id: int(atof(t, r[0])), x: atof(t, r[1]), tx: atof(t, r[2]), T: atof(t, r[3]), zb: atof(t, r[4])})
	}
	if len(rows) != 2357 {
		t.Fatalf("got %d rows, want 2357", len(rows))
	}
	return rows
}

func customers(rows []cdnowRow, timeScale float64) []Customer {
	cs := make([]Customer, len(rows))
	for i, r := range rows {
		cs[i] = Customer{X: r.x, Tx: r.tx * timeScale, T: r.T * timeScale, Count: 1}
	}
	return cs
}

func spends(rows []cdnowRow) []Spend {
	var ss []Spend
	for _, r := range rows {
		if r.x > 0 {
			ss = append(ss, Spend{X: r.x, Zbar: r.zb, Count: 1})
		}
	}
	return ss
}

// groupCustomers merges identical (x, t_x, T) triples, as the SQL caller does.
func groupCustomers(cs []Customer) []Customer {
	type key struct{ x, tx, T float64 }
	idx := map[key]int{}
	var out []Customer
	for _, c := range cs {
		k := key{c.X, c.Tx, c.T}
		if i, ok := idx[k]; ok {
			out[i].Count += c.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, c)
	}
	return out
}

func relErr(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

func checkRel(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if !(relErr(got, want) <= tol) {
		t.Errorf("%s = %.8g, want %.8g (rel err %.2g > %.2g)", name, got, want, relErr(got, want), tol)
	}
}

func checkAbs(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.8g, want %.8g ± %.2g", name, got, want, tol)
	}
}

func TestFitBGNBDCDNOW(t *testing.T) {
	rows := loadSummary(t)
	var sumX float64
	for _, r := range rows {
		sumX += r.x
	}
	// The BG/NBD is scale-equivariant: in days α is 7× larger and the LL
	// drops by Σx·log 7 (the Jacobian of the purchase-time density).
	for _, tc := range []struct {
		unit  string
		scale float64
	}{{"weeks", 1}, {"days", 7}, {"years", 1 / 52.0}} {
		t.Run(tc.unit, func(t *testing.T) {
			m, ll, err := FitBGNBD(customers(rows, tc.scale))
			if err != nil {
				t.Fatal(err)
			}
			ll += sumX * math.Log(tc.scale)
			m.Alpha /= tc.scale
			t.Logf("r=%.6f α=%.6f a=%.6f b=%.6f LL=%.4f", m.R, m.Alpha, m.A, m.B, ll)
			// Published values (Fader, Hardie & Lee 2005), within 0.5%.
			checkRel(t, "r", m.R, paperBG.R, 0.005)
			checkRel(t, "alpha", m.Alpha, paperBG.Alpha, 0.005)
			checkRel(t, "a", m.A, paperBG.A, 0.005)
			checkRel(t, "b", m.B, paperBG.B, 0.005)
			checkAbs(t, "LL", ll, -9582.4, 0.1)
			// Full-precision MLE.
			checkRel(t, "r (MLE)", m.R, mleBG.R, 2e-4)
			checkRel(t, "alpha (MLE)", m.Alpha, mleBG.Alpha, 2e-4)
			checkRel(t, "a (MLE)", m.A, mleBG.A, 2e-4)
			checkRel(t, "b (MLE)", m.B, mleBG.B, 2e-4)
			checkAbs(t, "LL (MLE)", ll, mleBGLL, 1e-3)
		})
	}
}

func TestBGNBDLogLikelihoodAtPaperParams(t *testing.T) {
	cs := customers(loadSummary(t), 1)
	checkAbs(t, "LL(paper)", paperBG.LogLikelihood(cs), -9582.4268, 1e-3)
	checkAbs(t, "LL(mle)", mleBG.LogLikelihood(cs), mleBGLL, 1e-3)
}

func TestFitBGNBDGrouping(t *testing.T) {
	cs := customers(loadSummary(t), 1)
	grouped := groupCustomers(cs)
	if len(grouped) >= len(cs) {
		t.Fatalf("grouping did not merge anything: %d rows", len(grouped))
	}
	m1, ll1, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	m2, ll2, err := FitBGNBD(grouped)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows → %d groups", len(cs), len(grouped))
	checkRel(t, "r", m2.R, m1.R, 1e-6)
	checkRel(t, "alpha", m2.Alpha, m1.Alpha, 1e-6)
	checkRel(t, "a", m2.A, m1.A, 1e-6)
	checkRel(t, "b", m2.B, m1.B, 1e-6)
	checkAbs(t, "LL", ll2, ll1, 1e-6)
	checkAbs(t, "LogLikelihood", m1.LogLikelihood(grouped), m1.LogLikelihood(cs), 1e-6)
}

func TestBGNBDGradient(t *testing.T) {
	cs := customers(loadSummary(t), 1)
	d, err := newBGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []BGNBD{mleBG, {0.5, 2, 1.5, 0.7}, {1, 10, 1, 1}} {
		g := make([]float64, 4)
		d.logLik(m, g)
		p := []float64{m.R, m.Alpha, m.A, m.B}
		for i := range p {
			h := 1e-6 * p[i]
			up, dn := append([]float64(nil), p...), append([]float64(nil), p...)
			up[i] += h
			dn[i] -= h
			fd := (d.logLik(BGNBD{up[0], up[1], up[2], up[3]}, nil) - d.logLik(BGNBD{dn[0], dn[1], dn[2], dn[3]}, nil)) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-4*math.Max(1, math.Abs(fd)) {
				t.Errorf("%+v: dLL/dp[%d] = %g, finite difference %g", m, i, g[i], fd)
			}
		}
	}
}

func TestExpectedPurchases(t *testing.T) {
	// Hardie's Excel sheet / R BTYD: E[Y(39) | 2, 30.43, 38.86] = 1.226.
	checkAbs(t, "E[Y(39)|2,30.43,38.86] paper", paperBG.ExpectedPurchases(39, 2, 30.43, 38.86), 1.226, 0.001)
	checkAbs(t, "E[Y(39)|2,30.43,38.86] mle", mleBG.ExpectedPurchases(39, 2, 30.43, 38.86), 1.2259, 1e-4)
	checkAbs(t, "E[Y(0)]", mleBG.ExpectedPurchases(0, 2, 30.43, 38.86), 0, 0)
	if v := mleBG.ExpectedPurchases(-1, 2, 30.43, 38.86); !math.IsNaN(v) {
		t.Errorf("E[Y(-1)] = %v, want NaN", v)
	}
}

func TestExpectedPurchasesMatchesDirectFormula(t *testing.T) {
	// Compare the Euler-transformed, cancellation-free form against the
	// textbook eq. 10 evaluated with gonum's 2F1, where the latter is
	// well conditioned.
	// {0.5, 3, 800, 5} overflows the Euler form and uses the direct series.
	for _, m := range []BGNBD{mleBG, {0.5, 10, 2.5, 4}, {2, 3, 1.0000001, 1.5}, {0.3, 5, 0.4, 0.3}, {0.5, 3, 800, 5}} {
		for _, c := range []struct{ t, x, tx, T float64 }{
			{1, 0, 0, 30}, {39, 2, 30.43, 38.86}, {52, 26, 30.86, 31}, {10, 5, 20, 38}, {100, 1, 3, 35}, {0.01, 3, 10, 12},
		} {
			r, al, a, b := m.R, m.Alpha, m.A, m.B
			z := c.t / (al + c.T + c.t)
			h := mathext.Hypergeo(r+c.x, b+c.x, a+b+c.x-1, z)
			num := (a + b + c.x - 1) / (a - 1) * (1 - math.Pow((al+c.T)/(al+c.T+c.t), r+c.x)*h)
			den := 1.0
			if c.x > 0 {
				den += a / (b + c.x - 1) * math.Pow((al+c.T)/(al+c.tx), r+c.x)
			}
			want := num / den
			got := m.ExpectedPurchases(c.t, c.x, c.tx, c.T)
			tol := 1e-8
			if math.Abs(a-1) < 1e-3 {
				tol = 1e-3 // the direct formula cancels catastrophically
			}
			if relErr(got, want) > tol {
				t.Errorf("%+v %+v: got %.12g, direct formula %.12g", m, c, got, want)
			}
		}
	}
}

func TestExpectedPurchasesLimits(t *testing.T) {
	// a = 1 exactly is a removable singularity.
	m := BGNBD{R: 0.5, Alpha: 5, A: 1, B: 2}
	v := m.ExpectedPurchases(20, 3, 10, 30)
	near := BGNBD{R: 0.5, Alpha: 5, A: 1 + 1e-9, B: 2}.ExpectedPurchases(20, 3, 10, 30)
	if !isFinite(v) || relErr(v, near) > 1e-7 {
		t.Errorf("a=1: %v, a=1+1e-9: %v", v, near)
	}
	// Heavy buyers and long horizons stay finite and increasing.
	prev := 0.0
	for _, tt := range []float64{1, 10, 100, 1000, 10000} {
		v := mleBG.ExpectedPurchases(tt, 500, 38, 39)
		if !isFinite(v) || v <= prev {
			t.Errorf("E[Y(%v)|500,38,39] = %v (previous %v)", tt, v, prev)
		}
		prev = v
	}
	// Small t: E[Y(t)] ≈ t · (r+x)/(α+T) · P(alive).
	tt := 1e-6
	got := mleBG.ExpectedPurchases(tt, 2, 30.43, 38.86)
	want := tt * (mleBG.R + 2) / (mleBG.Alpha + 38.86) * mleBG.PAlive(2, 30.43, 38.86)
	checkRel(t, "small t", got, want, 1e-5)
}

func TestPAlive(t *testing.T) {
	checkAbs(t, "P(alive|2,30.43,38.86)", mleBG.PAlive(2, 30.43, 38.86), 0.7266, 1e-4)
	checkAbs(t, "P(alive|0,...)", mleBG.PAlive(0, 0, 38.86), 1, 0)
	for _, c := range []struct{ x, tx, T float64 }{{1, 0.1, 39}, {50, 1, 39}, {10, 39, 39}} {
		if p := mleBG.PAlive(c.x, c.tx, c.T); !(p >= 0 && p <= 1) {
			t.Errorf("PAlive%+v = %v", c, p)
		}
	}
}

func TestExpectedX(t *testing.T) {
	for _, c := range []struct{ t, want float64 }{
		{0.1429, 0.0078}, {1, 0.0532}, {3, 0.1506}, {31.8571, 1.0405}, {32, 1.0437}, {78, 1.8576},
	} {
		// "3 decimals": E[X(78)] is 1.8580 at the MLE against 1.8576.
		checkAbs(t, "E[X("+strconv.FormatFloat(c.t, 'g', -1, 64)+")]", mleBG.ExpectedX(c.t), c.want, 0.0005)
	}
	checkAbs(t, "E[X(0)]", mleBG.ExpectedX(0), 0, 0)
}

func TestProbXEquals(t *testing.T) {
	// R BTYD, with the paper's parameters.
	checkRel(t, "P(X(2)=10)", paperBG.ProbXEquals(10, 2), 1.07869e-07, 1e-5)
	checkRel(t, "P(X(39)=0)", paperBG.ProbXEquals(0, 39), 0.5737864, 1e-6)
	want := []float64{0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
		0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260}
	for i, w := range want {
		n := 11 + i
		checkRel(t, "P(X(30)="+strconv.Itoa(n)+")", paperBG.ProbXEquals(n, 30), w, 1e-6)
	}
	// The pmf sums to 1 and its mean is E[X(t)].
	var sum, mean float64
	for n := 0; n < 5000; n++ {
		p := paperBG.ProbXEquals(n, 30)
		sum += p
		mean += float64(n) * p
	}
	checkAbs(t, "Σ P(X(30)=n)", sum, 1, 1e-9)
	checkRel(t, "Σ n P(X(30)=n)", mean, paperBG.ExpectedX(30), 1e-7)
	checkAbs(t, "P(X(0)=0)", paperBG.ProbXEquals(0, 0), 1, 0)
	checkAbs(t, "P(X(0)=1)", paperBG.ProbXEquals(1, 0), 0, 0)
	checkAbs(t, "P(X(5)=-1)", paperBG.ProbXEquals(-1, 5), 0, 0)
}

func TestQuickstartTopFive(t *testing.T) {
	m, _, err := FitBGNBD(customers(loadSummary(t), 1))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]cdnowRow{}
	for _, r := range loadSummary(t) {
		byID[r.id] = r
	}
	for _, c := range []struct {
		id   int
		want float64
	}{{1516, 0.710623}, {157, 0.662396}, {1981, 0.486526}, {841, 0.474738}, {509, 0.424877}} {
		r := byID[c.id]
		checkAbs(t, "E[Y(1)] ID "+strconv.Itoa(c.id), m.ExpectedPurchases(1, r.x, r.tx, r.T), c.want, 1e-3)
		checkAbs(t, "E[Y(1)] ID "+strconv.Itoa(c.id)+" (reference MLE)", mleBG.ExpectedPurchases(1, r.x, r.tx, r.T), c.want, 2e-6)
	}
}

func TestFitGammaGammaCDNOW(t *testing.T) {
	rows := loadWithTx(t)
	ss := spends(rows)
	if len(ss) != 946 {
		t.Fatalf("%d repeat buyers, want 946", len(ss))
	}
	g, ll, err := FitGammaGamma(ss)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("p=%.6f q=%.6f γ=%.6f LL=%.4f", g.P, g.Q, g.Gamma, ll)
	checkRel(t, "p", g.P, paperGG.P, 0.005)
	checkRel(t, "q", g.Q, paperGG.Q, 0.005)
	checkRel(t, "gamma", g.Gamma, paperGG.Gamma, 0.005)
	checkAbs(t, "LL", ll, -4055.92, 0.01)
	checkRel(t, "p (MLE)", g.P, mleGG.P, 2e-4)
	checkRel(t, "q (MLE)", g.Q, mleGG.Q, 2e-4)
	checkRel(t, "gamma (MLE)", g.Gamma, mleGG.Gamma, 2e-4)
	checkAbs(t, "LL (MLE)", ll, mleGGLL, 1e-3)
	checkAbs(t, "LL at paper params", paperGG.LogLikelihood(ss), -4055.9247, 1e-3)

	// Passing everyone (x = 0 rows are skipped) and grouping change nothing.
	var all []Spend
	for _, r := range rows {
		all = append(all, Spend{X: r.x, Zbar: r.zb, Count: 1})
	}
	g2, ll2, err := FitGammaGamma(groupSpends(all))
	if err != nil {
		t.Fatal(err)
	}
	checkRel(t, "p grouped", g2.P, g.P, 1e-6)
	checkRel(t, "q grouped", g2.Q, g.Q, 1e-6)
	checkRel(t, "gamma grouped", g2.Gamma, g.Gamma, 1e-6)
	checkAbs(t, "LL grouped", ll2, ll, 1e-6)
}

func groupSpends(ss []Spend) []Spend {
	type key struct{ x, z float64 }
	idx := map[key]int{}
	var out []Spend
	for _, s := range ss {
		k := key{s.X, s.Zbar}
		if i, ok := idx[k]; ok {
			out[i].Count += s.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, s)
	}
	return out
}

func TestGammaGammaGradient(t *testing.T) {
	d, err := newGGData(spends(loadWithTx(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []GammaGamma{mleGG, {1, 2, 30}, {0.5, 0.8, 3}} {
		gr := make([]float64, 3)
		d.logLik(g, gr)
		p := []float64{g.P, g.Q, g.Gamma}
		for i := range p {
			h := 1e-6 * p[i]
			up, dn := append([]float64(nil), p...), append([]float64(nil), p...)
			up[i] += h
			dn[i] -= h
			fd := (d.logLik(GammaGamma{up[0], up[1], up[2]}, nil) - d.logLik(GammaGamma{dn[0], dn[1], dn[2]}, nil)) / (2 * h)
			if math.Abs(fd-gr[i]) > 1e-4*math.Max(1, math.Abs(fd)) {
				t.Errorf("%+v: dLL/dp[%d] = %g, finite difference %g", g, i, gr[i], fd)
			}
		}
	}
}

// First ten customers of cdnow_customers_summary_with_transactions.csv:
// lifetimes Quickstart values.
var (
	quickstartAvgValue = []float64{24.658619, 18.911489, 35.170981, 35.170981, 35.170981,
		71.462843, 18.911489, 35.170981, 27.282408, 35.170981}
	quickstartCLV = []float64{140.096211, 18.943467, 38.180574, 38.180574, 38.180574,
		1003.868107, 28.109683, 38.180574, 167.418216, 38.180574}
)

func TestExpectedAvgValue(t *testing.T) {
	rows := loadWithTx(t)
	g, _, err := FitGammaGamma(spends(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range quickstartAvgValue {
		r := rows[i]
		checkAbs(t, "E(Z) ID "+strconv.Itoa(r.id), g.ExpectedAvgValue(r.x, r.zb), want, 0.01)
	}
	// Population mean for x = 0: pγ/(q−1).
	checkRel(t, "E(Z|x=0)", g.ExpectedAvgValue(0, 0), g.P*g.Gamma/(g.Q-1), 1e-15)
}

func TestCLV(t *testing.T) {
	bg, _, err := FitBGNBD(customers(loadSummary(t), 1))
	if err != nil {
		t.Fatal(err)
	}
	rows := loadWithTx(t)
	gg, _, err := FitGammaGamma(spends(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range quickstartCLV {
		r := rows[i]
		// lifetimes' time=12 months with freq "D": steps of 30 in the data's
		// unit (weeks), discounted 1% per step.
		got := CLV(bg, gg, r.x, r.tx, r.T, r.zb, 12, 30, 0.01)
		checkRel(t, "CLV ID "+strconv.Itoa(r.id), got, want, 0.001)
		// At the reference MLE the agreement is much tighter.
		gotRef := CLV(mleBG, mleGG, r.x, r.tx, r.T, r.zb, 12, 30, 0.01)
		checkRel(t, "CLV ID "+strconv.Itoa(r.id)+" (reference MLE)", gotRef, want, 1e-5)
	}
	checkAbs(t, "CLV 0 steps", CLV(bg, gg, 2, 30, 38, 20, 0, 30, 0.01), 0, 0)
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cs   []Customer
		want string
	}{
		{"empty", nil, "no customers"},
		{"no repeaters", []Customer{{0, 0, 30, 5}, {0, 0, 20, 1}}, "no repeat purchasers"},
		{"zero count", []Customer{{1, 3, 30, 0}}, "Count"},
		{"tx > T", []Customer{{1, 31, 30, 1}}, "Tx"},
		{"fractional x", []Customer{{1.5, 3, 30, 1}}, "whole number"},
		{"NaN T", []Customer{{1, 3, math.NaN(), 1}}, "T ="},
	} {
		_, _, err := FitBGNBD(c.cs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		ss   []Spend
		want string
	}{
		{"empty", nil, "no customers with repeat"},
		{"only x=0", []Spend{{0, 0, 3}}, "no customers with repeat"},
		{"zero spend", []Spend{{2, 0, 1}}, "Zbar"},
		{"zero count", []Spend{{2, 10, 0}}, "Count"},
	} {
		_, _, err := FitGammaGamma(c.ss)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", c.name, err, c.want)
		}
	}
	if ll := mleBG.LogLikelihood([]Customer{{1, 5, 3, 1}}); !math.IsNaN(ll) {
		t.Errorf("LogLikelihood of invalid data = %v, want NaN", ll)
	}
}

// Degenerate but valid data push the MLE to the boundary of the parameter
// space. The fits must return promptly, either converged or with
// ErrNotConverged, and predictions at the returned parameters stay finite.
func TestFitDegenerate(t *testing.T) {
	for _, c := range []struct {
		name string
		cs   []Customer
	}{
		{"single group", []Customer{{2, 5, 10, 100}}},
		{"nobody drops out", []Customer{{2, 10, 10, 5}, {3, 10, 10, 5}, {1, 10, 10, 3}}},
		{"one repeater", []Customer{{0, 0, 39, 100000}, {1, 2, 39, 1}}},
		{"three customers", []Customer{{1, 5, 10, 1}, {0, 0, 10, 1}, {3, 9, 10, 1}}},
	} {
		m, ll, err := FitBGNBD(c.cs)
		if err != nil && !errors.Is(err, ErrNotConverged) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		c0 := c.cs[0]
		for _, v := range []float64{ll, m.ExpectedPurchases(10, c0.X, c0.Tx, c0.T), m.PAlive(c0.X, c0.Tx, c0.T), m.ExpectedX(10)} {
			if !isFinite(v) {
				t.Errorf("%s: %+v (err %v): non-finite output %v", c.name, m, err, v)
			}
		}
	}
	for _, c := range []struct {
		name string
		ss   []Spend
	}{
		{"one customer", []Spend{{2, 10, 1}}},
		{"no spread", []Spend{{2, 10, 50}, {3, 10, 50}}},
		{"two customers", []Spend{{1, 10, 1}, {2, 30, 1}}},
	} {
		g, ll, err := FitGammaGamma(c.ss)
		if err != nil && !errors.Is(err, ErrNotConverged) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !isFinite(ll) || !isFinite(g.ExpectedAvgValue(2, 10)) {
			t.Errorf("%s: %+v ll=%v: non-finite output", c.name, g, ll)
		}
	}
}

func TestSpecialFunctionDiffs(t *testing.T) {
	for _, s := range []float64{20, 25.5, 100, 1e4, 1e9} {
		for _, x := range []float64{1, 2, 7, 30, 1000} {
			// Reference: Σ log(s+k) (x whole) and Σ 1/(s+k).
			var wantL, wantP float64
			for k := 0.0; k < x; k++ {
				wantL += math.Log(s + k)
				wantP += 1 / (s + k)
			}
			if relErr(lgammaDiff(s, x), wantL) > 1e-13 {
				t.Errorf("lgammaDiff(%v,%v) = %.17g, want %.17g", s, x, lgammaDiff(s, x), wantL)
			}
			if relErr(digammaDiff(s, x), wantP) > 1e-12 {
				t.Errorf("digammaDiff(%v,%v) = %.17g, want %.17g", s, x, digammaDiff(s, x), wantP)
			}
		}
	}
	for _, c := range []struct{ s, x float64 }{{0.3, 2.5}, {5, 0.7}, {19.9, 3.3}} {
		want := lgamma(c.s+c.x) - lgamma(c.s)
		checkRel(t, "lgammaDiff small", lgammaDiff(c.s, c.x), want, 1e-14)
		checkRel(t, "digammaDiff small", digammaDiff(c.s, c.x), mathext.Digamma(c.s+c.x)-mathext.Digamma(c.s), 1e-13)
	}
	// Continuity across the switch at s = 20.
	checkRel(t, "lgammaDiff(20-)", lgammaDiff(math.Nextafter(20, 0), 3.7), lgammaDiff(20, 3.7), 1e-13)
	checkRel(t, "digammaDiff(20-)", digammaDiff(math.Nextafter(20, 0), 3.7), digammaDiff(20, 3.7), 1e-13)
}

// The factorised forecast (P(alive) × the t_x-free part) equals the direct
// conditional expectation and CLV.
func TestFactorisedForecast(t *testing.T) {
	for _, r := range loadWithTx(t) {
		if r.id > 300 {
			break
		}
		pa := mleBG.PAlive(r.x, r.tx, r.T)
		for _, h := range []float64{1, 39, 52.18} {
			checkRel(t, "E[Y]", pa*mleBG.ExpectedPurchasesIfAlive(h, r.x, r.T), mleBG.ExpectedPurchases(h, r.x, r.tx, r.T), 1e-12)
		}
		step := 30.4375 / 7
		disc, total := mleBG.DiscountedPurchasesIfAlive(r.x, r.T, 12, step, 0.01)
		checkRel(t, "total", pa*total, mleBG.ExpectedPurchases(12*step, r.x, r.tx, r.T), 1e-12)
		checkRel(t, "CLV", mleGG.ExpectedAvgValue(r.x, r.zb)*pa*disc, CLV(mleBG, mleGG, r.x, r.tx, r.T, r.zb, 12, step, 0.01), 1e-12)
	}
	if d, tot := mleBG.DiscountedPurchasesIfAlive(1, 10, 0, 4, 0.01); d != 0 || tot != 0 {
		t.Errorf("0 steps: %v %v", d, tot)
	}
}
