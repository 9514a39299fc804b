package schedule

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func fmtTimes(ts []time.Time) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.UTC().Format("01-02T15:04Z"))
	}
	return strings.Join(out, " ")
}

func TestCronFireTimes(t *testing.T) {
	for _, tc := range []struct {
		name, expr, tz string
		from, to       string
		want           string
	}{
		// Shanghai has no DST: 08:00 CST is 00:00Z, Mondays.
		{"weekly Monday 8:00 Shanghai", "0 8 * * 1", "", "2026-03-01T00:00:00Z", "2026-03-17T00:00:00Z", "03-02T00:00Z 03-09T00:00Z 03-16T00:00Z"},
		{"@daily is Shanghai midnight", "@daily", "Asia/Shanghai", "2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", "03-01T16:00Z 03-02T16:00Z"},
		{"1st and 15th", "0 9 1,15 * *", "", "2026-03-01T00:00:00Z", "2026-04-02T00:00:00Z", "03-01T01:00Z 03-15T01:00Z 04-01T01:00Z"},
		// New York springs forward on 2026-03-08 at 02:00 EST → 03:00 EDT:
		// 02:30 does not exist that day and fires when the gap ends.
		{"NY 02:30 across spring forward", "30 2 * * *", "America/New_York", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z", "03-07T07:30Z 03-08T07:00Z 03-09T06:30Z"},
		{"NY hourly across spring forward", "0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", "2026-03-08T08:30:00Z", "03-08T06:00Z 03-08T07:00Z 03-08T08:00Z"},
		{"NY 01:30 daily across spring forward (exists)", "30 1 * * *", "America/New_York", "2026-03-07T00:00:00Z", "2026-03-09T12:00:00Z", "03-07T06:30Z 03-08T06:30Z 03-09T05:30Z"},
		// New York falls back on 2026-11-01 at 02:00 EDT → 01:00 EST: 01:30
		// happens twice and fires once, at the first.
		{"NY 01:30 across fall back", "30 1 * * *", "America/New_York", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z", "10-31T05:30Z 11-01T05:30Z 11-02T06:30Z"},
		{"NY half-hourly 1-2h across fall back", "*/30 1-2 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z", "11-01T05:00Z 11-01T05:30Z 11-01T07:00Z 11-01T07:30Z"},
		{"NY 02:30 on fall-back day (once, EST)", "30 2 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z", "11-01T07:30Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCron(tc.expr, tc.tz)
			if err != nil {
				t.Fatal(err)
			}
			got := fmtTimes(c.Between(utc(tc.from), utc(tc.to), 0))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			// Between is Next repeated, and from is exclusive.
			if all := c.Between(utc(tc.from), utc(tc.to), 0); len(all) > 1 {
				if again := c.Between(all[0], utc(tc.to), 0); fmtTimes(again) != fmtTimes(all[1:]) {
					t.Errorf("from a fire time: %s", fmtTimes(again))
				}
			}
		})
	}
}

func TestCronRejects(t *testing.T) {
	for _, tc := range []struct{ expr, tz, want string }{
		{"@every 1h", "", "@every is not supported"},
		{"CRON_TZ=UTC 0 8 * * *", "", "time zone"},
		{"0 8 * *", "", "five fields"},
		{"61 8 * * *", "", "five fields"},
		{"0 8 * * *", "Mars/Olympus", "time zone"},
	} {
		if _, err := ParseCron(tc.expr, tc.tz); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCron(%q, %q) = %v, want an error with %q", tc.expr, tc.tz, err, tc.want)
		}
	}
	if err := (Schedule{ID: "x"}).Validate(); err == nil || !strings.Contains(err.Error(), "no trigger") {
		t.Errorf("no trigger: %v", err)
	}
	if err := (Schedule{ID: "Bad ID", Cron: "@daily"}).Validate(); err == nil {
		t.Error("bad id accepted")
	}
	if err := (Schedule{ID: "x", Cron: "@daily", Missed: "sometimes"}).Validate(); err == nil {
		t.Error("bad policy accepted")
	}
	fires, err := Schedule{ID: "pack", Cron: "0 8 * * 1"}.FireTimes(utc("2026-03-01T00:00:00Z"), utc("2026-03-10T00:00:00Z"), 0)
	if err != nil || fmtTimes(fires) != "03-02T00:00Z 03-09T00:00Z" {
		t.Errorf("FireTimes %s %v", fmtTimes(fires), err)
	}
}
