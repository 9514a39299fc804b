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

// buildTargets sets monthly bookings and collections targets for every sales
// rep (while employed) and every org unit, from the next 6 months back to the
// start of the window. A rep's target is their deseasonalised local level of
// actuals (triangular ±6-month window) times the company's seasonal index,
// times 1.03–1.12 (targets are set a little above trend); for future months
// the last level grows at the company's 17% a year. Units get the sum of the
// targets below them times 0.95–1.0 (managers over-assign to their teams), so
// attainment is typically 90–95% for reps and ~100% for the company.
func buildTargets(w *world, agg *aggregates) []targetRow {
	r := newRand(w.seed, 5)
	nA := w.endMonth - w.startMonth + 1
	nM := nA + horizonMonths
	metrics := []struct {
		name string
		act  [][]int64
	}{{"bookings", agg.bookings}, {"collections", agg.collections}}
	// rep targets [metric][rep][month]
	repT := make([][][]int64, len(metrics))
	for mi, mt := range metrics {
		repT[mi] = make([][]int64, len(w.reps))
		// company seasonal index by calendar month
		comp := make([]float64, nA)
		for ri := range w.reps {
			for m := 0; m < nA; m++ {
				comp[m] += float64(mt.act[ri][m])
			}
		}
		var season [12]float64
		var sn [12]float64
		for m := 0; m < nA; m++ {
			lvl := smoothLevel(comp, m, nil)
			if lvl > 0 && m >= 6 {
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
		// department averages for reps without history yet
		deptLevel := make([]float64, len(w.depts))
		deptN := make([]float64, len(w.depts))
		levels := make([][]float64, len(w.reps))
		for ri := range w.reps {
			rp := &w.reps[ri]
			if !rp.owner {
				continue
			}
			act := make([]float64, nA)
			for m := 0; m < nA; m++ {
				act[m] = float64(mt.act[ri][m]) / seasonOf(m)
			}
			lv := make([]float64, nM)
			for m := 0; m < nA; m++ {
				lv[m] = smoothLevel(act, m, func(k int) bool { return employed(w, rp, w.startMonth+k) })
			}
			for m := nA; m < nM; m++ {
				lv[m] = lv[nA-1] * math.Pow(1.17, float64(m-nA+1)/12)
			}
			levels[ri] = lv
			if lv[nA-1] > 0 {
				d := deptOfOrg(w, rp.org)
				deptLevel[d] += lv[nA-1]
				deptN[d]++
			}
		}
		for ri := range w.reps {
			rp := &w.reps[ri]
			if !rp.owner {
				continue
			}
			t := make([]int64, nM)
			d := deptOfOrg(w, rp.org)
			floor := 5000.0 * 100
			if deptN[d] > 0 {
				floor = math.Max(floor, 0.5*deptLevel[d]/deptN[d])
			}
			for m := 0; m < nM; m++ {
				if !employed(w, rp, w.startMonth+m) {
					t[m] = -1
					continue
				}
				v := math.Max(levels[ri][m], floor) * seasonOf(m) * uniform(r, 1.03, 1.12)
				t[m] = roundK(v)
			}
			repT[mi][ri] = t
		}
	}
	// roll up through the org tree
	unitT := make([][][]int64, len(metrics)) // [metric][org][month]
	for mi := range metrics {
		unitT[mi] = make([][]int64, len(w.orgs))
		for oi := range w.orgs {
			unitT[mi][oi] = make([]int64, nM)
		}
		for ri := range w.reps {
			t := repT[mi][ri]
			if t == nil {
				continue
			}
			org := w.reps[ri].org
			for m := 0; m < nM; m++ {
				if t[m] > 0 {
					unitT[mi][org][m] += t[m]
				}
			}
		}
		// departments, branches, regions, company: children before parents
		for _, lvl := range []string{"department", "branch", "region", "company"} {
			for oi := len(w.orgs) - 1; oi >= 0; oi-- {
				if w.orgs[oi].level != lvl {
					continue
				}
				f := [2]float64{0.95, 1}
				switch lvl {
				case "branch":
					f[0] = 0.96
				case "region":
					f[0] = 0.97
				case "company":
					f[0] = 0.98
				}
				for m := 0; m < nM; m++ {
					v := roundK(float64(unitT[mi][oi][m]) * uniform(r, f[0], f[1]))
					unitT[mi][oi][m] = v
					if p := w.orgs[oi].parent; p >= 0 {
						unitT[mi][p][m] += v
					}
				}
			}
		}
	}
	var rows []targetRow
	for oi := range w.orgs {
		id := string(appendID(nil, "ORG-", int64(oi+1), 4))
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
		id := string(appendID(nil, "REP-", int64(ri+1), 5))
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

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// roundK rounds cents to whole thousands of yuan.
func roundK(c float64) int64 { return int64(math.Round(c/100000)) * 100000 }

func deptOfOrg(w *world, org int) int {
	for i := range w.depts {
		if w.depts[i].org == org {
			return i
		}
	}
	return 0
}

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

// smoothLevel is a triangular-weighted mean of x around m (±6 months) over
// the months where ok is true (all when nil).
func smoothLevel(x []float64, m int, ok func(int) bool) float64 {
	var s, ws float64
	for k := -6; k <= 6; k++ {
		j := m + k
		if j < 0 || j >= len(x) || (ok != nil && !ok(j)) {
			continue
		}
		wt := float64(7 - abs(k))
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
