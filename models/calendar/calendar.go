// Package calendar says which days are working days: Monday to Friday, less
// the public holidays, plus the weekend days worked in exchange (调休上班).
// The PRC calendar ships with Triscope (cn_holidays.csv, from the State
// Council's notices); a company replaces it with a file of the same columns
// (the configuration's holidays_file). Targets are spread over working days
// and prorated by them (models/targets.go, scoped.targets_to_date).
package calendar

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

//go:embed cn_holidays.csv
var cnHolidays string

// File is the name the built-in calendar's errors and notes give.
const File = "cn_holidays.csv"

// Day is one row of a holiday file.
type Day struct {
	Date    time.Time // UTC midnight
	Workday bool      // a weekend day worked in exchange; else a day off
	Name    string
}

// Calendar holds the days a holiday file lists.
type Calendar struct {
	Source string // the file it came from
	days   map[string]Day
	years  map[int]bool
}

// Default is the built-in PRC calendar.
func Default() *Calendar {
	c, err := Parse(strings.NewReader(cnHolidays), File)
	if err != nil {
		panic(err) // the embedded file is checked by TestBuiltInCalendar
	}
	return c
}

// Load reads a holiday file; path "" is the built-in calendar.
func Load(path string) (*Calendar, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("holidays file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a holiday file: lines "date,kind,name" (a header line
// "date,kind,name" and lines starting with # are skipped), kind holiday or
// workday; a workday must fall on a Saturday or Sunday (a weekday is one
// anyway: listing it is a mistake) and no date may be listed twice. Errors
// name the file and the line.
func Parse(r io.Reader, name string) (*Calendar, error) {
	c := &Calendar{Source: name, days: map[string]Day{}, years: map[int]bool{}}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.SplitN(text, ",", 3)
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if strings.EqualFold(f[0], "date") {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("%s:%d: want date,kind,name (kind holiday or workday), got %q", name, line, text)
		}
		d, err := time.Parse(time.DateOnly, f[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a date (YYYY-MM-DD)", name, line, f[0])
		}
		day := Day{Date: d}
		if len(f) == 3 {
			day.Name = f[2]
		}
		switch strings.ToLower(f[1]) {
		case "holiday":
		case "workday":
			day.Workday = true
			if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
				return nil, fmt.Errorf("%s:%d: %s is a %s: a make-up working day (workday) is a Saturday or Sunday", name, line, f[0], wd)
			}
		default:
			return nil, fmt.Errorf("%s:%d: kind %q is neither holiday nor workday", name, line, f[1])
		}
		if _, dup := c.days[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, line, f[0])
		}
		c.days[f[0]] = day
		c.years[d.Year()] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Override replaces the holidays (when holidays is not nil) and the make-up
// working days (when workdays is not nil) with the dates given (YYYY-MM-DD,
// already checked). A calendar given only holidays has no make-up days.
func (c *Calendar) Override(holidays, workdays []string) *Calendar {
	if holidays == nil && workdays == nil {
		return c
	}
	n := &Calendar{Source: c.Source + " (with models.targets.holidays/workdays)", days: map[string]Day{}, years: map[int]bool{}}
	for k, d := range c.days {
		if (d.Workday && workdays == nil && holidays == nil) || (!d.Workday && holidays == nil) {
			n.days[k] = d
		}
	}
	add := func(list []string, work bool) {
		for _, s := range list {
			d, _ := time.Parse(time.DateOnly, s)
			n.days[s] = Day{Date: d, Workday: work}
		}
	}
	add(holidays, false)
	add(workdays, true)
	for _, d := range n.days {
		n.years[d.Date.Year()] = true
	}
	return n
}

// Digest identifies the calendar's days (not where they came from): a
// result computed with it is stale when the digest changes, as when the
// holiday file is replaced under the same name.
func (c *Calendar) Digest() string {
	keys := make([]string, 0, len(c.days))
	for k := range c.days {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		d := c.days[k]
		fmt.Fprintf(h, "%s\x00%t\x00%s\n", k, d.Workday, d.Name)
	}
	for _, y := range c.Years() {
		fmt.Fprintf(h, "year %d\n", y)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// IsWorkday says whether d (its calendar day) is a working day.
func (c *Calendar) IsWorkday(d time.Time) bool {
	if x, ok := c.days[d.Format(time.DateOnly)]; ok {
		return x.Workday
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Name is the holiday or make-up day's name of d, "" for an ordinary day.
func (c *Calendar) Name(d time.Time) string { return c.days[d.Format(time.DateOnly)].Name }

// Workdays counts the working days from a through b (both included).
func (c *Calendar) Workdays(a, b time.Time) int {
	n := 0
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// Years are the years the file lists days of, ascending.
func (c *Calendar) Years() []int {
	var ys []int
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// Covers says whether the file lists days of year y (other years count
// Monday to Friday only).
func (c *Calendar) Covers(y int) bool { return c.years[y] }
