// Package schedule runs report schedules exactly once per fire time,
// across crashes and restarts, from a durable run ledger in the
// application database.
//
// Each (schedule, fire time) is claimed in the ledger (report_runs, whose
// primary key admits one claim) before any work, then handed to the
// caller's runner. Each delivery of a run is recorded before it is sent
// and after (report_deliveries), so a resumed run sends only what was not
// recorded as sent, with the same idempotency key. On start, runs a
// stopped process left queued are started, and runs it left running are
// resumed or failed visibly, as their schedule's policy says. Fire times
// missed while the server was down run once (policy latest) or are
// recorded as skipped (policy skip); the history says which.
//
// One process owns the database (DuckDB allows one writer), so one
// Scheduler runs at a time; the ledger's uniqueness still holds for any
// number of goroutines claiming at once.
package schedule

import (
	"fmt"
	"regexp"
	"time"
)

// MissedPolicy says what happens to fire times that passed while the
// server was down.
type MissedPolicy string

const (
	// MissedLatest runs the latest missed fire time once (late) and
	// records the earlier ones as skipped. The default.
	MissedLatest MissedPolicy = "latest"
	// MissedSkip records every missed fire time as skipped.
	MissedSkip MissedPolicy = "skip"
)

// CrashPolicy says what happens on start to a run that a stopped process
// left running.
type CrashPolicy string

const (
	// CrashResume runs it again as the next attempt; deliveries recorded
	// as sent are not sent again. The default.
	CrashResume CrashPolicy = "resume"
	// CrashFail marks it failed, with the reason in its note.
	CrashFail CrashPolicy = "fail"
)

// Schedule says when a report runs. A schedule may have a cron
// expression, an after-load trigger and a one-off time at once.
type Schedule struct {
	// ID is the schedule's stable slug; runs are keyed by it.
	ID string `koanf:"id" yaml:"id" json:"id"`
	// Cron is a five-field expression or a descriptor (@daily …); "" for none.
	Cron string `koanf:"cron" yaml:"cron,omitempty" json:"cron,omitempty"`
	// TimeZone reads Cron; "" means Asia/Shanghai.
	TimeZone string `koanf:"timezone" yaml:"timezone,omitempty" json:"timezone,omitempty"`
	// AfterLoad runs the report after every data load (the latest load
	// once, if several happened since its last run).
	AfterLoad bool `koanf:"after_load" yaml:"after_load,omitempty" json:"after_load,omitempty"`
	// Once runs the report one time, at this instant.
	Once time.Time `koanf:"once" yaml:"once,omitempty" json:"once,omitzero"`
	// Missed is the missed-fire-time policy: latest (default) or skip.
	Missed MissedPolicy `koanf:"missed" yaml:"missed,omitempty" json:"missed,omitempty"`
	// OnCrash is the interrupted-run policy: resume (default) or fail.
	OnCrash CrashPolicy `koanf:"on_crash" yaml:"on_crash,omitempty" json:"on_crash,omitempty"`
}

var scheduleID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,127}$`)

// plan is a validated schedule.
type plan struct {
	Schedule
	cron *Cron
}

func compile(s Schedule) (plan, error) {
	p := plan{Schedule: s}
	if !scheduleID.MatchString(s.ID) {
		return p, fmt.Errorf("schedule: id %q: use lowercase letters, digits, '-', '_' and '.'", s.ID)
	}
	if s.Cron != "" {
		c, err := ParseCron(s.Cron, s.TimeZone)
		if err != nil {
			return p, fmt.Errorf("schedule %s: %w", s.ID, err)
		}
		p.cron = &c
	} else if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return p, fmt.Errorf("schedule %s: time zone %q: %w", s.ID, s.TimeZone, err)
		}
	}
	if s.Cron == "" && !s.AfterLoad && s.Once.IsZero() {
		return p, fmt.Errorf("schedule %s: no trigger: give cron, after_load or once", s.ID)
	}
	switch s.Missed {
	case "":
		p.Missed = MissedLatest
	case MissedLatest, MissedSkip:
	default:
		return p, fmt.Errorf("schedule %s: missed %q: want latest or skip", s.ID, s.Missed)
	}
	switch s.OnCrash {
	case "":
		p.OnCrash = CrashResume
	case CrashResume, CrashFail:
	default:
		return p, fmt.Errorf("schedule %s: on_crash %q: want resume or fail", s.ID, s.OnCrash)
	}
	return p, nil
}

// Validate checks a schedule: its id, cron expression, time zone,
// policies, and that it has a trigger.
func (s Schedule) Validate() error {
	_, err := compile(s)
	return err
}

// FireTimes lists the schedule's cron fire times in (from, to], at most
// max (≤ 0: 10,000); with no cron expression, none.
func (s Schedule) FireTimes(from, to time.Time, max int) ([]time.Time, error) {
	p, err := compile(s)
	if err != nil || p.cron == nil {
		return nil, err
	}
	return p.cron.Between(from, to, max), nil
}
