package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/triscope/triscope/models/calendar"
)

// targets: sales targets set at any level broken down to every level below
// and to ISO weeks by working days, next to the actual bookings and
// collections; and the working-day calendar (mart_calendar) the pages
// prorate a partly elapsed target period with (scoped.targets_to_date). See
// docs/models/pipeline.md ("Targets").
//
// Settings (models.targets.*):
//   - rule: historical_share (default) or equal — how a unit's target is split
//     among its children that have no target of their own;
//   - history_months: the look-back of historical_share (default 12, ending at as_of);
//   - holidays_file: the holiday file (calendar.Parse; "" = the PRC calendar
//     built in, models/calendar/cn_holidays.csv); the configuration's
//     holidays_file sets it (app.Config);
//   - holidays, workdays: lists of dates (YYYY-MM-DD, a list or a comma
//     separated string) replacing the file's days off (and then its make-up
//     days too) or its make-up working days (调休上班).
func init() {
	register(&Model{
		Name:   "targets",
		Reads:  []string{"targets", "contracts", "payments", "customers", "reps", "org_units", "fx_rates"},
		Needs:  []string{"targets"},
		Tables: []string{"mart_targets", "mart_targets_monthly", "mart_calendar"},
		// The holiday file can be replaced under the same name: its days
		// are part of what the result depends on.
		Depends: func(s Settings) string {
			cal, err := newWorkCalendar(s)
			if err != nil {
				return "unreadable: " + err.Error() // runs, and says why
			}
			return cal.Digest()
		},
		Run: runTargets,
	})
}

// newWorkCalendar builds the calendar from the settings (see init).
func newWorkCalendar(s Settings) (*calendar.Calendar, error) {
	cal, err := calendar.Load(s.String("holidays_file", ""))
	if err != nil {
		return nil, fmt.Errorf("models.targets.holidays_file: %w", err)
	}
	hol, holSet, err := dateListSetting(s, "holidays")
	if err != nil {
		return nil, err
	}
	work, workSet, err := dateListSetting(s, "workdays")
	if err != nil {
		return nil, err
	}
	if holSet && hol == nil {
		hol = []string{}
	}
	if workSet && work == nil {
		work = []string{}
	}
	return cal.Override(hol, work), nil
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

// tgtSpan is every day from the first target's start to the last one's end,
// with what the spreading asks of each day worked out once: whether it is a
// working day, and its ISO week (Monday) and month.
type tgtSpan struct {
	day0    time.Time
	day     []time.Time
	workday []bool
	week    []int // index into weeks
	month   []int // index into months
	weeks   []time.Time
	months  []string
}

func newTgtSpan(from, to time.Time, cal *calendar.Calendar) *tgtSpan {
	n := int(to.Sub(from).Hours()/24) + 1
	s := &tgtSpan{day0: from, day: make([]time.Time, n), workday: make([]bool, n), week: make([]int, n), month: make([]int, n)}
	for i := range n {
		d := from.AddDate(0, 0, i)
		s.day[i], s.workday[i] = d, cal.IsWorkday(d)
		wk := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		if len(s.weeks) == 0 || !s.weeks[len(s.weeks)-1].Equal(wk) {
			s.weeks = append(s.weeks, wk)
		}
		s.week[i] = len(s.weeks) - 1
		mo := d.Format("2006-01")
		if len(s.months) == 0 || s.months[len(s.months)-1] != mo {
			s.months = append(s.months, mo)
		}
		s.month[i] = len(s.months) - 1
	}
	return s
}

// index is the position of day d (a calendar day within the span).
func (s *tgtSpan) index(d time.Time) int { return int(d.Sub(s.day0).Hours() / 24) }

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
		span := newTgtSpan(day0, dayN, cal)
		ndays := len(span.day)
		metrics := map[string]bool{}
		for _, t := range rows {
			n, ok := nodes[key(t.scope, t.id)]
			if !ok {
				rc.Note("target for unknown %s %s ignored", t.scope, t.id)
				continue
			}
			metrics[t.metric] = true
			n.ensure(t.metric, ndays)
			a, b := span.index(t.from), span.index(t.to)
			work := 0
			for i := a; i <= b; i++ {
				if span.workday[i] {
					work++
				}
			}
			for i := a; i <= b; i++ {
				n.expl[t.metric][i], n.cov[t.metric][i] = true, true
			}
			if work == 0 { // no working day at all: spread over the calendar days
				for i := a; i <= b; i++ {
					n.val[t.metric][i] += t.amount / float64(b-a+1)
				}
				continue
			}
			for i := a; i <= b; i++ {
				if span.workday[i] {
					n.val[t.metric][i] += t.amount / float64(work)
				}
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
				var others []*tgtNode
				for i := 0; i < ndays; i++ {
					if !n.cov[m][i] {
						continue
					}
					d := span.day[i]
					rest := n.val[m][i]
					others = others[:0]
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
		// Weeks (ISO: Monday) and months of every node with a target, in
		// date order.
		var weekRows, monthRows [][]driver.Value
		weekSum, weekSeen := make([]float64, len(span.weeks)), make([]bool, len(span.weeks))
		monthSum, monthSeen := make([]float64, len(span.months)), make([]bool, len(span.months))
		for _, n := range order {
			for m := range metrics {
				if n.cov == nil || n.cov[m] == nil {
					continue
				}
				clear(weekSum)
				clear(weekSeen)
				clear(monthSum)
				clear(monthSeen)
				for i := 0; i < ndays; i++ {
					if !n.cov[m][i] {
						continue
					}
					w, mo := span.week[i], span.month[i]
					weekSum[w] += n.val[m][i]
					weekSeen[w] = true
					monthSum[mo] += n.val[m][i]
					monthSeen[mo] = true
				}
				for w, seen := range weekSeen {
					if seen {
						weekRows = append(weekRows, []driver.Value{n.scope, n.id, m, span.weeks[w], weekSum[w]})
					}
				}
				for mo, seen := range monthSeen {
					if seen {
						monthRows = append(monthRows, []driver.Value{n.scope, n.id, m, span.months[mo], monthSum[mo]})
					}
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
	if err := writeCalendar(ctx, rc, cal, rows); err != nil {
		return err
	}
	return rc.Exec(ctx, "targets.sql", nil)
}

// writeCalendar fills pl_tgt_calendar with every day of the years the holiday
// file covers and of the target periods, so that the pages can prorate any
// target period by working days; target years the file does not cover count
// Monday to Friday, and the run says so.
func writeCalendar(ctx context.Context, rc *RunContext, cal *calendar.Calendar, rows []tgtRow) error {
	if _, err := rc.Conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE pl_tgt_calendar (day DATE, workday BOOLEAN, name VARCHAR)`); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil // no target to spread or prorate: an empty calendar, like the other tables
	}
	years := cal.Years()
	var from, to time.Time
	if len(years) > 0 {
		from = time.Date(years[0], 1, 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(years[len(years)-1], 12, 31, 0, 0, 0, 0, time.UTC)
	}
	uncovered := map[int]bool{}
	for _, t := range rows {
		if from.IsZero() || t.from.Before(from) {
			from = t.from
		}
		if to.IsZero() || t.to.After(to) {
			to = t.to
		}
		for y := t.from.Year(); y <= t.to.Year(); y++ {
			if !cal.Covers(y) {
				uncovered[y] = true
			}
		}
	}
	if len(uncovered) > 0 {
		var ys []string
		for y := range uncovered {
			ys = append(ys, fmt.Sprint(y))
		}
		sort.Strings(ys)
		rc.Note("targets in %s are spread over Monday to Friday: the holiday file (%s) lists no day of %s", strings.Join(ys, ", "), cal.Source, strings.Join(ys, ", "))
	}
	if from.IsZero() {
		return nil
	}
	var out [][]driver.Value
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		var name any
		if n := cal.Name(d); n != "" {
			name = n
		}
		out = append(out, []driver.Value{d, cal.IsWorkday(d), name})
	}
	return plAppend(rc.Conn, "pl_tgt_calendar", out)
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
