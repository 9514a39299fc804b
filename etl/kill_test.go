package etl

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// The child half of TestKilledLoadLeavesPreviousDataIntact: when the test binary
// runs with TRISCOPE_KILL_CHILD set, it loads the named file into the named
// warehouse and reports its progress on stdout until the parent kills it.
func TestMain(m *testing.M) {
	if spec := os.Getenv("TRISCOPE_KILL_CHILD"); spec != "" {
		db, input, _ := strings.Cut(spec, "|")
		w, err := warehouse.Open(context.Background(), warehouse.Options{Path: db, Threads: 2})
		if err != nil {
			fmt.Println("open failed:", err)
			os.Exit(3)
		}
		fmt.Println("opened")
		// Each point is reported from the loading goroutine, which then
		// pauses: the kill lands at that point however fast the load is (with
		// DuckDB's reader, what follows the last byte read is a few
		// statements and the commit).
		reported := 0
		pause := func(point string) {
			fmt.Println(point)
			time.Sleep(2 * time.Second)
		}
		_, err = Load(context.Background(), w, []string{input}, Options{Progress: func(done, total int64) {
			pct := int(100 * done / total)
			if pct >= 30 && reported < 30 {
				reported = 30
				pause("read 30%")
			}
			if pct == 100 && reported < 100 {
				reported = 100
				pause("read 100%")
			}
		}, AfterApply: func(context.Context, *sql.Conn, *Report) error {
			pause("applied") // every row applied and recorded, not committed
			return nil
		}})
		fmt.Println("finished", err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestKilledLoadLeavesPreviousDataIntact(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.duckdb")
	w, err := warehouse.Open(context.Background(), warehouse.Options{Path: db, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, w, []string{copyDir(t, "testdata/tiny")}, Options{})
	before := tableDigest(t, w)
	w.Close()

	// A big payments file that replaces nothing but adds a million rows.
	big := filepath.Join(dir, "payments.csv")
	f, _ := os.Create(big)
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
	for i := range 1_000_000 {
		fmt.Fprintf(bw, "K%07d,CT1,C1,2024-%02d-%02d,%d.25,CNY,bank_transfer\n", i, 1+i%12, 1+i%28, i%100000)
	}
	bw.Flush()
	f.Close()

	for _, killAt := range []string{"opened", "read 30%", "read 100%", "applied"} {
		t.Run(strings.ReplaceAll(killAt, " ", "_"), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "TRISCOPE_KILL_CHILD="+db+"|"+big)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			seen := false
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "finished") {
					t.Fatalf("the load finished before it could be killed at %q", killAt)
				}
				if lines.Text() == killAt {
					seen = true
					break
				}
			}
			if !seen {
				t.Fatalf("child never reported %q", killAt)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()

			w, err := warehouse.Open(context.Background(), warehouse.Options{Path: db, Threads: 2})
			if err != nil {
				t.Fatalf("the warehouse does not open after a killed load: %v", err)
			}
			defer w.Close()
			if got := tableDigest(t, w); got != before {
				t.Fatalf("data changed by a killed load")
			}
			if n := count(t, w, "SELECT count(*) FROM load_runs WHERE status = 'committed'"); n != 1 {
				t.Fatalf("committed loads = %d, want the 1 from before", n)
			}
		})
	}
	// And the same load, not killed, then commits.
	w, err = warehouse.Open(context.Background(), warehouse.Options{Path: db, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rep := mustLoad(t, w, []string{big}, Options{})
	if rep.Files[0].Loaded != 1_000_000 {
		t.Fatalf("loaded %d", rep.Files[0].Loaded)
	}
}
