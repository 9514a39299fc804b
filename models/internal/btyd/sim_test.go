package btyd

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// simulateCDNOWLike draws n customers from the BG/NBD with parameters m
// (α per week), with first purchases spread uniformly over the 90 days of a
// quarter and calibration ending on day 272 (as for CDNOW: 1997-01-01 to
// 1997-09-30). t_x and T are rounded to whole days and expressed in weeks,
// and identical (x, t_x, T) triples are grouped. Deterministic for a seed.
func simulateCDNOWLike(n int, m BGNBD, seed uint64) []Customer {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	lam := distuv.Gamma{Alpha: m.R, Beta: m.Alpha * 7, Src: src} // rate in days
	drop := distuv.Beta{Alpha: m.A, Beta: m.B, Src: src}
	type key struct{ x, tx, T int32 }
	groups := map[key]int{}
	var out []Customer
	for range n {
		first := rng.IntN(90)
		Tdays := 272 - first
		l, p := lam.Rand(), drop.Rand()
		x, tx, t := 0, 0.0, 0.0
		for {
			t += rng.ExpFloat64() / l
			if t > float64(Tdays) {
				break
			}
			x++
			tx = t
			if rng.Float64() < p {
				break
			}
		}
		k := key{int32(x), int32(math.Round(tx)), int32(Tdays)}
		if i, ok := groups[k]; ok {
			out[i].Count++
			continue
		}
		groups[k] = len(out)
		out = append(out, Customer{X: float64(x), Tx: float64(k.tx) / 7, T: float64(Tdays) / 7, Count: 1})
	}
	return out
}

func TestFitBGNBDRecoversSimulated(t *testing.T) {
	truth := BGNBD{R: 0.5, Alpha: 6, A: 0.8, B: 3}
	cs := simulateCDNOWLike(200_000, truth, 1)
	m, _, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d groups; fit %+v, truth %+v", len(cs), m, truth)
	// Day rounding of t_x biases slightly; the tolerances are a few
	// standard errors at this sample size.
	checkRel(t, "r", m.R, truth.R, 0.05)
	checkRel(t, "alpha", m.Alpha, truth.Alpha, 0.08)
	checkRel(t, "a", m.A, truth.A, 0.15)
	checkRel(t, "b", m.B, truth.B, 0.2)
}

// BenchmarkFitBGNBD1M fits 1,000,000 simulated customers, grouped by
// identical (x, t_x, T) triples with t_x and T in whole days. Simulation and
// grouping (done in SQL in production) are not timed.
func BenchmarkFitBGNBD1M(b *testing.B) {
	cs := simulateCDNOWLike(1_000_000, paperBG, 42)
	b.ReportMetric(float64(len(cs)), "groups")
	var m BGNBD
	for b.Loop() {
		var err error
		m, _, err = FitBGNBD(cs)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d groups; fit %+v (truth %+v)", len(cs), m, paperBG)
}

// BenchmarkCLV measures one 12-step CLV (12 conditional expectations).
func BenchmarkCLV(b *testing.B) {
	for b.Loop() {
		CLV(mleBG, mleGG, 2, 30.43, 38.86, 22.35, 12, 30, 0.01)
	}
}

// simulateSpends draws n customers from the Gamma-Gamma model g with x
// repeat transactions geometric-ish up to maxX, zbar rounded to cents.
func simulateSpends(n int, g GammaGamma, maxX int, seed uint64) []Spend {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	nu := distuv.Gamma{Alpha: g.Q, Beta: g.Gamma, Src: src}
	out := make([]Spend, 0, n)
	for range n {
		x := 1 + int(math.Min(float64(maxX-1), rng.ExpFloat64()*float64(maxX)/8))
		z := distuv.Gamma{Alpha: g.P * float64(x), Beta: nu.Rand() * float64(x), Src: src}.Rand()
		out = append(out, Spend{X: float64(x), Zbar: math.Max(0.01, math.Round(z*100)/100), Count: 1})
	}
	return out
}

// Heavy buyers with nearly constant spend per transaction (large p): the
// likelihood must be evaluated without cancellation for BFGS to converge.
func TestFitGammaGammaHeavyBuyers(t *testing.T) {
	truth := GammaGamma{P: 50, Q: 2.5, Gamma: 1}
	ss := simulateSpends(200_000, truth, 200, 7)
	g, _, err := FitGammaGamma(ss)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit %+v, truth %+v", g, truth)
	// p and γ are weakly identified separately (zbar of heavy buyers
	// barely varies within a customer); q and the mean spend are not.
	checkRel(t, "q", g.Q, truth.Q, 0.05)
	checkRel(t, "E(Z)", g.ExpectedAvgValue(0, 0), truth.ExpectedAvgValue(0, 0), 0.02)
	checkRel(t, "p", g.P, truth.P, 0.15)
	checkRel(t, "gamma", g.Gamma, truth.Gamma, 0.15)
}
