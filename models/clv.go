package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triscope/triscope/models/internal/btyd"
	"github.com/triscope/triscope/warehouse"
)

// The CLV model: BG/NBD for the number of future purchase days and P(alive),
// Gamma-Gamma for the value of a purchase day, combined into a discounted
// customer lifetime value over a horizon of whole months.
//
// Settings (models.clv.*):
//   - time_unit: day | week | month (30.4375 days) | year (365.25 days); default week.
//     The BG/NBD α and mart_clv's recency and t are in this unit.
//   - horizon_months: forecast horizon in months (default 12).
//   - monthly_discount_rate: discount rate per month (default 0.01).
//
// Definitions (see the SQL files clv_*.sql): a purchase is a payment with
// amount ≥ 0; one customer's purchases on one day are one transaction whose
// value is the sum of that day's non-negative payments; refunds (negative
// payments) are neither purchases nor subtracted from spend. Customers with
// x = 0 get the population mean spend pγ/(q−1).
func init() {
	register(&Model{Name: "clv", Needs: []string{"payments"}, Reads: []string{"payments", "customers", "fx_rates"}, Tables: []string{"mart_clv"}, Run: runCLV})
}

// clvDaysPerMonth is the mean Gregorian month.
const clvDaysPerMonth = 30.4375

var clvUnits = map[string]float64{"day": 1, "week": 7, "month": clvDaysPerMonth, "year": 365.25}

type clvConfig struct {
	unit          string
	unitDays      float64
	horizonMonths int
	discount      float64 // per month
}

func clvSettings(s Settings) (clvConfig, error) {
	c := clvConfig{
		unit:          strings.ToLower(strings.TrimSpace(s.String("time_unit", "week"))),
		horizonMonths: s.Int("horizon_months", 12),
		discount:      s.Float("monthly_discount_rate", 0.01),
	}
	var ok bool
	if c.unitDays, ok = clvUnits[c.unit]; !ok {
		return c, fmt.Errorf("models.clv.time_unit is %q; use day, week, month or year", c.unit)
	}
	if c.horizonMonths < 1 || c.horizonMonths > 1200 {
		return c, fmt.Errorf("models.clv.horizon_months is %d; use a whole number of months from 1 to 1200", c.horizonMonths)
	}
	if !(c.discount > -1) || math.IsInf(c.discount, 0) {
		return c, fmt.Errorf("models.clv.monthly_discount_rate is %v; it must be greater than -1 (0.01 = 1%% a month)", c.discount)
	}
	return c, nil
}

// clvFloat formats a float for splicing into SQL as a DOUBLE literal.
func clvFloat(v float64) string { return strconv.FormatFloat(v, 'e', -1, 64) }

func runCLV(ctx context.Context, rc *RunContext) (err error) {
	log := rc.Log
	if log == nil {
		log = slog.Default()
	}
	cfg, err := clvSettings(rc.Settings)
	if err != nil {
		return err
	}
	start := time.Now()
	stage := start
	timings := []any{}
	lap := func(name string) {
		now := time.Now()
		timings = append(timings, name, now.Sub(stage).Round(time.Millisecond).String())
		stage = now
	}
	defer func() {
		if err == nil {
			err = rc.Exec(ctx, "clv_cleanup.sql", nil)
		}
		log.Debug("clv stages", append(timings, "total", time.Since(start).Round(time.Millisecond).String())...)
	}()

	if err := rc.Exec(ctx, "clv_create.sql", map[string]any{
		"Unit": cfg.unit, "HorizonMonths": cfg.horizonMonths, "Discount": cfg.discount,
	}); err != nil {
		return err
	}
	// model_fits holds the latest refresh only: a refresh that cannot fit
	// leaves no stale parameters behind.
	if _, err := rc.Conn.ExecContext(ctx, "DELETE FROM model_fits WHERE model IN ('bgnbd', 'gamma_gamma')"); err != nil {
		return err
	}
	if err := paymentSums(ctx, rc); err != nil {
		return err
	}
	if err := rc.Exec(ctx, "clv_summary.sql", nil); err != nil {
		return err
	}
	lap("summary")

	groups, err := readCLVGroups(ctx, rc, cfg.unitDays)
	if err != nil {
		return err
	}
	lap("read groups")
	if len(groups) == 0 {
		log.Info("clv: no purchases up to the as-of date; mart_clv is empty", "as_of", rc.AsOf.Format(time.DateOnly))
		return nil
	}

	// Fit BG/NBD. Customers whose first purchase is on the as-of date (T = 0)
	// add nothing to the likelihood and are left out of the fit (they are
	// still forecast).
	var fitRows []btyd.Customer
	var nFit int64
	for _, g := range groups {
		if g.tDays > 0 {
			fitRows = append(fitRows, btyd.Customer{X: float64(g.x), Tx: g.tx, T: g.t, Count: int(g.n)})
			nFit += g.n
		}
	}
	var repeaters, customers int64
	for _, g := range groups {
		customers += g.n
		if g.x > 0 {
			repeaters += g.n
		}
	}
	if repeaters == 0 {
		rc.Note("%s", "clv: nobody made a repeat purchase up to the as-of date, so BG/NBD cannot be fitted; mart_clv is empty")
		log.Warn("clv: nobody made a repeat purchase up to the as-of date, so BG/NBD cannot be fitted; mart_clv is empty",
			"customers", customers, "as_of", rc.AsOf.Format(time.DateOnly))
		return nil
	}
	bg, bgLL, err := btyd.FitBGNBD(fitRows)
	switch {
	case errors.Is(err, btyd.ErrNotConverged):
		rc.Note("%s", "clv: BG/NBD fit did not fully converge; using the best parameters found")
		log.Warn("clv: BG/NBD fit did not fully converge; using the best parameters found", "err", err,
			"r", bg.R, "alpha", bg.Alpha, "a", bg.A, "b", bg.B)
	case err != nil:
		return fmt.Errorf("fitting BG/NBD: %w", err)
	}
	if err := insertFits(ctx, rc, "bgnbd", []string{"r", "alpha", "a", "b", "time_unit_days"}, []float64{bg.R, bg.Alpha, bg.A, bg.B, cfg.unitDays}, bgLL, nFit); err != nil {
		return err
	}
	lap("fit bgnbd")

	// Fit Gamma-Gamma on the repeat customers with positive repeat spend.
	spends, nSpend, err := readCLVSpends(ctx, rc)
	if err != nil {
		return err
	}
	gg, ggLL, ggErr := btyd.FitGammaGamma(spends)
	hasGG := true
	switch {
	case ggErr == nil:
	case errors.Is(ggErr, btyd.ErrNotConverged):
		rc.Note("%s", "clv: Gamma-Gamma fit did not fully converge; using the best parameters found")
		log.Warn("clv: Gamma-Gamma fit did not fully converge; using the best parameters found", "err", ggErr,
			"p", gg.P, "q", gg.Q, "gamma", gg.Gamma)
	default:
		hasGG = false
		rc.Note("%s", "clv: Gamma-Gamma cannot be fitted; expected_avg_value and clv are NULL")
		log.Warn("clv: Gamma-Gamma cannot be fitted; expected_avg_value and clv are NULL", "err", ggErr)
	}
	if hasGG {
		if err := insertFits(ctx, rc, "gamma_gamma", []string{"p", "q", "gamma"}, []float64{gg.P, gg.Q, gg.Gamma}, ggLL, nSpend); err != nil {
			return err
		}
		if gg.Q <= 1 {
			// What it means for the figures, for whoever reads the refresh's
			// output; the model's reason for the analyst, at debug level.
			rc.Note("%s", clvOneTimeBuyersNote)
			log.Debug("clv: Gamma-Gamma q <= 1: the population mean spend p·γ/(q−1) is infinite, so one-time buyers are valued at the observed mean repeat purchase",
				"p", gg.P, "q", gg.Q, "gamma", gg.Gamma)
		}
	}
	lap("fit gamma-gamma")

	// Forecast every group and append the results.
	step := clvDaysPerMonth / cfg.unitDays
	nan := forecastCLVGroups(bg, groups, cfg.unitDays, cfg.horizonMonths, step, cfg.discount)
	if nan > 0 {
		rc.Note("%s", "clv: the forecast could not be evaluated for some customer groups (p_alive, expected_purchases and clv are NULL)")
		log.Warn("clv: the forecast could not be evaluated for some customer groups (p_alive, expected_purchases and clv are NULL)", "groups", nan)
	}
	lap("forecast")
	i := 0
	if _, err := warehouse.Append(rc.Conn, "clv_forecast",
		[]string{"x", "recency_days", "t_days", "p_alive", "expected_purchases", "disc_purchases"},
		func(row []driver.Value) (bool, error) {
			if i == len(groups) {
				return false, nil
			}
			g := &groups[i]
			i++
			row[0], row[1], row[2] = g.x, g.recencyDays, g.tDays
			row[3], row[4], row[5] = clvNullable(g.pAlive), clvNullable(g.expected), clvNullable(g.disc)
			return true, nil
		}); err != nil {
		return err
	}
	lap("append")

	data := map[string]any{"UnitDays": clvFloat(cfg.unitDays), "HasGG": hasGG}
	if hasGG {
		data["P"], data["Q"], data["Gamma"] = clvFloat(gg.P), clvFloat(gg.Q), clvFloat(gg.Gamma)
	}
	if err := rc.Exec(ctx, "clv_fill.sql", data); err != nil {
		return err
	}
	lap("mart")
	log.Debug("clv fitted", "groups", len(groups), "customers", nFit, "r", bg.R, "alpha", bg.Alpha, "a", bg.A, "b", bg.B,
		"ll", bgLL, "p", gg.P, "q", gg.Q, "gamma", gg.Gamma, "unit", cfg.unit)
	return nil
}

// clvGroup is one distinct (x, t_x, T) with its forecast.
type clvGroup struct {
	x, recencyDays, tDays, n int64
	tx, t                    float64 // in the time unit
	pAlive, expected, disc   float64 // disc: P(alive) × discounted expected purchases
}

func readCLVGroups(ctx context.Context, rc *RunContext, unitDays float64) ([]clvGroup, error) {
	rows, err := rc.Conn.QueryContext(ctx, "SELECT x, recency_days, t_days, n FROM clv_groups ORDER BY x, t_days, recency_days")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []clvGroup
	for rows.Next() {
		var g clvGroup
		if err := rows.Scan(&g.x, &g.recencyDays, &g.tDays, &g.n); err != nil {
			return nil, err
		}
		g.tx, g.t = float64(g.recencyDays)/unitDays, float64(g.tDays)/unitDays
		out = append(out, g)
	}
	return out, rows.Err()
}

func readCLVSpends(ctx context.Context, rc *RunContext) ([]btyd.Spend, int64, error) {
	rows, err := rc.Conn.QueryContext(ctx, `SELECT x, CAST(repeat_value AS DOUBLE) / x, count(*)
		FROM clv_summary WHERE x > 0 AND repeat_value > 0
		GROUP BY x, repeat_value ORDER BY x, repeat_value`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []btyd.Spend
	var n int64
	for rows.Next() {
		var x, c int64
		var z float64
		if err := rows.Scan(&x, &z, &c); err != nil {
			return nil, 0, err
		}
		out = append(out, btyd.Spend{X: float64(x), Zbar: z, Count: int(c)})
		n += c
	}
	return out, n, rows.Err()
}

func insertFits(ctx context.Context, rc *RunContext, model string, params []string, values []float64, ll float64, n int64) error {
	for i, p := range params {
		if _, err := rc.Conn.ExecContext(ctx, "INSERT INTO model_fits VALUES ($1, $2, $3, $4, $5, getvariable('as_of'))",
			model, p, values[i], ll, n); err != nil {
			return fmt.Errorf("recording %s fit: %w", model, err)
		}
	}
	return nil
}

// forecastCLVGroups fills each group's P(alive), expected purchases over the
// horizon and P(alive) × discounted expected purchases. The expensive part
// (hypergeometric series) depends on (x, T) only and is computed once per
// distinct (x, T), in parallel; t_x enters through P(alive). It returns the
// number of groups whose forecast is not finite.
func forecastCLVGroups(bg btyd.BGNBD, groups []clvGroup, unitDays float64, months int, step, discount float64) int {
	type xt struct{ x, t int64 }
	type part struct{ disc, total float64 }
	index := map[xt]int{}
	var keys []xt
	for _, g := range groups {
		k := xt{g.x, g.tDays}
		if _, ok := index[k]; !ok {
			index[k] = len(keys)
			keys = append(keys, k)
		}
	}
	parts := make([]part, len(keys))
	workers := min(runtime.GOMAXPROCS(0), 4, max(1, len(keys)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(keys); i += workers {
				k := keys[i]
				// The same division as clvGroup.t, so T is bit-identical.
				parts[i].disc, parts[i].total = bg.DiscountedPurchasesIfAlive(float64(k.x), float64(k.t)/unitDays, months, step, discount)
			}
		})
	}
	wg.Wait()
	bad := 0
	for i := range groups {
		g := &groups[i]
		p := parts[index[xt{g.x, g.tDays}]]
		g.pAlive = bg.PAlive(float64(g.x), g.tx, g.t)
		g.expected = g.pAlive * p.total
		g.disc = g.pAlive * p.disc
		if !clvFinite(g.pAlive) || !clvFinite(g.expected) || !clvFinite(g.disc) {
			bad++
		}
	}
	return bad
}

func clvFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// clvNullable maps a non-finite float to SQL NULL.
func clvNullable(v float64) driver.Value {
	if !clvFinite(v) {
		return nil
	}
	return v
}

// clvOneTimeBuyersNote is what a refresh says when the spend model cannot
// give an average spend for customers with no repeat purchase (q <= 1).
const clvOneTimeBuyersNote = "clv: spend per purchase varies too much between customers to predict it for those who bought only once; their lifetime value uses the average repeat purchase instead"
