package adhoc

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Overhead compares a query run through the sandbox with the same query on a
// raw DuckDB connection to the same snapshot (same threads), alternating
// runs after one warm-up of each. A later `triscope bench-sql` can call it.
type Overhead struct {
	Runs          int
	RawMedian     time.Duration
	SandboxMedian time.Duration
	Ratio         float64 // SandboxMedian / RawMedian
	Rows          int
}

func (o Overhead) String() string {
	return fmt.Sprintf("%d runs: raw median %v, sandbox median %v, ratio %.3f (%d rows)", o.Runs, o.RawMedian.Round(time.Millisecond),
		o.SandboxMedian.Round(time.Millisecond), o.Ratio, o.Rows)
}

// MeasureOverhead runs req through sb and rawSQL (the same query over the
// base tables) on the snapshot file, runs times each.
func MeasureOverhead(ctx context.Context, sb *Sandbox, req Request, snapshot, rawSQL string, runs int) (Overhead, error) {
	var o Overhead
	connector, err := duckdb.NewConnector(snapshot+"?access_mode=READ_ONLY", nil)
	if err != nil {
		return o, err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range []string{"SET threads = " + strconv.Itoa(sb.opts.Threads), "SET memory_limit = " + quoteLiteral(sb.opts.MemoryLimit),
		"SET TimeZone = " + quoteLiteral(sb.opts.TimeZone)} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return o, err
		}
	}
	raw := func() (time.Duration, int, error) {
		start := time.Now()
		rows, err := db.QueryContext(ctx, rawSQL)
		if err != nil {
			return 0, 0, err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return 0, 0, err
			}
			n++
		}
		return time.Since(start), n, rows.Err()
	}
	box := func() (time.Duration, int, error) {
		start := time.Now()
		res, err := sb.Run(ctx, req)
		if err != nil {
			return 0, 0, err
		}
		return time.Since(start), len(res.Rows), nil
	}
	var rt, st []time.Duration
	for i := -1; i < runs; i++ {
		d1, n1, err := raw()
		if err != nil {
			return o, fmt.Errorf("raw: %w", err)
		}
		d2, n2, err := box()
		if err != nil {
			return o, fmt.Errorf("sandbox: %w", err)
		}
		if n1 != n2 {
			return o, fmt.Errorf("raw returned %d rows, the sandbox %d", n1, n2)
		}
		o.Rows = n2
		if i >= 0 { // the first pair warms up
			rt, st = append(rt, d1), append(st, d2)
		}
	}
	o.Runs, o.RawMedian, o.SandboxMedian = runs, median(rt), median(st)
	o.Ratio = float64(o.SandboxMedian) / float64(o.RawMedian)
	return o, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
