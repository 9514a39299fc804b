package adhoc

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemoryBound: a query that allocates without bound fails with class
// Memory (DuckDB's own out-of-memory error, or the worker killed by its
// address-space limit and restarted), and the next query works.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few GB of address space")
	}
	fx := fixtureWarehouse(t)
	sb := testSandbox(t, StaticSnapshot(fx), func(o *Options) {
		o.AddressSpace = 3 << 30
		o.Timeout = 60 * time.Second
	})
	ctx := context.Background()
	run := func(q string) (*Result, error) {
		return sb.Run(ctx, Request{User: "u", Admin: true, Scope: Scope{Rep: "R1"}, SQL: q})
	}
	if _, err := run("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// The worker's address space after start, for the report.
	sb.mu.Lock()
	if len(sb.idle) > 0 {
		if b, err := os.ReadFile("/proc/" + itoa(sb.idle[0].cmd.Process.Pid) + "/status"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmPeak") || strings.HasPrefix(l, "VmSize") || strings.HasPrefix(l, "VmHWM") {
					t.Log(l)
				}
			}
		}
	}
	sb.mu.Unlock()
	for _, q := range []string{
		"SELECT length(repeat('x', (SELECT 4000000000::BIGINT)))",
		"SELECT length(string_agg(repeat('x', (SELECT 100000000)), '')) FROM range(40)",
		"SELECT max(length(repeat('y', 1000000 + i::INT))) FROM range(6000) t(i)",
	} {
		start := time.Now()
		_, err := run(q)
		t.Logf("%s -> %s (%.1fs)", q, forAdmin(err), time.Since(start).Seconds())
		if c := ClassOf(err); c != Memory {
			t.Errorf("%s: class %s, want memory (%v)", q, c, err)
		}
		if res, err := run("SELECT count(*) FROM customers"); err != nil || len(res.Rows) != 1 {
			t.Fatalf("after %s: %v", q, err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func forAdmin(err error) string {
	if e, ok := err.(*Error); ok {
		return e.For(true)
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}
