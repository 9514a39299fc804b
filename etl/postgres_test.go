package etl

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/triscope/triscope/warehouse"
)

// pgServer is a throwaway PostgreSQL server for one test: initdb into a
// temporary directory, pg_ctl start on a free port, stopped at cleanup.
type pgServer struct {
	dsn string
}

// pgBinDir finds initdb and pg_ctl: on PATH, or in Debian's versioned
// /usr/lib/postgresql/N/bin.
func pgBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		if os.Getenv("TRISCOPE_POSTGRES_TESTS") == "require" {
			t.Fatal("TRISCOPE_POSTGRES_TESTS=require but no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin: install the postgresql package")
		}
		t.Skip("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: install the postgresql package (CI does) to run the PostgreSQL source tests")
	}
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	var asUser []string
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			t.Fatalf("running as root and there is no postgres user to run the server as: %v", err)
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp("", "triscope-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	data := filepath.Join(dir, "data")
	if len(asUser) > 0 {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	run := func(args ...string) {
		t.Helper()
		full := append(append([]string{}, asUser...), args...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	port := freePort(t)
	run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir), "start")
	t.Cleanup(func() {
		full := append(append([]string{}, asUser...), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		exec.Command(full[0], full[1:]...).Run()
		os.RemoveAll(dir)
	})
	return &pgServer{dsn: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *pgServer) exec(t *testing.T, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

const pgMapping = `
# The CRM's own database: a table and a query, read incrementally.
tables:
  - entity: customers
    table: crm.customers
    watermark: modified
    columns: {id: customer_id, 名称: name}
  - entity: payments
    query: |
      SELECT p.id AS payment_id, p.cust AS customer_id, p.paid AS paid_on,
             p.amt AS amount, p.updated_at
      FROM crm.payments p
    watermark: updated_at
`

func TestPostgresIncrementalExtraction(t *testing.T) {
	pg := startPostgres(t)
	pg.exec(t, `
		CREATE SCHEMA crm;
		CREATE TABLE crm.customers (id text PRIMARY KEY, "名称" text, city text, created_at timestamptz, modified timestamptz NOT NULL);
		CREATE TABLE crm.payments (id text PRIMARY KEY, cust text, paid date, amt numeric(14,2), updated_at timestamptz NOT NULL);
		INSERT INTO crm.customers VALUES
			('K1', '甲公司', 'Shanghai', '2024-01-05 09:30:00+08', '2024-06-01 10:00:00+08'),
			('K2', 'Beta Ltd', 'Beijing', '2024-02-05 09:30:00+08', '2024-06-01 11:00:00+08'),
			('K3', '丙 "quoted", comma', NULL, NULL, '2024-06-01 12:00:00+08'),
			('K4', 'Delta', 'Wuhan', NULL, '2024-06-01 12:00:00+08');
		INSERT INTO crm.payments VALUES
			('P1', 'K1', '2024-05-01', 1000.50, '2024-06-01 10:00:00+08'),
			('P2', 'K2', '2024-05-02', -20.00, '2024-06-01 10:00:00+08'),
			('P3', 'K3', '2024-05-03', NULL, '2024-06-01 10:00:00+08');`)
	m, err := ParseMapping([]byte(pgMapping))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "w.duckdb")
	open := func() *warehouse.Warehouse {
		w, err := warehouse.Open(context.Background(), warehouse.Options{Path: dbPath, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	opts := Options{Source: pg.dsn, Mapping: m, MaxRejectShare: 0.5}
	label := strings.Replace(strings.TrimSuffix(pg.dsn, "?sslmode=disable"), "postgres@", "", 1)
	files := func(rep *Report) map[string]*FileReport {
		out := map[string]*FileReport{}
		for _, f := range rep.Files {
			out[f.Entity] = f
		}
		return out
	}

	// 1. The initial load reads everything; P3 has no amount and is quarantined
	// with the source and row ordinal as its file and line.
	w := open()
	rep := mustLoad(t, w, nil, opts)
	fs := files(rep)
	if fs["customers"].Loaded != 4 || fs["payments"].Loaded != 2 || fs["payments"].Rejected != 1 {
		t.Fatalf("initial: %s", reportText(rep))
	}
	if fs["customers"].Path != label+"#customers" {
		t.Fatalf("source name %q, want %q", fs["customers"].Path, label+"#customers")
	}
	var rpath string
	var rline int64
	w.DB().QueryRow(`SELECT path, line FROM load_rejects WHERE "column" = 'amount'`).Scan(&rpath, &rline)
	if rpath != label+"#payments" || rline != 3 {
		t.Fatalf("reject at %s line %d", rpath, rline)
	}
	var name, created, amount string
	w.DB().QueryRow(`SELECT name, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM customers WHERE customer_id = 'K1'`).Scan(&name, &created)
	w.DB().QueryRow(`SELECT CAST(amount AS VARCHAR) FROM payments WHERE payment_id = 'P2'`).Scan(&amount)
	if name != "甲公司" || created != "2024-01-05 01:30" || amount != "-20.00" {
		t.Fatalf("K1 %q created %q; P2 amount %q", name, created, amount)
	}
	var wm string
	w.DB().QueryRow(`SELECT watermark FROM source_watermarks WHERE entity = 'customers' AND source = $1`, label).Scan(&wm)
	if wm != "2024-06-01 04:00:00+00" {
		t.Fatalf("customers watermark %q", wm)
	}

	// 2. Changes: K2 renamed, K5 new. Only rows at or after the watermark are
	// read: K3 and K4 (the watermark's own instant, re-read and unchanged), K2, K5.
	pg.exec(t, `UPDATE crm.customers SET city = 'Tianjin', modified = '2024-06-02 09:00:00+08' WHERE id = 'K2';
		INSERT INTO crm.customers VALUES ('K5', 'Epsilon', 'Xian', NULL, '2024-06-02 10:00:00+08');`)
	fs = files(mustLoad(t, w, nil, opts))
	if c := fs["customers"]; c.Read != 4 || c.Loaded != 1 || c.Updated != 1 || c.Unchanged != 2 {
		t.Fatalf("incremental customers: read %d loaded %d updated %d unchanged %d", c.Read, c.Loaded, c.Updated, c.Unchanged)
	}
	if p := fs["payments"]; p.Read != 3 || p.Loaded+p.Updated != 0 {
		t.Fatalf("incremental payments (nothing new, the watermark instant re-read): %+v", p)
	}

	// 3. A load refused for bad rows leaves the watermark where it was.
	pg.exec(t, `INSERT INTO crm.payments VALUES ('P4', 'K5', '2024-06-02', NULL, '2024-06-03 10:00:00+08'),
		('P5', 'K5', '1985-01-01', 5, '2024-06-03 10:00:00+08')`)
	strict := opts
	strict.MaxRejectShare = 0.01
	if rep, err := Load(context.Background(), w, nil, strict); err == nil || rep.Status != "rejected" {
		t.Fatalf("want a rejected load, got %v %s", err, rep.Status)
	}
	w.DB().QueryRow(`SELECT watermark FROM source_watermarks WHERE entity = 'payments'`).Scan(&wm)
	if wm != "2024-06-01 02:00:00+00" {
		t.Fatalf("payments watermark moved by a rejected load: %q", wm)
	}

	// 4. A restart (new process, same warehouse file) resumes from the
	// watermark: the fixed rows are picked up, nothing before is read again.
	w.Close()
	pg.exec(t, `UPDATE crm.payments SET amt = 7, updated_at = '2024-06-04 10:00:00+08' WHERE id = 'P4';
		UPDATE crm.payments SET paid = '2024-06-02', updated_at = '2024-06-04 10:00:00+08' WHERE id = 'P5';`)
	w = open()
	defer func() { w.Close() }()
	fs = files(mustLoad(t, w, nil, opts))
	if p := fs["payments"]; p.Read != 5 || p.Loaded != 2 || p.Rejected != 1 {
		// read: P1, P2, P3 (the old watermark's instant, P3 still without an amount), P4, P5
		t.Fatalf("after restart: %s", reportText(&Report{Files: []*FileReport{p}}))
	}
	w.DB().QueryRow(`SELECT watermark FROM source_watermarks WHERE entity = 'payments'`).Scan(&wm)
	if wm != "2024-06-04 02:00:00+00" {
		t.Fatalf("payments watermark after restart %q", wm)
	}

	// 5. Deletes are seen by a snapshot: K4 deleted in the CRM is marked
	// deleted in the warehouse, everything else stays.
	pg.exec(t, `DELETE FROM crm.customers WHERE id = 'K4'`)
	snap := opts
	snap.Snapshot = []string{"customers"}
	fs = files(mustLoad(t, w, nil, snap))
	if c := fs["customers"]; c.Read != 4 || c.Deleted != 1 || c.Mode != "snapshot" {
		t.Fatalf("snapshot: %+v", c)
	}
	if n := count(t, w, "SELECT count(*) FROM customers WHERE _deleted_at IS NOT NULL AND customer_id = 'K4'"); n != 1 {
		t.Fatal("K4 not marked deleted")
	}
	if n := count(t, w, "SELECT count(*) FROM customers WHERE _deleted_at IS NULL"); n != 4 {
		t.Fatalf("%d live customers, want 4", n)
	}
	if n := count(t, w, "SELECT count(*) FROM load_runs WHERE status = 'committed'"); n != 4 {
		t.Fatalf("committed loads %d", n)
	}
}
