package adhoc

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// volatile functions make a result differ between two runs.
var volatile = []string{"random", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now", "get_current_timestamp",
	"get_current_time", "current_date", "today", "transaction_timestamp", "current_localtime", "current_localtimestamp",
	"approx_count_distinct", "approx_quantile", "reservoir_quantile", "approx_top_k", "any_value", "arbitrary", "first", "last",
	"list", "array_agg", "string_agg", "group_concat", "listagg", "histogram", "json_group_array", "json_group_object",
	"arg_min", "arg_max", "argmin", "argmax", "min_by", "max_by", "row_number", "ntile", "lag", "lead", "first_value",
	"last_value", "nth_value", "ago", "age", "fill"}

var fuzzEnv struct {
	once sync.Once
	dir  string
	sb   *Sandbox
	orc  *oracle
	cat  *Catalog
}

// FuzzCheck: whatever the guard accepts, run in the sandbox as a rep, reads
// nothing outside the allowlist. The oracle holds only the rep's rows and the
// reference tables (no other table of the warehouse, no scoped macros): a
// query that read anything else there would fail on the oracle or return
// something else. Seeds: the attack catalogue and testdata/fuzz.
func FuzzCheck(f *testing.F) {
	for _, c := range loadAttacks(f) {
		if c.Expect != "timeout" && c.Expect != "memory" {
			f.Add(c.SQL)
		}
	}
	for _, s := range []string{
		"SELECT * FROM customers c JOIN contracts k ON k.customer_id = c.customer_id",
		"WITH a AS (SELECT * FROM payments) SELECT count(*) FROM a, a b",
		"SELECT (SELECT max(amount) FROM contracts), * FROM reps",
		"FROM mart_rfm SELECT segment, count(*) GROUP BY ALL",
	} {
		f.Add(s)
	}
	fuzzEnv.once.Do(func() {
		fx := fixtureWarehouse(f)
		dir, err := tempDirFor("adhoc-fuzz-")
		if err != nil {
			f.Fatal(err)
		}
		fuzzEnv.dir = dir
		snap := filepath.Join(dir, "snap.duckdb")
		copyTo(f, fx, snap)
		fuzzEnv.cat = fixtureCatalog(f)
		opts := Options{Catalog: fuzzEnv.cat, Snapshots: StaticSnapshot(snap), Command: []string{osArgs0(), WorkerArg},
			Workers: 1, PerUser: 1, Timeout: 2 * time.Second, Threads: 1,
			AddressSpace: 3 << 30, TempDir: filepath.Join(dir, "tmp"), Logger: discard()}
		sb, err := New(opts)
		if err != nil {
			f.Fatal(err)
		}
		fuzzEnv.sb = sb
		fuzzEnv.orc = newOracleShared(f, fx, []string{"R1"})
	})
	f.Fuzz(func(t *testing.T, q string) {
		c, err := Check(q, fuzzEnv.cat)
		if err != nil {
			if ClassOf(err) != Refused && ClassOf(err) != Syntax {
				t.Fatalf("Check(%q): class %s: %v", q, ClassOf(err), err)
			}
			return
		}
		for _, r := range c.Relations {
			if _, ok := fuzzEnv.cat.Relation(r); !ok {
				t.Fatalf("Check(%q) accepted relation %s", q, r)
			}
		}
		if len(c.Params) > 0 {
			return
		}
		res, err := fuzzEnv.sb.Run(context.Background(), Request{User: "fuzz", Scope: Scope{Rep: "R1"}, SQL: q, MaxRows: 200})
		if err != nil {
			return // refused by the worker, or failed: nothing read
		}
		if l := leaks(res, []string{"R1"}); len(l) > 0 {
			t.Fatalf("%q leaks %v", q, l)
		}
		for _, fn := range c.Functions {
			for _, v := range volatile {
				if fn == v {
					return
				}
			}
		}
		show := false
		walkJSON(c.tree, func(m map[string]any) { show = show || str(m, "type") == "SHOW_REF" })
		if show {
			return // DESCRIBE: the oracle's copies differ in NOT NULL
		}
		want, oerr := fuzzEnv.orc.rows(q, 201)
		if oerr != nil {
			t.Fatalf("%q ran in the sandbox but not on the user's own rows: %v", q, oerr)
		}
		if len(res.Rows) < 200 && strings.Join(canon(res.Rows, false), "\n") != strings.Join(canon(want, false), "\n") {
			t.Fatalf("%q: sandbox and the user's own rows differ\n got %v\nwant %v", q, canon(res.Rows, false), canon(want, false))
		}
	})
}
