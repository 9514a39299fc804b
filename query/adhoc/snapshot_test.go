package adhoc

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

func copyTo(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// TestPublishSwitchesSnapshots: queries read the snapshot current when they
// start; a new publication is seen by the next query; an old file is
// deleted once no worker holds it; the warehouse keeps working.
func TestPublishSwitchesSnapshots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wh.duckdb")
	copyTo(t, fixtureWarehouse(t), path)
	ctx := context.Background()
	w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 1, ReadConns: 1, MemoryLimit: "512MB", Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	snaps, err := OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := snaps.Publish(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d bytes in %v (lane %v, reflink %v)", st.Bytes, st.Total, st.Lane, st.Reflink)
	sb := testSandbox(t, snaps, nil)
	count := func() string {
		res, err := sb.Run(ctx, Request{User: "u", Scope: Scope{Rep: "R1"}, SQL: "SELECT count(*) FROM customers"})
		if err != nil {
			t.Fatal(err)
		}
		return canon(res.Rows, true)[0]
	}
	if got := count(); got != "3" {
		t.Fatalf("before: %s customers", got)
	}
	first := snaps.Current()
	if err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO customers (customer_id, name, owner_rep_id, org_unit_id) VALUES ('C~R1~9', 'Customer ~R1~ 9', 'R1', 'E1')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "3" {
		t.Fatalf("a commit without a publication is visible: %s", got)
	}
	if _, err := snaps.Publish(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "4" {
		t.Fatalf("after publishing: %s customers", got)
	}
	// The idle worker on the first snapshot was retired when the second
	// query started; its file goes once the worker has exited.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(first); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old snapshot still there: %v", snaps.files())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A restarted server finds the current snapshot.
	again, err := OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil || again.Current() != snaps.Current() {
		t.Fatalf("reopen: %v %q %q", err, again.Current(), snaps.Current())
	}
}

// TestPublishKeepsTheCopyOfAnUnchangedWarehouse: a publication that finds
// the warehouse file as the current snapshot's copy found it (nothing
// committed since, in this process or the one before a restart) keeps that
// snapshot; a commit, or another file put in the warehouse's place with
// the same size (a restored backup), is copied.
func TestPublishKeepsTheCopyOfAnUnchangedWarehouse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wh.duckdb")
	copyTo(t, fixtureWarehouse(t), path)
	ctx := context.Background()
	open := func() *warehouse.Warehouse {
		w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 1, ReadConns: 1, MemoryLimit: "512MB", Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	publish := func(snaps *Snapshots, w *warehouse.Warehouse, kept bool) string {
		t.Helper()
		st, err := snaps.Publish(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kept != kept || st.Path != snaps.Current() {
			t.Fatalf("publish: kept %v (want %v), path %s, current %s", st.Kept, kept, st.Path, snaps.Current())
		}
		if got := len(snaps.files()); got != 1 {
			t.Fatalf("%d snapshot files: %v", got, snaps.files())
		}
		return st.Path
	}
	w := open()
	snaps, err := OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	first := publish(snaps, w, false)
	if again := publish(snaps, w, true); again != first {
		t.Fatalf("kept %s, current was %s", again, first)
	}
	w.Close()

	// A restart finds the copy and the stamp of what it copied.
	w = open()
	snaps, err = OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	if again := publish(snaps, w, true); again != first {
		t.Fatalf("after a restart: kept %s, current was %s", again, first)
	}
	if err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO customers (customer_id, name, owner_rep_id, org_unit_id) VALUES ('C~R1~9', 'Customer ~R1~ 9', 'R1', 'E1')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	second := publish(snaps, w, false)
	w.Close()

	// The same bytes under another inode: not the file the copy was made of.
	copyTo(t, path, path+".restored")
	if err := os.Rename(path+".restored", path); err != nil {
		t.Fatal(err)
	}
	w = open()
	defer w.Close()
	if third := publish(snaps, w, false); third == second {
		t.Fatalf("a file restored in the warehouse's place kept the snapshot %s", third)
	}
}

// TestPublishDemo measures publishing the default demo company
// (TRISCOPE_ADHOC_DEMO=path of a warehouse made by `triscope demo`).
func TestPublishDemo(t *testing.T) {
	src := os.Getenv("TRISCOPE_ADHOC_DEMO")
	if src == "" {
		t.Skip("TRISCOPE_ADHOC_DEMO not set")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.duckdb")
	copyTo(t, src, path)
	ctx := context.Background()
	w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	snaps, err := OpenSnapshots(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		st, err := snaps.Publish(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("publish %d: %.1f MB in %v (write lane held %v, reflink %v)", i, float64(st.Bytes)/1e6, st.Total, st.Lane, st.Reflink)
	}
	start := time.Now()
	var n int
	if err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "ATTACH "+quoteLiteral(filepath.Join(dir, "copydb.duckdb"))+" AS cp")
		if err != nil {
			return err
		}
		return nil
	}); err != nil {
		t.Log("attach:", err)
	}
	if err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "COPY FROM DATABASE "+quoteIdent(catalogOf(t, conn))+" TO cp")
		if err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "DETACH cp")
		return err
	}); err != nil {
		t.Log("copy from database:", err)
	} else {
		fi, _ := os.Stat(filepath.Join(dir, "copydb.duckdb"))
		t.Logf("COPY FROM DATABASE instead: %.1f MB in %v", float64(fi.Size())/1e6, time.Since(start))
	}
	_ = n
}

func catalogOf(t testing.TB, conn *sql.Conn) string {
	var c string
	if err := conn.QueryRowContext(context.Background(), "SELECT current_database()").Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}
