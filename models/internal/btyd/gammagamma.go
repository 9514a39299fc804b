package btyd

import (
	"errors"
	"fmt"
	"math"
)

// Spend is one customer's (or a group of identical customers') spend
// summary: X repeat transactions with mean value Zbar.
type Spend struct {
	X     float64 // number of repeat transactions x; rows with x = 0 are ignored
	Zbar  float64 // mean value of the x repeat transactions (> 0 when x > 0)
	Count int     // number of customers with this (x, zbar); must be ≥ 1
}

// GammaGamma holds the parameters of the Gamma-Gamma spend model: each
// transaction value is Gamma(P, ν) and ν ~ Gamma(Q, rate Gamma) across
// customers. The population mean spend is P·Gamma/(Q−1) for Q > 1.
type GammaGamma struct {
	P, Q, Gamma float64
}

// FitGammaGamma returns the maximum-likelihood Gamma-Gamma parameters for the
// customers in ss with x > 0 and the log-likelihood at them (see
// LogLikelihood). Rows with X = 0 are skipped, so all customers may be passed.
// It fails if no row has x > 0 or a row is invalid; if the optimiser does not
// converge the best parameters found are returned with an error wrapping
// ErrNotConverged.
func FitGammaGamma(ss []Spend) (GammaGamma, float64, error) {
	d, err := newGGData(ss)
	if err != nil {
		return GammaGamma{}, 0, err
	}
	if d.n == 0 {
		return GammaGamma{}, 0, errors.New("btyd: FitGammaGamma: no customers with repeat transactions (x > 0) and positive spend")
	}
	// Start at p = 1, q = 2 and γ = mean zbar (so the implied mean spend
	// pγ/(q−1) equals the observed one whatever the currency unit).
	theta0 := []float64{0, math.Log(2), math.Log(d.meanZ)}
	var g3 [3]float64
	obj := func(th, grad []float64) float64 {
		g := GammaGamma{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2])}
		ll := d.logLik(g, g3[:])
		p := [3]float64{g.P, g.Q, g.Gamma}
		for i := range grad {
			grad[i] = -g3[i] * p[i] / d.n
		}
		return -ll / d.n
	}
	th, err := minimizeLog(obj, theta0)
	if th == nil {
		return GammaGamma{}, 0, fmt.Errorf("btyd: FitGammaGamma: %w", err)
	}
	g := GammaGamma{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2])}
	ll := d.logLik(g, nil)
	if err != nil {
		return g, ll, fmt.Errorf("btyd: FitGammaGamma: %w", err)
	}
	return g, ll, nil
}

// LogLikelihood returns the Gamma-Gamma log-likelihood of the x > 0 rows of
// ss (weighted by Count) under g, or NaN if ss contains an invalid row. It is
// the full density of zbar (Fader & Hardie 2013, note 025, eq. 1a):
//
//	Γ(px+q)/(Γ(px)Γ(q)) · γ^q · x^(px) · zbar^(px−1) / (γ + x·zbar)^(px+q).
func (g GammaGamma) LogLikelihood(ss []Spend) float64 {
	d, err := newGGData(ss)
	if err != nil {
		return math.NaN()
	}
	return d.logLik(g, nil)
}

// ExpectedAvgValue returns E(Z | x, zbar), the expected mean transaction value
// of a customer with x repeat transactions of mean value zbar: a weighted
// average of the population mean pγ/(q−1) and zbar,
// p(γ + x·zbar)/(px + q − 1). For x = 0 it is the population mean.
func (g GammaGamma) ExpectedAvgValue(x, zbar float64) float64 {
	return g.P * (g.Gamma + x*zbar) / (g.P*x + g.Q - 1)
}

type ggData struct {
	xs, xw []float64 // distinct x and total weight
	xi     []int32   // per row: index into xs
	z, xz  []float64 // zbar and x·zbar per row
	w      []float64
	n      float64
	meanZ  float64
	// logZ is −Σ w·log zbar, the part of the log-likelihood that does not
	// depend on the parameters.
	logZ float64
}

func newGGData(ss []Spend) (*ggData, error) {
	d := &ggData{}
	xIndex := map[float64]int32{}
	var sumZ float64
	for i, s := range ss {
		switch {
		case s.Count < 1:
			return nil, fmt.Errorf("btyd: spend row %d: Count = %d, must be ≥ 1 (use 1 for ungrouped rows)", i, s.Count)
		case !(s.X >= 0) || math.IsInf(s.X, 0):
			return nil, fmt.Errorf("btyd: spend row %d: X = %v, must be finite and ≥ 0", i, s.X)
		case s.X == 0:
			continue
		case !(s.Zbar > 0) || math.IsInf(s.Zbar, 0):
			return nil, fmt.Errorf("btyd: spend row %d: Zbar = %v with X = %v, must be finite and > 0 (the model needs positive values)", i, s.Zbar, s.X)
		}
		w := float64(s.Count)
		j, ok := xIndex[s.X]
		if !ok {
			j = int32(len(d.xs))
			xIndex[s.X] = j
			d.xs = append(d.xs, s.X)
			d.xw = append(d.xw, 0)
		}
		d.xw[j] += w
		d.xi = append(d.xi, j)
		d.z = append(d.z, s.Zbar)
		d.xz = append(d.xz, s.X*s.Zbar)
		d.logZ -= w * math.Log(s.Zbar)
		d.w = append(d.w, w)
		d.n += w
		sumZ += w * s.Zbar
	}
	if d.n > 0 {
		d.meanZ = sumZ / d.n
	}
	return d, nil
}

// logLik returns the log-likelihood under g and, if grad is non-nil, its
// gradient with respect to (p, q, γ).
func (d *ggData) logLik(g GammaGamma, grad []float64) float64 {
	p, q, gm := g.P, g.Q, g.Gamma
	if !(p > 0 && q > 0 && gm > 0) {
		return math.NaN()
	}
	var ll, gp, gq, gg float64
	// The density is rearranged so that no large terms cancel (the direct
	// form subtracts terms of order px·log(x·zbar), which for heavy buyers
	// leaves rounding noise in the likelihood above the decrease a line
	// search needs near the optimum): with u = x·zbar,
	//
	//	log f = [log Γ(px+q) − log Γ(px) − log Γ(q)] − log zbar
	//	        − px·log1p(γ/u) − q·log1p(u/γ).
	//
	// Per distinct x: log Γ(px+q) − log Γ(px) − log Γ(q), the log-gamma
	// difference evaluated without cancellation for large px.
	dp := make([]float64, len(d.xs)) // ψ(px+q) − ψ(px)
	dq := make([]float64, len(d.xs)) // ψ(px+q) − ψ(q)
	lgq := lgamma(q)
	for i, x := range d.xs {
		px := p * x
		ll += d.xw[i] * (lgammaDiff(px, q) - lgq)
		if grad != nil {
			dp[i] = digammaDiff(px, q)
			dq[i] = digammaDiff(q, px)
		}
	}
	// Per row: −px·log1p(γ/u) − q·log1p(u/γ).
	var rows float64
	for k, w := range d.w {
		j := d.xi[k]
		x, u := d.xs[j], d.xz[k]
		l1 := math.Log1p(gm / u)
		l2 := math.Log1p(u / gm)
		rows -= w * (p*x*l1 + q*l2)
		if grad != nil {
			gp += w * x * (dp[j] - l1)
			gq += w * (dq[j] - l2)
			gg += w * (q*u - p*x*gm) / (gm * (gm + u))
		}
	}
	ll += rows + d.logZ
	if grad != nil {
		grad[0], grad[1], grad[2] = gp, gq, gg
	}
	return ll
}
