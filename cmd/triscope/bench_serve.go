package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// bench-serve: concurrent clients on loopback against the data endpoints of
// every page, for a bounded time; p50/p95/p99 per page, cold (first request
// of a view: computed) and warm (served from the cache).
func newBenchServeCmd(cfg *app.Config) *cobra.Command {
	var clients int
	var duration time.Duration
	var warm, cold, wholePages bool
	var target, user, password, cpuProfile, as string
	cmd := &cobra.Command{
		Use:   "bench-serve",
		Short: "Latency of the dashboards' data endpoints under concurrent clients (loopback)",
		Long: `Serve the warehouse (--db) in-process and drive --clients concurrent clients for
--duration through the chart endpoints of every page, as an executive and as the
managers of each region (--as), over a mix of periods, metrics and dimensions. Prints
p50/p95/p99 per page for cold requests (computed) and warm ones (from the cache).
The warehouse must not be open in another process.

--pages: each client opens whole views instead of single charts, asking for
all the charts of a page at once as a browser does, and the time of each page
load (until its last chart arrived) is printed per page before the last line.

--as chooses who the clients are: all (an executive and the manager of each
region, client i signs in as the i-th of them in turn), executive, or managers.
A manager's pages decide the scope of every row; an executive's skip it.

--cold measures first views: no warm-up and no chart cache, every request is
computed. --url drives a running server instead (as --user, whose password is
read from TRISCOPE_BENCH_PASSWORD or --password); the detail pages' ids come
from its SQL API, so the user must be allowed ad hoc SQL. Its cache is the
server's own: restart it with chart_cache_entries: -1 for a cold run.

The last line is stable (scripts read it):
  cold p50 X ms, p95 Y ms, p99 Z ms; warm p95 W ms`,
		Example: `  triscope bench-serve --db triscope.duckdb --clients 16 --duration 60s
  triscope bench-serve --db triscope.duckdb --clients 16 --duration 60s --cold
  TRISCOPE_BENCH_PASSWORD=… triscope bench-serve --url http://127.0.0.1:8080 --user ceo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var run benchTarget
			var err error
			if target != "" {
				if password == "" {
					password = os.Getenv("TRISCOPE_BENCH_PASSWORD")
				}
				if user == "" || password == "" {
					return fmt.Errorf("--url needs --user and the user's password (TRISCOPE_BENCH_PASSWORD or --password)")
				}
				run, err = remoteBenchTarget(ctx, strings.TrimRight(target, "/"), user, password)
			} else {
				if cold {
					warm = false
				}
				if as != "all" && as != "executive" && as != "managers" {
					return fmt.Errorf("--as %q: use all, executive or managers", as)
				}
				var cleanup func()
				run, cleanup, err = localBenchTarget(ctx, cfg, out, as, warm, cold)
				if cleanup != nil {
					defer cleanup()
				}
			}
			if err != nil {
				return err
			}
			stopProfile, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			views := benchViews(run.ids)
			where := cfg.DB
			if target != "" {
				where = target
			}
			fmt.Fprintf(out, "%d clients for %s over %d chart views × %d users on %s\n", clients, duration, len(views), len(run.users), where)
			type sample struct {
				page, chart string
				cached      bool
				d           time.Duration
			}
			type pageLoad struct {
				page string
				d    time.Duration
			}
			pageViews := benchPageViews(views)
			var mu sync.Mutex
			var samples []sample
			var loads []pageLoad
			var failures int
			deadline := time.Now().Add(duration)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := benchLogin(run.base, run.users[i%len(run.users)], run.password)
					if err != nil {
						mu.Lock()
						failures++
						mu.Unlock()
						return
					}
					r := rand.New(rand.NewPCG(uint64(i), 7))
					get := func(v benchView) {
						start := time.Now()
						resp, err := c.Get(run.base + v.url)
						if err != nil {
							mu.Lock()
							failures++
							mu.Unlock()
							return
						}
						body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
						resp.Body.Close()
						d := time.Since(start)
						mu.Lock()
						if resp.StatusCode != 200 {
							failures++
						} else {
							// a chart whose query failed (past its timeout)
							// is served as a 200 with state "error": a
							// failure, and the reader waited for it
							if bytes.Contains(body, []byte(`"state":"error"`)) {
								failures++
							}
							samples = append(samples, sample{v.page, v.chart(), resp.Header.Get("X-Cache") == "hit", d})
						}
						mu.Unlock()
					}
					for time.Now().Before(deadline) && ctx.Err() == nil {
						if !wholePages {
							get(views[r.IntN(len(views))])
							continue
						}
						pv := pageViews[r.IntN(len(pageViews))]
						start := time.Now()
						var charts sync.WaitGroup
						for _, v := range pv.charts {
							charts.Go(func() { get(v) })
						}
						charts.Wait()
						d := time.Since(start)
						mu.Lock()
						loads = append(loads, pageLoad{pv.page, d})
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			stopProfile()
			byPage := map[string]map[bool][]time.Duration{}
			var allCold, allWarm []time.Duration
			for _, s := range samples {
				if byPage[s.page] == nil {
					byPage[s.page] = map[bool][]time.Duration{}
				}
				byPage[s.page][s.cached] = append(byPage[s.page][s.cached], s.d)
				if s.cached {
					allWarm = append(allWarm, s.d)
				} else {
					allCold = append(allCold, s.d)
				}
			}
			var pages []string
			for p := range byPage {
				pages = append(pages, p)
			}
			sort.Strings(pages)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "page\trequests\tcold\tcold p50\tcold p95\tcold p99\twarm p50\twarm p95\twarm p99\t")
			for _, p := range pages {
				cold, warm := byPage[p][false], byPage[p][true]
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p, len(cold)+len(warm), len(cold),
					pct(cold, 50), pct(cold, 95), pct(cold, 99), pct(warm, 50), pct(warm, 95), pct(warm, 99))
			}
			tw.Flush()
			// The charts whose cold requests took longest: where a first view
			// waits.
			coldByChart := map[string][]time.Duration{}
			for _, s := range samples {
				if !s.cached {
					coldByChart[s.chart] = append(coldByChart[s.chart], s.d)
				}
			}
			charts := make([]string, 0, len(coldByChart))
			for c := range coldByChart {
				charts = append(charts, c)
			}
			slices.SortFunc(charts, func(a, b string) int { return cmp.Compare(slices.Max(coldByChart[b]), slices.Max(coldByChart[a])) })
			if len(charts) > 0 {
				fmt.Fprintln(out, "slowest charts, cold:")
				tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "chart	requests	p50	max	")
				for _, c := range charts[:min(len(charts), 10)] {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", c, len(coldByChart[c]), pct(coldByChart[c], 50), pct(coldByChart[c], 100))
				}
				tw.Flush()
				// Where the server's time went: with many clients on few
				// cores, the charts asked often for a little each can cost
				// every first view more than the slowest one.
				total := func(c string) (t time.Duration) {
					for _, d := range coldByChart[c] {
						t += d
					}
					return t
				}
				slices.SortFunc(charts, func(a, b string) int { return cmp.Compare(total(b), total(a)) })
				fmt.Fprintln(out, "most time in total, cold:")
				tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "chart\trequests\tp50\ttotal\t")
				for _, c := range charts[:min(len(charts), 10)] {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%.1fs\t\n", c, len(coldByChart[c]), pct(coldByChart[c], 50), total(c).Seconds())
				}
				tw.Flush()
			}
			if wholePages {
				// A page load lasts until its last chart arrived: what the
				// reader waits for.
				byPageLoad := map[string][]time.Duration{}
				var all []time.Duration
				for _, l := range loads {
					byPageLoad[l.page] = append(byPageLoad[l.page], l.d)
					all = append(all, l.d)
				}
				fmt.Fprintln(out, "page loads (every chart of a view asked for at once):")
				tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "page\tloads\tp50\tp95\tp99\t")
				for _, p := range slices.Sorted(maps.Keys(byPageLoad)) {
					ds := byPageLoad[p]
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", p, len(ds), pct(ds, 50), pct(ds, 95), pct(ds, 99))
				}
				tw.Flush()
				fmt.Fprintf(out, "%d page loads, p50 %s ms, p95 %s ms, p99 %s ms\n", len(all), pctMS(all, 50), pctMS(all, 95), pctMS(all, 99))
			}
			fmt.Fprintf(out, "%d requests, %.0f/s, %d failures\n", len(samples), float64(len(samples))/duration.Seconds(), failures)
			fmt.Fprintf(out, "cold p50 %s ms, p95 %s ms, p99 %s ms; warm p95 %s ms\n",
				pctMS(allCold, 50), pctMS(allCold, 95), pctMS(allCold, 99), pctMS(allWarm, 95))
			return nil
		},
	}
	cmd.Flags().IntVar(&clients, "clients", 16, "concurrent clients")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the server and clients while they run to this file (go tool pprof)")
	cmd.Flags().StringVar(&as, "as", "all", "who the clients sign in as: all (an executive and each region's manager in turn), executive, or managers")
	cmd.Flags().BoolVar(&warm, "warm-up", true, "first compute every page's default view per scope, as the server does after a load or refresh")
	cmd.Flags().BoolVar(&cold, "cold", false, "no warm-up and no chart cache: every request is computed (first views)")
	cmd.Flags().BoolVar(&wholePages, "pages", false, "open whole views (every chart of a page at once, as a browser does) and time each page load")
	cmd.Flags().DurationVar(&duration, "duration", 30*time.Second, "how long to run")
	cmd.Flags().StringVar(&target, "url", "", "drive a running server at this base URL instead of serving --db")
	cmd.Flags().StringVar(&user, "user", "", "with --url: the account the clients sign in as")
	cmd.Flags().StringVar(&password, "password", "", "with --url: its password (else TRISCOPE_BENCH_PASSWORD)")
	return cmd
}

// benchTarget is a server to drive: its base URL, the accounts the clients
// sign in as (one password), and the ids of the detail pages.
type benchTarget struct {
	base     string
	users    []string
	password string
	ids      map[string][]string
}

// benchDetailIDs are the queries choosing 20 ids of each detail page.
var benchDetailIDs = map[string]string{
	"customers.detail": `SELECT customer_id FROM customers WHERE _deleted_at IS NULL ORDER BY hash(customer_id) LIMIT 20`,
	"microscope.rep":   `SELECT rep_id FROM reps WHERE _deleted_at IS NULL ORDER BY hash(rep_id) LIMIT 20`,
	"microscope.deal":  `SELECT opportunity_id FROM opportunities WHERE _deleted_at IS NULL ORDER BY hash(opportunity_id) LIMIT 20`,
}

// localBenchTarget serves the warehouse in-process with accounts of its own
// (an executive and the manager of each region; as chooses which of them
// the clients sign in as: all, executive or managers).
func localBenchTarget(ctx context.Context, cfg *app.Config, out io.Writer, as string, warm, cold bool) (benchTarget, func(), error) {
	var t benchTarget
	tmp, err := os.MkdirTemp("", "triscope-bench-serve-")
	if err != nil {
		return t, nil, err
	}
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		os.RemoveAll(tmp)
	}
	// The runtime with an application database of its own: the accounts
	// made here never reach the configured one.
	rc := *cfg
	rc.AuthDB = filepath.Join(tmp, "access.duckdb")
	if cold {
		rc.ChartCacheEntries = -1
	}
	r, err := app.Open(ctx, &rc, discardLogger())
	if err != nil {
		return t, cleanup, err
	}
	closers = append(closers, func() { r.Close() })
	a, w := r.Access(), r.Warehouse()
	t.password = access.RandomPassword()
	if as != "managers" {
		t.users = []string{"exec"}
	}
	var regions []string
	if err := a.AddUser(ctx, access.User{Username: "exec", Role: access.RoleExecutive}, t.password); err != nil {
		return t, cleanup, err
	}
	if as != "executive" {
		rows, err := w.DB().QueryContext(ctx, `SELECT org_unit_id FROM org_units WHERE level = 'region' ORDER BY 1`)
		if err != nil {
			return t, cleanup, err
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			regions = append(regions, id)
		}
		rows.Close()
		for _, id := range regions {
			name := "mgr-" + strings.ToLower(id)
			if err := a.AddUser(ctx, access.User{Username: name, Role: access.RoleManager, OrgUnit: id}, t.password); err != nil {
				return t, cleanup, err
			}
			t.users = append(t.users, name)
		}
	}
	if len(t.users) == 0 {
		return t, cleanup, fmt.Errorf("--as managers: the warehouse has no org unit of level 'region' to manage")
	}
	srv, err := r.Dashboards(ctx, "", true)
	if err != nil {
		return t, cleanup, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return t, cleanup, err
	}
	sctx, stop := context.WithCancel(ctx)
	closers = append(closers, stop)
	go srv.Serve(sctx, ln)
	t.base = "http://" + ln.Addr().String()

	t.ids = map[string][]string{}
	for page, q := range benchDetailIDs {
		rows, err := w.DB().QueryContext(ctx, q)
		if err != nil {
			return t, cleanup, fmt.Errorf("choosing ids for %s: %w", page, err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			t.ids[page] = append(t.ids[page], "id="+url.QueryEscape(id))
		}
		rows.Close()
	}
	if warm {
		// What the server does after every load or refresh: the default
		// view of every page for each scope, both languages.
		scopes := []query.Scope{{All: true}}
		for _, id := range regions {
			scopes = append(scopes, query.Scope{Org: id})
		}
		rep, err := srv.Engine().Warm(ctx, nil, scopes, i18n.Langs)
		if err != nil {
			return t, cleanup, fmt.Errorf("warm-up: %w", err)
		}
		fmt.Fprintf(out, "warm-up: %d chart views (%d scopes × 2 languages) in %.1fs, %d failed\n",
			rep.Charts, len(scopes), rep.Elapsed.Seconds(), rep.Failed)
		for _, c := range rep.Slowest {
			fmt.Fprintf(out, "  %-32s %-14s %6.2fs\n", c.Chart, c.Scope, c.Elapsed.Seconds())
		}
	}
	return t, cleanup, nil
}

// remoteBenchTarget drives a running server as one user; the detail pages'
// ids are asked of its SQL API, within that user's scope.
func remoteBenchTarget(ctx context.Context, base, user, password string) (benchTarget, error) {
	t := benchTarget{base: base, users: []string{user}, password: password, ids: map[string][]string{}}
	c, err := benchLogin(base, user, password)
	if err != nil {
		return t, fmt.Errorf("signing in to %s as %s: %w", base, user, err)
	}
	var me struct {
		CSRF string `json:"csrf"`
	}
	if err := benchJSON(ctx, c, http.MethodGet, base+"/api/me", "", nil, &me); err != nil {
		return t, fmt.Errorf("signing in to %s as %s (check the password): %w", base, user, err)
	}
	for page, q := range benchDetailIDs {
		// The sandbox's relations hold live rows only, without _deleted_at.
		q = strings.Replace(q, "WHERE _deleted_at IS NULL ", "", 1)
		var res struct {
			Rows [][]any `json:"rows"`
		}
		body, _ := json.Marshal(map[string]any{"sql": q})
		if err := benchJSON(ctx, c, http.MethodPost, base+"/api/sql", me.CSRF, body, &res); err != nil {
			return t, fmt.Errorf("choosing ids for %s through the SQL API: %w", page, err)
		}
		for _, row := range res.Rows {
			if len(row) > 0 {
				t.ids[page] = append(t.ids[page], "id="+url.QueryEscape(fmt.Sprint(row[0])))
			}
		}
	}
	return t, nil
}

// benchJSON sends a request with the session's CSRF token and decodes the
// JSON answer into v.
func benchJSON(ctx context.Context, c *http.Client, method, u, csrf string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("Origin", strings.TrimSuffix(u, req.URL.RequestURI()))
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, v)
}

type benchView struct{ page, url string }

// chart names the chart a view asks for, with the magnifier's metric (each
// metric is a different query).
func (v benchView) chart() string {
	path, q, _ := strings.Cut(strings.TrimPrefix(v.url, "/api/charts/"), "?")
	id, _ := url.PathUnescape(path)
	if vals, err := url.ParseQuery(q); err == nil && vals.Get("metric") != "" {
		id += " metric=" + vals.Get("metric")
	}
	return id
}

// benchViews lists the chart requests the clients pick from; detailIDs gives
// the id= queries of the detail pages (customers, reps, deals).
func benchViews(detailIDs map[string][]string) []benchView {
	var views []benchView
	variants := map[string][]string{
		"customers.detail": detailIDs["customers.detail"],
		"microscope.rep":   detailIDs["microscope.rep"],
		"microscope.deal":  detailIDs["microscope.deal"],
		"telescope":        {"period=ytd&cmp=yoy", "period=l12m&cmp=prev", "period=qtd&cmp=yoy", "period=ly&cmp=yoy"},
		"magnifier":        nil,
	}
	for _, m := range []string{"bookings", "collections", "pipeline", "win_rate", "customers"} {
		for _, d := range []string{"org", "industry", "product_line", "channel", "source"} {
			variants["magnifier"] = append(variants["magnifier"], "period=ytd&cmp=yoy&metric="+m+"&dim="+d)
		}
	}
	for _, p := range query.Pages() {
		for _, s := range p.Sections {
			for _, id := range s.Charts {
				qs, ok := variants[p.ID]
				if !ok {
					// pages with the global filters only: the default view and the last 12 months
					qs = []string{"", "period=l12m"}
				}
				for _, q := range qs {
					views = append(views, benchView{p.ID, "/api/charts/" + url.PathEscape(id) + "?" + q})
				}
			}
		}
	}
	return views
}

// benchPageView is one view of a page: the chart requests a browser makes
// at once when it opens it.
type benchPageView struct {
	page   string
	charts []benchView
}

// benchPageViews groups the chart requests by page and query: the views a
// browser opens.
func benchPageViews(views []benchView) []benchPageView {
	var out []benchPageView
	at := map[string]int{}
	for _, v := range views {
		_, q, _ := strings.Cut(v.url, "?")
		k := v.page + "?" + q
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, benchPageView{page: v.page})
		}
		out[i].charts = append(out[i].charts, v)
	}
	return out
}

var benchCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func benchLogin(base, user, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := benchCSRF.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no login form")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "username": {user}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return c, nil
}

// pctMS is the p-th percentile in whole milliseconds ("-" when none).
func pctMS(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := max((len(ds)*p+99)/100-1, 0)
	return fmt.Sprint(ds[min(i, len(ds)-1)].Milliseconds())
}

func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := (len(ds)*p + 99) / 100
	if i > 0 {
		i--
	}
	d := ds[min(i, len(ds)-1)]
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
