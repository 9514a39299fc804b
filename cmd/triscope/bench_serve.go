package main

import (
	"context"
	"fmt"
	"github.com/triscope/triscope/app"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// bench-serve: concurrent clients on loopback against the data endpoints of
// every page, for a bounded time; p50/p95/p99 per page, cold (first request
// of a view: computed) and warm (served from the cache).
func newBenchServeCmd(cfg *app.Config) *cobra.Command {
	var clients int
	var duration time.Duration
	var warm, managers bool
	cmd := &cobra.Command{
		Use:   "bench-serve",
		Short: "Latency of the dashboards' data endpoints under concurrent clients (loopback)",
		Long: `Serve the warehouse (--db) in-process and drive --clients concurrent clients for
--duration through the chart endpoints of every page, as an executive and as the
managers of each region, over a mix of periods, metrics and dimensions. Prints
p50/p95/p99 per page for cold requests (computed) and warm ones (from the cache).
The warehouse must not be open in another process.`,
		Example: `  triscope bench-serve --db triscope.duckdb --clients 16 --duration 60s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			tmp, err := os.MkdirTemp("", "triscope-bench-serve-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			// The runtime with an application database of its own: the
			// accounts made here never reach the configured one.
			rc := *cfg
			rc.AuthDB = filepath.Join(tmp, "access.duckdb")
			r, err := app.Open(ctx, &rc, discardLogger())
			if err != nil {
				return err
			}
			defer r.Close()
			a, w := r.Access(), r.Warehouse()
			password := access.RandomPassword()
			users := []string{"exec"}
			var regions []string
			if err := a.AddUser(ctx, access.User{Username: "exec", Role: access.RoleExecutive}, password); err != nil {
				return err
			}
			regionQuery := `SELECT org_unit_id FROM org_units WHERE level = 'region' ORDER BY 1`
			if !managers {
				regionQuery = `SELECT org_unit_id FROM org_units WHERE false`
			}
			rows, err := w.DB().QueryContext(ctx, regionQuery)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				name := "mgr-" + strings.ToLower(id)
				if err := a.AddUser(ctx, access.User{Username: name, Role: access.RoleManager, OrgUnit: id}, password); err != nil {
					return err
				}
				users = append(users, name)
				regions = append(regions, id)
			}
			rows.Close()
			srv, err := r.Dashboards(ctx, "", true)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			sctx, stop := context.WithCancel(ctx)
			defer stop()
			go srv.Serve(sctx, ln)
			base := "http://" + ln.Addr().String()

			ids := map[string][]string{}
			for page, q := range map[string]string{
				"customers.detail": `SELECT customer_id FROM customers WHERE _deleted_at IS NULL ORDER BY hash(customer_id) LIMIT 20`,
				"microscope.rep":   `SELECT rep_id FROM reps WHERE _deleted_at IS NULL ORDER BY hash(rep_id) LIMIT 20`,
				"microscope.deal":  `SELECT opportunity_id FROM opportunities WHERE _deleted_at IS NULL ORDER BY hash(opportunity_id) LIMIT 20`,
			} {
				rows, err := w.DB().QueryContext(ctx, q)
				if err != nil {
					return fmt.Errorf("choosing ids for %s: %w", page, err)
				}
				for rows.Next() {
					var id string
					rows.Scan(&id)
					ids[page] = append(ids[page], "id="+url.QueryEscape(id))
				}
				rows.Close()
			}
			views := benchViews(ids)
			if warm {
				// What the server does after every load or refresh: the default
				// view of every page for each scope, both languages.
				scopes := []query.Scope{{All: true}}
				for _, id := range regions {
					scopes = append(scopes, query.Scope{Org: id})
				}
				rep, err := srv.Engine().Warm(ctx, nil, scopes, i18n.Langs)
				if err != nil {
					return fmt.Errorf("warm-up: %w", err)
				}
				fmt.Fprintf(out, "warm-up: %d chart views (%d scopes × 2 languages) in %.1fs, %d failed\n",
					rep.Charts, len(scopes), rep.Elapsed.Seconds(), rep.Failed)
				for _, c := range rep.Slowest {
					fmt.Fprintf(out, "  %-32s %-14s %6.2fs\n", c.Chart, c.Scope, c.Elapsed.Seconds())
				}
			}
			fmt.Fprintf(out, "%d clients for %s over %d chart views × %d users on %s\n", clients, duration, len(views), len(users), cfg.DB)
			type sample struct {
				page   string
				cached bool
				d      time.Duration
			}
			var mu sync.Mutex
			var samples []sample
			var failures int
			deadline := time.Now().Add(duration)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := benchLogin(base, users[i%len(users)], password)
					if err != nil {
						mu.Lock()
						failures++
						mu.Unlock()
						return
					}
					r := rand.New(rand.NewPCG(uint64(i), 7))
					for time.Now().Before(deadline) && ctx.Err() == nil {
						v := views[r.IntN(len(views))]
						start := time.Now()
						resp, err := c.Get(base + v.url)
						if err != nil {
							mu.Lock()
							failures++
							mu.Unlock()
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						d := time.Since(start)
						mu.Lock()
						if resp.StatusCode != 200 {
							failures++
						} else {
							samples = append(samples, sample{v.page, resp.Header.Get("X-Cache") == "hit", d})
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			byPage := map[string]map[bool][]time.Duration{}
			for _, s := range samples {
				if byPage[s.page] == nil {
					byPage[s.page] = map[bool][]time.Duration{}
				}
				byPage[s.page][s.cached] = append(byPage[s.page][s.cached], s.d)
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
			fmt.Fprintf(out, "%d requests, %.0f/s, %d failures\n", len(samples), float64(len(samples))/duration.Seconds(), failures)
			return nil
		},
	}
	cmd.Flags().IntVar(&clients, "clients", 16, "concurrent clients")
	cmd.Flags().BoolVar(&managers, "managers", true, "also drive clients as the manager of each region (else executives only)")
	cmd.Flags().BoolVar(&warm, "warm-up", true, "first compute every page's default view per scope, as the server does after a load or refresh")
	cmd.Flags().DurationVar(&duration, "duration", 30*time.Second, "how long to run")
	return cmd
}

type benchView struct{ page, url string }

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
