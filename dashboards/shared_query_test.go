package dashboards_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// The magnifier's breakdown, share and table draw one query. A browser asks
// for a page's charts at once; each view of the three must run that query
// once, not once per chart (three runs of it beside each other on two cores
// made the first view of the page slower than one).
func TestChartsSharingAQueryRunItOnce(t *testing.T) {
	c := login(t, "ceo")
	before := sqlRuns(t, c, "magnifier_breakdown.sql")
	views := 0
	for _, metric := range []string{"bookings", "collections", "pipeline", "win_rate", "customers"} {
		for _, dim := range []string{"org", "industry", "product_line", "channel", "source"} {
			// a period no other test asks for: nothing is in the caches
			q := "?period=l12m&cmp=prev&metric=" + metric + "&dim=" + dim
			start := make(chan struct{})
			var wg sync.WaitGroup
			codes := make([]int, 3)
			for i, chart := range []string{"magnifier.breakdown", "magnifier.share", "magnifier.table"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := c.Get(env.base + "/api/charts/" + chart + q)
					if err != nil {
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					codes[i] = resp.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			for i, code := range codes {
				if code != http.StatusOK {
					t.Fatalf("chart %d of %s: status %d", i, q, code)
				}
			}
			views++
		}
	}
	if runs := sqlRuns(t, c, "magnifier_breakdown.sql") - before; runs != views {
		t.Errorf("magnifier_breakdown.sql ran %d times for %d views of its three charts, want once per view", runs, views)
	}
}

// sqlRuns reads from /metrics how often a chart SQL file ran.
func sqlRuns(t *testing.T, c *client, file string) int {
	t.Helper()
	resp, body := c.get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`(?m)^triscope_chart_sql_seconds_count\{sql="` + regexp.QuoteMeta(file) + `"\} (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
