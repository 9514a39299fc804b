package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTimeZone is the zone of a schedule that names none.
const DefaultTimeZone = "Asia/Shanghai"

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron is a parsed cron expression in a time zone.
//
// Expressions have five fields (minute hour day-of-month month
// day-of-week) or are a descriptor (@yearly, @monthly, @weekly, @daily,
// @hourly), read by robfig/cron/v3's parser. @every is refused: its fire
// times depend on when it was started, and the ledger needs fire times
// that are a function of the expression alone.
//
// Fire times are local wall-clock times, each fired once: where daylight
// saving time repeats an hour, a time in it fires at its first
// occurrence only; where it skips an hour, a time the expression names in
// the gap fires once, at the instant the gap ends (02:30 on the day New
// York springs forward fires at 03:00 EDT).
type Cron struct {
	expr  string
	loc   *time.Location
	sched cron.Schedule
}

// ParseCron parses expr in the zone tz ("" means Asia/Shanghai).
func ParseCron(expr, tz string) (Cron, error) {
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Cron{}, fmt.Errorf("schedule: time zone %q: %w", tz, err)
	}
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "TZ=") || strings.HasPrefix(e, "CRON_TZ=") {
		return Cron{}, fmt.Errorf("schedule: cron %q: give the time zone in the schedule's timezone setting, not in the expression", expr)
	}
	if strings.HasPrefix(e, "@every") {
		return Cron{}, fmt.Errorf("schedule: cron %q: @every is not supported (its fire times depend on when it started); use a five-field expression", expr)
	}
	s, err := parser.Parse(e)
	if err != nil {
		return Cron{}, fmt.Errorf("schedule: cron %q: %w (five fields: minute hour day-of-month month day-of-week, or @daily, @weekly …)", expr, err)
	}
	return Cron{expr: e, loc: loc, sched: s}, nil
}

// String is the expression.
func (c Cron) String() string { return c.expr }

// Location is the zone the expression is read in.
func (c Cron) Location() *time.Location { return c.loc }

// Next is the first fire time after t (zero if there is none within
// robfig's five-year search).
func (c Cron) Next(t time.Time) time.Time {
	t = t.In(c.loc)
	for {
		n := c.sched.Next(t)
		if n.IsZero() {
			return n
		}
		if g, ok := c.gapFire(t, n); ok {
			return g
		}
		if repeatedWall(n) {
			t = n
			continue
		}
		return n
	}
}

// Between lists the fire times in (from, to], at most max of them (the
// earliest); max ≤ 0 means 10,000.
func (c Cron) Between(from, to time.Time, max int) []time.Time {
	if max <= 0 {
		max = 10000
	}
	var out []time.Time
	for t := c.Next(from); !t.IsZero() && !t.After(to) && len(out) < max; t = c.Next(t) {
		out = append(out, t)
	}
	return out
}

// gapFire finds a spring-forward transition in (t, n] during which the
// expression names a wall-clock time that does not exist, and returns the
// transition's instant: such a time fires once, when the clock jumps.
func (c Cron) gapFire(t, n time.Time) (time.Time, bool) {
	for _, tr := range transitions(c.loc, t, n) {
		_, before := tr.Add(-time.Second).Zone()
		_, after := tr.Zone()
		if after <= before {
			continue
		}
		gap := time.Duration(after-before) * time.Second
		// The skipped wall times, read at the old offset, are the
		// instants [tr, tr+gap).
		fixed := time.FixedZone("", before)
		m := c.sched.Next(tr.Add(-time.Second).In(fixed))
		if !m.IsZero() && m.Before(tr.Add(gap)) && tr.After(t) {
			return tr.In(c.loc), true
		}
	}
	return time.Time{}, false
}

// repeatedWall reports whether the wall-clock time of t already happened
// earlier the same night (t is in the second pass of a fall-back hour).
func repeatedWall(t time.Time) bool {
	for _, d := range []time.Duration{time.Hour, 30 * time.Minute, 2 * time.Hour} {
		p := t.Add(-d)
		if _, op := p.Zone(); true {
			_, on := t.Zone()
			if time.Duration(op-on)*time.Second == d && sameWall(p, t) {
				return true
			}
		}
	}
	return false
}

func sameWall(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}

// transitions lists the instants in (a, b] where loc's UTC offset changes.
func transitions(loc *time.Location, a, b time.Time) []time.Time {
	var out []time.Time
	const step = 7 * 24 * time.Hour // zones change offset at most every few months
	off := func(t time.Time) int { _, o := t.In(loc).Zone(); return o }
	for x := a; x.Before(b); {
		y := x.Add(step)
		if y.After(b) {
			y = b
		}
		if off(x) != off(y) {
			lo, hi := x, y
			for hi.Sub(lo) > time.Second {
				mid := lo.Add(hi.Sub(lo) / 2)
				if off(mid) == off(lo) {
					lo = mid
				} else {
					hi = mid
				}
			}
			hi = hi.Truncate(time.Second)
			if off(hi) == off(lo) {
				hi = hi.Add(time.Second)
			}
			out = append(out, hi)
			// A second change inside the same step (rare) is found on
			// the next pass from here.
			x = hi
			continue
		}
		x = y
	}
	return out
}
