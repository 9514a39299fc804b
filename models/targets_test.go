package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fixture testdata/targets, as_of 2024-10-31. October 2024 (Oct 1 is a
// Tuesday) has 23 weekdays; National Day takes Tue 1 – Mon 7 (5 weekdays) and
// Saturday 12 is a make-up working day: 23 − 5 + 1 = 19 working days.
//
//	week of Mon 09-30: Oct 1–6, all off       → 0 days
//	week of Mon 10-07: 8, 9, 10, 11, Sat 12   → 5 days (7 is a holiday)
//	weeks of 10-14 and 10-21                  → 5 days each
//	week of 10-28: 28–31                      → 4 days
//
// HQ bookings 190,000 → 10,000 a working day. RB has its own 38,000 → 2,000 a
// day, so RA gets 10,000 − 2,000 = 8,000 a day, all to its one department DA.
// DA splits among R1 and R2 by bookings of the 12 months to as_of (K0 of
// 2023-10-15 is older): R1 60,000 + 30,000 = 90,000, R2 30,000 → 3:1 →
// 6,000 and 2,000 a day; R2 leaves on Fri 10-18, so from 10-21 R1 gets all 8,000.
// R1 signed K4 30,000 on 10-09: DA, RA, HQ and R1 book 30,000 in the week of
// 10-07 (R1 attainment 30,000 / 30,000 = 1, HQ 30,000 / 50,000 = 0.6).
// R1's own collections target 19,000 → 1,000 a day; P1 10,000 on 10-15 → 2.0.
func TestTargets(t *testing.T) {
	w := plWarehouse(t, "testdata/targets")
	plRefresh(t, w, "2024-10-31", nil, "targets")
	plExpect(t, w, `SELECT scope, scope_id, week_start, target, actual_bookings, attainment FROM mart_targets
		WHERE metric = 'bookings' ORDER BY array_position(['company', 'region', 'department', 'rep'], scope), scope_id, week_start`, []string{
		"company | HQ | 2024-09-30 | 0 | 0 | NULL",
		"company | HQ | 2024-10-07 | 50000 | 30000 | 0.600000",
		"company | HQ | 2024-10-14 | 50000 | 0 | 0.000000",
		"company | HQ | 2024-10-21 | 50000 | 0 | 0.000000",
		"company | HQ | 2024-10-28 | 40000 | 0 | 0.000000",
		"region | RA | 2024-09-30 | 0 | 0 | NULL",
		"region | RA | 2024-10-07 | 40000 | 30000 | 0.750000",
		"region | RA | 2024-10-14 | 40000 | 0 | 0.000000",
		"region | RA | 2024-10-21 | 40000 | 0 | 0.000000",
		"region | RA | 2024-10-28 | 32000 | 0 | 0.000000",
		"region | RB | 2024-09-30 | 0 | 0 | NULL",
		"region | RB | 2024-10-07 | 10000 | 0 | 0.000000",
		"region | RB | 2024-10-14 | 10000 | 0 | 0.000000",
		"region | RB | 2024-10-21 | 10000 | 0 | 0.000000",
		"region | RB | 2024-10-28 | 8000 | 0 | 0.000000",
		"department | DA | 2024-09-30 | 0 | 0 | NULL",
		"department | DA | 2024-10-07 | 40000 | 30000 | 0.750000",
		"department | DA | 2024-10-14 | 40000 | 0 | 0.000000",
		"department | DA | 2024-10-21 | 40000 | 0 | 0.000000",
		"department | DA | 2024-10-28 | 32000 | 0 | 0.000000",
		"rep | R1 | 2024-09-30 | 0 | 0 | NULL",
		"rep | R1 | 2024-10-07 | 30000 | 30000 | 1.000000",
		"rep | R1 | 2024-10-14 | 30000 | 0 | 0.000000",
		"rep | R1 | 2024-10-21 | 40000 | 0 | 0.000000",
		"rep | R1 | 2024-10-28 | 32000 | 0 | 0.000000",
		"rep | R2 | 2024-09-30 | 0 | 0 | NULL",
		"rep | R2 | 2024-10-07 | 10000 | 0 | 0.000000",
		"rep | R2 | 2024-10-14 | 10000 | 0 | 0.000000",
		"rep | R3 | 2024-09-30 | 0 | 0 | NULL",
		"rep | R3 | 2024-10-07 | 10000 | 0 | 0.000000",
		"rep | R3 | 2024-10-14 | 10000 | 0 | 0.000000",
		"rep | R3 | 2024-10-21 | 10000 | 0 | 0.000000",
		"rep | R3 | 2024-10-28 | 8000 | 0 | 0.000000",
	})
	plExpect(t, w, `SELECT scope_id, week_start, target, actual_collections, attainment FROM mart_targets
		WHERE metric = 'collections' ORDER BY week_start`, []string{
		"R1 | 2024-09-30 | 0 | 0 | NULL",
		"R1 | 2024-10-07 | 5000 | 0 | 0.000000",
		"R1 | 2024-10-14 | 5000 | 10000 | 2.000000",
		"R1 | 2024-10-21 | 5000 | 0 | 0.000000",
		"R1 | 2024-10-28 | 4000 | 0 | 0.000000",
	})
	// Months: R1 30,000 + 30,000 + 40,000 + 32,000 = 132,000; R2 20,000.
	plExpect(t, w, `SELECT scope_id, month, target, actual_bookings FROM mart_targets_monthly
		WHERE metric = 'bookings' ORDER BY scope_id`, []string{
		"DA | 2024-10 | 152000 | 30000",
		"HQ | 2024-10 | 190000 | 30000",
		"R1 | 2024-10 | 132000 | 30000",
		"R2 | 2024-10 | 20000 | 0",
		"R3 | 2024-10 | 38000 | 0",
		"RA | 2024-10 | 152000 | 30000",
		"RB | 2024-10 | 38000 | 0",
	})
}

// Equal split: R1 and R2 get 4,000 a day each while both are there.
// Without the make-up Saturday (workdays = none) October has 18 working days:
// the week of 10-07 has 4 → 190,000 × 4/18 = 42,222.22. With only Oct 1 as a
// holiday (and so no make-up days) 22: the week of 09-30 has Oct 2–4 →
// 190,000 × 3/22 = 25,909.09.
func TestTargetsEqualRuleAndCalendars(t *testing.T) {
	w := plWarehouse(t, "testdata/targets")
	plRefresh(t, w, "2024-10-31", map[string]Settings{"targets": {"rule": "equal"}}, "targets")
	plExpect(t, w, `SELECT scope_id, week_start, target FROM mart_targets
		WHERE metric = 'bookings' AND scope = 'rep' AND scope_id IN ('R1', 'R2') AND week_start <= '2024-10-21' ORDER BY ALL`, []string{
		"R1 | 2024-09-30 | 0",
		"R1 | 2024-10-07 | 20000",
		"R1 | 2024-10-14 | 20000",
		"R1 | 2024-10-21 | 40000",
		"R2 | 2024-09-30 | 0",
		"R2 | 2024-10-07 | 20000",
		"R2 | 2024-10-14 | 20000",
	})
	plRefresh(t, w, "2024-10-31", map[string]Settings{"targets": {"workdays": ""}}, "targets")
	plExpect(t, w, `SELECT week_start, target FROM mart_targets WHERE scope_id = 'HQ' AND week_start IN ('2024-09-30', '2024-10-07')`, []string{
		"2024-09-30 | 0",
		"2024-10-07 | 42222.22",
	})
	plRefresh(t, w, "2024-10-31", map[string]Settings{"targets": {"holidays": []any{"2024-10-01"}}}, "targets")
	plExpect(t, w, `SELECT week_start, target FROM mart_targets WHERE scope_id = 'HQ' AND week_start = '2024-09-30'`, []string{
		"2024-09-30 | 25909.09",
	})
	if _, err := newWorkCalendar(Settings{"holidays": "2024-13-01"}); err == nil {
		t.Error("a bad holiday date must be an error")
	}
}

// The built-in calendar (models/calendar/cn_holidays.csv): Spring Festival 2025 (Jan 28 – Feb 4) with make-up
// Sunday Jan 26 and Saturday Feb 8; 2026 National Day (Oct 1–7) with make-up
// Sunday Sep 20 and Saturday Oct 10.
func TestChinaCalendar(t *testing.T) {
	cal, err := newWorkCalendar(nil)
	if err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]bool{
		"2025-01-24": true, "2025-01-25": false, "2025-01-26": true, "2025-01-27": true,
		"2025-01-28": false, "2025-02-04": false, "2025-02-05": true, "2025-02-08": true, "2025-02-09": false,
		"2026-09-20": true, "2026-10-01": false, "2026-10-07": false, "2026-10-08": true, "2026-10-10": true,
		"2024-06-10": false, "2024-06-11": true,
	} {
		d, _ := time.Parse(time.DateOnly, day)
		if got := cal.IsWorkday(d); got != want {
			t.Errorf("%s: workday %v, want %v", day, got, want)
		}
	}
}

// The holiday file replaces the built-in calendar (here only Oct 1 is off, so
// the week of 09-30 has Oct 2–4 as above), and mart_calendar counts the
// working days the pages prorate with: October 2024 has 19 with the built-in
// calendar, 22 with the file.
func TestTargetsHolidayFile(t *testing.T) {
	w := plWarehouse(t, "testdata/targets")
	plRefresh(t, w, "2024-10-31", nil, "targets")
	const oct = `SELECT max(workdays_through) FILTER (WHERE day = '2024-10-31') - max(workdays_before) FILTER (WHERE day = '2024-10-01'),
		count(*) FILTER (WHERE workday AND day BETWEEN '2024-10-01' AND '2024-10-31'), min(day), max(day) FROM mart_calendar`
	plExpect(t, w, oct, []string{"19 | 19 | 2020-01-01 | 2026-12-31"})
	file := filepath.Join(t.TempDir(), "days.csv")
	if err := os.WriteFile(file, []byte("date,kind,name\n2024-10-01,holiday,National Day\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plRefresh(t, w, "2024-10-31", map[string]Settings{"targets": {"holidays_file": file}}, "targets")
	plExpect(t, w, `SELECT week_start, target FROM mart_targets WHERE scope_id = 'HQ' AND week_start = '2024-09-30'`, []string{
		"2024-09-30 | 25909.09",
	})
	plExpect(t, w, oct, []string{"22 | 22 | 2024-01-01 | 2024-12-31"})
	if _, err := newWorkCalendar(Settings{"holidays_file": file + ".missing"}); err == nil || !strings.Contains(err.Error(), "days.csv.missing") {
		t.Errorf("a missing holiday file: %v", err)
	}
}
