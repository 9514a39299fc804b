package warehouse

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The child half of TestKilledAfterMigrationsOpens: with
// TRISCOPE_WAREHOUSE_CHILD set, the test binary opens (creates and
// migrates) that warehouse, says so, and waits to be killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("TRISCOPE_WAREHOUSE_CHILD"); path != "" {
		if _, err := Open(context.Background(), Options{Path: path, Threads: 2}); err != nil {
			fmt.Println("open failed:", err)
			os.Exit(3)
		}
		fmt.Println("opened")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A process killed after it created and migrated a warehouse, before
// anything checkpointed it, leaves the migrations in the write-ahead log;
// DuckDB 1.5.6 cannot replay them ("INTERNAL Error: Failure while replaying
// WAL file: Calling DatabaseManager::GetDefaultDatabase with no default
// database set": a COMMENT ON COLUMN of collision_rulings, whose ruling_id
// defaults to nextval(), rebinds the default during the replay), so the
// warehouse never opened again — the first load into a new warehouse,
// killed, lost the file (found by triscope chaos load --first). Open now
// checkpoints after applying migrations.
func TestKilledAfterMigrationsOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRISCOPE_WAREHOUSE_CHILD="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "opened" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child did not open the warehouse: %q", sc.Text())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	w, err := Open(context.Background(), Options{Path: path, Threads: 2})
	if err != nil {
		t.Fatalf("a warehouse killed after its migrations does not open: %.300v", err)
	}
	defer w.Close()
	if v, err := w.SchemaVersion(context.Background()); err != nil || v == 0 {
		t.Fatalf("schema version %d, %v", v, err)
	}
}
