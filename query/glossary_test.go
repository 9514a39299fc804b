package query

import (
	"testing"
	"time"
)

// "Due by month end" from a month end runs to the end of the next month
// (issue 17 point 3), else to the end of the as-of month.
func TestMonthEndAfter(t *testing.T) {
	for asOf, want := range map[string]string{
		"2026-10-31": "2026-11-30", "2026-10-15": "2026-10-31", "2026-10-30": "2026-10-31",
		"2026-12-31": "2027-01-31", "2027-01-31": "2027-02-28", "2028-02-28": "2028-02-29",
	} {
		d, _ := time.Parse(time.DateOnly, asOf)
		if got := MonthEndAfter(d).Format(time.DateOnly); got != want {
			t.Errorf("%s: %s, want %s", asOf, got, want)
		}
	}
}
