package warehouse

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A write that fills the disk fails with an error naming the disk, and the
// warehouse keeps serving the last commit: DuckDB 1.5.6 invalidates its
// instance when the checkpoint after a commit cannot be written ("FATAL
// Error: Failed to create checkpoint … No space left on device"), after
// which every query failed until the process restarted; the warehouse now
// reopens the file. On a tmpfs the test mounts (root; skipped otherwise
// unless TRISCOPE_DISK_TESTS=require). `triscope chaos disk-full` runs the
// same through a server.
func TestFullDiskNamedAndSurvived(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "disk")
	os.MkdirAll(dir, 0o700)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=48m"); err != nil {
		if os.Getenv("TRISCOPE_DISK_TESTS") == "require" {
			t.Fatalf("mounting a tmpfs: %v", err)
		}
		t.Skipf("mounting a tmpfs needs root: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	ctx := context.Background()
	w, err := Open(ctx, Options{Path: filepath.Join(dir, "w.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	exec := func(q string) error {
		return w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			_, err := conn.ExecContext(ctx, q)
			return err
		})
	}
	if err := exec("CREATE TABLE t AS SELECT range AS x, repeat('x', 50) AS s FROM range(100000)"); err != nil {
		t.Fatal(err)
	}
	count := func() (int64, error) {
		var n int64
		err := w.Reader().QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
		return n, err
	}
	// Rows in the write-ahead log only (under the automatic checkpoint's
	// threshold): the checkpoint that moves them into the file comes later.
	if err := exec("INSERT INTO t SELECT range, md5(range::VARCHAR) FROM range(100000)"); err != nil {
		t.Fatal(err)
	}
	// Fill the disk, leaving 256 KiB.
	var st unix.Statfs_t
	unix.Statfs(dir, &st)
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(int(filler.Fd()), 0, 0, int64(st.Bavail)*int64(st.Bsize)-256<<10); err != nil {
		t.Fatal(err)
	}
	filler.Close()

	// A checkpoint that cannot be written: DuckDB's fatal error.
	err = w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "CHECKPOINT")
		return err
	})
	t.Logf("the checkpoint: %v", err)
	if err == nil || !strings.Contains(err.Error(), "FATAL") {
		t.Fatalf("a checkpoint on a full disk: %v; the test wants DuckDB's fatal error", err)
	}
	if n, err := count(); err != nil || n != 200000 {
		t.Fatalf("after the fatal error, with the disk still full, the warehouse answers %d, %v; want the 200000 rows it held", n, err)
	}
	// A large write fails with an error naming the disk.
	err = exec("INSERT INTO t SELECT range, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) FROM range(3000000)")
	if err == nil {
		t.Fatal("a 3 M-row insert succeeded on a full disk")
	}
	t.Logf("the error: %v", err)
	if !strings.Contains(err.Error(), "the disk holding the warehouse is full: "+dir) {
		t.Errorf("the error does not name the full disk %s: %v", dir, err)
	}
	if n, err := count(); err != nil || n != 200000 {
		t.Fatalf("after the failed write, with the disk still full, the warehouse answers %d, %v; want the 200000 rows it held", n, err)
	}
	if err := w.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// Space freed: writes work again, in the same process.
	os.Remove(filepath.Join(dir, "filler"))
	if err := exec("INSERT INTO t SELECT range, 'y' FROM range(10)"); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
	if n, err := count(); err != nil || n != 200010 {
		t.Fatalf("after the next write: %d rows, %v", n, err)
	}
}
