package adhoc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSandboxRunsScoped(t *testing.T) {
	fx := fixtureWarehouse(t)
	sb := testSandbox(t, StaticSnapshot(fx), nil)
	ctx := context.Background()
	for _, sc := range fixtureScopes {
		res, err := sb.Run(ctx, Request{User: sc.name, Entry: "test", Scope: sc.scope, SQL: "SELECT DISTINCT owner_rep_id FROM customers ORDER BY 1"})
		if err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		got := canon(res.Rows, true)
		if strings.Join(got, ",") != strings.Join(sc.reps, ",") {
			t.Errorf("%s sees reps %v, want %v", sc.name, got, sc.reps)
		}
	}
	// CTE shadowing a name the macros use must not widen the scope.
	res, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "WITH org_tree AS (SELECT 'C' AS ancestor, org_unit_id AS unit FROM org_units) SELECT count(*) FROM customers"})
	if err == nil {
		if got := canon(res.Rows, true); got[0] != "3" {
			t.Errorf("CTE org_tree widened the scope: %v", got)
		}
	} else if ClassOf(err) != Refused {
		t.Errorf("CTE org_tree: %v", err)
	}
	// Row cap.
	res, err = sb.Run(ctx, Request{User: "u", Scope: Scope{All: true}, SQL: "SELECT * FROM range(100)", MaxRows: 10})
	if err != nil || len(res.Rows) != 10 || !res.Truncated {
		t.Fatalf("row cap: %v %+v", err, res)
	}
	// Errors: generic for users, raw for admins, position in the user's SQL.
	q := "SELECT CAST(name AS INT) FROM customers"
	_, err = sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: q})
	var e *Error
	if !errors.As(err, &e) || e.Class != Data || strings.Contains(e.Error(), "Customer") || e.Raw != "" {
		t.Fatalf("cast error for a user: %#v", err)
	}
	_, err = sb.Run(ctx, Request{User: "admin", Admin: true, Scope: Scope{All: true}, SQL: q})
	if !errors.As(err, &e) || !strings.Contains(e.For(true), "Customer") {
		t.Fatalf("cast error for an admin: %v", err)
	}
	_, err = sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT nosuchcolumn FROM customers"})
	if !errors.As(err, &e) || e.Class != Syntax || e.Position != 7 {
		t.Fatalf("binder error position: %#v", err)
	}
}

func TestTimeLimit(t *testing.T) {
	sb := testSandbox(t, StaticSnapshot(fixtureWarehouse(t)), nil)
	ctx := context.Background()
	start := time.Now()
	_, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT count(*) FROM range(1000000000000::BIGINT)", Timeout: time.Second})
	if ClassOf(err) != Timeout {
		t.Fatalf("want timeout, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a 1s limit took %v", d)
	}
	if _, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"}); err != nil {
		t.Fatalf("after a timeout: %v", err)
	}
}

func TestBusy(t *testing.T) {
	sb := testSandbox(t, StaticSnapshot(fixtureWarehouse(t)), func(o *Options) { o.Workers = 1; o.PerUser = 1 })
	ctx := context.Background()
	slow := Request{User: "a", Scope: Scope{Rep: "R1"}, SQL: "SELECT count(*) FROM range(1000000000000::BIGINT)", Timeout: 2 * time.Second}
	done := make(chan error, 1)
	go func() { _, err := sb.Run(ctx, slow); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sb.mu.Lock()
		n := sb.perUser["a"]
		sb.mu.Unlock()
		if n == 1 && len(sb.sem) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow query did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := sb.Run(ctx, Request{User: "a", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"})
	if ClassOf(err) != Busy || !strings.Contains(err.Error(), "already have 1") {
		t.Errorf("same user: %v", err)
	}
	_, err = sb.Run(ctx, Request{User: "b", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"})
	if ClassOf(err) != Busy {
		t.Errorf("other user, no worker free: %v", err)
	}
	if err := <-done; ClassOf(err) != Timeout {
		t.Errorf("slow query: %v", err)
	}
	if _, err := sb.Run(ctx, Request{User: "b", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"}); err != nil {
		t.Errorf("after the slow query: %v", err)
	}
}

func TestDescribeAndAudit(t *testing.T) {
	var got []AuditEntry
	sb := testSandbox(t, StaticSnapshot(fixtureWarehouse(t)), func(o *Options) { o.Audit = func(e AuditEntry) { got = append(got, e) } })
	ctx := context.Background()
	rels, err := sb.Describe(ctx, "u", Scope{Rep: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]RelationInfo{}
	for _, r := range rels {
		byName[r.Name] = r
	}
	if len(rels) != 7 || byName["customers"].Comment != "Customer accounts you may see." || byName["mart_rfm"].Comment == "" {
		t.Fatalf("relations: %+v", rels)
	}
	found := false
	for _, c := range byName["customers"].Columns {
		if c.Name == "owner_rep_id" && c.Comment == "The rep who owns the account." && c.Type == "VARCHAR" {
			found = true
		}
		if c.Name == "_load_id" {
			t.Errorf("a column the macro drops is listed")
		}
	}
	if !found {
		t.Errorf("customers columns: %+v", byName["customers"].Columns)
	}
	sb.Run(ctx, Request{User: "u", Entry: "cli", Scope: Scope{Rep: "R1"}, SQL: "SELECT * FROM customers"})
	sb.Run(ctx, Request{User: "u", Entry: "http", Scope: Scope{Rep: "R1"}, SQL: "SELECT * FROM main.customers"})
	if len(got) != 2 || got[0].Outcome != "ok" || got[0].Rows != 3 || got[0].Entry != "cli" || got[0].Scope != "rep:R1" ||
		got[1].Outcome != "refused" || !strings.Contains(got[1].Message, "qualified names") {
		t.Errorf("audit: %+v", got)
	}
}

func TestLexer(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1;":                    "SELECT 1",
		"SELECT 1 ; -- bye\n;;":        "SELECT 1",
		"SELECT ';' /* ; */ ;":         "SELECT ';'",
		"SELECT $$;$$ -- x":            "SELECT $$;$$",
		"SELECT E'\\';' ;":             "SELECT E'\\';'",
		"SELECT 1 /* nested /* */ */;": "SELECT 1",
	} {
		if got := trimStatement(in); got != want {
			t.Errorf("trimStatement(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len(splitStatements("SELECT 1; SELECT ';'; -- x\n")); n != 2 {
		t.Errorf("splitStatements: %d", n)
	}
	if w := firstWord(" /* c */ (( pivot t"); w != "pivot" {
		t.Errorf("firstWord: %q", w)
	}
}

func TestErrorPositionAfterSplices(t *testing.T) {
	cat := fixtureCatalog(t)
	q := "SELECT c.name, k.amount FROM customers c, contracts AS k WHERE nosuch = 1"
	c, err := Check(q, cat)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(context.Background(), c, cat, Scope{Rep: "R1"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Index(q, "nosuch")
	at := strings.Index(p.SQL, "nosuch")
	if got := p.userPos(at); got != want {
		t.Errorf("userPos = %d, want %d (%s)", got, want, p.SQL)
	}
	if got := p.userPos(strings.Index(p.SQL, "_adhoc_contracts")); got != strings.Index(q, "contracts") {
		t.Errorf("a position inside a splice = %d", got)
	}
}

func TestWarm(t *testing.T) {
	sb := testSandbox(t, StaticSnapshot(fixtureWarehouse(t)), nil)
	if err := sb.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	n := len(sb.idle)
	sb.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d idle workers, want 2", n)
	}
	// The workers run at a lower priority than the server (nice 10).
	b, err := os.ReadFile("/proc/" + itoa(sb.idle[0].cmd.Process.Pid) + "/stat")
	if err == nil {
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 16 && f[16] != "10" {
			t.Errorf("worker nice %s, want 10", f[16])
		}
	}
}

// A worker that died while idle (the OOM killer, an operator) is replaced.
func TestDeadIdleWorkerReplaced(t *testing.T) {
	sb := testSandbox(t, StaticSnapshot(fixtureWarehouse(t)), nil)
	ctx := context.Background()
	if _, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"}); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	for _, w := range sb.idle {
		w.cmd.Process.Kill()
		<-w.done
	}
	sb.mu.Unlock()
	if _, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT 1"}); err != nil {
		t.Fatalf("after the worker died: %v", err)
	}
}

func TestSettingsReadBack(t *testing.T) {
	for _, c := range []struct {
		name, got, want string
		ok              bool
	}{
		{"memory_limit", "953.6 MiB", "1000000000", true},
		{"memory_limit", "1.0 GiB", "1GiB", true},
		{"memory_limit", "2.0 GiB", "1GiB", false},
		{"enable_external_access", "false", "false", true},
		{"enable_external_access", "true", "false", false},
		{"lock_configuration", "true", "true", true},
		{"allowed_directories", "[/tmp/x/]", "['/tmp/x/']", true},
		{"allowed_directories", "[]", "['/tmp/x/']", false},
	} {
		if got := settingMatches(c.name, c.got, c.want); got != c.ok {
			t.Errorf("settingMatches(%s, %q, %q) = %v", c.name, c.got, c.want, got)
		}
	}
}

// A warehouse macro named like an allowed function (main.lower) would be
// what an analyst's lower() calls: the worker refuses such a snapshot.
func TestShadowingMacroRefused(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap.duckdb")
	copyTo(t, fixtureWarehouse(t), snap)
	db, err := sql.Open("duckdb", snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE MACRO main.lower(x) AS (SELECT max(name) FROM main.customers)", "CREATE TYPE main.json AS ENUM ('a')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	sb := testSandbox(t, StaticSnapshot(snap), nil)
	res, err := sb.Run(context.Background(), Request{User: "admin", Admin: true, Scope: Scope{Rep: "R1"}, SQL: "SELECT lower('A')"})
	if res != nil {
		t.Errorf("the shadowing macro answered: %v", res.Rows)
	}
	var e *Error
	if !errors.As(err, &e) || e.Class != Internal || !strings.Contains(e.Raw, "main.lower") || !strings.Contains(e.Raw, "type main.json") {
		t.Fatalf("want the worker to refuse the snapshot, got %v", forAdmin(err))
	}
}

// A worker whose server died exits by itself, even while it waits or works:
// the server is the one that would kill it at the time limit, and a worker
// is its own process group, so nothing else signals it. Here its parent (a
// shell) exits at once while the test keeps the worker's stdin open.
func TestOrphanedWorkerExits(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sh := exec.Command("sh", "-c", `TRISCOPE_SQL_WORKER_PARENT=$$ "$0" "$1" <&3 >/dev/null 2>&1 & echo $!`, exe, WorkerArg)
	sh.ExtraFiles = []*os.File{r}
	out, err := sh.Output()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("worker pid %q: %v", out, err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	alive := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		return len(f) > 0 && f[0] != "Z" // a zombie has exited (init reaps it)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive() {
		t.Fatalf("worker %d still running 5 s after its parent exited", pid)
	}
}

// A binary linking this package is a worker when started with WorkerArg,
// whatever its main or TestMain does: here this test binary, with its stdin
// closed at once, fails to read the configuration and exits — instead of
// running its test suite (which a dashboards test binary did, browser and
// all, each time its server started a worker).
func TestWorkerArgServesAWorker(t *testing.T) {
	if os.Getenv("TRISCOPE_ADHOC_NESTED") == "1" {
		t.Skip("started by this very test")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, WorkerArg)
	cmd.Env = append(os.Environ(), "TRISCOPE_ADHOC_NESTED=1")
	out, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "sql-worker: read configuration") {
		t.Fatalf("%s %s: %v\n%s", exe, WorkerArg, err, out)
	}
}
