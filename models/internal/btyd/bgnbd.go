package btyd

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mathext"
)

// Customer is one customer's (or a group of identical customers') purchase
// summary over the calibration period.
type Customer struct {
	X     float64 // number of repeat transactions x (a whole number ≥ 0)
	Tx    float64 // recency t_x: time of the last purchase since the first (0 when x = 0)
	T     float64 // age T: time from the first purchase to the end of calibration (≥ t_x)
	Count int     // number of customers with this (x, t_x, T); must be ≥ 1
}

// BGNBD holds the parameters of the BG/NBD model: transaction rates
// λ ~ Gamma(shape R, rate Alpha) and dropout probabilities p ~ Beta(A, B).
// Alpha is in the time unit of the data.
type BGNBD struct {
	R, Alpha, A, B float64
}

// FitBGNBD returns the maximum-likelihood BG/NBD parameters for cs and the
// log-likelihood at them (the lifetimes / Fader-Hardie-Lee form, without
// the constant Σ log x!). It fails if there are no customers, if nobody
// made a repeat purchase (dropout is then not identified), or if a row is
// invalid. If the optimiser does not converge the best parameters found are
// returned with an error wrapping ErrNotConverged.
func FitBGNBD(cs []Customer) (BGNBD, float64, error) {
	d, err := newBGData(cs)
	if err != nil {
		return BGNBD{}, 0, err
	}
	if d.n == 0 {
		return BGNBD{}, 0, errors.New("btyd: FitBGNBD: no customers")
	}
	if d.nRepeat == 0 {
		return BGNBD{}, 0, errors.New("btyd: FitBGNBD: no repeat purchasers (every customer has x = 0), so the purchase and dropout processes cannot be estimated")
	}
	// Start at r = a = b = 1 and α at the data's time scale, so the start
	// does not depend on the time unit.
	theta0 := []float64{0, math.Log(d.meanT / 8), 0, 0}
	th, err := minimizeLog(d.objective(), theta0)
	if th == nil {
		return BGNBD{}, 0, fmt.Errorf("btyd: FitBGNBD: %w", err)
	}
	m := BGNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
	ll := d.logLik(m, nil)
	if err != nil {
		return m, ll, fmt.Errorf("btyd: FitBGNBD: %w", err)
	}
	return m, ll, nil
}

// objective is the negative mean log-likelihood over log-parameters.
func (d *bgData) objective() logObjective {
	var g4 [4]float64
	return func(th, grad []float64) float64 {
		m := BGNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		ll := d.logLik(m, g4[:])
		p := [4]float64{m.R, m.Alpha, m.A, m.B}
		for i := range grad {
			grad[i] = -g4[i] * p[i] / d.n
		}
		return -ll / d.n
	}
}

// LogLikelihood returns the BG/NBD log-likelihood of cs (weighted by Count)
// under m, or NaN if cs contains an invalid row.
func (m BGNBD) LogLikelihood(cs []Customer) float64 {
	d, err := newBGData(cs)
	if err != nil {
		return math.NaN()
	}
	return d.logLik(m, nil)
}

// PAlive returns P(alive | x, t_x, T), the probability that a customer with
// this history has not yet dropped out at T.
func (m BGNBD) PAlive(x, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	return 1 / (1 + m.deadOdds(x, tx, T))
}

// deadOdds is a/(b+x−1)·((α+T)/(α+t_x))^(r+x), the odds of having dropped
// out after the last purchase versus being alive (x > 0).
func (m BGNBD) deadOdds(x, tx, T float64) float64 {
	return math.Exp(math.Log(m.A) - math.Log(m.B+x-1) +
		(m.R+x)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx)))
}

// ExpectedPurchases returns E[Y(t) | x, t_x, T], the expected number of
// transactions in the next t time units of a customer with history
// (x, t_x, T) (Fader, Hardie & Lee 2005, eq. 10). It returns NaN for t < 0
// or where the hypergeometric series cannot be summed (t ≫ α+T, beyond
// z = t/(α+T+t) ≈ 0.99996).
func (m BGNBD) ExpectedPurchases(t, x, tx, T float64) float64 {
	if t == 0 {
		return 0
	}
	if !(t > 0) {
		return math.NaN()
	}
	v := m.unconditionalPart(t, x, T)
	if x > 0 {
		v /= 1 + m.deadOdds(x, tx, T)
	}
	return v
}

// unconditionalPart is
//
//	(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)]
//
// with z = t/(α+T+t). By Euler's transformation 2F1(A',B';C;z) =
// (1−z)^(C−A'−B') 2F1(C−A', C−B'; C; z) (the alternative formula lifetimes
// uses when the direct one overflows) the bracket is 1 − (1−z)^B·H with
// H = 2F1(A, B; C; z), A = a+b−1−r, B = a−1, C = a+b+x−1. Only C grows with
// x, so the series converges quickly even for heavy buyers. Writing
// H = 1 + B·S cancels the 1/(a−1) analytically:
//
//	C · [−expm1(B·L)/B − exp(B·L)·S],  L = log(1−z),
//
// which is also stable at a = 1 and for small t. If that series overflows
// (large a) the direct series is used instead.
func (m BGNBD) unconditionalPart(t, x, T float64) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	A := a + b - 1 - r
	B := a - 1
	C := a + b + x - 1
	z := t / (al + T + t)
	L := -math.Log1p(t / (al + T))
	S, ok := hypSeriesTail(A, B, C, z)
	if !ok {
		// The Euler form's terms grow like (1−z)^(1−a) and overflow when a
		// is large; then C is large too and the direct series converges
		// fast: 1 − (1−z)^(r+x)·2F1(r+x, b+x; C; z), C = a+b+x−1.
		Sd, ok := hypSeriesTail(r+x, b+x, C, z)
		if !ok || B == 0 {
			return math.NaN()
		}
		// 2F1 = 1 + (b+x)·Sd.
		return C / B * -math.Expm1((r+x)*L+math.Log1p((b+x)*Sd))
	}
	var e1 float64 // −expm1(B·L)/B
	if B == 0 {
		e1 = -L
	} else {
		e1 = -math.Expm1(B*L) / B
	}
	return C * (e1 - math.Exp(B*L)*S)
}

// hypSeriesTail returns S = Σ_{k≥1} (A)_k (B+1)_{k−1} / ((C)_k k!) z^k, so
// that 2F1(A, B; C; z) = 1 + B·S (the Gauss series), for 0 ≤ z < 1. The
// summation stops once the geometric bound on the remainder is below
// 1e-16·|S|. ok is false if the series
// did not converge within its term budget or overflowed.
func hypSeriesTail(A, B, C, z float64) (S float64, ok bool) {
	const maxTerms = 1_000_000
	if z == 0 {
		return 0, true
	}
	if !(z > 0 && z < 1) {
		return math.NaN(), false
	}
	term := A * z / C
	S = term
	for k := 1.0; k < maxTerms; k++ {
		ratio := (A + k) * (B + k) / ((C + k) * (k + 1)) * z
		term *= ratio
		S += term
		if term == 0 {
			return S, true
		}
		// Once terms shrink geometrically (|ratio| < 1, tending to z) the
		// remainder is bounded by |term|·ρ/(1−ρ) with ρ ≤ z for large k.
		ar := math.Abs(ratio)
		if ar < 1 && k > A+B-C && math.Abs(term)*math.Max(ar, z)/(1-math.Max(ar, z)) <= 1e-16*math.Abs(S) {
			return S, isFinite(S)
		}
		if !isFinite(S) {
			return S, false
		}
	}
	return S, false
}

// ExpectedX returns E[X(t)], the expected number of repeat transactions in
// (0, t] of a randomly chosen new customer (Fader, Hardie & Lee 2005, eq. 7).
func (m BGNBD) ExpectedX(t float64) float64 {
	if t == 0 {
		return 0
	}
	if !(t > 0) {
		return math.NaN()
	}
	// Eq. 7 is eq. 10's numerator with x = 0, T = 0.
	return m.unconditionalPart(t, 0, 0)
}

// ProbXEquals returns P(X(t) = n), the probability that a randomly chosen new
// customer makes exactly n repeat transactions in (0, t]
// (Fader, Hardie & Lee 2005, eq. 8).
func (m BGNBD) ProbXEquals(n int, t float64) float64 {
	if n < 0 {
		return 0
	}
	if !(t >= 0) {
		return math.NaN()
	}
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	fn := float64(n)
	lbAB := mathext.Lbeta(a, b)
	// Alive throughout with n purchases: B(a,b+n)/B(a,b) · NB(n; r, α/(α+t)).
	lp := mathext.Lbeta(a, b+fn) - lbAB + lgamma(r+fn) - lgamma(r) - lgamma(fn+1) +
		r*(math.Log(al)-math.Log(al+t))
	if n > 0 {
		lp += fn * (math.Log(t) - math.Log(al+t))
	}
	p := math.Exp(lp)
	if n > 0 && t > 0 {
		// Dropped out right after the n-th purchase: B(a+1,b+n−1)/B(a,b) ·
		// P(NB ≥ n), with P(NB(r, α/(α+t)) ≥ n) = I_{t/(α+t)}(n, r).
		tail := mathext.RegIncBeta(fn, r, t/(al+t))
		p += math.Exp(mathext.Lbeta(a+1, b+fn-1)-lbAB) * tail
	}
	return p
}

// bgData is a validated, preprocessed data set for the BG/NBD likelihood.
// Terms that depend on x only are evaluated once per distinct x.
type bgData struct {
	xs, xw  []float64 // distinct x values and their total weights
	t0, w0  []float64 // x = 0 rows, grouped by T
	xi      []int32   // x > 0 rows: index into xs
	tx, T   []int32   // x > 0 rows: index into times
	times   []float64 // distinct t_x and T values of the x > 0 rows
	w       []float64
	n       float64 // total customers
	nRepeat float64 // customers with x > 0
	meanT   float64
}

func validateCustomer(i int, c Customer) error {
	switch {
	case c.Count < 1:
		return fmt.Errorf("btyd: customer row %d: Count = %d, must be ≥ 1 (use 1 for ungrouped rows)", i, c.Count)
	case !(c.X >= 0) || math.IsInf(c.X, 0) || c.X != math.Trunc(c.X):
		return fmt.Errorf("btyd: customer row %d: X = %v, must be a whole number ≥ 0", i, c.X)
	case !(c.T > 0) || math.IsInf(c.T, 0):
		return fmt.Errorf("btyd: customer row %d: T = %v, must be finite and > 0", i, c.T)
	case !(c.Tx >= 0) || c.Tx > c.T:
		return fmt.Errorf("btyd: customer row %d: Tx = %v, must be in [0, T = %v]", i, c.Tx, c.T)
	}
	return nil
}

func newBGData(cs []Customer) (*bgData, error) {
	d := &bgData{}
	xIndex := map[float64]int32{}
	t0Index := map[float64]int{}
	// Times in real data repeat a lot (whole days), so log(α+t) and 1/(α+t)
	// are evaluated once per distinct time rather than per row.
	timeIndex := map[float64]int32{}
	timeOf := func(v float64) int32 {
		k, ok := timeIndex[v]
		if !ok {
			k = int32(len(d.times))
			timeIndex[v] = k
			d.times = append(d.times, v)
		}
		return k
	}
	var sumT float64
	for i, c := range cs {
		if err := validateCustomer(i, c); err != nil {
			return nil, err
		}
		w := float64(c.Count)
		d.n += w
		sumT += w * c.T
		j, ok := xIndex[c.X]
		if !ok {
			j = int32(len(d.xs))
			xIndex[c.X] = j
			d.xs = append(d.xs, c.X)
			d.xw = append(d.xw, 0)
		}
		d.xw[j] += w
		if c.X == 0 {
			k, ok := t0Index[c.T]
			if !ok {
				k = len(d.t0)
				t0Index[c.T] = k
				d.t0 = append(d.t0, c.T)
				d.w0 = append(d.w0, 0)
			}
			d.w0[k] += w
			continue
		}
		d.nRepeat += w
		d.xi = append(d.xi, j)
		d.tx = append(d.tx, timeOf(c.Tx))
		d.T = append(d.T, timeOf(c.T))
		d.w = append(d.w, w)
	}
	if d.n > 0 {
		d.meanT = sumT / d.n
	}
	// Sum the x = 0 rows in a deterministic order.
	idx := make([]int, len(d.t0))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return d.t0[idx[a]] < d.t0[idx[b]] })
	t0, w0 := make([]float64, len(idx)), make([]float64, len(idx))
	for i, k := range idx {
		t0[i], w0[i] = d.t0[k], d.w0[k]
	}
	d.t0, d.w0 = t0, w0
	return d, nil
}

// parallelRows is the number of x > 0 rows above which the likelihood is
// summed in parallel.
const parallelRows = 20000

// logLik returns the log-likelihood under m and, if grad is non-nil, its
// gradient with respect to (r, α, a, b).
func (d *bgData) logLik(m BGNBD, grad []float64) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	if !(r > 0 && al > 0 && a > 0 && b > 0) {
		return math.NaN()
	}
	logAl := math.Log(al)
	var ll, gr, gal, ga, gb float64
	// Per distinct x: log[Γ(r+x)α^r/Γ(r)] + log[B(a, b+x)/B(a,b)], and
	// row constants for the x > 0 rows. The log-gamma differences are
	// evaluated without cancellation so that the likelihood stays accurate
	// when a parameter is large.
	logC := make([]float64, len(d.xs)) // log a − log(b+x−1)
	invB := make([]float64, len(d.xs)) // 1/(b+x−1)
	for i, x := range d.xs {
		W := d.xw[i]
		ll += W * (lgammaDiff(r, x) + r*logAl + lgammaDiff(b, x) - lgammaDiff(a+b, x))
		if grad != nil {
			dABX := digammaDiff(a+b, x)
			gr += W * (digammaDiff(r, x) + logAl)
			gal += W * r / al
			ga -= W * dABX
			gb += W * (digammaDiff(b, x) - dABX)
		}
		if x > 0 {
			logC[i] = math.Log(a) - math.Log(b+x-1)
			invB[i] = 1 / (b + x - 1)
		}
	}
	// x = 0 rows: −r·log(α+T).
	for k, T := range d.t0 {
		w := d.w0[k]
		lT := math.Log(al + T)
		ll -= w * r * lT
		if grad != nil {
			gr -= w * lT
			gal -= w * r / (al + T)
		}
	}
	// x > 0 rows: log[(α+T)^−(r+x) + a/(b+x−1)·(α+t_x)^−(r+x)].
	logT := make([]float64, len(d.times)) // log(α+t)
	invT := make([]float64, len(d.times)) // 1/(α+t)
	for k, v := range d.times {
		logT[k] = math.Log(al + v)
		invT[k] = 1 / (al + v)
	}
	var part [5]float64
	if n := len(d.w); n < parallelRows || runtime.GOMAXPROCS(0) < 2 {
		part = d.rowsPart(m, logC, invB, logT, invT, grad != nil, 0, n)
	} else {
		workers := min(runtime.GOMAXPROCS(0), 8)
		parts := make([][5]float64, workers)
		var wg sync.WaitGroup
		for wk := range workers {
			lo, hi := n*wk/workers, n*(wk+1)/workers
			wg.Go(func() { parts[wk] = d.rowsPart(m, logC, invB, logT, invT, grad != nil, lo, hi) })
		}
		wg.Wait()
		for _, p := range parts {
			for i := range part {
				part[i] += p[i]
			}
		}
	}
	ll += part[0]
	if grad != nil {
		grad[0] = gr + part[1]
		grad[1] = gal + part[2]
		grad[2] = ga + part[3]
		grad[3] = gb + part[4]
	}
	return ll
}

// rowsPart sums the x > 0 row terms of the log-likelihood (and of the
// gradient if withGrad) over rows [lo, hi).
func (d *bgData) rowsPart(m BGNBD, logC, invB, logT, invT []float64, withGrad bool, lo, hi int) (out [5]float64) {
	r, a := m.R, m.A
	var ll, gr, gal, ga, gb float64
	for i := lo; i < hi; i++ {
		j := d.xi[i]
		x, w := d.xs[j], d.w[i]
		rx := r + x
		iT, it := d.T[i], d.tx[i]
		lT, lt := logT[iT], logT[it]
		a3 := -rx * lT
		a4 := logC[j] - rx*lt
		// Log-sum-exp; w4 is the posterior weight of "dropped out after
		// the last purchase".
		var lse, w4 float64
		if a3 >= a4 {
			e := math.Exp(a4 - a3)
			lse = a3 + math.Log1p(e)
			w4 = e / (1 + e)
		} else {
			e := math.Exp(a3 - a4)
			lse = a4 + math.Log1p(e)
			w4 = 1 / (1 + e)
		}
		ll += w * lse
		if withGrad {
			w3 := 1 - w4
			gr -= w * (w3*lT + w4*lt)
			gal -= w * rx * (w3*invT[iT] + w4*invT[it])
			ga += w * w4 / a
			gb -= w * w4 * invB[j]
		}
	}
	return [5]float64{ll, gr, gal, ga, gb}
}
