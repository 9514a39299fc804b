package warehouse

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The child half of TestKilledAfterMigrationsOpens: with
// TRISCOPE_WAREHOUSE_CHILD set, the test binary opens (creates and
// migrates) that warehouse, says so, and waits to be killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("TRISCOPE_WAREHOUSE_CHILD"); path != "" {
		if v, err := strconv.Atoi(os.Getenv("TRISCOPE_WAREHOUSE_CHILD_PAUSE")); err == nil {
			afterMigration = func(version int) {
				if version == v {
					fmt.Println("paused")
					time.Sleep(time.Minute)
				}
			}
		}
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

// A process killed while it creates a warehouse — after any migration
// committed, before the file was whole — leaves no warehouse or one that
// opens: a new file is migrated under another name and renamed into place.
// Killed after 0005 (collision_rulings, whose COMMENT ON COLUMN DuckDB
// 1.5.6 cannot replay from the write-ahead log), the file used to be left
// unopenable (CI, triscope chaos load --first, a kill 0.14 s into the load).
func TestKilledWhileCreatingOpens(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		t.Run(fmt.Sprintf("after %04d", m.Version), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.duckdb")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "TRISCOPE_WAREHOUSE_CHILD="+path,
				fmt.Sprintf("TRISCOPE_WAREHOUSE_CHILD_PAUSE=%d", m.Version))
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			if !sc.Scan() || sc.Text() != "paused" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the child did not pause after migration %d: %q", m.Version, sc.Text())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if _, err := os.Stat(path); err == nil {
				t.Fatalf("killed while creating it, the warehouse file exists before it was whole")
			}
			w, err := Open(context.Background(), Options{Path: path, Threads: 2})
			if err != nil {
				t.Fatalf("the warehouse killed while it was created does not open: %.300v", err)
			}
			defer w.Close()
			if v, err := w.SchemaVersion(context.Background()); err != nil || v != len(ms) {
				t.Fatalf("schema version %d (%v), want %d", v, err, len(ms))
			}
			left, _ := filepath.Glob(path + ".creating*")
			if len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}
