package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var entityTables = []string{"org_units", "reps", "customers", "opportunities", "opportunity_stages",
	"contracts", "payments", "payment_schedule", "contract_lines", "products", "partners",
	"expenses", "activities", "campaigns", "targets", "fx_rates", "stages"}

func openTemp(t *testing.T) (*Warehouse, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.duckdb")
	w, err := Open(context.Background(), Options{Path: path, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func TestOpenMigratesAndDocumentsEveryEntity(t *testing.T) {
	ctx := context.Background()
	w, path := openTemp(t)
	ms, _ := Migrations()
	v, err := w.SchemaVersion(ctx)
	if err != nil || v != len(ms) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(ms))
	}
	for _, table := range entityTables {
		var comment sql.NullString
		err := w.DB().QueryRowContext(ctx, "SELECT comment FROM duckdb_tables() WHERE table_name = $1", table).Scan(&comment)
		if err != nil {
			t.Errorf("table %s: %v", table, err)
			continue
		}
		if comment.String == "" {
			t.Errorf("table %s has no COMMENT", table)
		}
	}
	w.Close()
	// Reopening applies nothing new and keeps the version.
	w2, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var n int
	w2.DB().QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
	if n != len(ms) {
		t.Fatalf("schema_migrations has %d rows after reopen, want %d", n, len(ms))
	}
}

func TestSettingsReadBack(t *testing.T) {
	w, _ := openTemp(t)
	defer w.Close()
	var tz, threads string
	w.DB().QueryRow("SELECT current_setting('TimeZone'), current_setting('threads')::VARCHAR").Scan(&tz, &threads)
	if tz != DefaultTimeZone || threads != "2" {
		t.Fatalf("TimeZone=%q threads=%q", tz, threads)
	}
}

func TestWriteTxRollsBackAppendedRows(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)
	defer w.Close()
	boom := errors.New("boom")
	err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		i := 0
		_, err := Append(conn, "stages", []string{"stage", "position", "is_closed"}, func(row []driver.Value) (bool, error) {
			if i == 3 {
				return false, nil
			}
			row[0], row[1], row[2] = string(rune('a'+i)), int32(i), false
			i++
			return true, nil
		})
		if err != nil {
			return err
		}
		var n int
		conn.QueryRowContext(ctx, "SELECT count(*) FROM stages").Scan(&n)
		if n != 3 {
			t.Errorf("inside the transaction: %d rows, want 3", n)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var n int
	w.DB().QueryRow("SELECT count(*) FROM stages").Scan(&n)
	if n != 0 {
		t.Fatalf("after rollback: %d rows, want 0", n)
	}
}

func TestWriteLaneIsExclusiveAndReadersSeeCommitsOnly(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)
	defer w.Close()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				defer inside.Add(-1)
				_, err := conn.ExecContext(ctx, "INSERT INTO stages (stage, position, is_closed) VALUES ($1, $2, false)", string(rune('a'+i)), i)
				time.Sleep(10 * time.Millisecond)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("%d writers ran at once, want 1", maxInside.Load())
	}
	// A reader during an open write transaction sees the last commit.
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
			conn.ExecContext(ctx, "DELETE FROM stages")
			<-release
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	var n int
	if err := w.DB().QueryRowContext(ctx, "SELECT count(*) FROM stages").Scan(&n); err != nil || n != 4 {
		t.Fatalf("reader during write saw %d rows (%v), want 4", n, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.DB().QueryRowContext(ctx, "SELECT count(*) FROM stages").Scan(&n)
	if n != 0 {
		t.Fatalf("after commit: %d rows, want 0", n)
	}
}

func TestWriteLaneHonoursContext(t *testing.T) {
	w, _ := openTemp(t)
	defer w.Close()
	hold := make(chan struct{})
	go w.Write(context.Background(), func(ctx context.Context, conn *sql.Conn) error { <-hold; return nil })
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error { return nil })
	close(hold)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestDefaultMemoryLimitIsHalfOfRAM(t *testing.T) {
	total := physicalMemory()
	if total == 0 {
		t.Skip("no /proc/meminfo on this system")
	}
	w, _ := openTemp(t)
	defer w.Close()
	var setting string
	w.DB().QueryRow("SELECT current_setting('memory_limit')").Scan(&setting)
	var gib float64
	if _, err := fmt.Sscanf(setting, "%f GiB", &gib); err != nil {
		t.Fatalf("memory_limit %q: %v", setting, err)
	}
	if want := float64(total) / 2 / (1 << 30); gib < want*0.95 || gib > want*1.05 {
		t.Fatalf("memory_limit %s, want about half of %d MB of RAM", setting, total>>20)
	}
}
