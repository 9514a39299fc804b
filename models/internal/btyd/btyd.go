// Package btyd implements "buy 'til you die" customer-base models: the BG/NBD
// model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your
// Customers the Easy Way") and the Gamma-Gamma model of spend per transaction
// (Fader & Hardie 2013, note 025), fitted by maximum likelihood, plus the
// customer-lifetime-value sum that combines them.
//
// Inputs are per-customer RFM summaries: x (number of repeat transactions,
// i.e. purchase occasions after the first), t_x (time of the last purchase
// since the first), T (time from the first purchase to the end of the
// calibration period) and, for spend, zbar (mean value of the repeat
// transactions). Times may be in any unit (days, weeks, …) as long as it is
// used consistently; the BG/NBD scale parameter α and every horizon t are in
// that unit. Identical summaries may be grouped with a Count so that fitting
// costs O(distinct summaries) rather than O(customers).
//
// Fitting maximises the log-likelihood over log-parameters (every parameter
// is exp(θ), so positivity is automatic) with gonum's BFGS and analytic
// gradients, falling back to Nelder-Mead then BFGS if BFGS fails.
package btyd

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
)

// logObjective is a negative mean log-likelihood over log-parameters, with
// its gradient: it fills grad (when non-nil) and returns the objective.
type logObjective func(theta, grad []float64) float64

// Gradient tolerances on the mean (per-customer) negative log-likelihood with
// respect to the log-parameters: BFGS stops below stopGradient, and a run
// that ends otherwise (typically a line search that cannot improve f in
// floating point) is accepted below acceptGradient, which is far below the
// statistical noise of any realistic fit (on CDNOW the parameters then agree
// with the reference MLE to ~1e-6 relative).
const (
	stopGradient   = 1e-9
	acceptGradient = 1e-6
)

// minimizeLog minimises obj from theta0 and returns the minimiser.
func minimizeLog(obj logObjective, theta0 []float64) ([]float64, error) {
	dim := len(theta0)
	// Func and Grad are requested separately by gonum but share almost all
	// the work, so cache the last point.
	var (
		lastX = make([]float64, dim)
		lastG = make([]float64, dim)
		lastF = math.NaN()
		valid bool
	)
	eval := func(x []float64) {
		if valid && equal(x, lastX) {
			return
		}
		copy(lastX, x)
		lastF = obj(x, lastG)
		valid = true
		if math.IsNaN(lastF) || math.IsInf(lastF, 0) || !finite(lastG) {
			// Outside the numerically usable region: report +Inf so that
			// the line search backs off.
			lastF = math.Inf(1)
			for i := range lastG {
				lastG[i] = 0
			}
		}
	}
	prob := optimize.Problem{
		Func: func(x []float64) float64 {
			eval(x)
			return lastF
		},
		Grad: func(g, x []float64) {
			eval(x)
			copy(g, lastG)
		},
	}
	// ok reports whether a run ended at a stationary point. Near the
	// optimum the line search can fail only because f no longer changes in
	// floating point; that counts as converged if the gradient is small.
	ok := func(res *optimize.Result, err error) bool {
		if res == nil || !finite(res.X) || math.IsInf(res.F, 0) {
			return false
		}
		if err == nil && goodStatus(res.Status) {
			return true
		}
		g := make([]float64, dim)
		f := obj(res.X, g)
		return isFinite(f) && finite(g) && floats.Norm(g, math.Inf(1)) < acceptGradient
	}
	settings := &optimize.Settings{
		GradientThreshold: stopGradient,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
		MajorIterations:   2000,
	}
	res, err := optimize.Minimize(prob, theta0, settings, &optimize.BFGS{})
	if ok(res, err) {
		return res.X, nil
	}
	// Fallback: a derivative-free search gets into the basin, then BFGS
	// polishes.
	nmSettings := &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-10, Iterations: 200},
		FuncEvaluations: 5000,
	}
	start := theta0
	if res != nil && finite(res.X) && !math.IsInf(res.F, 1) {
		start = res.X
	}
	nm, nmErr := optimize.Minimize(optimize.Problem{Func: prob.Func}, start, nmSettings, &optimize.NelderMead{})
	if nmErr != nil && (nm == nil || !finite(nm.X) || math.IsInf(nm.F, 1)) {
		return nil, fmt.Errorf("optimisation failed: %w", nmErr)
	}
	res2, err2 := optimize.Minimize(prob, nm.X, settings, &optimize.BFGS{})
	if ok(res2, err2) {
		return res2.X, nil
	}
	// Return the best point found together with an error.
	best := nm.X
	if res2 != nil && finite(res2.X) && res2.F <= nm.F {
		best = res2.X
	}
	if err2 == nil {
		err2 = fmt.Errorf("status %v", res2.Status)
	}
	return best, fmt.Errorf("%w: %v", ErrNotConverged, err2)
}

// ErrNotConverged is wrapped by the Fit functions when the optimiser stopped
// without meeting its convergence criteria. The parameters returned alongside
// it are the best found and may still be usable; typically the maximum
// lies on the boundary (a parameter running to 0 or ∞), which means the
// data do not identify the model well.
var ErrNotConverged = errors.New("btyd: maximum-likelihood fit did not converge")

func goodStatus(s optimize.Status) bool {
	switch s {
	case optimize.GradientThreshold, optimize.FunctionConvergence, optimize.StepConvergence:
		return true
	}
	return false
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// logAddExp returns log(exp(a)+exp(b)) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// stirlingCorr returns lgamma(z) − [(z−½)·log z − z + ½·log 2π] for z ≥ 20
// (the Stirling series; truncation error < 1e-17).
func stirlingCorr(z float64) float64 {
	z2 := 1 / (z * z)
	return (1.0/12 - z2*(1.0/360-z2*(1.0/1260-z2*(1.0/1680-z2*(1.0/1188))))) / z
}

// lgammaDiff returns log Γ(s+x) − log Γ(s) for s > 0, x ≥ 0 without the
// cancellation of subtracting two large log-gammas when s is large.
func lgammaDiff(s, x float64) float64 {
	if x == 0 {
		return 0
	}
	if s < 20 {
		return lgamma(s+x) - lgamma(s)
	}
	return (s-0.5)*math.Log1p(x/s) + x*math.Log(s+x) - x + stirlingCorr(s+x) - stirlingCorr(s)
}

// digammaDiff returns ψ(s+x) − ψ(s) for s > 0, x ≥ 0, accurately for large s.
func digammaDiff(s, x float64) float64 {
	if x == 0 {
		return 0
	}
	if s < 20 {
		return mathext.Digamma(s+x) - mathext.Digamma(s)
	}
	// ψ(z) = log z − 1/(2z) − Σ B_2k/(2k z^2k).
	tail := func(z float64) float64 {
		z2 := 1 / (z * z)
		return 1/(2*z) + z2*(1.0/12-z2*(1.0/120-z2*(1.0/252-z2*(1.0/240-z2*(1.0/132)))))
	}
	return math.Log1p(x/s) - tail(s+x) + tail(s)
}
