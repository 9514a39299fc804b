package etl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func customersCSV(ids ...int) string {
	var b strings.Builder
	b.WriteString("customer_id,name,city\n")
	for _, i := range ids {
		fmt.Fprintf(&b, "K%d,Customer %d,Shanghai\n", i, i)
	}
	return b.String()
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestSnapshotMarksDeletedRestoresAndHoldsBack(t *testing.T) {
	w := openWarehouse(t)
	snap := Options{Snapshot: []string{"customers"}}
	live := func() int64 { return count(t, w, "SELECT count(*) FROM customers WHERE _deleted_at IS NULL") }

	f := mustLoad(t, w, []string{writeFile(t, "customers.csv", customersCSV(seq(1, 10)...))}, snap).Files[0]
	if f.Loaded != 10 || f.Deleted != 0 || f.Mode != "snapshot" {
		t.Fatalf("first snapshot: %+v", f)
	}
	// K9 and K10 are gone from the export: marked deleted, not dropped.
	rep := mustLoad(t, w, []string{writeFile(t, "customers.csv", customersCSV(seq(1, 8)...))}, snap)
	if f := rep.Files[0]; f.Deleted != 2 || f.Unchanged != 8 {
		t.Fatalf("second snapshot: deleted %d unchanged %d", f.Deleted, f.Unchanged)
	}
	if n := count(t, w, "SELECT count(*) FROM customers"); n != 10 {
		t.Fatalf("%d rows in customers; deleted rows must stay", n)
	}
	if n := count(t, w, "SELECT count(*) FROM customers WHERE _deleted_at IS NOT NULL AND _load_id = $1 AND customer_id IN ('K9', 'K10')", rep.LoadID); n != 2 {
		t.Fatalf("K9 and K10 not marked deleted by load %d", rep.LoadID)
	}
	if n := count(t, w, "SELECT rows_deleted FROM load_files WHERE load_id = $1", rep.LoadID); n != 2 {
		t.Fatalf("load_files.rows_deleted = %d", n)
	}
	// K9 reappears: restored.
	f = mustLoad(t, w, []string{writeFile(t, "customers.csv", customersCSV(seq(1, 9)...))}, snap).Files[0]
	if f.Restored != 1 || f.Deleted != 0 || live() != 9 {
		t.Fatalf("K9 back: restored %d deleted %d live %d", f.Restored, f.Deleted, live())
	}
	// An incremental load of K10 restores it too, and deletes nothing.
	f = mustLoad(t, w, []string{writeFile(t, "customers.csv", customersCSV(10))}, Options{}).Files[0]
	if f.Restored != 1 || live() != 10 || f.Mode != "incremental" {
		t.Fatalf("incremental K10: %+v live %d", f, live())
	}
	// A snapshot with half the rows is held back: nothing changes.
	before := tableDigest(t, w)
	half := writeFile(t, "customers.csv", customersCSV(seq(1, 5)...))
	rep, err := Load(context.Background(), w, []string{half}, snap)
	if !errors.Is(err, ErrHeld) || rep.Status != "held" || !strings.Contains(rep.Message, "5 rows, 50% fewer than the 10") {
		t.Fatalf("err %v status %q message %q", err, rep.Status, rep.Message)
	}
	if tableDigest(t, w) != before {
		t.Fatal("a held snapshot changed data")
	}
	if n := count(t, w, "SELECT count(*) FROM load_runs WHERE status = 'held'"); n != 1 {
		t.Fatalf("held runs = %d", n)
	}
	// … unless forced.
	f = mustLoad(t, w, []string{half}, Options{Snapshot: []string{"customers"}, Force: true}).Files[0]
	if f.Deleted != 5 || live() != 5 {
		t.Fatalf("forced: deleted %d live %d", f.Deleted, live())
	}
}

func TestSnapshotKeepsRowsThatFailValidationAndStopsOnUnreadableLines(t *testing.T) {
	w := openWarehouse(t)
	mapping, err := ParseMapping([]byte("files:\n  - match: \"customers*.csv\"\n    entity: customers\n    mode: snapshot\n"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Mapping: mapping, MaxRejectShare: 0.5}
	mustLoad(t, w, []string{writeFile(t, "customers.csv", customersCSV(seq(1, 10)...))}, opts)
	// K3 is in the export but its size band is wrong: quarantined, and not
	// deleted either (it exists in the source). K10 is really gone.
	body := customersCSV(seq(1, 9)...)
	body = strings.Replace(body, "K3,Customer 3,Shanghai", "K3,Customer 3,Shanghai", 1)
	body = strings.Replace(body, "customer_id,name,city\n", "customer_id,name,city,size_band\n", 1)
	body = strings.ReplaceAll(body, ",Shanghai\n", ",Shanghai,small\n")
	body = strings.Replace(body, "K3,Customer 3,Shanghai,small", "K3,Customer 3,Shanghai,gigantic", 1)
	f := mustLoad(t, w, []string{writeFile(t, "customers_2.csv", body)}, opts).Files[0]
	if f.Rejected != 1 || f.Deleted != 1 {
		t.Fatalf("rejected %d deleted %d; %+v", f.Rejected, f.Deleted, f.Rejects)
	}
	if n := count(t, w, "SELECT count(*) FROM customers WHERE _deleted_at IS NOT NULL"); n != 1 {
		t.Fatalf("%d deleted, want only K10", n)
	}
	// A line that cannot be read (a quote gone wrong) hides a key: nothing is
	// marked deleted, and the report says why.
	body = customersCSV(seq(1, 8)...) + "K9,\"Customer 9,Shanghai\n"
	f = mustLoad(t, w, []string{writeFile(t, "customers_3.csv", body)}, opts).Files[0]
	if f.Deleted != 0 || !strings.Contains(strings.Join(f.Warnings, "\n"), "could not be read far enough to know their key, so no customers row was marked deleted") {
		t.Fatalf("deleted %d warnings %q", f.Deleted, f.Warnings)
	}
}

// A dry run does all the work, reports it, and changes nothing: no data, no
// bookkeeping, no rejects file beside the input.
func TestDryRunChangesNothing(t *testing.T) {
	w := openWarehouse(t)
	mustLoad(t, w, []string{copyDir(t, "testdata/tiny")}, Options{})
	before := tableDigest(t, w)
	runs := count(t, w, "SELECT count(*) FROM load_runs")
	p := writeFile(t, "payments.csv", "payment_id,customer_id,paid_on,amount\nN1,C1,2024-05-01,10\nN2,C1,someday,10\n")
	rep, err := Load(context.Background(), w, []string{p}, Options{DryRun: true, Snapshot: []string{"payments"}, Force: true, MaxRejectShare: 0.6})
	if err != nil || rep.Status != "dry-run" || !rep.DryRun {
		t.Fatalf("err %v status %q", err, rep.Status)
	}
	f := rep.Files[0]
	if f.Loaded != 1 || f.Rejected != 1 || f.Deleted != 4 || len(f.Mapping) != 4 || f.RejectsCSV != "" {
		t.Fatalf("dry run report: %+v", f)
	}
	if tableDigest(t, w) != before || count(t, w, "SELECT count(*) FROM load_runs") != runs {
		t.Fatal("a dry run changed the warehouse")
	}
	if _, err := os.Stat(strings.TrimSuffix(p, ".csv") + ".rejects.csv"); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote a rejects file: %v", err)
	}
	// A dry run that finds a file-level problem reports it without recording anything.
	bad := writeFile(t, "payments.csv", "payment_id,customer_id,amount\nN1,C1,10\n")
	rep, err = Load(context.Background(), w, []string{bad, p}, Options{DryRun: true})
	if err == nil || !strings.Contains(rep.Message, "required column paid_on is missing") || count(t, w, "SELECT count(*) FROM load_runs") != runs {
		t.Fatalf("err %v message %q", err, rep.Message)
	}
}
