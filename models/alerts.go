package models

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// alerts: customers whose purchases fall three months running, settlements
// due soon or overdue, contracts ending soon, deals stalled in their stage,
// and forecast months below the bookings target, each with the money at
// risk it is ranked by. See docs/models/pipeline.md ("Alerts").
// The forecast alerts need the forecast and targets models of the same
// refresh (they run before alerts); without them that kind is left out.
//
// Thresholds and severities are settings (models.alerts.*, checked when the
// configuration is read: CheckAlertSettings), not fixed in the SQL:
//   - due_days (7): a settlement due within this many days is settlement_due;
//   - overdue_high_days (30): an overdue settlement is high after this many days;
//   - ending_days (30): a contract ending within this many days is contract_ending;
//   - stalled_factor (2), stalled_high_factor (4): a deal in its stage for
//     more than factor × the stage's median days is stalled; high beyond the
//     second;
//   - purchases_high_share (0.5): purchases_down is high when the last month
//     is at most this share of the first;
//   - forecast_high_share (0.8): forecast_below_target is high below this
//     share of the target;
//   - high_amount (0 = off): an alert with at least this money at risk (base
//     currency) is high whatever its rule says;
//   - min_amount (0): alerts with less money at risk are left out;
//   - severities: a fixed severity per kind ({contract_ending: medium}),
//     overriding the rules above.
func init() {
	register(&Model{
		Name:   "alerts",
		Reads:  append([]string{"payments", "payment_schedule", "contracts", "customers", "reps", "org_units", "targets", "mart_forecast", "mart_targets_monthly"}, pipelineInputs...),
		Needs:  nil, // every kind has its own inputs; with none of them the table is empty
		Tables: []string{"mart_alerts"},
		Run: func(ctx context.Context, rc *RunContext) error {
			cfg, err := alertSettings(rc.Settings)
			if err != nil {
				return err
			}
			if err := plPrep(ctx, rc); err != nil {
				return err
			}
			// staged by this refresh or published by an earlier one
			forecast := true
			for _, t := range []string{"mart_forecast", "mart_targets_monthly"} {
				schema, err := martSchema(ctx, rc.Conn, t)
				if err != nil {
					return err
				}
				forecast = forecast && schema != ""
			}
			if !forecast {
				rc.Note("forecast_below_target left out: run the forecast and targets models first")
			}
			// Session variables, like as_of: the file can be run by hand
			// after SET VARIABLE. The values are checked numbers and kinds.
			for _, set := range cfg.variables() {
				if _, err := rc.Conn.ExecContext(ctx, set); err != nil {
					return fmt.Errorf("alerts settings: %w", err)
				}
			}
			if err := paymentSums(ctx, rc); err != nil {
				return err
			}
			return rc.Exec(ctx, "alerts.sql", map[string]bool{"Forecast": forecast})
		},
	})
}

// AlertKinds are the kinds of alert the model raises.
var AlertKinds = []string{"purchases_down", "settlement_due", "settlement_overdue", "contract_ending", "stalled_deal", "forecast_below_target"}

// alertConfig is models.alerts.* with its defaults.
type alertConfig struct {
	num        map[string]float64
	severities map[string]string
}

// alertNumbers are the numeric settings, their defaults and whether they
// must be whole numbers (days).
var alertNumbers = []struct {
	key   string
	def   float64
	whole bool
}{
	{"due_days", 7, true}, {"overdue_high_days", 30, true}, {"ending_days", 30, true},
	{"stalled_factor", 2, false}, {"stalled_high_factor", 4, false},
	{"purchases_high_share", 0.5, false}, {"forecast_high_share", 0.8, false},
	{"high_amount", 0, false}, {"min_amount", 0, false},
}

// CheckAlertSettings says what is wrong with models.alerts.* (nil = nothing).
func CheckAlertSettings(s Settings) error {
	_, err := alertSettings(s)
	return err
}

func alertSettings(s Settings) (alertConfig, error) {
	c := alertConfig{num: map[string]float64{}, severities: map[string]string{}}
	known := map[string]bool{"severities": true}
	for _, n := range alertNumbers {
		known[n.key] = true
		v, err := strictNumber(s, n.key, n.def)
		if err != nil {
			return c, err
		}
		if v < 0 || (n.whole && v != float64(int64(v))) {
			return c, fmt.Errorf("models.alerts.%s: %v must be a number ≥ 0%s", n.key, v, map[bool]string{true: " of whole days"}[n.whole])
		}
		c.num[n.key] = v
	}
	if c.num["stalled_high_factor"] < c.num["stalled_factor"] {
		return c, fmt.Errorf("models.alerts.stalled_high_factor (%v) is below stalled_factor (%v)", c.num["stalled_high_factor"], c.num["stalled_factor"])
	}
	for k := range s {
		if !known[k] {
			var names []string
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return c, fmt.Errorf("models.alerts.%s is not a setting (known: %s)", k, strings.Join(names, ", "))
		}
	}
	if v, ok := s["severities"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return c, fmt.Errorf("models.alerts.severities: want a map of kind: severity, got %T", v)
		}
		for kind, sev := range m {
			if !slices.Contains(AlertKinds, kind) {
				return c, fmt.Errorf("models.alerts.severities: %q is not a kind of alert (%s)", kind, strings.Join(AlertKinds, ", "))
			}
			str, _ := sev.(string)
			if str != "high" && str != "medium" && str != "low" {
				return c, fmt.Errorf("models.alerts.severities.%s: %v is not high, medium or low", kind, sev)
			}
			c.severities[kind] = str
		}
	}
	return c, nil
}

// strictNumber reads a number setting: absent = def, anything but a number
// (or a text holding one: environment variables) is an error.
func strictNumber(s Settings, key string, def float64) (float64, error) {
	v, ok := s[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("models.alerts.%s: %v is not a number", key, v)
}

// variables are the SET VARIABLE statements alerts.sql reads.
func (c alertConfig) variables() []string {
	var out []string
	for _, n := range alertNumbers {
		out = append(out, fmt.Sprintf("SET VARIABLE alert_%s = CAST(%s AS DOUBLE)", n.key, strconv.FormatFloat(c.num[n.key], 'g', -1, 64)))
	}
	var pairs []string
	for _, k := range AlertKinds {
		if s, ok := c.severities[k]; ok {
			pairs = append(pairs, fmt.Sprintf("'%s': '%s'", k, s)) // checked: known kind, known severity
		}
	}
	out = append(out, "SET VARIABLE alert_severities = CAST(MAP {"+strings.Join(pairs, ", ")+"} AS MAP(VARCHAR, VARCHAR))")
	return out
}
