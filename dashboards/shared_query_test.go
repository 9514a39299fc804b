package dashboards_test

import (
	"context"
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
	for attempt := 1; ; attempt++ {
		version := dataVersion(t)
		runs, views := viewMagnifierCharts(t, c)
		// a job an earlier test started may change the data under this
		// one (new keys, the caches dropped): measure again
		if dataVersion(t) != version && attempt < 3 {
			continue
		}
		if runs != views {
			t.Errorf("magnifier_breakdown.sql ran %d times for %d views of its three charts, want once per view", runs, views)
		}
		return
	}
}

// viewMagnifierCharts asks for the breakdown, share and table of every
// metric and dimension at once, as a browser does, and says how often their
// query ran and for how many views.
func viewMagnifierCharts(t *testing.T, c *client) (runs, views int) {
	before := sqlRuns(t, c, "magnifier_breakdown.sql")
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
	return sqlRuns(t, c, "magnifier_breakdown.sql") - before, views
}

func dataVersion(t *testing.T) string {
	t.Helper()
	st, err := env.srv.Engine().State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Version
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
