package models

import "math"

// Holt-Winters exponential smoothing for monthly bookings, small enough to
// read: additive and multiplicative seasonality (season m = 12), Holt's linear
// trend for short series and the mean for very short ones. Parameters are
// chosen on a grid by the smallest sum of squared one-step-ahead errors.
// See docs/models/pipeline.md ("Forecast").

// hwModel is a fitted smoothing model.
type hwModel struct {
	Kind               string // additive, multiplicative, holt, mean
	Alpha, Beta, Gamma float64
	SSE                float64 // sum of squared one-step errors
	N                  int     // number of one-step errors
	level, trend       float64
	season             []float64 // the last m seasonal indices, season[k] for step k+1 ahead (mod m)
}

var (
	hwAlphas = []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9}
	hwBetas  = []float64{0, 0.05, 0.1, 0.2, 0.3}
	hwGammas = []float64{0, 0.05, 0.1, 0.2, 0.3, 0.5}
)

// fitSmoothing picks the model for y: Holt-Winters (additive or
// multiplicative, the smaller SSE; multiplicative only when every value is
// positive) with two full seasons or more, Holt's linear trend with 4 values
// or more, else the mean.
func fitSmoothing(y []float64, m int) hwModel {
	n := len(y)
	switch {
	case n == 0:
		return hwModel{Kind: "mean"}
	case n >= 2*m:
		best := hwModel{SSE: math.Inf(1)}
		positive := true
		for _, v := range y {
			if v <= 0 {
				positive = false
			}
		}
		for _, mult := range []bool{false, true} {
			if mult && !positive {
				continue
			}
			for _, a := range hwAlphas {
				for _, b := range hwBetas {
					for _, g := range hwGammas {
						if f, ok := holtWinters(y, m, a, b, g, mult); ok && hwBetter(f.SSE, best.SSE) {
							best = f
						}
					}
				}
			}
		}
		if !math.IsInf(best.SSE, 1) {
			return best
		}
		fallthrough
	case n >= 4:
		best := hwModel{SSE: math.Inf(1)}
		for _, a := range hwAlphas {
			for _, b := range hwBetas {
				if f := holt(y, a, b); hwBetter(f.SSE, best.SSE) {
					best = f
				}
			}
		}
		return best
	}
	var mean, sse float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	for _, v := range y {
		sse += (v - mean) * (v - mean)
	}
	return hwModel{Kind: "mean", level: mean, SSE: sse, N: max(n-1, 1)}
}

// hwBetter: a smaller SSE wins only by more than rounding noise, so among
// equally good fits the first of the grid (additive, small parameters) stays.
func hwBetter(sse, best float64) bool {
	if math.IsInf(best, 1) {
		return !math.IsNaN(sse) && !math.IsInf(sse, 1)
	}
	return sse < best-1e-9*math.Max(1, best)
}

// holtWinters fits the seasonal model with fixed parameters. The first season
// initialises it: trend = (mean of season 2 − mean of season 1) / m, level at
// the end of season 1 = its mean + (m−1)/2 · trend, and the seasonal indices
// are season 1 less (or divided by) the trend line, so that a series that is
// exactly trend + season is reproduced with no error.
func holtWinters(y []float64, m int, alpha, beta, gamma float64, mult bool) (hwModel, bool) {
	n := len(y)
	if n < 2*m {
		return hwModel{}, false
	}
	var m1, m2 float64
	for i := 0; i < m; i++ {
		m1 += y[i]
		m2 += y[m+i]
	}
	m1 /= float64(m)
	m2 /= float64(m)
	trend := (m2 - m1) / float64(m)
	level := m1 + float64(m-1)/2*trend
	s := make([]float64, n+m)
	for i := 0; i < m; i++ {
		base := m1 + (float64(i)-float64(m-1)/2)*trend
		if mult {
			if base <= 0 {
				return hwModel{}, false
			}
			s[i] = y[i] / base
		} else {
			s[i] = y[i] - base
		}
	}
	var sse float64
	for t := m; t < n; t++ {
		st := s[t-m]
		var yhat float64
		if mult {
			yhat = (level + trend) * st
		} else {
			yhat = level + trend + st
		}
		e := y[t] - yhat
		sse += e * e
		prev := level
		if mult {
			if st == 0 {
				return hwModel{}, false
			}
			level = alpha*(y[t]/st) + (1-alpha)*(level+trend)
			trend = beta*(level-prev) + (1-beta)*trend
			if level == 0 {
				return hwModel{}, false
			}
			s[t] = gamma*(y[t]/level) + (1-gamma)*st
		} else {
			level = alpha*(y[t]-st) + (1-alpha)*(level+trend)
			trend = beta*(level-prev) + (1-beta)*trend
			s[t] = gamma*(y[t]-level) + (1-gamma)*st
		}
	}
	kind := "additive"
	if mult {
		kind = "multiplicative"
	}
	return hwModel{Kind: kind, Alpha: alpha, Beta: beta, Gamma: gamma, SSE: sse, N: n - m,
		level: level, trend: trend, season: append([]float64(nil), s[n-m:n]...)}, true
}

// holt fits Holt's linear trend (level starts at y[0], trend at y[1] − y[0]).
func holt(y []float64, alpha, beta float64) hwModel {
	level, trend := y[0], y[1]-y[0]
	var sse float64
	for t := 1; t < len(y); t++ {
		e := y[t] - (level + trend)
		sse += e * e
		prev := level
		level = alpha*y[t] + (1-alpha)*(level+trend)
		trend = beta*(level-prev) + (1-beta)*trend
	}
	return hwModel{Kind: "holt", Alpha: alpha, Beta: beta, SSE: sse, N: len(y) - 1, level: level, trend: trend}
}

// Forecast returns the value k ≥ 1 steps after the last observation.
func (f hwModel) Forecast(k int) float64 {
	switch f.Kind {
	case "additive":
		return f.level + float64(k)*f.trend + f.season[(k-1)%len(f.season)]
	case "multiplicative":
		return (f.level + float64(k)*f.trend) * f.season[(k-1)%len(f.season)]
	case "holt":
		return f.level + float64(k)*f.trend
	}
	return f.level
}

// Sigma is the standard error k steps ahead, approximated as the RMSE of the
// one-step errors × sqrt(k).
func (f hwModel) Sigma(k int) float64 {
	if f.N == 0 {
		return 0
	}
	return math.Sqrt(f.SSE/float64(f.N)) * math.Sqrt(float64(k))
}
