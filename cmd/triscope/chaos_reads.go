package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/warehouse"
)

// triscope chaos reads: clients read the dashboards' chart and rows
// endpoints through a real server (a child process) while loads run through
// its admin API (`triscope load`, another child). Every load adds payments
// of known amounts to one contract of one rep, so the states the reads may
// see are known in advance: state k is the data after k loads. A tracked
// read must match exactly one state, in every figure it shows (a chart's
// bars and total, a page of rows' count and sum): a read that matches none,
// or mixes two, saw part of a load.
func newChaosReadsCmd() *cobra.Command {
	var o readsOptions
	cmd := &cobra.Command{
		Use:   "reads",
		Short: "Concurrent dashboard reads through a server while loads run: no error, no partial read, latency",
		Long: `Serve a copy of the demo company (or of --from) with 'triscope serve' and drive
--clients concurrent clients (an executive each) through the chart and rows endpoints of
every page for --duration, while a load through the server's admin API adds payments to
one rep's contract every --load-every (each load is followed by the server's refresh of
the models it affects, as configured).

Tracked reads — the magnifier's collections for the company and for the rep's department,
and the rows behind the rep's bar — must each match exactly one committed state: the
total and every bar, the count and the sum of the rows (which equals the bar). Every
other read must answer 200 without a chart error. Prints the counts, the reads that went
back to an older state after a newer one, latency p50/p95/p99 by kind (chart, rows;
during a load and not) and the load average.`,
		Example: `  triscope chaos reads --clients 64 --duration 10m --load-every 1m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.from = sourceWarehouse(cmd, o.from)
			e, err := newChaosEnv(o.work, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer e.close()
			bad, err := chaosReads(cmd.Context(), e, o)
			if err != nil || bad > 0 {
				e.keep = true
			}
			if err == nil && bad > 0 {
				err = fmt.Errorf("%d broken promises", bad)
			}
			return err
		},
	}
	cmd.Flags().IntVar(&o.clients, "clients", 64, "concurrent clients")
	cmd.Flags().DurationVar(&o.duration, "duration", 10*time.Minute, "how long the clients read")
	cmd.Flags().DurationVar(&o.loadEvery, "load-every", time.Minute, "time between the starts of two loads")
	cmd.Flags().IntVar(&o.rowsPerLoad, "rows-per-load", 5, "payments each load adds")
	cmd.Flags().StringVar(&o.refreshAfterLoad, "refresh-after-load", "affected", "what the server refreshes after each load: affected, all, off")
	cmd.Flags().Uint64Var(&o.seed, "seed", 0, "seed of the clients' choices (0: from the clock; printed)")
	cmd.Flags().StringVar(&o.from, "from", "", "serve a copy of this warehouse instead of the demo company (never written; --db FILE says the same)")
	cmd.Flags().StringVar(&o.size, "size", "small", "size of the demo company: small, default, large")
	cmd.Flags().StringVar(&o.work, "work", "", "work directory (default: a temporary one, removed unless a check fails)")
	return cmd
}

type readsOptions struct {
	clients             int
	duration, loadEvery time.Duration
	rowsPerLoad         int
	refreshAfterLoad    string
	seed                uint64
	from, size, work    string
}

// readsTarget is the contract the loads add payments to, and what the
// tracked reads ask for.
type readsTarget struct {
	contract, customer, rep, dept, base string
	asOf                                time.Time
	company, deptChart, repRows         string // the tracked URLs
}

// pickReadsTarget chooses a contract in the base currency of a rep attached
// to a department, whose rep has a few dozen payments in the last 12 months.
func pickReadsTarget(ctx context.Context, db string, base string) (*readsTarget, []benchView, error) {
	w, err := warehouse.Open(ctx, warehouse.Options{Path: db, Threads: 2, Logger: discardLogger()})
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	q, err := models.SQL("as_of.sql", nil)
	if err != nil {
		return nil, nil, err
	}
	t := &readsTarget{base: base}
	if err := w.DB().QueryRowContext(ctx, q).Scan(&t.asOf); err != nil {
		return nil, nil, fmt.Errorf("as-of date: %w", err)
	}
	from := t.asOf.AddDate(-1, 0, 1)
	err = w.DB().QueryRowContext(ctx, `
		WITH n AS (
			SELECT owner_rep_id, owner_org, count(*) AS n FROM facts.payments
			WHERE paid_on BETWEEN $1 AND $2 GROUP BY ALL)
		SELECT c.contract_id, c.customer_id, c.owner_rep_id, c.owner_org
		FROM facts.contracts c
		JOIN live.org_units u ON u.org_unit_id = c.owner_org AND u.level = 'department'
		JOIN n ON n.owner_rep_id = c.owner_rep_id AND n.owner_org = c.owner_org
		WHERE c.currency = $3 AND n.n BETWEEN 10 AND 200
		ORDER BY abs(n.n - 40), c.contract_id LIMIT 1`, from, t.asOf, base).Scan(&t.contract, &t.customer, &t.rep, &t.dept)
	if err != nil {
		return nil, nil, fmt.Errorf("choosing the contract the loads add payments to: %w", err)
	}
	common := "metric=collections&dim=org&period=l12m&cmp=yoy"
	t.company = "/api/charts/magnifier.table?" + common
	t.deptChart = "/api/charts/magnifier.table?" + common + "&org=" + url.QueryEscape(t.dept)
	t.repRows = "/api/charts/magnifier.table/rows?" + common + "&org=" + url.QueryEscape(t.dept) +
		"&point=" + url.QueryEscape("r:"+t.rep) + "&size=500"
	// The untracked views: every chart of every page (as bench-serve asks
	// for them), and the rows behind each chart that has a drill-through.
	ids := map[string][]string{}
	for page, q := range map[string]string{
		"customers.detail": `SELECT customer_id FROM live.customers ORDER BY hash(customer_id) LIMIT 20`,
		"microscope.rep":   `SELECT rep_id FROM live.reps ORDER BY hash(rep_id) LIMIT 20`,
		"microscope.deal":  `SELECT opportunity_id FROM live.opportunities ORDER BY hash(opportunity_id) LIMIT 20`,
	} {
		if err := scanAll(ctx, w.DB(), q, func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			ids[page] = append(ids[page], "id="+url.QueryEscape(id))
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	views := benchViews(ids)
	seen := map[string]bool{}
	for _, v := range slices.Clone(views) {
		id, query, _ := strings.Cut(strings.TrimPrefix(v.url, "/api/charts/"), "?")
		if !seen[id] && chartHasDrill(id) {
			seen[id] = true
			views = append(views, benchView{v.page + " rows", "/api/charts/" + id + "/rows?size=50&" + query})
		}
	}
	return t, views, nil
}

// loadAmount is the amount of payment j of load k (k from 1): every load
// adds a different total, so a state is known by its figures.
func loadAmount(k, j int) float64 { return 1000 + float64(k) + float64(j)/100 }

// readsBaseline is what the tracked reads showed before any load.
type readsBaseline struct {
	company, dept map[string]float64 // bar label → value
	rowsN         int64
	rowsSum       float64
}

// tableBars reads the bars of a magnifier.table response (label → value).
func tableBars(b []byte) (map[string]float64, string, error) {
	var d struct {
		State   string `json:"state"`
		Message string `json:"message"`
		Table   *struct {
			Rows [][]any `json:"rows"`
		} `json:"table"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, "", err
	}
	if d.State != "ok" && d.State != "empty" {
		return nil, d.State, fmt.Errorf("chart state %s: %s", d.State, d.Message)
	}
	bars := map[string]float64{}
	if d.Table != nil {
		for _, r := range d.Table.Rows {
			if len(r) < 2 {
				return nil, d.State, fmt.Errorf("a table row of %d cells", len(r))
			}
			label, _ := r[0].(string)
			v, _ := r[1].(float64)
			bars[label] += v
		}
	}
	return bars, d.State, nil
}

// rowsFigures reads the count and the sum of amount_base of a rows page.
func rowsFigures(b []byte) (int64, float64, error) {
	var d struct {
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows  [][]any `json:"rows"`
		Total int64   `json:"total"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return 0, 0, err
	}
	col := -1
	for i, c := range d.Columns {
		if strings.EqualFold(c.Name, "amount_base") {
			col = i
		}
	}
	if col < 0 && len(d.Rows) > 0 {
		return 0, 0, errors.New("the rows have no amount_base column")
	}
	if int64(len(d.Rows)) != d.Total {
		return 0, 0, fmt.Errorf("a page of %d rows says the total is %d (more than a page: the check needs one page)", len(d.Rows), d.Total)
	}
	var sum float64
	for _, r := range d.Rows {
		v, _ := r[col].(float64)
		sum += v
	}
	return d.Total, sum, nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.011 }

// matchBars says which state k (0..maxK) a chart's bars are at: every bar
// at its baseline value but at most one, which is higher by the amount the
// first k loads added (bars that did not exist count 0). -1: none.
func matchBars(bars, baseline map[string]float64, added []float64) int {
	for k, a := range added {
		moved := 0
		ok := true
		for label, v := range bars {
			b := baseline[label]
			switch {
			case near(v, b):
			case k > 0 && near(v, b+a):
				moved++
			default:
				ok = false
			}
		}
		for label, b := range baseline {
			if _, there := bars[label]; !there && !near(b, 0) {
				ok = false
			}
		}
		if ok && (moved == 1 || k == 0 && moved == 0) {
			return k
		}
	}
	return -1
}

type readSample struct {
	kind     string // chart, rows
	d        time.Duration
	loading  bool // a load was running when the read started
	tracked  string
	k        int // the state a tracked read matched
	client   int
	finished time.Time
}

func chaosReads(ctx context.Context, e *chaosEnv, o readsOptions) (int, error) {
	out := e.out
	seed := chaosSeed(o.seed)
	fmt.Fprintf(out, "load average at the start: %s\n", loadAverage())
	before := e.path("before.duckdb")
	if err := e.prepareCompany(ctx, o.from, o.size, before); err != nil {
		return 0, err
	}
	cfg, err := e.config(before)
	if err != nil {
		return 0, err
	}
	target, views, err := pickReadsTarget(ctx, before, cfg.BaseCurrency)
	if err != nil {
		return 0, err
	}
	db := e.path("serve.duckdb")
	if err := copyWarehouse(before, db); err != nil {
		return 0, err
	}
	password := access.RandomPassword()
	add := exec.CommandContext(ctx, e.exe, "users", "add", "chaos", "--db", db, "--role", "executive", "--password-stdin")
	add.Dir, add.Env, add.Stdin = e.dir, append(os.Environ(), "TRISCOPE_AUTH_DB="), strings.NewReader(password+"\n")
	if b, err := add.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("users add: %v\n%s", err, b)
	}

	// The server, in its own process.
	srv, base, stopServer, err := e.startServer(ctx, db, e.path("serve.log"), "TRISCOPE_REFRESH_AFTER_LOAD="+o.refreshAfterLoad)
	if err != nil {
		return 0, err
	}
	defer stopServer()
	fmt.Fprintf(out, "server %s (pid %d, refresh_after_load: %s); loads add %d payments each to contract %s of rep %s (department %s) every %s\n",
		base, srv.Process.Pid, o.refreshAfterLoad, o.rowsPerLoad, target.contract, target.rep, target.dept, o.loadEvery)

	// The baseline: the tracked reads before any load.
	c0, err := benchLogin(base, "chaos", password)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	get := func(c *http.Client, path string) ([]byte, int, error) {
		resp, err := c.Get(base + path)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	var bl readsBaseline
	{
		b, code, err := get(c0, target.company)
		if err != nil || code != 200 {
			return 0, fmt.Errorf("baseline %s: %d %v", target.company, code, err)
		}
		if bl.company, _, err = tableBars(b); err != nil {
			return 0, err
		}
		if b, code, err = get(c0, target.deptChart); err != nil || code != 200 {
			return 0, fmt.Errorf("baseline %s: %d %v", target.deptChart, code, err)
		}
		if bl.dept, _, err = tableBars(b); err != nil {
			return 0, err
		}
		if b, code, err = get(c0, target.repRows); err != nil || code != 200 {
			return 0, fmt.Errorf("baseline %s: %d %v", target.repRows, code, err)
		}
		if bl.rowsN, bl.rowsSum, err = rowsFigures(b); err != nil {
			return 0, err
		}
	}
	nLoads := int(o.duration / o.loadEvery)
	added := make([]float64, nLoads+1) // added[k]: the total the first k loads add
	for k := 1; k <= nLoads; k++ {
		added[k] = added[k-1]
		for j := range o.rowsPerLoad {
			added[k] += loadAmount(k, j)
		}
	}
	fmt.Fprintf(out, "baseline: %d company bars, %d department bars, rep's rows: %d (sum %.2f)\n", len(bl.company), len(bl.dept), bl.rowsN, bl.rowsSum)
	fmt.Fprintf(out, "%d clients for %s over %d views (3 tracked), seed %d; %d loads\n", o.clients, o.duration, len(views), seed, nLoads)

	var loading atomic.Bool
	var started, committed atomic.Int64 // loads
	var mu sync.Mutex
	var samples []readSample
	var errs []string
	nErr, partial, backwards := 0, 0, 0
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		nErr++
		if len(errs) < 20 {
			errs = append(errs, msg)
		}
	}
	check := func(tracked string, b []byte) (int, string) {
		switch tracked {
		case "company", "department":
			base := bl.company
			if tracked == "department" {
				base = bl.dept
			}
			bars, _, err := tableBars(b)
			if err != nil {
				return -1, err.Error()
			}
			if k := matchBars(bars, base, added); k >= 0 {
				return k, ""
			}
			return -1, fmt.Sprintf("bars %v match no committed state (baseline %v)", bars, base)
		default:
			n, sum, err := rowsFigures(b)
			if err != nil {
				return -1, err.Error()
			}
			for k := range added {
				if n == bl.rowsN+int64(k*o.rowsPerLoad) && near(sum, bl.rowsSum+added[k]) {
					return k, ""
				}
			}
			return -1, fmt.Sprintf("%d rows summing to %.2f match no committed state (baseline %d rows, %.2f)", n, sum, bl.rowsN, bl.rowsSum)
		}
	}

	// The clients read for --duration, and on until the last load has
	// committed (a load waits for the refresh the previous one scheduled:
	// on a busy machine they may fall behind their schedule), and a few
	// seconds more.
	rctx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	loadsDone := make(chan struct{})
	go func() {
		select {
		case <-time.After(o.duration):
		case <-ctx.Done():
		}
		select {
		case <-loadsDone:
		case <-ctx.Done():
		}
		// A little more once the last load has committed: reads of the
		// final state, under way while the server's refresh runs.
		select {
		case <-time.After(min(o.loadEvery, 5*time.Second)):
		case <-ctx.Done():
		}
		stopReads()
	}()
	var wg sync.WaitGroup
	startAt := time.Now()
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := benchLogin(base, "chaos", password)
			if err != nil {
				fail(fmt.Sprintf("client %d: login: %v", i, err))
				return
			}
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			last := map[string]int{}
			for rctx.Err() == nil {
				var path, tracked, kind string
				switch r := rng.IntN(10); {
				case r < 2:
					path, tracked, kind = target.company, "company", "chart"
				case r < 4:
					path, tracked, kind = target.deptChart, "department", "chart"
				case r < 6:
					path, tracked, kind = target.repRows, "rows", "rows"
				default:
					v := views[rng.IntN(len(views))]
					path, kind = v.url, "chart"
					if strings.Contains(v.url, "/rows?") {
						kind = "rows"
					}
				}
				during := loading.Load()
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+path, nil)
				resp, err := c.Do(req)
				if err != nil {
					if rctx.Err() == nil {
						fail(fmt.Sprintf("GET %s: %v", path, err))
					}
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if err != nil {
					if rctx.Err() == nil {
						fail(fmt.Sprintf("GET %s: reading: %v", path, err))
					}
					continue
				}
				if resp.StatusCode != 200 {
					fail(fmt.Sprintf("GET %s: %d %s", path, resp.StatusCode, firstLineOf(string(b))))
					continue
				}
				s := readSample{kind: kind, d: d, loading: during, tracked: tracked, k: -1, client: i, finished: time.Now()}
				if tracked != "" {
					k, why := check(tracked, b)
					mu.Lock()
					switch {
					case k < 0:
						partial++
						if len(errs) < 20 {
							errs = append(errs, fmt.Sprintf("PARTIAL READ %s: %s", path, why))
						}
					case int64(k) > started.Load():
						partial++
						errs = append(errs, fmt.Sprintf("READ FROM THE FUTURE %s: state %d with %d loads started", path, k, started.Load()))
					case k < last[tracked]:
						backwards++
						if len(errs) < 20 {
							errs = append(errs, fmt.Sprintf("client %d went back from state %d to %d on %s", i, last[tracked], k, tracked))
						}
					}
					mu.Unlock()
					if k > last[tracked] {
						last[tracked] = k
					}
					s.k = k
				} else if kind == "chart" {
					var st struct {
						State string `json:"state"`
					}
					if json.Unmarshal(b, &st) != nil || st.State == "error" {
						fail(fmt.Sprintf("GET %s: chart state %q", path, st.State))
						continue
					}
				}
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}()
	}

	// The loads, through the server's admin API (`triscope load` finds it).
	type loadRun struct {
		k int
		d time.Duration
	}
	var loads []loadRun
	loadErr := make(chan error, 1)
	go func() {
		defer close(loadsDone)
		defer close(loadErr)
		for k := 1; k <= nLoads; k++ {
			select {
			case <-rctx.Done():
				return
			case <-time.After(time.Until(startAt.Add(time.Duration(k) * o.loadEvery))):
			}
			if rctx.Err() != nil {
				return
			}
			file := e.path(fmt.Sprintf("payments-load-%d.csv", k))
			var sb strings.Builder
			sb.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
			for j := range o.rowsPerLoad {
				fmt.Fprintf(&sb, "CHAOS-%d-%d,%s,%s,%s,%.2f,%s,bank_transfer\n", k, j, target.contract, target.customer,
					target.asOf.Format(time.DateOnly), loadAmount(k, j), target.base)
			}
			if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
				loadErr <- err
				return
			}
			loading.Store(true)
			started.Add(1)
			t0 := time.Now()
			cmd := exec.CommandContext(ctx, e.exe, "load", "--db", db, "--entity", "payments", file)
			cmd.Dir, cmd.Env = e.dir, append(os.Environ(), "TRISCOPE_AUTH_DB=")
			b, err := cmd.CombinedOutput()
			loading.Store(false)
			if err != nil || !strings.Contains(string(b), "through the server") || !strings.Contains(string(b), "load #") ||
				!strings.Contains(string(b), " committed ") {
				loadErr <- fmt.Errorf("load %d through the server: %v\n%s", k, err, b)
				return
			}
			committed.Add(1)
			loads = append(loads, loadRun{k, time.Since(t0)})
			fmt.Fprintf(out, "load %d committed through the server in %.2fs (%s after the start)\n", k, time.Since(t0).Seconds(), time.Since(startAt).Round(time.Second))
		}
	}()
	wg.Wait()
	stopReads()
	var lerr error
	for err := range loadErr {
		lerr = errors.Join(lerr, err)
	}
	elapsed := time.Since(startAt)

	// Once the loads are done: every tracked read shows the last state.
	final := int(committed.Load())
	for _, tr := range []struct{ name, path string }{{"company", target.company}, {"department", target.deptChart}, {"rows", target.repRows}} {
		var k int
		var why string
		for range 20 { // the server notices a new version within 250 ms
			b, code, err := get(c0, tr.path)
			if err != nil || code != 200 {
				why = fmt.Sprintf("%d %v", code, err)
				k = -1
				break
			}
			if k, why = check(tr.name, b); k == final {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if k != final {
			partial++
			errs = append(errs, fmt.Sprintf("after the loads, %s shows state %d, want %d %s", tr.name, k, final, why))
		}
	}
	// The server is still alive and stops cleanly.
	if _, code, err := get(c0, "/readyz"); err != nil || code != 200 {
		fail(fmt.Sprintf("/readyz after the run: %d %v", code, err))
	}
	serverErr := stopServer()

	// The report.
	seenK := map[string]map[int]int{}
	for _, s := range samples {
		if s.tracked != "" {
			if seenK[s.tracked] == nil {
				seenK[s.tracked] = map[int]int{}
			}
			seenK[s.tracked][s.k]++
		}
	}
	fmt.Fprintf(out, "\n%d reads in %s (%.0f/s) by %d clients; %d loads committed of %d\n", len(samples)+nErr, elapsed.Round(time.Second),
		float64(len(samples))/elapsed.Seconds(), o.clients, final, nLoads)
	for _, tr := range []string{"company", "department", "rows"} {
		fmt.Fprintf(out, "  tracked %-10s reads by state: %v\n", tr, seenK[tr])
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\twhen\treads\tp50\tp95\tp99\tmax\t")
	for _, kind := range []string{"chart", "rows", "all"} {
		for _, when := range []string{"any", "during a load", "no load"} {
			var ds []time.Duration
			for _, s := range samples {
				if (kind == "all" || s.kind == kind) && (when == "any" || (when == "during a load") == s.loading) {
					ds = append(ds, s.d)
				}
			}
			mx := "-"
			if len(ds) > 0 {
				mx = pct(ds, 100)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", kind, when, len(ds), pct(ds, 50), pct(ds, 95), pct(ds, 99), mx)
		}
	}
	tw.Flush()
	if len(loads) > 0 {
		var ds []time.Duration
		for _, l := range loads {
			ds = append(ds, l.d)
		}
		fmt.Fprintf(out, "loads through the server: %d, median %s, max %s (the command's whole run, the server's refresh after each in the background)\n",
			len(ds), pct(ds, 50), pct(ds, 100))
	}
	fmt.Fprintf(out, "errors %d, partial reads %d, reads that went back to an older state %d\n", nErr, partial, backwards)
	for _, m := range errs {
		fmt.Fprintln(out, "  "+m)
	}
	fmt.Fprintf(out, "load average at the end: %s\n", loadAverage())
	bad := nErr + partial + backwards
	if lerr != nil {
		fmt.Fprintln(out, "loads:", lerr)
		bad++
	}
	if final != nLoads {
		fmt.Fprintf(out, "only %d of %d loads committed\n", final, nLoads)
		bad++
	}
	if serverErr != nil {
		fmt.Fprintln(out, "the server:", serverErr)
		bad++
	}
	return bad, nil
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}

// loadAverage is /proc/loadavg's first three figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

var serverURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// startServer starts `triscope serve` on db and returns its URL; stop ends
// it with SIGTERM and reports how it ended.
func (e *chaosEnv) startServer(ctx context.Context, db, log string, env ...string) (*exec.Cmd, string, func() error, error) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", nil, err
	}
	cmd := exec.CommandContext(ctx, e.exe, "serve", "--db", db, "--addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env, cmd.Stderr = e.dir, append(append(os.Environ(), "TRISCOPE_AUTH_DB="), env...), f
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, "", nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, "", nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			if m := serverURL.FindString(sc.Text()); m != "" {
				select {
				case found <- m:
				default:
				}
			}
		}
	}()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					stopErr = fmt.Errorf("the server ended with %v:\n%s", err, tail(log, 1500))
				}
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				<-done
				stopErr = fmt.Errorf("the server did not stop within a minute of SIGTERM")
			}
			f.Close()
		})
		return stopErr
	}
	select {
	case u := <-found:
		return cmd, u, stop, nil
	case <-time.After(3 * time.Minute):
		stop()
		return nil, "", nil, fmt.Errorf("the server did not start:\n%s", tail(log, 2000))
	}
}

// chartHasDrill says whether a registered chart has a drill-through.
func chartHasDrill(id string) bool {
	c, ok := query.ChartByID(id)
	return ok && c.Drill != nil
}
