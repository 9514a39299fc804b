package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/sql/flight"
	"github.com/triscope/triscope/warehouse"
)

// benchQueries are analyst queries over the biggest relations: each runs
// through the sandbox and, on a raw DuckDB connection to the same snapshot,
// through the same scoped relations called directly.
var benchQueries = []struct{ name, sql, raw string }{
	{"payments by industry and month",
		`SELECT c.industry, date_trunc('month', p.paid_on) AS m, count(*) AS n, sum(p.amount) AS total
		FROM payments p JOIN customers c ON c.customer_id = p.customer_id GROUP BY ALL ORDER BY ALL`,
		`SELECT c.industry, date_trunc('month', p.paid_on) AS m, count(*) AS n, sum(p.amount) AS total
		FROM scoped.payments({s}) p JOIN scoped.customers({s}) c ON c.customer_id = p.customer_id GROUP BY ALL ORDER BY ALL`},
	{"top customers by collections",
		`SELECT customer_id, count(*) AS n, sum(amount) AS total, min(paid_on) AS first, max(paid_on) AS last
		FROM payments GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 100`,
		`SELECT customer_id, count(*) AS n, sum(amount) AS total, min(paid_on) AS first, max(paid_on) AS last
		FROM scoped.payments({s}) GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 100`},
	{"deal stage durations",
		`SELECT stage, count(*) AS n, median(d) AS med FROM (
		SELECT stage, date_diff('hour', entered_at, lead(entered_at) OVER (PARTITION BY opportunity_id ORDER BY entered_at)) AS d
		FROM opportunity_stages) GROUP BY ALL ORDER BY ALL`,
		`SELECT stage, count(*) AS n, median(d) AS med FROM (
		SELECT stage, date_diff('hour', entered_at, lead(entered_at) OVER (PARTITION BY opportunity_id ORDER BY entered_at)) AS d
		FROM scoped.opportunity_stages({s})) GROUP BY ALL ORDER BY ALL`},
}

func newBenchSQLCmd(cfg *app.Config) *cobra.Command {
	var runs int
	var rows int
	cmd := &cobra.Command{
		Use:   "bench-sql",
		Short: "Ad hoc SQL benchmarks: snapshot publication, sandbox overhead, Flight SQL throughput",
		Long: `Measure ad hoc SQL on a warehouse no server owns (default: the demo's):

  - publishing a snapshot (CHECKPOINT and a copy of the file, as the server does
    after each load and refresh);
  - the sandbox's overhead: analyst queries through the sandbox (worker process,
    guard, plan, views, JSON batches) against the same queries on a raw DuckDB
    connection to the same snapshot through the same scoped relations, as an
    executive and as a regional manager (medians; the goal is at most 1.1× for
    queries over 100 ms);
  - Flight SQL throughput: N rows (default 1,000,000) streamed to arrow-go's
    Flight SQL client over loopback, against reading the same rows through
    database/sql in process.

Prints medians and the load average (measure on an idle machine).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchSQL(cmd.Context(), cfg, runs, rows, func(format string, a ...any) { fmt.Fprintf(cmd.OutOrStdout(), format, a...) })
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 5, "measured runs of each query (after one warm-up)")
	cmd.Flags().IntVar(&rows, "rows", 1_000_000, "rows of the Flight SQL throughput run")
	return cmd
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func medianOf(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type benchAccounts struct{ u access.User }

func (b benchAccounts) Authenticate(_ context.Context, user, _ string) (access.User, error) {
	if user != b.u.Username {
		return access.User{}, access.ErrBadCredentials
	}
	return b.u, nil
}

func (b benchAccounts) AuthenticateToken(context.Context, string) (access.User, error) {
	return access.User{}, access.ErrBadToken
}

type countSink struct{ n int64 }

func (c *countSink) Columns([]adhoc.Column) error { return nil }
func (c *countSink) Rows(r [][]any) error         { c.n += int64(len(r)); return nil }

func benchSQL(ctx context.Context, cfg *app.Config, runs, nrows int, say func(string, ...any)) error {
	if _, ok := app.RunningServer(ctx, cfg.DB); ok {
		return errors.New("a server owns " + cfg.DB + ": stop it first (the benchmark opens the file)")
	}
	say("load average before: %s\n", loadAvg())
	dir, err := os.MkdirTemp("", "triscope-bench-sql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Publication, as the server does it.
	w, err := warehouse.Open(ctx, cfg.WarehouseOptions())
	if err != nil {
		return err
	}
	snaps, err := adhoc.OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		w.Close()
		return err
	}
	st, err := snaps.Publish(ctx, w)
	var manager string
	w.Reader().QueryRowContext(ctx, `SELECT org_unit_id FROM live.org_units WHERE level = 'region' ORDER BY org_unit_id LIMIT 1`).Scan(&manager)
	w.Close()
	if err != nil {
		return err
	}
	say("publish: %.1f MB in %v (write lane held %v, reflink %v)\n", float64(st.Bytes)/1e6, st.Total.Round(time.Millisecond), st.Lane.Round(time.Millisecond), st.Reflink)

	cat, err := adhoc.OpenInstalledCatalog(ctx, st.Path)
	if err != nil {
		return err
	}
	sb, err := adhoc.New(adhoc.Options{Catalog: cat, Snapshots: snaps, Workers: 2, PerUser: 2, Timeout: 5 * time.Minute,
		MaxRows: nrows + 1, AddressSpace: 8 << 30, Threads: 2, TimeZone: w.TimeZone(), Nice: -1, TempDir: filepath.Join(dir, "tmp"),
		Logger: discardLogger()})
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := sb.Warm(ctx); err != nil {
		return err
	}

	// Sandbox overhead.
	for _, sc := range []struct {
		who   string
		scope adhoc.Scope
	}{{"executive", adhoc.Scope{All: true}}, {"manager of " + manager, adhoc.Scope{Org: manager}}} {
		for _, q := range benchQueries {
			raw := strings.ReplaceAll(q.raw, "{s}", sc.scope.Args())
			o, err := adhoc.MeasureOverhead(ctx, sb, adhoc.Request{User: "bench", Entry: "bench", Scope: sc.scope, SQL: q.sql, MaxRows: nrows},
				st.Path, raw, runs)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			say("sandbox overhead, %s, %s: %s\n", sc.who, q.name, o)
		}
	}

	// Flight SQL throughput against database/sql in process.
	fs, err := flight.New(flight.Options{Sandbox: sb, Accounts: benchAccounts{access.User{Username: "bench", Role: access.RoleExecutive}},
		Policy: func(string) adhoc.Limits { return adhoc.Limits{Enabled: true, Timeout: 5 * time.Minute} },
		Addr:   "127.0.0.1:0", MaxRows: nrows + 1, TimeZone: w.TimeZone(), Logger: discardLogger()})
	if err != nil {
		return err
	}
	addr, err := fs.Listen()
	if err != nil {
		return err
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	go fs.Serve(fctx)
	cl, err := flightsql.NewClient(addr.String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cl.Close()
	actx, err := cl.Client.AuthenticateBasicToken(ctx, "bench", "x")
	if err != nil {
		return err
	}
	q := fmt.Sprintf("SELECT i AS id, i * 2 AS doubled, 'row ' || i AS label, DATE '2020-01-01' + CAST(i %% 2000 AS INTEGER) AS day FROM range(%d) t(i)", nrows)
	viaFlight := func() (time.Duration, int64, error) {
		start := time.Now()
		info, err := cl.Execute(actx, q)
		if err != nil {
			return 0, 0, err
		}
		rdr, err := cl.DoGet(actx, info.Endpoint[0].Ticket)
		if err != nil {
			return 0, 0, err
		}
		defer rdr.Release()
		var n int64
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		return time.Since(start), n, rdr.Err()
	}
	db, err := sql.Open("duckdb", st.Path+"?access_mode=READ_ONLY&threads=2")
	if err != nil {
		return err
	}
	defer db.Close()
	viaSQL := func() (time.Duration, int64, error) {
		start := time.Now()
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		defer rows.Close()
		var n int64
		var id, doubled int64
		var label string
		var day time.Time
		for rows.Next() {
			if err := rows.Scan(&id, &doubled, &label, &day); err != nil {
				return 0, 0, err
			}
			n++
		}
		return time.Since(start), n, rows.Err()
	}
	sandboxOnly := func() (time.Duration, int64, error) {
		start := time.Now()
		var c countSink
		_, err := sb.Stream(ctx, adhoc.Request{User: "bench", Entry: "bench", Scope: adhoc.Scope{All: true}, SQL: q, MaxRows: nrows}, &c)
		return time.Since(start), c.n, err
	}
	for _, m := range []struct {
		name string
		f    func() (time.Duration, int64, error)
	}{{"database/sql in process", viaSQL}, {"sandbox stream (worker JSON batches)", sandboxOnly}, {"Flight SQL (arrow-go client, loopback)", viaFlight}} {
		var ds []time.Duration
		for i := -1; i < runs; i++ {
			d, n, err := m.f()
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if n != int64(nrows) {
				return fmt.Errorf("%s: %d rows, want %d", m.name, n, nrows)
			}
			if i >= 0 {
				ds = append(ds, d)
			}
		}
		md := medianOf(ds)
		say("%d rows, %s: median %v (%.0f rows/s)\n", nrows, m.name, md.Round(time.Millisecond), float64(nrows)/md.Seconds())
	}
	say("load average after: %s\n", loadAvg())
	return nil
}
