package etl

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/warehouse"
)

func openWarehouse(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// copyDir copies testdata so that reject files written beside inputs stay in the temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".csv" {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
	}
	return dst
}

func dataLines(t *testing.T, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	s := bufio.NewScanner(f)
	for s.Scan() {
		n++
	}
	return n - 1
}

func count(t *testing.T, w *warehouse.Warehouse, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.DB().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func mustLoad(t *testing.T, w *warehouse.Warehouse, paths []string, opts Options) *Report {
	t.Helper()
	rep, err := Load(context.Background(), w, paths, opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return rep
}

func TestLoadTinyCompanyExactCounts(t *testing.T) {
	w := openWarehouse(t)
	dir := copyDir(t, "testdata/tiny")
	rep := mustLoad(t, w, []string{dir}, Options{})
	if rep.Status != "committed" {
		t.Fatalf("status %s: %s", rep.Status, rep.Message)
	}
	if len(rep.Files) != len(Entities) {
		t.Fatalf("%d files loaded, want all %d entities", len(rep.Files), len(Entities))
	}
	for _, f := range rep.Files {
		want := dataLines(t, f.Path)
		if f.Read != want || f.Loaded != want || f.Rejected != 0 {
			t.Errorf("%s: read %d loaded %d rejected %d, want %d each and 0 rejected; rejects %+v warnings %v",
				f.Entity, f.Read, f.Loaded, f.Rejected, want, f.Rejects, f.Warnings)
		}
		if got := count(t, w, "SELECT count(*) FROM "+f.Entity); got != want {
			t.Errorf("table %s has %d rows, want %d", f.Entity, got, want)
		}
	}
	// Values are typed, not text: decimals exact, dates dates, timestamps instants.
	var refund string
	w.DB().QueryRow("SELECT CAST(amount AS VARCHAR) FROM payments WHERE payment_id = 'PAY4'").Scan(&refund)
	if refund != "-2000.00" {
		t.Errorf("refund amount = %q", refund)
	}
	var created string
	w.DB().QueryRow("SELECT strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM customers WHERE customer_id = 'C2'").Scan(&created)
	if created != "2024-01-15 01:30" {
		t.Errorf("C2 created_at in UTC = %q, want 2024-01-15 01:30 (09:30 in Asia/Shanghai)", created)
	}
	if n := count(t, w, "SELECT count(*) FROM load_runs WHERE status = 'committed'"); n != 1 {
		t.Errorf("load_runs committed = %d", n)
	}
}

func TestSecondLoadChangesNothing(t *testing.T) {
	w := openWarehouse(t)
	dir := copyDir(t, "testdata/tiny")
	first := mustLoad(t, w, []string{dir}, Options{})
	snapshot := tableDigest(t, w)
	second := mustLoad(t, w, []string{dir}, Options{})
	if second.Status != "unchanged" {
		t.Fatalf("second load status %q, want unchanged", second.Status)
	}
	for _, f := range second.Files {
		if !f.Skipped || f.SameAsLoad != first.LoadID {
			t.Errorf("%s: skipped=%v sameAs=%d", f.Entity, f.Skipped, f.SameAsLoad)
		}
	}
	if got := tableDigest(t, w); got != snapshot {
		t.Fatal("tables changed after loading the same files again")
	}
	// Same rows in a file with different bytes (a trailing newline more): read,
	// compared row by row, and still nothing changes.
	p := filepath.Join(dir, "payments.csv")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append(b, '\n'), 0o644)
	third := mustLoad(t, w, []string{p}, Options{})
	f := third.Files[0]
	if f.Skipped || f.Unchanged != 4 || f.Loaded+f.Updated != 0 {
		t.Fatalf("re-read payments: %+v", f)
	}
	if got := tableDigest(t, w); got != snapshot {
		t.Fatal("tables changed after loading identical rows")
	}
}

func TestIncrementalUpsertCountsNewChangedUnchanged(t *testing.T) {
	w := openWarehouse(t)
	dir := copyDir(t, "testdata/tiny")
	mustLoad(t, w, []string{dir}, Options{})
	p := writeFile(t, "payments.csv", `payment_id,contract_id,customer_id,paid_on,amount,currency,method
PAY1,CT1,C1,2024-04-03,36000.00,CNY,bank_transfer
PAY2,CT1,C1,2024-07-20,70000.00,CNY,acceptance_bill
PAY5,CT1,C1,2024-09-01,10000.00,CNY,bank_transfer
`)
	f := mustLoad(t, w, []string{p}, Options{}).Files[0]
	if f.Loaded != 1 || f.Updated != 1 || f.Unchanged != 1 {
		t.Fatalf("loaded/updated/unchanged = %d/%d/%d, want 1/1/1", f.Loaded, f.Updated, f.Unchanged)
	}
	if n := count(t, w, "SELECT count(*) FROM payments"); n != 5 {
		t.Fatalf("payments = %d, want 5 (incremental keeps rows absent from the file)", n)
	}
	var amt string
	w.DB().QueryRow("SELECT CAST(amount AS VARCHAR) FROM payments WHERE payment_id = 'PAY2'").Scan(&amt)
	if amt != "70000.00" {
		t.Fatalf("PAY2 amount = %s after update", amt)
	}
}

// badPayments returns a payments file with good rows and one bad row per case.
func badPayments(t *testing.T, good int, bad []string) string {
	var b strings.Builder
	b.WriteString("payment_id,contract_id,customer_id,paid_on,amount,currency,method\n")
	for i := range good {
		fmt.Fprintf(&b, "G%d,CT1,C1,2024-05-%02d,%d.50,CNY,bank_transfer\n", i, 1+i%28, 100+i)
	}
	for _, line := range bad {
		b.WriteString(line + "\n")
	}
	return writeFile(t, "payments.csv", b.String())
}

func TestBadRowsAreQuarantinedWithReasonsAndGoodRowsLoad(t *testing.T) {
	w := openWarehouse(t)
	mustLoad(t, w, []string{copyDir(t, "testdata/tiny")}, Options{})
	cases := []struct{ line, column, reason string }{
		{"B1,CT1,C1,2024-13-40,10.00,CNY,cash", "paid_on", "not a date"},
		{"B2,CT1,C1,2024-05-01,12abc,CNY,cash", "amount", "not an amount"},
		{"B3,CT1,,2024-05-01,10.00,CNY,cash", "customer_id", "required value is missing"},
		{"B4,CT404,C1,2024-05-01,10.00,CNY,cash", "contract_id", "unknown contract"},
		{"B5,CT1,C404,2024-05-01,10.00,CNY,cash", "customer_id", "unknown customer"},
		{"B6,CT1,C1,2024-05-01,10.00,EUR,cash", "currency", "no exchange rate for EUR"},
		{"B7,CT1,C1,1985-05-01,10.00,CNY,cash", "paid_on", "before 1990"},
		{"B8,CT1,C1,2024-05-01,10.00,CNY", "", "has 6 fields, the header has 7"},
		{"B9,CT1,C1,2024-05-01,10.00,yuan,cash", "currency", "3-letter ISO code"},
	}
	var lines []string
	for _, c := range cases {
		lines = append(lines, c.line)
	}
	p := badPayments(t, 200, lines)
	rep := mustLoad(t, w, []string{p}, Options{})
	f := rep.Files[0]
	if f.Read != 209 || f.Loaded != 200 || f.Rejected != int64(len(cases)) {
		t.Fatalf("read %d loaded %d rejected %d; rejects %+v", f.Read, f.Loaded, f.Rejected, f.Rejects)
	}
	for i, c := range cases {
		line := int64(202 + i)
		var column, reason string
		err := w.DB().QueryRow(`SELECT coalesce("column", ''), reason FROM load_rejects WHERE load_id = $1 AND line = $2`, rep.LoadID, line).Scan(&column, &reason)
		if err != nil {
			t.Errorf("line %d (%s): no reject recorded: %v", line, c.line, err)
			continue
		}
		if column != c.column || !strings.Contains(reason, c.reason) {
			t.Errorf("line %d: column %q reason %q; want column %q reason containing %q", line, column, reason, c.column, c.reason)
		}
	}
	// The quarantine CSV beside the input lists the same rows.
	if f.RejectsCSV != filepath.Join(filepath.Dir(p), "payments.rejects.csv") {
		t.Fatalf("rejects file %q", f.RejectsCSV)
	}
	if n := dataLines(t, f.RejectsCSV); n != int64(len(cases)) {
		t.Fatalf("rejects CSV has %d rows, want %d", n, len(cases))
	}
	head, _ := os.ReadFile(f.RejectsCSV)
	if !strings.HasPrefix(string(head), "file,line,column,value,reason\n") {
		t.Fatalf("rejects CSV header: %q", strings.SplitN(string(head), "\n", 2)[0])
	}
}

func TestLoadOverThresholdAppliesNothing(t *testing.T) {
	w := openWarehouse(t)
	dir := copyDir(t, "testdata/tiny")
	mustLoad(t, w, []string{dir}, Options{})
	before := tableDigest(t, w)
	// A good customers file and a payments file with 10% bad rows: neither lands.
	customers := writeFile(t, "customers.csv", "customer_id,name\nC9,New Customer\n")
	var bad []string
	for i := range 10 {
		bad = append(bad, fmt.Sprintf("X%d,CT1,C1,not-a-date,1.00,CNY,cash", i))
	}
	payments := badPayments(t, 90, bad)
	rep, err := Load(context.Background(), w, []string{customers, payments}, Options{})
	if !errors.Is(err, ErrTooManyRejects) || rep.Status != "rejected" {
		t.Fatalf("err = %v, status %q; want ErrTooManyRejects", err, rep.Status)
	}
	if !strings.Contains(rep.Message, "10 bad rows of 100") {
		t.Errorf("message does not say why: %s", rep.Message)
	}
	if got := tableDigest(t, w); got != before {
		t.Fatal("a refused load changed the data")
	}
	if n := count(t, w, "SELECT count(*) FROM load_runs WHERE status = 'rejected'"); n != 1 {
		t.Errorf("rejected runs recorded = %d", n)
	}
	if n := count(t, w, "SELECT count(*) FROM load_rejects WHERE load_id = $1", rep.LoadID); n != 10 {
		t.Errorf("quarantine of the refused load has %d rows, want 10", n)
	}
	// With a higher threshold the same files load their good rows.
	rep = mustLoad(t, w, []string{customers, payments}, Options{MaxRejectShare: 0.2})
	if rep.Files[0].Loaded != 1 || rep.Files[1].Loaded != 90 {
		t.Fatalf("with 20%% threshold: %+v %+v", rep.Files[0], rep.Files[1])
	}
}

func TestReferencesToEmptyEntityWarnInsteadOfReject(t *testing.T) {
	w := openWarehouse(t)
	// A company that has only payment records: no contracts or customers loaded.
	p := writeFile(t, "payments.csv", "payment_id,contract_id,customer_id,paid_on,amount\nP1,CT1,C1,2024-01-02,10.00\nP2,,C2,2024-01-03,20.00\n")
	rep := mustLoad(t, w, []string{p}, Options{})
	f := rep.Files[0]
	if f.Loaded != 2 || f.Rejected != 0 {
		t.Fatalf("%+v", f)
	}
	joined := strings.Join(f.Warnings, "\n")
	if !strings.Contains(joined, "payments.contract_id was not checked: the warehouse holds no contracts") {
		t.Fatalf("warnings: %v", f.Warnings)
	}
}

func TestDuplicateKeysLatestWins(t *testing.T) {
	w := openWarehouse(t)
	p := writeFile(t, "opportunities.csv", `opportunity_id,customer_id,created_at,status,amount,updated_at
O1,C1,2024-01-01,open,100,2024-02-01
O1,C1,2024-01-01,open,300,2024-03-01
O1,C1,2024-01-01,open,200,2024-01-15
O2,C1,2024-01-01,open,50,
O2,C1,2024-01-01,open,60,
`)
	f := mustLoad(t, w, []string{p}, Options{}).Files[0]
	if f.Loaded != 2 || f.Duplicates != 3 || f.Rejected != 0 {
		t.Fatalf("loaded %d duplicates %d rejected %d", f.Loaded, f.Duplicates, f.Rejected)
	}
	var a1, a2 string
	w.DB().QueryRow("SELECT CAST(amount AS VARCHAR) FROM opportunities WHERE opportunity_id = 'O1'").Scan(&a1)
	w.DB().QueryRow("SELECT CAST(amount AS VARCHAR) FROM opportunities WHERE opportunity_id = 'O2'").Scan(&a2)
	if a1 != "300.00" || a2 != "60.00" {
		t.Fatalf("O1 = %s (want the latest updated_at, 300.00), O2 = %s (want the last line, 60.00)", a1, a2)
	}
}

func TestFileLevelErrors(t *testing.T) {
	w := openWarehouse(t)
	cases := []struct{ name, body, want string }{
		{"payments.csv", "payment_id,customer_id,amount\nP1,C1,10\n", "required column paid_on is missing"},
		{"payments.csv", "payment_id,paid_on,paid_on,customer_id,amount\n", "repeats column 2"},
		{"mystery.csv", "a,b\n1,2\n", "cannot tell the entity"},
		{"payments.csv", "", "the file is empty"},
	}
	for _, c := range cases {
		p := writeFile(t, c.name, c.body)
		_, err := Load(context.Background(), w, []string{p}, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s %q: err = %v, want it to name the file and say %q", c.name, c.body, err, c.want)
		}
	}
	if n := count(t, w, "SELECT count(*) FROM payments"); n != 0 {
		t.Fatalf("payments = %d after failed loads", n)
	}
}

func TestParquetAndNDJSONLoadLikeCSV(t *testing.T) {
	w := openWarehouse(t)
	dir := copyDir(t, "testdata/tiny")
	mustLoad(t, w, []string{dir}, Options{})
	out := t.TempDir()
	pq := filepath.Join(out, "payments.parquet")
	nd := filepath.Join(out, "contracts.ndjson")
	if _, err := w.DB().Exec(fmt.Sprintf("COPY (SELECT * EXCLUDE (_load_id) FROM payments) TO '%s' (FORMAT parquet)", pq)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB().Exec(fmt.Sprintf("COPY (SELECT * EXCLUDE (_load_id) FROM contracts) TO '%s' (FORMAT json)", nd)); err != nil {
		t.Fatal(err)
	}
	rep := mustLoad(t, w, []string{pq, nd}, Options{})
	for _, f := range rep.Files {
		if f.Read == 0 || f.Unchanged != f.Read || f.Rejected != 0 {
			t.Errorf("%s (%s): %+v", f.Entity, f.Format, f)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tableDigest fingerprints every base table's content.
func tableDigest(t *testing.T, w *warehouse.Warehouse) string {
	t.Helper()
	var b strings.Builder
	for _, e := range Entities {
		var n int64
		var h sql.NullString
		q := fmt.Sprintf("SELECT count(*), CAST(sum(hash(t)) AS VARCHAR) FROM (SELECT * EXCLUDE (_load_id) FROM %s) t", e.Name)
		if err := w.DB().QueryRow(q).Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d:%s;", e.Name, n, h.String)
	}
	return b.String()
}
