package models

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// forecast: bookings (the amount of deals won, by the month of closed_on) for
// the N months after the as-of month, per org unit, by four methods —
// weighted pipeline, stage-and-age conversion, Holt-Winters on monthly
// bookings, and a blend with the weights that minimise its backtest WAPE — with every method
// backtested at past month ends from the stage history (pipeline_at).
// See docs/models/pipeline.md ("Forecast").
//
// Settings (models.forecast.*): months (3), backtest_months (12),
// lookback_months (24: the history the stage-and-age rates learn from),
// min_cell_deals (10: fewer observations in a stage × age cell fall back to
// the stage, then to all stages).
func init() {
	register(&Model{
		Name:   "forecast",
		Reads:  pipelineInputs,
		Needs:  []string{"opportunities"},
		Tables: []string{"mart_forecast", "mart_forecast_accuracy", "mart_pipeline_trend"},
		Run:    runForecast,
	})
}

const (
	fcWeighted = "weighted_pipeline"
	fcStageAge = "stage_age"
	fcHW       = "holt_winters"
	fcBlend    = "blend"
)

var fcMethods = []string{fcWeighted, fcStageAge, fcHW}

// fcAgeBuckets are the upper bounds (days since created) of the age classes
// of the stage-and-age method: 0–30, 31–90, 91–180, over 180.
var fcAgeBuckets = []int{30, 90, 180}

// fcDeal is a deal won by as_of. Everything is summed per leaf (the owner
// rep's org unit, "" for none) and rolled up to the units above (fc.up) at
// the end, instead of adding every deal to each of its units.
type fcDeal struct {
	leaf     string
	closedOn time.Time
	created  time.Time
	amount   float64
}

// fcWeightedSum is the open pipeline at a snapshot date summed per owner
// unit, stage probability and expected close month (pl_fc_weighted).
type fcWeightedSum struct {
	leaf          string
	prob          float64   // percent
	expectedMonth int       // month index of the expected close; -1 when there is none
	created       time.Time // the deals' creation day when there is no expected close
	amount        float64
	amountSquared float64 // Σ amount², for the variance
}

// fcStageAgeSum is the open pipeline at a snapshot date summed per owner
// unit, stage and age class, and the month after the date in which the deals
// were won (1 … n; 0 for not won in that span) (pl_fc_stage_age).
type fcStageAgeSum struct {
	leaf          string
	stage         string
	ageClass      int
	wonAfter      int
	amount        float64
	amountSquared float64
	deals         float64
}

type fcBound struct{ f, lo, hi float64 }

// fcEst accumulates a forecast and its variance.
type fcEst struct{ f, v float64 }

func (e fcEst) bound() fcBound {
	sd := math.Sqrt(math.Max(e.v, 0))
	return fcBound{e.f, math.Max(0, e.f-1.959964*sd), e.f + 1.959964*sd}
}

func mIdx(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }
func mStart(i int) time.Time {
	return time.Date(i/12, time.Month(i%12+1), 1, 0, 0, 0, 0, time.UTC)
}
func mEnd(i int) time.Time { return mStart(i+1).AddDate(0, 0, -1) }
func mName(i int) string   { return mStart(i).Format("2006-01") }

// lastComplete is the last month wholly on or before T.
func lastComplete(T time.Time) int {
	if T.Equal(mEnd(mIdx(T))) {
		return mIdx(T)
	}
	return mIdx(T) - 1
}

type forecaster struct {
	n, lookback, minCell int
	won                  []*fcDeal           // deals won by as_of
	hasDeals             bool                // any deal created by as_of
	firstCreated         time.Time           // the earliest created_on
	orgs                 []string            // 'all' and every unit with deals in its subtree
	up                   map[string][]string // leaf → the units it counts in ('all' first)
	level                map[string]string   // org → org_level of the accuracy table
	series               map[string]map[int]float64
	weighted             map[time.Time][]fcWeightedSum
	stageAge             map[time.Time][]fcStageAgeSum
	snapped              map[time.Time]bool
	trainCache           map[fcTrainKey]*fcTraining
	atCache              map[time.Time]map[string]map[string]map[int]fcBound
	wonIn                map[int][]*fcDeal // deals won, by the month of closed_on
	cycles               fcCycles          // medianCycle's won deals in closing order, and its counts
}

func runForecast(ctx context.Context, rc *RunContext) error {
	if err := plPrep(ctx, rc); err != nil {
		return err
	}
	if err := plMacro(ctx, rc); err != nil {
		return err
	}
	fc := &forecaster{
		n:          rc.Settings.Int("months", 3),
		lookback:   rc.Settings.Int("lookback_months", 24),
		minCell:    rc.Settings.Int("min_cell_deals", 10),
		up:         map[string][]string{},
		level:      map[string]string{"all": "all"},
		series:     map[string]map[int]float64{},
		weighted:   map[time.Time][]fcWeightedSum{},
		stageAge:   map[time.Time][]fcStageAgeSum{},
		snapped:    map[time.Time]bool{},
		trainCache: map[fcTrainKey]*fcTraining{},
		atCache:    map[time.Time]map[string]map[string]map[int]fcBound{},
		wonIn:      map[int][]*fcDeal{},
	}
	backtest := rc.Settings.Int("backtest_months", 12)
	if fc.n < 1 || fc.n > 36 {
		return fmt.Errorf("models.forecast.months: %d is not between 1 and 36", fc.n)
	}
	conn := rc.Conn
	asOf := plDay(rc.AsOf)

	if err := fc.load(ctx, conn); err != nil {
		return err
	}
	for _, t := range []string{
		`CREATE OR REPLACE TEMP TABLE pl_fc_out (org_unit_id VARCHAR, month VARCHAR, method VARCHAR, horizon_months INTEGER, amount DOUBLE, low DOUBLE, high DOUBLE)`,
		`CREATE OR REPLACE TEMP TABLE pl_fc_acc (method VARCHAR, horizon_months INTEGER, org_level VARCHAR, wape DOUBLE, bias DOUBLE, n_points BIGINT)`,
		// (the snapshot sums replace it when there are deals)
		`CREATE OR REPLACE TEMP TABLE pl_fc_trend (t DATE, owner_rep_id VARCHAR, org_unit_id VARCHAR, product_line VARCHAR, pipeline DOUBLE, weighted DOUBLE, deals BIGINT)`,
	} {
		if _, err := conn.ExecContext(ctx, t); err != nil {
			return err
		}
	}
	if fc.hasDeals {
		// Snapshots at the month ends the backtest and the stage-and-age rates
		// need, and at as_of; at least the 12 month ends before as_of's
		// month, the pipeline trend's (mart_pipeline_trend).
		first := mIdx(fc.firstCreated)
		L := lastComplete(asOf)
		dates := []time.Time{}
		for i := max(first, min(L-(backtest+fc.lookback+fc.n), mIdx(asOf)-12)); i <= L; i++ {
			dates = append(dates, mEnd(i))
		}
		if !asOf.Equal(mEnd(L)) {
			dates = append(dates, asOf)
		}
		if err := fc.snapshots(ctx, rc, dates); err != nil {
			return err
		}

		// Backtest at past month ends whose next month is complete by as_of,
		// from the first month with bookings on.
		firstWon := math.MaxInt
		for M := range fc.wonIn {
			firstWon = min(firstWon, M)
		}
		if firstWon > first {
			first = firstWon
		}
		type acc struct {
			absErr, err, absAct float64
			n                   int64
		}
		accs := map[[3]string]*acc{}
		type point struct {
			method, org string
			h           int
			f, a        float64
		}
		var points []point
		// Each backtest date's forecasts, computed once: the blend's weights
		// and its own backtest reuse them.
		resAt := map[int]map[string]map[string]map[int]fcBound{}
		for i := max(first, L-backtest); i < L; i++ {
			T := mEnd(i)
			res := fc.at(T)
			resAt[i] = res
			for _, method := range fcMethods {
				for org, byMonth := range res[method] {
					for M, b := range byMonth {
						if M > L {
							continue
						}
						points = append(points, point{method, org, M - i, b.f, fc.series[org][M]})
					}
				}
			}
		}
		// Sum in one fixed order (the maps above iterate at random, and float
		// sums depend on the order): the same accuracy in every run.
		slices.SortStableFunc(points, func(a, b point) int {
			return cmp.Or(strings.Compare(a.method, b.method), strings.Compare(a.org, b.org), cmp.Compare(a.h, b.h))
		})
		for _, p := range points {
			k := [3]string{p.method, fmt.Sprint(p.h), fc.level[p.org]}
			a := accs[k]
			if a == nil {
				a = &acc{}
				accs[k] = a
			}
			a.absErr += math.Abs(p.f - p.a)
			a.err += p.f - p.a
			a.absAct += math.Abs(p.a)
			a.n++
		}
		// Blend weights per horizon and org level: the weights on a 0.1 grid of
		// the simplex that minimise the blend's WAPE over the backtest. The grid
		// holds every single method (a corner), so on the backtest the blend is
		// never worse than the best single method; the blend's accuracy row is
		// therefore in-sample. Equal weights when there is no backtest.
		type obs struct {
			act float64
			f   [3]float64
			has [3]bool
		}
		obsBy := map[[2]string][]obs{} // (horizon, level) → observations
		for i := max(first, L-backtest); i < L; i++ {
			res := resAt[i]
			for _, org := range fc.orgs {
				for M := i + 1; M <= min(i+fc.n, L); M++ {
					var o obs
					var any bool
					for mi, m := range fcMethods {
						if b, ok := res[m][org][M]; ok {
							o.f[mi], o.has[mi], any = b.f, true, true
						}
					}
					if any {
						o.act = fc.series[org][M]
						k := [2]string{fmt.Sprint(M - i), fc.level[org]}
						obsBy[k] = append(obsBy[k], o)
					}
				}
			}
		}
		combine := func(w [3]float64, o obs) (float64, bool) {
			var f, sum float64
			for mi := range fcMethods {
				if o.has[mi] {
					f += w[mi] * o.f[mi]
					sum += w[mi]
				}
			}
			if sum == 0 {
				return 0, false
			}
			return f / sum, true
		}
		bestWeights := map[[2]string][3]float64{}
		for k, os := range obsBy {
			best, bestW := math.Inf(1), [3]float64{1, 1, 1}
			for a := 0; a <= 10; a++ {
				for b := 0; a+b <= 10; b++ {
					w := [3]float64{float64(a) / 10, float64(b) / 10, float64(10-a-b) / 10}
					var absErr, absAct float64
					for _, o := range os {
						f, ok := combine(w, o)
						if !ok {
							f = 0 // a blend with no forecast misses the whole actual
						}
						absErr += math.Abs(f - o.act)
						absAct += math.Abs(o.act)
					}
					if absAct > 0 && absErr/absAct < best-1e-12 {
						best, bestW = absErr/absAct, w
					}
				}
			}
			bestWeights[k] = bestW
		}
		weights := func(h int, level string, available map[string]bool) map[string]float64 {
			bw, ok := bestWeights[[2]string{fmt.Sprint(h), level}]
			if !ok {
				bw = [3]float64{1, 1, 1}
			}
			w := map[string]float64{}
			for mi, m := range fcMethods {
				if available[m] {
					w[m] = bw[mi]
				}
			}
			return w
		}
		blend := func(res map[string]map[string]map[int]fcBound, org string, M, h int) (fcBound, bool) {
			available := map[string]bool{}
			for _, m := range fcMethods {
				if _, ok := res[m][org][M]; ok {
					available[m] = true
				}
			}
			w := weights(h, fc.level[org], available)
			var sum float64
			var b fcBound
			for _, m := range fcMethods { // in a fixed order: float sums depend on it
				wm, ok := w[m]
				if !ok {
					continue
				}
				x := res[m][org][M]
				b.f += wm * x.f
				b.lo += wm * x.lo
				b.hi += wm * x.hi
				sum += wm
			}
			if sum == 0 {
				return b, false
			}
			return fcBound{b.f / sum, b.lo / sum, b.hi / sum}, true
		}
		// The blend's own backtest uses these (in-sample) weights.
		for i := max(first, L-backtest); i < L; i++ {
			res := resAt[i]
			for _, org := range fc.orgs {
				for M := i + 1; M <= min(i+fc.n, L); M++ {
					if b, ok := blend(res, org, M, M-i); ok {
						k := [3]string{fcBlend, fmt.Sprint(M - i), fc.level[org]}
						a := accs[k]
						if a == nil {
							a = &acc{}
							accs[k] = a
						}
						act := fc.series[org][M]
						a.absErr += math.Abs(b.f - act)
						a.err += b.f - act
						a.absAct += math.Abs(act)
						a.n++
					}
				}
			}
		}
		var accRows [][]driver.Value
		keys := make([][3]string, 0, len(accs))
		for k := range accs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i][0]+"\x00"+keys[i][1]+"\x00"+keys[i][2] < keys[j][0]+"\x00"+keys[j][1]+"\x00"+keys[j][2]
		})
		for _, k := range keys {
			a := accs[k]
			var h int
			fmt.Sscan(k[1], &h)
			var w, b any
			if a.absAct > 0 {
				w, b = a.absErr/a.absAct, a.err/a.absAct
			}
			accRows = append(accRows, []driver.Value{k[0], int32(h), k[2], w, b, a.n})
		}
		if err := plAppend(conn, "pl_fc_acc", accRows); err != nil {
			return err
		}

		// The forecast at as_of, with notes on what it could not do.
		res := fc.at(asOf)
		if len(res[fcStageAge]) == 0 {
			rc.Note("stage_age: no past month end with a known outcome to learn from; left out")
		}
		if y := fc.seriesUpTo("all", lastComplete(asOf)); len(y) < 24 {
			rc.Note("holt_winters: %d complete months of bookings, so %s instead of seasonal Holt-Winters (needs 24)", len(y), fitSmoothing(y, 12).Kind)
		}
		if len(accs) == 0 {
			rc.Note("no backtest possible yet (no complete month after a month with bookings): the blend weighs the methods equally")
		}
		var out [][]driver.Value
		for _, org := range fc.orgs {
			for h := 1; h <= fc.n; h++ {
				M := mIdx(asOf) + h
				for _, m := range fcMethods {
					if b, ok := res[m][org][M]; ok {
						out = append(out, []driver.Value{org, mName(M), m, int32(h), b.f, b.lo, b.hi})
					}
				}
				if b, ok := blend(res, org, M, h); ok {
					out = append(out, []driver.Value{org, mName(M), fcBlend, int32(h), b.f, b.lo, b.hi})
				}
			}
		}
		if err := plAppend(conn, "pl_fc_out", out); err != nil {
			return err
		}
	}
	return rc.Exec(ctx, "forecast.sql", nil)
}

// load reads the won deals, the org units each leaf rolls up to, the org
// levels and the monthly bookings series.
func (fc *forecaster) load(ctx context.Context, conn *sql.Conn) error {
	var first sql.NullTime
	if err := conn.QueryRowContext(ctx, `SELECT min(created_on) FROM pl_deals`).Scan(&first); err != nil {
		return err
	}
	if fc.hasDeals = first.Valid; fc.hasDeals {
		fc.firstCreated = plDay(first.Time)
	}
	// Leaves and the units above them, as pl_deal_org pairs deals with units.
	if err := plScan(ctx, conn, `WITH leaves AS (SELECT DISTINCT coalesce(rep_org_unit_id, '') AS leaf FROM pl_deals)
		SELECT l.leaf, c.ancestor_id FROM leaves l LEFT JOIN facts.org_paths c ON c.org_unit_id = l.leaf
		ORDER BY l.leaf, c.ancestor_id`, func(r *sql.Rows) error {
		var leaf string
		var org sql.NullString
		if err := r.Scan(&leaf, &org); err != nil {
			return err
		}
		if fc.up[leaf] == nil {
			fc.up[leaf] = []string{"all"}
		}
		if org.Valid {
			fc.up[leaf] = append(fc.up[leaf], org.String)
		}
		return nil
	}); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, orgs := range fc.up {
		for _, org := range orgs {
			if !seen[org] {
				seen[org] = true
				fc.orgs = append(fc.orgs, org)
			}
		}
	}
	sort.Slice(fc.orgs, func(i, j int) bool {
		if (fc.orgs[i] == "all") != (fc.orgs[j] == "all") {
			return fc.orgs[i] == "all"
		}
		return fc.orgs[i] < fc.orgs[j]
	})
	if err := plScan(ctx, conn, `SELECT org_unit_id, level FROM live.org_units`, func(r *sql.Rows) error {
		var id, level string
		if err := r.Scan(&id, &level); err != nil {
			return err
		}
		fc.level[id] = level
		return nil
	}); err != nil {
		return err
	}
	if err := plScan(ctx, conn, `SELECT coalesce(rep_org_unit_id, ''), closed_on, created_on, CAST(coalesce(amount_base, 0) AS DOUBLE)
		FROM pl_deals WHERE status = 'won' ORDER BY opportunity_id`, func(r *sql.Rows) error {
		d := &fcDeal{}
		if err := r.Scan(&d.leaf, &d.closedOn, &d.created, &d.amount); err != nil {
			return err
		}
		d.created, d.closedOn = plDay(d.created), plDay(d.closedOn)
		fc.won = append(fc.won, d)
		return nil
	}); err != nil {
		return err
	}
	leafSeries := map[string]map[int]float64{}
	for _, d := range fc.won {
		M := mIdx(d.closedOn)
		fc.wonIn[M] = append(fc.wonIn[M], d)
		if leafSeries[d.leaf] == nil {
			leafSeries[d.leaf] = map[int]float64{}
		}
		leafSeries[d.leaf][M] += d.amount
	}
	// Leaves in a fixed order: the units' sums are floats, whose value depends
	// on the order they are added in.
	for _, leaf := range slices.Sorted(maps.Keys(leafSeries)) {
		byMonth := leafSeries[leaf]
		for _, org := range fc.up[leaf] {
			if fc.series[org] == nil {
				fc.series[org] = map[int]float64{}
			}
			for M, v := range byMonth {
				fc.series[org][M] += v
			}
		}
	}
	return nil
}

// snapshots rebuilds the open pipeline at each date (forecast_snapshots.sql:
// what pipeline_at returns at each date, computed in one pass) and sums it
// (forecast_snapshot_sums.sql), or takes the sums from its cache
// (cachedSums) when the deal stages came from theirs.
func (fc *forecaster) snapshots(ctx context.Context, rc *RunContext, dates []time.Time) error {
	conn := rc.Conn
	if err := fcDatesTable(ctx, conn, "pl_fc_dates", dates); err != nil {
		return err
	}
	for _, t := range dates {
		fc.snapped[t] = true
	}
	// the snapshots of the data as it is (for analysts and tests; the sums
	// read them unless the cache serves)
	if err := rc.Exec(ctx, "forecast_snapshots.sql", fcSnap("pl_fc_snap", "pl_stage_history", "pl_deals", "pl_fc_dates")); err != nil {
		return err
	}
	parts := "SELECT * FROM pl_fc_part"
	if rc.stagesCached {
		var err error
		if parts, err = fc.cachedSums(ctx, rc, dates); err != nil {
			return err
		}
	} else if err := rc.Exec(ctx, "forecast_snapshot_sums.sql", fc.sumsData("CREATE OR REPLACE TEMP TABLE pl_fc_part AS", fcSource{"pl_fc_snap", 1})); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "forecast_snapshot_sums.sql", map[string]any{"Step": "final", "Parts": parts}); err != nil {
		return err
	}
	if err := plScan(ctx, conn, `SELECT t, leaf, probability, coalesce(expected_month, -1), created_on, amount, amount_squared
		FROM pl_fc_weighted ORDER BY ALL`, func(r *sql.Rows) error {
		var t time.Time
		var created sql.NullTime
		w := fcWeightedSum{}
		if err := r.Scan(&t, &w.leaf, &w.prob, &w.expectedMonth, &created, &w.amount, &w.amountSquared); err != nil {
			return err
		}
		if created.Valid {
			w.created = plDay(created.Time)
		}
		t = plDay(t)
		fc.weighted[t] = append(fc.weighted[t], w)
		return nil
	}); err != nil {
		return err
	}
	return plScan(ctx, conn, `SELECT t, leaf, stage, age_class, won_after_months, amount, amount_squared, deals
		FROM pl_fc_stage_age ORDER BY ALL`, func(r *sql.Rows) error {
		var t time.Time
		a := fcStageAgeSum{}
		if err := r.Scan(&t, &a.leaf, &a.stage, &a.ageClass, &a.wonAfter, &a.amount, &a.amountSquared, &a.deals); err != nil {
			return err
		}
		t = plDay(t)
		fc.stageAge[t] = append(fc.stageAge[t], a)
		return nil
	})
}

// at runs every method as if the date were T: method → org → month → bound,
// for the N months after T's month.
func (fc *forecaster) at(T time.Time) map[string]map[string]map[int]fcBound {
	if out, ok := fc.atCache[T]; ok {
		return out
	}
	out := map[string]map[string]map[int]fcBound{}
	fc.atCache[T] = out
	first := mIdx(T) + 1
	put := func(method, org string, M int, b fcBound) {
		if out[method] == nil {
			out[method] = map[string]map[int]fcBound{}
		}
		if out[method][org] == nil {
			out[method][org] = map[int]fcBound{}
		}
		out[method][org][M] = b
	}
	// Weighted pipeline: amount × the stage's default probability, in the month
	// of the expected close; overdue (or due in T's own month) → the first
	// month; no expected close → created + the median cycle of deals won by T.
	{
		est := map[string]map[int]*fcEst{}
		for _, org := range fc.orgs {
			est[org] = map[int]*fcEst{}
			for M := first; M < first+fc.n; M++ {
				est[org][M] = &fcEst{}
			}
		}
		med := fc.medianCycle(T)
		leaves := map[string]map[int]*fcEst{}
		for _, o := range fc.weighted[T] {
			M := o.expectedMonth
			if M < 0 {
				M = mIdx(o.created.AddDate(0, 0, med))
			}
			M = max(M, first)
			if M >= first+fc.n {
				continue
			}
			p := math.Min(math.Max(o.prob/100, 0), 1)
			if leaves[o.leaf] == nil {
				leaves[o.leaf] = map[int]*fcEst{}
			}
			if leaves[o.leaf][M] == nil {
				leaves[o.leaf][M] = &fcEst{}
			}
			leaves[o.leaf][M].f += o.amount * p
			leaves[o.leaf][M].v += o.amountSquared * p * (1 - p)
		}
		for _, leaf := range sortedKeys(leaves) {
			for M, e := range leaves[leaf] {
				for _, org := range fc.up[leaf] {
					est[org][M].f += e.f
					est[org][M].v += e.v
				}
			}
		}
		for org, byMonth := range est {
			for M, e := range byMonth {
				put(fcWeighted, org, M, e.bound())
			}
		}
	}

	// Stage and age: the share of the amount open in a stage × age class at a
	// past month end that was won h months later, learnt from the month ends
	// whose outcome month is complete by T; plus the average amount won in
	// month +h from deals created after the month end (new business).
	lc := lastComplete(T)
	for h := 1; h <= fc.n; h++ {
		full, byStage, all := map[fcCellKey]*fcCell{}, map[string]*fcCell{}, &fcCell{}
		nb := map[string][]float64{}
		var trained int
		for i := lc - h; i >= lc-h-fc.lookback+1 && i >= 0; i-- {
			st := fc.training(mEnd(i), h)
			if st == nil {
				continue
			}
			trained++
			for k, c := range st.full {
				if full[k] == nil {
					full[k] = &fcCell{}
				}
				full[k].add(c)
			}
			for k, c := range st.byStage {
				if byStage[k] == nil {
					byStage[k] = &fcCell{}
				}
				byStage[k].add(c)
			}
			all.add(&st.all)
			for _, org := range fc.orgs {
				nb[org] = append(nb[org], st.newBiz[org])
			}
		}
		if trained == 0 {
			continue
		}
		rate := func(o fcStageAgeSum) float64 {
			for _, c := range []*fcCell{full[fcCellKey{o.stage, o.ageClass}], byStage[o.stage], all} {
				if c != nil && c.n >= float64(fc.minCell) && c.open > 0 {
					return math.Min(c.won/c.open, 1)
				}
			}
			if all.open > 0 {
				return math.Min(all.won/all.open, 1)
			}
			return 0
		}
		est := map[string]*fcEst{}
		for _, org := range fc.orgs {
			mean, variance := meanVar(nb[org])
			est[org] = &fcEst{f: mean, v: variance}
		}
		leaves := map[string]*fcEst{}
		for _, o := range fc.stageAge[T] {
			r := rate(o)
			if leaves[o.leaf] == nil {
				leaves[o.leaf] = &fcEst{}
			}
			leaves[o.leaf].f += o.amount * r
			leaves[o.leaf].v += o.amountSquared * r * (1 - r)
		}
		for _, leaf := range sortedKeys(leaves) {
			for _, org := range fc.up[leaf] {
				est[org].f += leaves[leaf].f
				est[org].v += leaves[leaf].v
			}
		}
		for org, e := range est {
			put(fcStageAge, org, first+h-1, e.bound())
		}
	}

	// Holt-Winters on the complete months up to T, from each unit's first
	// month with bookings.
	for _, org := range fc.orgs {
		y := fc.seriesUpTo(org, lc)
		model := fitSmoothing(y, 12)
		for M := first; M < first+fc.n; M++ {
			if len(y) == 0 {
				put(fcHW, org, M, fcBound{})
				continue
			}
			k := M - lc
			f := math.Max(model.Forecast(k), 0)
			sd := model.Sigma(k)
			put(fcHW, org, M, fcBound{f, math.Max(0, f-1.959964*sd), f + 1.959964*sd})
		}
	}
	return out
}

// seriesUpTo is a unit's monthly bookings from its first month with
// bookings through month lc.
func (fc *forecaster) seriesUpTo(org string, lc int) []float64 {
	s := fc.series[org]
	start := math.MaxInt
	for M, v := range s {
		if v != 0 && M <= lc {
			start = min(start, M)
		}
	}
	var y []float64
	for M := start; M <= lc; M++ {
		y = append(y, s[M])
	}
	return y
}

// medianCycle is the median of closed_on − created (days) of the deals won
// by T (0 when there are none). Both dates are whole days, so the median is
// read off a count of the deals per cycle length: the backtest asks for it
// at every past month end, and sorting up to a million cycles each time cost
// seconds on the large demo company.
func (fc *forecaster) medianCycle(T time.Time) int {
	c := &fc.cycles
	if c.counts == nil {
		c.build(fc.won)
	}
	// The deals closed by T are a prefix of the deals in closing order: the
	// counts of the previous (earlier) T are extended rather than counted
	// again (the backtest asks for ~40 dates; 2 M won deals on the large
	// company).
	upTo := int(math.Floor(T.Sub(c.firstClose).Hours() / 24))
	if upTo < c.upTo {
		clear(c.counts)
		c.next = 0
	}
	c.upTo = upTo
	for c.next < len(c.closeDay) && int(c.closeDay[c.next]) <= upTo {
		c.counts[int(c.cycle[c.next])-c.shortest]++
		c.next++
	}
	n := c.next
	if n == 0 {
		return 0
	}
	kth := func(k int) int { // the k-th shortest cycle, from 0
		for i, m := range c.counts {
			if k < m {
				return c.shortest + i
			}
			k -= m
		}
		panic("medianCycle: fewer cycles than counted")
	}
	if n%2 == 1 {
		return kth(n / 2)
	}
	return int(math.Round(float64(kth(n/2-1)+kth(n/2)) / 2))
}

// fcCycles holds the won deals' cycle lengths in closing order, and
// medianCycle's counts per cycle length of those closed by day upTo.
type fcCycles struct {
	firstClose time.Time
	closeDay   []int32 // days from firstClose, ascending
	cycle      []int32 // days from created to closed, in the same order
	shortest   int     // the cycle length of counts[0]
	counts     []int
	next       int // closeDay[:next] are counted
	upTo       int
}

// build orders the deals by closing day (a counting sort: the days span
// years, the deals millions).
func (c *fcCycles) build(won []*fcDeal) {
	day := func(t time.Time) int { return int(math.Floor(t.Sub(c.firstClose).Hours() / 24)) }
	cycle := func(d *fcDeal) int { return int(d.closedOn.Sub(d.created).Hours() / 24) }
	lo, hi := math.MaxInt, math.MinInt
	for i, d := range won {
		if i == 0 || d.closedOn.Before(c.firstClose) {
			c.firstClose = d.closedOn
		}
		lo, hi = min(lo, cycle(d)), max(hi, cycle(d))
	}
	c.shortest, c.counts = lo, make([]int, max(hi-lo+1, 0))
	lastDay := 0
	for _, d := range won {
		lastDay = max(lastDay, day(d.closedOn))
	}
	start := make([]int, lastDay+2)
	for _, d := range won {
		start[day(d.closedOn)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	c.closeDay, c.cycle = make([]int32, len(won)), make([]int32, len(won))
	for _, d := range won {
		i := start[day(d.closedOn)]
		start[day(d.closedOn)]++
		c.closeDay[i], c.cycle[i] = int32(day(d.closedOn)), int32(cycle(d))
	}
	c.next, c.upTo = 0, math.MinInt
}

// fcCell sums, over deals open at past month ends, the amount open, the
// amount of it won in the outcome month, and the number of deals.
type fcCell struct{ open, won, n float64 }

func (c *fcCell) add(o *fcCell) { c.open += o.open; c.won += o.won; c.n += o.n }

type fcCellKey struct {
	stage string
	age   int
}

// fcTraining is what one past month end t teaches for horizon h: per stage ×
// age class, per stage and overall, how much of the open amount was won in
// month t+h, and per unit the amount won in t+h from deals created after t.
type fcTraining struct {
	full    map[fcCellKey]*fcCell
	byStage map[string]*fcCell
	all     fcCell
	newBiz  map[string]float64
}

// training returns (and caches) the lesson of the month end t for horizon h;
// nil when no snapshot was taken at t.
func (fc *forecaster) training(t time.Time, h int) *fcTraining {
	key := fcTrainKey{t, h}
	if st, ok := fc.trainCache[key]; ok {
		return st
	}
	if !fc.snapped[t] {
		fc.trainCache[key] = nil
		return nil
	}
	st := &fcTraining{full: map[fcCellKey]*fcCell{}, byStage: map[string]*fcCell{}, newBiz: map[string]float64{}}
	target := mIdx(t) + h
	for _, o := range fc.stageAge[t] {
		k := fcCellKey{o.stage, o.ageClass}
		if st.full[k] == nil {
			st.full[k] = &fcCell{}
		}
		if st.byStage[o.stage] == nil {
			st.byStage[o.stage] = &fcCell{}
		}
		won := 0.0
		if o.wonAfter == h {
			won = o.amount
		}
		for _, c := range []*fcCell{st.full[k], st.byStage[o.stage], &st.all} {
			c.open += o.amount
			c.won += won
			c.n += o.deals
		}
	}
	leaves := map[string]float64{}
	for _, d := range fc.wonIn[target] {
		if d.created.After(t) {
			leaves[d.leaf] += d.amount
		}
	}
	for _, leaf := range sortedKeys(leaves) {
		for _, org := range fc.up[leaf] {
			st.newBiz[org] += leaves[leaf]
		}
	}
	fc.trainCache[key] = st
	return st
}

type fcTrainKey struct {
	t time.Time
	h int
}

// meanVar returns the mean and the sample variance of xs.
func meanVar(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, v / float64(len(xs)-1)
}

// sortedKeys returns a map's keys in order, so that sums over them come out
// the same in every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fcSource is a snapshot view summed with a sign (forecast_snapshot_sums.sql).
type fcSource struct {
	View string
	Sign int
}

// sumsData is forecast_snapshot_sums.sql's part step: into (a CREATE or
// INSERT prefix) the sums of sources.
func (fc *forecaster) sumsData(into string, sources ...fcSource) map[string]any {
	return map[string]any{"Step": "part", "Into": into, "Sources": sources, "AgeBuckets": fcAgeBuckets, "Months": fc.n}
}

// fcSnap is forecast_snapshots.sql's data: the view into of the deals of
// deals with their history at the dates of the table dates.
func fcSnap(into, history, deals, dates string) map[string]any {
	return map[string]any{"Into": into, "History": history, "Deals": deals, "Dates": dates}
}

// fcDatesTable makes the temp table name (t DATE) of dates.
func fcDatesTable(ctx context.Context, conn *sql.Conn, name string, dates []time.Time) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+name+` (t DATE)`); err != nil {
		return err
	}
	for _, t := range dates {
		if _, err := conn.ExecContext(ctx, `INSERT INTO `+name+` VALUES ($1)`, t.Format(time.DateOnly)); err != nil {
			return err
		}
	}
	return nil
}

// The snapshot sums' cache (cachedSums): model_cache.fc_sums holds the sums
// of forecast_snapshot_sums.sql at every date of a refresh, computed from the
// deal-stages cache as it was written (its stage_history and deal_attrs);
// model_cache.fc_sums_state says which writing of that cache (its load and
// fingerprint), which settings (the months, the age classes) and which
// dates. A snapshot at a date depends only on the deals and their history
// (as_of is on or after every date of them whenever the deal-stages cache
// serves), so a refresh takes a date's sums from the cache and, for the
// deals recomputed beside the deal-stages cache (the loads since it was
// written), subtracts their cached snapshots and adds their new ones. Dates
// the cache lacks (the as-of date, a new month end) are added from the
// deal-stages cache as written; dates no longer needed are dropped. When the
// deal-stages cache is written again, or the settings differ, the sums are
// computed again from it. All in exact decimals and counts: the same sums as
// adding up every snapshot (TestIncrementalRefreshEqualsFull).
func (fc *forecaster) cachedSums(ctx context.Context, rc *RunContext, dates []time.Time) (string, error) {
	conn := rc.Conn
	var base string
	if err := conn.QueryRowContext(ctx, "SELECT load_id || '/' || fingerprint FROM model_cache.deal_stages_state").Scan(&base); err != nil {
		return "", fmt.Errorf("reading the deal_stages cache's state: %w", err)
	}
	spec := fmt.Sprintf("months=%d ages=%v", fc.n, fcAgeBuckets)
	cached := map[time.Time]bool{}
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT count(*) = 2 FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'model_cache' AND table_name IN ('fc_sums', 'fc_sums_state')`).Scan(&exists); err != nil {
		return "", err
	}
	rebuild := !exists
	if exists {
		var cachedBase, cachedSpec string
		err := conn.QueryRowContext(ctx, "SELECT base, spec FROM model_cache.fc_sums_state").Scan(&cachedBase, &cachedSpec)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			rebuild = true
		case err != nil:
			return "", fmt.Errorf("reading the forecast sums cache's state: %w", err)
		default:
			rebuild = cachedBase != base || cachedSpec != spec
		}
		if !rebuild {
			if err := plScan(ctx, conn, "SELECT unnest(dates) FROM model_cache.fc_sums_state", func(r *sql.Rows) error {
				var t time.Time
				if err := r.Scan(&t); err != nil {
					return err
				}
				cached[plDay(t)] = true
				return nil
			}); err != nil {
				return "", err
			}
		}
	}
	var missing []time.Time
	want := map[time.Time]bool{}
	for _, t := range dates {
		want[t] = true
		if !cached[t] {
			missing = append(missing, t)
		}
	}
	stale := false
	for t := range cached {
		stale = stale || !want[t]
	}
	if rebuild || len(missing) > 0 || stale {
		if err := fcDatesTable(ctx, conn, "pl_fc_new_dates", missing); err != nil {
			return "", err
		}
		if err := rc.Exec(ctx, "forecast_snapshots.sql", fcSnap("pl_fc_snap_cache", "model_cache.stage_history", "model_cache.deal_attrs", "pl_fc_new_dates")); err != nil {
			return "", err
		}
		into := "INSERT INTO model_cache.fc_sums"
		if rebuild {
			into = "CREATE OR REPLACE TABLE model_cache.fc_sums AS"
		}
		ds := make([]string, len(dates))
		for i, t := range dates {
			ds[i] = "DATE '" + t.Format(time.DateOnly) + "'"
		}
		err := inTransaction(ctx, rc, "updating the forecast sums cache", func() error {
			if err := rc.Exec(ctx, "forecast_snapshot_sums.sql", fc.sumsData(into, fcSource{"pl_fc_snap_cache", 1})); err != nil {
				return err
			}
			for _, q := range []string{
				"DELETE FROM model_cache.fc_sums WHERE t NOT IN (SELECT t FROM pl_fc_dates)",
				fmt.Sprintf("CREATE OR REPLACE TABLE model_cache.fc_sums_state AS SELECT %s AS base, %s AS spec, CAST([%s] AS DATE[]) AS dates",
					sqlString(base), sqlString(spec), strings.Join(ds, ", ")),
			} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if rebuild {
			rc.Note("forecast sums cache rebuilt")
		}
	}
	// the deals recomputed beside the deal-stages cache: out as cached, in as now
	keys := "(SELECT opportunity_id FROM deal_stages_overlay_keys)"
	if err := rc.Exec(ctx, "forecast_snapshots.sql", fcSnap("pl_fc_snap_out",
		"(SELECT * FROM model_cache.stage_history WHERE opportunity_id IN "+keys+")",
		"(SELECT * FROM model_cache.deal_attrs WHERE opportunity_id IN "+keys+")", "pl_fc_dates")); err != nil {
		return "", err
	}
	if err := rc.Exec(ctx, "forecast_snapshots.sql", fcSnap("pl_fc_snap_in", "stage_history_overlay", "deal_attrs_overlay", "pl_fc_dates")); err != nil {
		return "", err
	}
	if err := rc.Exec(ctx, "forecast_snapshot_sums.sql", fc.sumsData("CREATE OR REPLACE TEMP TABLE pl_fc_part AS",
		fcSource{"pl_fc_snap_out", -1}, fcSource{"pl_fc_snap_in", 1})); err != nil {
		return "", err
	}
	return "SELECT * FROM model_cache.fc_sums WHERE t IN (SELECT t FROM pl_fc_dates) UNION ALL SELECT * FROM pl_fc_part", nil
}
