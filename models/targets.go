package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"
)

// targets: sales targets set at any level broken down to every level below
// and to ISO weeks by working days, next to the actual bookings and
// collections. See docs/models/pipeline.md ("Targets").
//
// Settings (models.targets.*):
//   - rule: historical_share (default) or equal — how a unit's target is split
//     among its children that have no target of their own;
//   - history_months: the look-back of historical_share (default 12, ending at as_of);
//   - holidays: the public holidays (dates YYYY-MM-DD, a list or a comma
//     separated string); default chinaHolidays below;
//   - workdays: weekend days that are working days (make-up days, 调休); default
//     chinaMakeupWorkdays when holidays is not set, else none.
func init() {
	register(&Model{
		Name:   "targets",
		Reads:  []string{"targets", "contracts", "payments", "customers", "reps", "org_units", "fx_rates"},
		Needs:  []string{"targets"},
		Tables: []string{"mart_targets", "mart_targets_monthly"},
		Run:    runTargets,
	})
}

// chinaHolidays are the official public holidays (days off) of mainland China
// announced by the State Council General Office (国务院办公厅关于…年部分节假日安排的通知:
// 国办发明电〔2023〕7号 for 2024, 〔2024〕12号 for 2025, and the notice of
// 2025-11-04 for 2026). Weekend days inside a holiday period are listed too;
// they change nothing, as weekends are not working days anyway.
var chinaHolidays = []struct{ From, To, Name string }{
	{"2024-01-01", "2024-01-01", "元旦 New Year"},
	{"2024-02-10", "2024-02-17", "春节 Spring Festival"},
	{"2024-04-04", "2024-04-06", "清明节 Qingming"},
	{"2024-05-01", "2024-05-05", "劳动节 Labour Day"},
	{"2024-06-10", "2024-06-10", "端午节 Dragon Boat"},
	{"2024-09-15", "2024-09-17", "中秋节 Mid-Autumn"},
	{"2024-10-01", "2024-10-07", "国庆节 National Day"},
	{"2025-01-01", "2025-01-01", "元旦 New Year"},
	{"2025-01-28", "2025-02-04", "春节 Spring Festival"},
	{"2025-04-04", "2025-04-06", "清明节 Qingming"},
	{"2025-05-01", "2025-05-05", "劳动节 Labour Day"},
	{"2025-05-31", "2025-06-02", "端午节 Dragon Boat"},
	{"2025-10-01", "2025-10-08", "国庆节、中秋节 National Day, Mid-Autumn"},
	{"2026-01-01", "2026-01-03", "元旦 New Year"},
	{"2026-02-15", "2026-02-23", "春节 Spring Festival"},
	{"2026-04-04", "2026-04-06", "清明节 Qingming"},
	{"2026-05-01", "2026-05-05", "劳动节 Labour Day"},
	{"2026-06-19", "2026-06-21", "端午节 Dragon Boat"},
	{"2026-09-25", "2026-09-27", "中秋节 Mid-Autumn"},
	{"2026-10-01", "2026-10-07", "国庆节 National Day"},
}

// chinaMakeupWorkdays are the weekend days worked in exchange (调休上班) in the
// same notices.
var chinaMakeupWorkdays = []string{
	"2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29", "2024-10-12",
	"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
	"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
}

// workCalendar says which days are working days.
type workCalendar struct {
	holidays, workdays map[string]bool
}

func (c workCalendar) isWorkday(d time.Time) bool {
	k := d.Format(time.DateOnly)
	if c.workdays[k] {
		return true
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[k]
}

// newWorkCalendar builds the calendar from the settings (see init).
func newWorkCalendar(s Settings) (workCalendar, error) {
	c := workCalendar{holidays: map[string]bool{}, workdays: map[string]bool{}}
	hol, holSet, err := dateListSetting(s, "holidays")
	if err != nil {
		return c, err
	}
	work, workSet, err := dateListSetting(s, "workdays")
	if err != nil {
		return c, err
	}
	if !holSet {
		for _, h := range chinaHolidays {
			from, _ := time.Parse(time.DateOnly, h.From)
			to, _ := time.Parse(time.DateOnly, h.To)
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				hol = append(hol, d.Format(time.DateOnly))
			}
		}
		if !workSet {
			work = chinaMakeupWorkdays
		}
	}
	for _, h := range hol {
		c.holidays[h] = true
	}
	for _, w := range work {
		c.workdays[w] = true
	}
	return c, nil
}

// dateListSetting reads a list of dates given as a YAML list or a string
// separated by commas or spaces. set reports whether the key was given at all
// (an empty string means "none").
func dateListSetting(s Settings, key string) (dates []string, set bool, err error) {
	v, ok := s[key]
	if !ok || v == nil {
		return nil, false, nil
	}
	var raw []string
	switch x := v.(type) {
	case string:
		raw = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' || r == '\t' })
	case []string:
		raw = x
	case []any:
		for _, e := range x {
			switch y := e.(type) {
			case time.Time:
				raw = append(raw, y.Format(time.DateOnly))
			default:
				raw = append(raw, fmt.Sprint(y))
			}
		}
	default:
		return nil, true, fmt.Errorf("models.targets.%s: want a list of dates, got %T", key, v)
	}
	for _, r := range raw {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(r))
		if err != nil {
			return nil, true, fmt.Errorf("models.targets.%s: %q is not a date (YYYY-MM-DD)", key, r)
		}
		dates = append(dates, d.Format(time.DateOnly))
	}
	return dates, true, nil
}

// tgtNode is an org unit or a rep in the target tree.
type tgtNode struct {
	scope, id   string // scope: the org unit's level, or "rep"
	children    []*tgtNode
	hired, left time.Time // reps: active from hired through left (zero = open)
	hist        map[string]float64
	// per metric, per day of the target range: the target, whether the node
	// has its own target that day, and whether it has a target at all that day
	val  map[string][]float64
	expl map[string][]bool
	cov  map[string][]bool
}

func (n *tgtNode) active(d time.Time) bool {
	if n.scope != "rep" {
		return true
	}
	return (n.hired.IsZero() || !d.Before(n.hired)) && (n.left.IsZero() || !d.After(n.left))
}

func (n *tgtNode) ensure(metric string, days int) {
	if n.val == nil {
		n.val, n.expl, n.cov = map[string][]float64{}, map[string][]bool{}, map[string][]bool{}
	}
	if n.val[metric] == nil {
		n.val[metric], n.expl[metric], n.cov[metric] = make([]float64, days), make([]bool, days), make([]bool, days)
	}
}

type tgtRow struct {
	scope, id, metric string
	from, to          time.Time
	amount            float64
}

func runTargets(ctx context.Context, rc *RunContext) error {
	if err := plPrep(ctx, rc); err != nil {
		return err
	}
	cal, err := newWorkCalendar(rc.Settings)
	if err != nil {
		return err
	}
	rule := rc.Settings.String("rule", "historical_share")
	if rule != "historical_share" && rule != "equal" {
		return fmt.Errorf("models.targets.rule: %q is not historical_share or equal", rule)
	}
	months := rc.Settings.Int("history_months", 12)
	if months < 1 {
		return fmt.Errorf("models.targets.history_months: %d must be at least 1", months)
	}
	conn := rc.Conn

	// The tree: org units, then reps under their unit.
	nodes := map[string]*tgtNode{}
	key := func(scope, id string) string {
		if scope == "rep" {
			return "rep:" + id
		}
		return "org:" + id
	}
	parents := map[string]string{}
	if err := plScan(ctx, conn, "SELECT org_unit_id, parent_id, level FROM live.org_units ORDER BY org_unit_id", func(r *sql.Rows) error {
		var id, level string
		var parent sql.NullString
		if err := r.Scan(&id, &parent, &level); err != nil {
			return err
		}
		nodes[key("org", id)] = &tgtNode{scope: level, id: id, hist: map[string]float64{}}
		if parent.Valid {
			parents[key("org", id)] = key("org", parent.String)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := plScan(ctx, conn, "SELECT rep_id, org_unit_id, hired_on, left_on FROM live.reps ORDER BY rep_id", func(r *sql.Rows) error {
		var id, org string
		var hired, left sql.NullTime
		if err := r.Scan(&id, &org, &hired, &left); err != nil {
			return err
		}
		n := &tgtNode{scope: "rep", id: id, hist: map[string]float64{}}
		if hired.Valid {
			n.hired = plDay(hired.Time)
		}
		if left.Valid {
			n.left = plDay(left.Time)
		}
		nodes[key("rep", id)] = n
		parents[key("rep", id)] = key("org", org)
		return nil
	}); err != nil {
		return err
	}
	var roots []*tgtNode
	keys := make([]string, 0, len(nodes))
	for k := range nodes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p, ok := nodes[parents[k]]; ok && parents[k] != k {
			p.children = append(p.children, nodes[k])
		} else {
			roots = append(roots, nodes[k])
		}
	}

	// History per rep (for historical_share), summed up the tree below.
	histSQL := fmt.Sprintf(`
		WITH h AS (
			SELECT rep_id, 'bookings' AS metric, amount_base AS amount FROM base_contracts
			WHERE signed_on > getvariable('as_of') - INTERVAL %[1]d MONTH
			UNION ALL
			SELECT owner_rep_id, 'collections', amount_base FROM base_payments
			WHERE paid_on > getvariable('as_of') - INTERVAL %[1]d MONTH
		)
		SELECT rep_id, metric, CAST(sum(amount) AS DOUBLE) FROM h WHERE rep_id IS NOT NULL GROUP BY ALL`, months)
	if err := plScan(ctx, conn, histSQL, func(r *sql.Rows) error {
		var id, metric string
		var v sql.NullFloat64
		if err := r.Scan(&id, &metric, &v); err != nil {
			return err
		}
		if n, ok := nodes[key("rep", id)]; ok {
			n.hist[metric] += v.Float64
		}
		return nil
	}); err != nil {
		return err
	}
	var order []*tgtNode // parents before children
	seen := map[*tgtNode]bool{}
	for i := 0; i < len(roots); i++ {
		order = append(order, roots[i])
	}
	for i := 0; i < len(order); i++ {
		seen[order[i]] = true
		for _, c := range order[i].children {
			if !seen[c] {
				seen[c] = true
				order = append(order, c)
			}
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		for _, c := range order[i].children {
			for m, v := range c.hist {
				order[i].hist[m] += v
			}
		}
	}

	// The targets, spread over the working days of their period.
	var rows []tgtRow
	if err := plScan(ctx, conn, "SELECT scope, scope_id, metric, period_start, period_end, CAST(amount AS DOUBLE) FROM live.targets ORDER BY ALL", func(r *sql.Rows) error {
		var t tgtRow
		if err := r.Scan(&t.scope, &t.id, &t.metric, &t.from, &t.to, &t.amount); err != nil {
			return err
		}
		t.from, t.to = plDay(t.from), plDay(t.to)
		rows = append(rows, t)
		return nil
	}); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE pl_tgt_weeks (scope VARCHAR, scope_id VARCHAR, metric VARCHAR, week_start DATE, target DOUBLE)`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE pl_tgt_months (scope VARCHAR, scope_id VARCHAR, metric VARCHAR, month VARCHAR, target DOUBLE)`); err != nil {
		return err
	}
	if len(rows) > 0 {
		day0, dayN := rows[0].from, rows[0].to
		for _, t := range rows {
			if t.from.Before(day0) {
				day0 = t.from
			}
			if t.to.After(dayN) {
				dayN = t.to
			}
		}
		ndays := int(dayN.Sub(day0).Hours()/24) + 1
		dayAt := func(i int) time.Time { return day0.AddDate(0, 0, i) }
		metrics := map[string]bool{}
		for _, t := range rows {
			n, ok := nodes[key(t.scope, t.id)]
			if !ok {
				rc.Note("target for unknown %s %s ignored", t.scope, t.id)
				continue
			}
			metrics[t.metric] = true
			n.ensure(t.metric, ndays)
			a, b := int(t.from.Sub(day0).Hours()/24), int(t.to.Sub(day0).Hours()/24)
			var work []int
			for i := a; i <= b; i++ {
				if cal.isWorkday(dayAt(i)) {
					work = append(work, i)
				}
			}
			if len(work) == 0 { // no working day at all: spread over the calendar days
				for i := a; i <= b; i++ {
					work = append(work, i)
				}
			}
			for i := a; i <= b; i++ {
				n.expl[t.metric][i], n.cov[t.metric][i] = true, true
			}
			for _, i := range work {
				n.val[t.metric][i] += t.amount / float64(len(work))
			}
		}
		// Top-down: a unit's target of the day, less what its children with a
		// target of their own have, goes to the other (active) children.
		for m := range metrics {
			for _, n := range order {
				if n.cov == nil || n.cov[m] == nil {
					continue
				}
				if len(n.children) == 0 {
					continue
				}
				for _, c := range n.children {
					c.ensure(m, ndays)
				}
				for i := 0; i < ndays; i++ {
					if !n.cov[m][i] {
						continue
					}
					d := dayAt(i)
					rest := n.val[m][i]
					var others []*tgtNode
					var weight float64
					for _, c := range n.children {
						if c.expl[m][i] {
							rest -= c.val[m][i]
						} else if c.active(d) {
							others = append(others, c)
							weight += c.hist[m]
						}
					}
					if rest < 0 {
						rest = 0
					}
					for _, c := range others {
						share := 1 / float64(len(others))
						if rule == "historical_share" && weight > 0 {
							share = c.hist[m] / weight
						}
						c.cov[m][i] = true
						c.val[m][i] += rest * share
					}
				}
			}
		}
		// Weeks (ISO: Monday) and months of every node with a target.
		var weekRows, monthRows [][]driver.Value
		for _, n := range order {
			for m := range metrics {
				if n.cov == nil || n.cov[m] == nil {
					continue
				}
				weeks, monthsSum := map[time.Time]float64{}, map[string]float64{}
				var weekOrder []time.Time
				var monthOrder []string
				for i := 0; i < ndays; i++ {
					if !n.cov[m][i] {
						continue
					}
					d := dayAt(i)
					wk := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
					if _, ok := weeks[wk]; !ok {
						weekOrder = append(weekOrder, wk)
					}
					weeks[wk] += n.val[m][i]
					mo := d.Format("2006-01")
					if _, ok := monthsSum[mo]; !ok {
						monthOrder = append(monthOrder, mo)
					}
					monthsSum[mo] += n.val[m][i]
				}
				for _, wk := range weekOrder {
					weekRows = append(weekRows, []driver.Value{n.scope, n.id, m, wk, weeks[wk]})
				}
				for _, mo := range monthOrder {
					monthRows = append(monthRows, []driver.Value{n.scope, n.id, m, mo, monthsSum[mo]})
				}
			}
		}
		if err := plAppend(conn, "pl_tgt_weeks", weekRows); err != nil {
			return err
		}
		if err := plAppend(conn, "pl_tgt_months", monthRows); err != nil {
			return err
		}
	}
	return rc.Exec(ctx, "targets.sql", nil)
}

// plScan runs q on conn and calls fn for each row.
func plScan(ctx context.Context, conn *sql.Conn, q string, fn func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// plDay is the calendar day of t (DATE values scan as UTC midnight).
func plDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
