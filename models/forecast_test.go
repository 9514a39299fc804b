package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// medianCycle (counted per cycle length) equals the median of the sorted
// cycles of the deals won by T, for odd and even counts, halves rounded away
// from zero, and cycles that are negative (closed before created: bad data).
func TestMedianCycleIsTheSortedMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fc := &forecaster{}
	for range 501 {
		created := day0.AddDate(0, 0, rng.IntN(600))
		fc.won = append(fc.won, &fcDeal{created: created, closedOn: created.AddDate(0, 0, rng.IntN(200)-20)})
	}
	// later dates extend the counts of earlier ones; an earlier date after a
	// later one counts again
	dates := []time.Time{day0.AddDate(0, 0, -30), day0.AddDate(0, 0, 1), day0.AddDate(0, 0, 100), day0.AddDate(0, 0, 301), day0.AddDate(0, 0, 900),
		day0.AddDate(0, 0, 250), day0.AddDate(0, 0, 250), day0.AddDate(0, 0, 40), day0.AddDate(0, 0, 41), day0.AddDate(0, 0, -300), day0.AddDate(0, 0, 700)}
	for _, T := range dates {
		var days []float64
		for _, d := range fc.won {
			if !d.closedOn.After(T) {
				days = append(days, d.closedOn.Sub(d.created).Hours()/24)
			}
		}
		want := 0
		if n := len(days); n > 0 {
			slices.Sort(days)
			if n%2 == 1 {
				want = int(math.Round(days[n/2]))
			} else {
				want = int(math.Round((days[n/2-1] + days[n/2]) / 2))
			}
		}
		if got := fc.medianCycle(T); got != want {
			t.Errorf("T %s (%d deals): median cycle %d, want %d", T.Format(time.DateOnly), len(days), got, want)
		}
	}
}

// A series that is exactly a linear trend plus a zero-sum season is
// reproduced exactly by the additive model (the initialisation takes the
// trend out of the first season), whatever the smoothing parameters.
func TestHoltWintersExactSeries(t *testing.T) {
	season := []float64{-30, -20, -10, 0, 10, 20, 30, 20, 10, 0, -10, -20} // sums to 0
	var y []float64
	for i := 0; i < 36; i++ {
		y = append(y, 100+2*float64(i)+season[i%12])
	}
	m := fitSmoothing(y, 12)
	if m.Kind != "additive" || m.SSE > 1e-12 {
		t.Fatalf("got %s with SSE %g, want additive with 0", m.Kind, m.SSE)
	}
	for k := 1; k <= 14; k++ {
		want := 100 + 2*float64(35+k) + season[(35+k)%12]
		if got := m.Forecast(k); math.Abs(got-want) > 1e-9 {
			t.Errorf("additive, %d ahead: %g, want %g", k, got, want)
		}
	}
	for _, a := range hwAlphas {
		if f, _ := holtWinters(y, 12, a, 0.3, 0.5, false); f.SSE > 1e-12 {
			t.Errorf("alpha %g: SSE %g", a, f.SSE)
		}
	}
	// A flat level of 200 times factors averaging 1: multiplicative, exact.
	factors := []float64{0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.5, 1.3, 1.1, 0.9, 0.7, 0.5}
	y = y[:0]
	for i := 0; i < 30; i++ {
		y = append(y, 200*factors[i%12])
	}
	f, ok := holtWinters(y, 12, 0.3, 0.1, 0.2, true)
	if !ok || f.SSE > 1e-12 {
		t.Fatalf("multiplicative SSE %g", f.SSE)
	}
	for k := 1; k <= 12; k++ {
		if got, want := f.Forecast(k), 200*factors[(29+k)%12]; math.Abs(got-want) > 1e-9 {
			t.Errorf("multiplicative, %d ahead: %g, want %g", k, got, want)
		}
	}
	// Short series: Holt's linear trend (a straight line is exact), then the mean.
	h := fitSmoothing([]float64{10, 20, 30, 40, 50}, 12)
	if h.Kind != "holt" || math.Abs(h.Forecast(2)-70) > 1e-9 {
		t.Errorf("holt: %s, 2 ahead %g, want 70", h.Kind, h.Forecast(2))
	}
	mean := fitSmoothing([]float64{1000, 2000, 3000}, 12)
	if mean.Kind != "mean" || mean.Forecast(1) != 2000 || math.Abs(mean.Sigma(1)-1000) > 1e-9 {
		t.Errorf("mean: %s %g σ %g, want 2000 σ 1000", mean.Kind, mean.Forecast(1), mean.Sigma(1))
	}
}

// Fixture testdata/forecast, as_of 2024-03-31, 2 months (April, May), stages
// lead 10 %, qualified 20 %, proposal 60 %, negotiation 80 %. History: H1 1000
// won 01-15 (45 days), H2 2000 won 02-15 (45), H3 3000 won 03-01 (46), L1
// 4000 lost 02-10; all sat in proposal. Open at as_of (all created in March):
// W1 proposal 1000 expected 04-15, W2 negotiation 2000 expected 03-20
// (overdue), W3 lead 5000 expected 05-10, W4 proposal 3000 expected 08-01
// (beyond), W5 qualified 1000 without a date (created 03-01 + median cycle 45
// days = 04-15).
//
// Weighted pipeline: April 600 + 1600 + 200 = 2400, variance 1000²·.6·.4 +
// 2000²·.8·.2 + 1000²·.2·.8 = 1,040,000 → ±1.959964·1019.80 → 401.22 … 4398.78;
// May 500 ± 1.959964·1500 → 0 … 3439.95.
//
// Stage and age (min_cell_deals 1). Snapshots Dec 31: H1 (age 30), L1 (21);
// Jan 31: H2 (30), H3 (16), L1 (52); Feb 29: H3 (45). Classes ≤30, ≤90.
// h = 1 learns from Dec→Jan, Jan→Feb, Feb→Mar: proposal ≤30 open 1000 + 4000 +
// 2000 + 3000 = 10000, won H1 1000 + H2 2000 = 3000 → 0.3; all stages 17000 →
// 6000 won → 6/17 for W2, W3, W5 (no history in their stages); no new business.
// April = 0.3·(1000 + 3000) + 6/17·8000 = 4023.53.
// h = 2 learns from Dec→Feb and Jan→Mar: proposal ≤30 10000 → 3000 (H3) = 0.3;
// all 14000 → 3/14; new business: H2 (created 01-01, after Dec 31, won in Feb)
// 2000 and 0 → mean 1000. May = 1200 + 3/14·8000 + 1000 = 3914.29.
//
// Holt-Winters: 3 months of bookings 1000, 2000, 3000 → the mean 2000, σ =
// sqrt(2,000,000 / 2) = 1000: April 40.04 … 3959.96, May (σ·√2) 0 … 4771.81.
//
// Backtest at Jan 31 and Feb 29 (outcomes up to March):
//
//	weighted: Jan 31 → Feb: H2 1200 + H3 1800 + L1 (overdue) 2400 = 5400 (actual 2000),
//	  Mar 0 (3000); Feb 29 → Mar: H3 1800 (3000).
//	  h1 WAPE (3400 + 1200) / 5000 = 0.92, bias (3400 − 1200) / 5000 = 0.44; h2 1, −1.
//	stage_age: Jan 31 → Feb: rate 1000/5000 = 0.2 → (2000 + 3000 + 4000)·0.2 = 1800;
//	  Feb 29 → Mar: H3 is ≤90 days, whose cell (L1) won nothing → 0.
//	  h1 WAPE (200 + 3000) / 5000 = 0.64, bias −0.64; h2 has no training month.
//	holt_winters: Jan 31 → mean 1000 for Feb and Mar; Feb 29 → 1500 for Mar.
//	  h1 WAPE (1000 + 1500) / 5000 = 0.5, bias −0.5; h2 2000 / 3000.
//
// Blend: the weights (weighted, stage_age, holt_winters) on a 0.1 grid that
// minimise the blend's backtest WAPE. h1, with w_h = 1 − w_w − w_s: Feb
// forecast 1000 + 4400·w_w + 800·w_s (actual 2000), Mar 1500 + 300·w_w −
// 1500·w_s (actual 3000, always above): error |4400·w_w + 800·w_s − 1000| +
// 1500 − 300·w_w + 1500·w_s. Stage-and-age weight only adds error (1500 >
// 800), so w_s = 0; the error falls to w_w = 1000/4400 = 0.227 and rises after:
// on the grid w = (0.2, 0, 0.8), error 1000 − 880 + 1500 − 60 = 1560 →
// WAPE 0.312, bias (−120 − 1440)/5000 = −0.312 (Holt-Winters alone: 0.5).
// h2: only weighted (0) and Holt-Winters (1000) forecast March (actual 3000);
// the first best is Holt-Winters alone, WAPE 2000/3000.
// April = 0.2·2400 + 0.8·2000 = 2080; May = Holt-Winters = 2000.
func TestForecast(t *testing.T) {
	w := plWarehouse(t, "testdata/forecast")
	settings := map[string]Settings{"forecast": {"months": 2, "min_cell_deals": 1}}
	plRefresh(t, w, "2024-03-31", settings, "forecast")
	plExpect(t, w, `SELECT month, method, horizon_months, amount FROM mart_forecast WHERE org_unit_id = 'all' ORDER BY month, method`, []string{
		"2024-04 | blend | 1 | 2080",
		"2024-04 | holt_winters | 1 | 2000",
		"2024-04 | stage_age | 1 | 4023.53",
		"2024-04 | weighted_pipeline | 1 | 2400",
		"2024-05 | blend | 2 | 2000",
		"2024-05 | holt_winters | 2 | 2000",
		"2024-05 | stage_age | 2 | 3914.29",
		"2024-05 | weighted_pipeline | 2 | 500",
	})
	plExpect(t, w, `SELECT month, method, low, high FROM mart_forecast WHERE org_unit_id = 'all' AND method <> 'blend' ORDER BY month, method`, []string{
		"2024-04 | holt_winters | 40.04 | 3959.96",
		"2024-04 | stage_age | 0 | 9887.46",
		"2024-04 | weighted_pipeline | 401.22 | 4398.78",
		"2024-05 | holt_winters | 0 | 4771.81",
		"2024-05 | stage_age | 0 | 9843.3",
		"2024-05 | weighted_pipeline | 0 | 3439.95",
	})
	// One rep in one department: HQ and DA equal the company.
	plExpect(t, w, `SELECT count(*) FROM mart_forecast a JOIN mart_forecast b USING (month, method)
		WHERE a.org_unit_id = 'all' AND b.org_unit_id IN ('HQ', 'DA') AND a.amount = b.amount`, []string{"16"})
	plExpect(t, w, `SELECT method, horizon_months, wape, bias, n_points FROM mart_forecast_accuracy WHERE org_level = 'all'`, []string{
		"weighted_pipeline | 1 | 0.920000 | 0.440000 | 2",
		"weighted_pipeline | 2 | 1.000000 | -1.000000 | 1",
		"stage_age | 1 | 0.640000 | -0.640000 | 2",
		"holt_winters | 1 | 0.500000 | -0.500000 | 2",
		"holt_winters | 2 | 0.666667 | -0.666667 | 1",
		// blend, in-sample: Feb 1880, Mar 1560 (h1); Mar 1000 (h2)
		"blend | 1 | 0.312000 | -0.312000 | 2",
		"blend | 2 | 0.666667 | -0.666667 | 1",
	})
	plExpect(t, w, `SELECT DISTINCT org_level FROM mart_forecast_accuracy ORDER BY 1`, []string{"all", "company", "department"})
	// On the backtest the blend is never worse than the best single method.
	plExpect(t, w, `SELECT count(*) FROM mart_forecast_accuracy b WHERE method = 'blend' AND wape > 1e-9 + (
		SELECT min(wape) FROM mart_forecast_accuracy s
		WHERE s.method <> 'blend' AND s.horizon_months = b.horizon_months AND s.org_level = b.org_level)`, []string{"0"})
}

// mart_pipeline_trend holds, at the 12 month ends before the as-of month and
// at as_of, the deals pipeline_at returns that day and expects to close in
// the 3 months after it. Fixture (as_of 2024-03-31): at 03-31 W1 (1,000 in
// proposal, 60 %, closing 04-15) and W3 (5,000 in lead, 10 %, 05-10) are in
// the window; W2 closes before the day, W4 after June, W5 has no date; at the
// month ends before March the open deals H2, H3 and L1 have no expected close
// date. So one row: pipeline 6,000, weighted 600 + 500 = 1,100, 2 deals. On
// the small demo company every date and (rep, unit, product line) is checked
// against pipeline_at itself.
func TestPipelineTrend(t *testing.T) {
	t.Run("fixture", func(t *testing.T) {
		w := plWarehouse(t, "testdata/forecast")
		plRefresh(t, w, "2024-03-31", map[string]Settings{"forecast": {"months": 2, "min_cell_deals": 1}}, "forecast")
		plExpect(t, w, `SELECT made_on, owner_rep_id, org_unit_id, product_line, pipeline, weighted, deals FROM mart_pipeline_trend`, []string{
			"2024-03-31 | R1 | DA | NULL | 6000 | 1100 | 2",
		})
	})
	t.Run("small demo company", func(t *testing.T) {
		w := smallDemoWarehouse(t, 3)
		// a date inside a month: as_of is a trend point of its own
		plRefresh(t, w, "2026-10-17", nil, "forecast")
		var parts []string
		for _, d := range []string{"2025-10-31", "2025-11-30", "2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30",
			"2026-05-31", "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-17"} {
			parts = append(parts, fmt.Sprintf(`SELECT DATE '%[1]s', p.owner_rep_id, p.org_unit_id, pr.product_line,
				round(sum(p.amount), 2), round(sum(p.amount * p.probability) / 100, 2), count(*)
			FROM pipeline_at(DATE '%[1]s') p LEFT JOIN live.products pr ON pr.product_id = p.product_id
			WHERE p.expected_close_on > DATE '%[1]s' AND p.expected_close_on <= last_day(DATE '%[1]s' + INTERVAL 3 MONTH)
			GROUP BY ALL`, d))
		}
		ref := strings.Join(parts, " UNION ALL ")
		got := `SELECT made_on, owner_rep_id, org_unit_id, product_line, round(pipeline, 2), round(weighted, 2), deals FROM mart_pipeline_trend`
		plExpect(t, w, fmt.Sprintf(`SELECT (SELECT count(*) FROM (FROM (%s) EXCEPT ALL FROM (%s))), (SELECT count(*) FROM (FROM (%s) EXCEPT ALL FROM (%s))),
			(SELECT count(DISTINCT made_on) FROM mart_pipeline_trend), (SELECT sum(deals) > 1000 FROM mart_pipeline_trend)`, ref, got, got, ref),
			[]string{"0 | 0 | 13 | true"})
	})
}
