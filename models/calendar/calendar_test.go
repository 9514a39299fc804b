package calendar

import (
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// The built-in file parses (every make-up day a weekend day, no date twice)
// and covers 2020 through 2026.
func TestBuiltInCalendar(t *testing.T) {
	c := Default()
	if got := c.Years(); len(got) != 7 || got[0] != 2020 || got[6] != 2026 {
		t.Errorf("years %v, want 2020–2026", got)
	}
	for d, want := range map[string]bool{
		"2020-01-19": true, "2020-01-31": false, "2020-02-01": false, "2020-02-03": true,
		"2021-02-20": true, "2021-09-18": true, "2021-09-21": false,
		"2022-01-29": true, "2022-01-30": true, "2022-10-08": true, "2022-10-09": true,
		"2023-01-02": false, "2023-10-07": true, "2023-10-06": false,
		"2024-02-18": true, "2024-06-10": false, "2024-06-11": true,
		"2025-01-26": true, "2025-01-28": false, "2025-02-04": false, "2025-02-05": true, "2025-02-08": true,
		"2026-01-04": true, "2026-02-23": false, "2026-09-20": true, "2026-10-07": false, "2026-10-08": true, "2026-10-10": true,
		"2027-01-01": true, // not listed yet: Friday counts as a working day
	} {
		if got := c.IsWorkday(day(d)); got != want {
			t.Errorf("%s: working day %v, want %v", d, got, want)
		}
	}
}

// Worked by hand. October 2025 (Wed 1st): 23 weekdays; National Day and
// Mid-Autumn take Oct 1–8, of which 6 are weekdays (1, 2, 3, 6, 7, 8);
// Saturday Oct 11 is worked: 23 − 6 + 1 = 18. Through Oct 15: 9, 10, 11,
// 13, 14, 15 = 6. (Sunday Sep 28, the other make-up day, is in September.)
// October 2024: 23 − 5 + 1 (Sat 12th) = 19. November 2026 (Sun 1st): 21
// weekdays, no holiday; through Thu 5th: 4.
func TestWorkdaysByHand(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2025-10-01", "2025-10-31", 18},
		{"2025-10-01", "2025-10-15", 6},
		{"2025-09-28", "2025-09-30", 3},
		{"2024-10-01", "2024-10-31", 19},
		{"2026-11-01", "2026-11-30", 21},
		{"2026-11-01", "2026-11-05", 4},
		{"2026-02-01", "2026-02-28", 16}, // 20 weekdays − 16, 17, 18, 19, 20, 23 + Sat 14th, Sat 28th
	} {
		if got := c.Workdays(day(tc.from), day(tc.to)); got != tc.want {
			t.Errorf("%s – %s: %d working days, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// A replacement file's errors name the file and the line.
func TestParseErrors(t *testing.T) {
	for text, want := range map[string]string{
		"date,kind,name\n2025-13-01,holiday,x\n":     "h.csv:2: \"2025-13-01\" is not a date",
		"# c\n\n2025-10-01,off,x\n":                  "h.csv:3: kind \"off\" is neither holiday nor workday",
		"2025-10-01,holiday,a\n2025-10-01,holiday,b": "h.csv:2: 2025-10-01 is listed twice",
		"2025-10-09,workday,x\n":                     "h.csv:1: 2025-10-09 is a Thursday",
		"2025-10-09\n":                               "h.csv:1: want date,kind,name",
	} {
		_, err := Parse(strings.NewReader(text), "h.csv")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	c, err := Parse(strings.NewReader("\ufeffdate,kind,name\n2030-01-01,holiday,New Year\n2030-01-05,workday,\n"), "h.csv")
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkday(day("2030-01-01")) || !c.IsWorkday(day("2030-01-05")) || !c.Covers(2030) || c.Name(day("2030-01-01")) != "New Year" {
		t.Error("a replacement file is not read as written")
	}
	if _, err := Load("/does/not/exist.csv"); err == nil || !strings.Contains(err.Error(), "/does/not/exist.csv") {
		t.Errorf("a missing file: %v", err)
	}
}
