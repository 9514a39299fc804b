package etl

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Readers see the last commit while a load runs: every read during a large
// load returns either the totals before it or the totals after it, never a
// part of the load.
//
// DuckDB 1.5.6 breaks this for a query that starts while a large commit is
// being applied: it can see some of the committed row groups and not others
// (TestDuckDBLargeCommitIsNotAtomic shows it without the loader). Readers
// therefore read through warehouse.Reader, which waits for a commit to finish.
func TestReadsDuringALargeLoadSeeOldOrNewTotals(t *testing.T) {
	testReadsDuringLoad(t, true)
}

// TestDuckDBLargeCommitIsNotAtomic documents the DuckDB bug the commit lock
// works around: without it, readers may see part of a load. It fails only if
// the loader's gated path fails; it logs whether the bug reproduced, so that
// the lock can be dropped once a DuckDB release fixes it.
func TestDuckDBLargeCommitIsNotAtomic(t *testing.T) {
	testReadsDuringLoad(t, false)
}

func testReadsDuringLoad(t *testing.T, gated bool) {
	if testing.Short() {
		t.Skip("large load")
	}
	w := openWarehouse(t)
	mustLoad(t, w, []string{copyDir(t, "testdata/tiny")}, Options{})
	const rows = 300_000
	path := filepath.Join(t.TempDir(), "payments.csv")
	f, _ := os.Create(path)
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
	var added int64 // in cents
	for i := range rows {
		cents := int64(i%100000)*100 + 25
		added += cents
		fmt.Fprintf(bw, "L%07d,CT1,C1,2024-%02d-%02d,%d.%02d,CNY,bank_transfer\n", i, 1+i%12, 1+i%28, cents/100, cents%100)
	}
	bw.Flush()
	f.Close()

	type totals struct{ n, cents int64 }
	read := func() (totals, error) {
		var tt totals
		const q = "SELECT count(*), CAST(coalesce(sum(amount), 0) * 100 AS BIGINT) FROM payments"
		if gated { // the warehouse's gated read pool, as the server uses
			return tt, w.Reader().QueryRowContext(context.Background(), q).Scan(&tt.n, &tt.cents)
		}
		return tt, w.DB().QueryRow(q).Scan(&tt.n, &tt.cents)
	}
	before, err := read()
	if err != nil {
		t.Fatal(err)
	}
	after := totals{before.n + rows, before.cents + added}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, sawOld, sawNew, sawPart atomic.Int64
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := read()
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
				switch got {
				case before:
					sawOld.Add(1)
				case after:
					sawNew.Add(1)
				default:
					sawPart.Add(1)
					if gated {
						errs <- fmt.Errorf("a read saw %+v: neither the totals before the load %+v nor after it %+v", got, before, after)
						return
					}
				}
			}
		}()
	}
	start := time.Now()
	rep, err := Load(context.Background(), w, []string{path}, Options{})
	elapsed := time.Since(start)
	time.Sleep(50 * time.Millisecond) // a few reads after the commit
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err != nil || rep.Files[0].Loaded != rows {
		t.Fatalf("load: %v %+v", err, rep.Files[0])
	}
	if sawOld.Load() < 5 || sawNew.Load() < 1 {
		t.Fatalf("reads during the load: %d old, %d new of %d: the test did not overlap the load", sawOld.Load(), sawNew.Load(), reads.Load())
	}
	t.Logf("%d rows loaded in %v while %d reads ran (%d saw the old totals, %d the new, %d part of the load)", rows, elapsed, reads.Load(), sawOld.Load(), sawNew.Load(), sawPart.Load())
	if !gated && sawPart.Load() > 0 {
		t.Logf("DuckDB bug reproduced: %d reads that started during the commit saw part of it; keep the warehouse's commit gate", sawPart.Load())
	}
}
