package synth

import (
	"math"
	"math/rand/v2"
)

// targetRow is one monthly target.
type targetRow struct {
	scope   string
	scopeID string
	month   int
	metric  string
	amount  int64 // cents
}

const horizonMonths = 6

// buildTargets sets monthly bookings and collections targets top-down, the
// way sales operations do. The company target of a month is the company's
// deseasonalised level of actuals (triangular ±6-month window; for the 6
// future months the last level grown at 17% a year) times the seasonal index
// of the calendar month times 1.02–1.08. Each unit passes its target down to
// its children (regions → branches → departments → the reps employed that
// month) in proportion to their actuals over the surrounding 12 months (with
// a small equal-share prior, so new reps get a target too), times 1.00–1.03:
// managers over-assign a little. Attainment is ~95% for the company and
// ~85–95% further down, with the spread a real organisation has.
func buildTargets(w *world, agg *aggregates) []targetRow {
	r := newRand(w.seed, 5)
	nA := w.endMonth - w.startMonth + 1
	nM := nA + horizonMonths
	metrics := []struct {
		name string
		act  [][]int64
	}{{"bookings", agg.bookings}, {"collections", agg.collections}}

	// children of every org unit, and the owner reps of every department
	children := make([][]int, len(w.orgs))
	for oi, o := range w.orgs {
		if o.parent >= 0 {
			children[o.parent] = append(children[o.parent], oi)
		}
	}
	deptReps := make([][]int, len(w.orgs))
	for ri, rp := range w.reps {
		if rp.owner {
			deptReps[rp.org] = append(deptReps[rp.org], ri)
		}
	}

	unitT := make([][][]int64, len(metrics)) // [metric][org][month]
	repT := make([][][]int64, len(metrics))  // [metric][rep][month], -1 = not employed
	for mi, mt := range metrics {
		// actuals per rep and per unit
		repAct := make([][]float64, len(w.reps))
		unitAct := make([][]float64, len(w.orgs))
		for oi := range unitAct {
			unitAct[oi] = make([]float64, nA)
		}
		for ri := range w.reps {
			repAct[ri] = make([]float64, nA)
			for m := 0; m < nA; m++ {
				v := float64(mt.act[ri][m])
				repAct[ri][m] = v
				for o := w.reps[ri].org; o >= 0; o = w.orgs[o].parent {
					unitAct[o][m] += v
				}
			}
		}
		comp := unitAct[0]
		// seasonal index by calendar month
		var season, sn [12]float64
		for m := 0; m < nA; m++ {
			if lvl := smoothLevel(comp, m, 6); lvl > 0 {
				moy := (w.startMonth + m) % 12
				season[moy] += comp[m] / lvl
				sn[moy]++
			}
		}
		var mean float64
		for k := range season {
			if sn[k] > 0 {
				season[k] /= sn[k]
			} else {
				season[k] = 1
			}
			mean += season[k] / 12
		}
		for k := range season {
			season[k] /= mean
		}
		seasonOf := func(m int) float64 { return season[(w.startMonth+m)%12] }
		des := make([]float64, nA)
		for m := 0; m < nA; m++ {
			des[m] = comp[m] / seasonOf(m)
		}
		// 12-month actuals around a month (the last 12 for future months)
		window := func(x []float64, m int) float64 {
			lo, hi := m-6, m+6
			if hi > nA-1 {
				hi = nA - 1
				lo = max(0, hi-11)
			}
			lo = max(lo, 0)
			var s float64
			for k := lo; k <= hi; k++ {
				s += x[k]
			}
			return s
		}
		ut := make([][]int64, len(w.orgs))
		for oi := range ut {
			ut[oi] = make([]int64, nM)
		}
		rt := make([][]int64, len(w.reps))
		for ri := range rt {
			if w.reps[ri].owner {
				rt[ri] = make([]int64, nM)
				for m := range rt[ri] {
					rt[ri][m] = -1
				}
			}
		}
		for m := 0; m < nM; m++ {
			var level float64
			if m < nA {
				level = smoothLevel(des, m, 6)
			} else {
				level = smoothLevel(des, nA-1, 6) * math.Pow(1.17, float64(m-nA+1)/12)
			}
			target := make([]float64, len(w.orgs))
			target[0] = level * seasonOf(m) * uniform(r, 1.02, 1.08)
			ut[0][m] = roundK(target[0])
			wm := min(m, nA-1)
			// org units are listed parents first
			for oi := range w.orgs {
				kids := children[oi]
				if len(kids) > 0 {
					shares := make([]float64, len(kids))
					for k, c := range kids {
						shares[k] = window(unitAct[c], wm)
					}
					for k, c := range kids {
						target[c] = target[oi] * priorShare(shares, k, 0.02) * uniform(r, 1.0, 1.03)
						ut[c][m] = roundK(target[c])
					}
					continue
				}
				// a department: its reps employed this month
				var reps []int
				for _, ri := range deptReps[oi] {
					if employed(w, &w.reps[ri], w.startMonth+m) {
						reps = append(reps, ri)
					}
				}
				shares := make([]float64, len(reps))
				for k, ri := range reps {
					shares[k] = window(repAct[ri], wm)
				}
				for k, ri := range reps {
					rt[ri][m] = roundK(target[oi] * priorShare(shares, k, 0.1) * uniform(r, 1.0, 1.03))
				}
			}
		}
		unitT[mi], repT[mi] = ut, rt
	}
	var rows []targetRow
	for oi := range w.orgs {
		id := string(appendID(nil, "ORG-", int64(oi+1), wOrg))
		for m := 0; m < nM; m++ {
			for mi, mt := range metrics {
				rows = append(rows, targetRow{w.orgs[oi].level, id, w.startMonth + m, mt.name, unitT[mi][oi][m]})
			}
		}
	}
	for ri := range w.reps {
		if repT[0][ri] == nil {
			continue
		}
		id := string(appendID(nil, "REP-", int64(ri+1), wRep))
		for m := 0; m < nM; m++ {
			for mi, mt := range metrics {
				if v := repT[mi][ri][m]; v >= 0 {
					rows = append(rows, targetRow{"rep", id, w.startMonth + m, mt.name, v})
				}
			}
		}
	}
	return rows
}

// priorShare is x[k]'s share of the sum, blended with an equal share.
func priorShare(x []float64, k int, prior float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	n := float64(len(x))
	if s <= 0 {
		return 1 / n
	}
	return (1-prior)*x[k]/s + prior/n
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// roundK rounds cents to whole thousands of yuan.
func roundK(c float64) int64 { return int64(math.Round(c/100000)) * 100000 }

// employed reports whether the rep worked during month mi.
func employed(w *world, rp *rep, mi int) bool {
	if rp.hired > monthEnd(mi) {
		return false
	}
	if rp.left != noDay && rp.left < monthStart(mi) {
		return false
	}
	return true
}

// smoothLevel is a triangular-weighted mean of x around m (±h months).
func smoothLevel(x []float64, m, h int) float64 {
	var s, ws float64
	for k := -h; k <= h; k++ {
		j := m + k
		if j < 0 || j >= len(x) {
			continue
		}
		wt := float64(h + 1 - abs(k))
		s += wt * x[j]
		ws += wt
	}
	if ws == 0 {
		return 0
	}
	return s / ws
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}
