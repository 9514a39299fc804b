package models

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/warehouse"
)

func testWarehouse(t *testing.T, dirs ...string) *warehouse.Warehouse {
	t.Helper()
	ctx := context.Background()
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(t.TempDir(), "w.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if len(dirs) > 0 {
		if _, err := etl.Load(ctx, w, dirs, etl.Options{}); err != nil {
			t.Fatalf("loading %v: %v", dirs, err)
		}
	}
	return w
}

func refresh(t *testing.T, w *warehouse.Warehouse, asOf string, models ...string) []RunResult {
	t.Helper()
	d, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := Refresh(context.Background(), w, RefreshOptions{AsOf: d, Models: models})
	if err != nil {
		t.Fatalf("refresh %v: %v", models, err)
	}
	return res
}

// Worked by hand (as_of 2024-12-31, n = 10 scored customers; numpy/pandas
// linear quantile at position q·(n−1)):
//
// recency sorted 0,10,10,30,45,60,90,120,200,365 → edges 10, 39, 72, 136
// (pos 1.8 → 10+0.8·0; 3.6 → 30+0.6·15; 5.4 → 60+0.4·30; 7.2 → 120+0.2·80).
// C02 and C03 sit exactly on the first edge: right-closed, so bin 1 → R5.
//
// frequency ranks (ties by customer_id): C02 1, C07 2, C10 3, C05 4, C09 5,
// C03 6, C04 7, C08 8, C01 9, C06 10 → edges 2.8, 4.6, 6.4, 8.2 → F.
// C10 (1 purchase, like C02 and C07) lands in F2: equal-sized bins.
//
// monetary sorted 50,100,300,400,700,900,1200,2500,5000,8000 → edges
// 260, 580, 1020, 3000. C04: 1000+300+100−200 (refund) = 1200 → M4.
var rfmExpected = []struct {
	id            string
	recency, freq int
	monetary      string
	r, f, m       int
	segment       string
}{
	{"C01", 0, 5, "5000.00", 5, 5, 5, "champions"}, // C01-6 after as_of ignored
	{"C02", 10, 1, "100.00", 5, 1, 1, "new"},
	{"C03", 10, 3, "900.00", 5, 3, 3, "potential_loyalist"},
	{"C04", 30, 3, "1200.00", 4, 4, 4, "loyal"},
	{"C05", 45, 2, "400.00", 3, 2, 2, "about_to_sleep"}, // zero-value payment is a purchase
	{"C06", 60, 8, "8000.00", 3, 5, 5, "loyal"},         // two payments on one day: two purchases
	{"C07", 90, 1, "50.00", 2, 1, 1, "hibernating"},
	{"C08", 120, 4, "2500.00", 2, 4, 4, "at_risk"},
	{"C09", 200, 2, "700.00", 1, 3, 3, "at_risk"},
	{"C10", 365, 1, "300.00", 1, 2, 2, "hibernating"},
}

func TestRFMHandComputed(t *testing.T) {
	w := testWarehouse(t, "testdata/rfm")
	res := refresh(t, w, "2024-12-31", "rfm")
	var scored int
	if err := w.DB().QueryRow("SELECT count(*) FROM mart_rfm").Scan(&scored); err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "ok" || scored != 10 {
		t.Fatalf("run: %+v, %d customers scored (C11 has only a refund and must not be scored)", res[0], scored)
	}
	rows, err := w.DB().Query(`SELECT customer_id, recency_days, frequency, CAST(monetary AS VARCHAR), r_score, f_score, m_score, segment, CAST(as_of AS VARCHAR)
		FROM mart_rfm ORDER BY customer_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var id, m, seg, asOf string
		var rec, freq, r, f, ms int
		if err := rows.Scan(&id, &rec, &freq, &m, &r, &f, &ms, &seg, &asOf); err != nil {
			t.Fatal(err)
		}
		want := rfmExpected[i]
		if id != want.id || rec != want.recency || freq != want.freq || m != want.monetary || r != want.r || f != want.f || ms != want.m || seg != want.segment || asOf != "2024-12-31" {
			t.Errorf("got %s R%d(%dd) F%d(%d) M%d(%s) %s; want %+v", id, r, rec, f, freq, ms, m, seg, want)
		}
		i++
	}
	if i != len(rfmExpected) {
		t.Fatalf("%d rows, want %d", i, len(rfmExpected))
	}
}

func TestRFMWithoutPaymentsIsEmpty(t *testing.T) {
	w := testWarehouse(t)
	res := refresh(t, w, "2024-12-31", "rfm")
	if res[0].Status != "empty" || res[0].Message != "no payments loaded" || res[0].Rows != 0 {
		t.Fatalf("%+v", res[0])
	}
	var status string
	w.DB().QueryRow("SELECT status FROM model_runs WHERE model = 'rfm'").Scan(&status)
	if status != "empty" {
		t.Fatalf("model_runs status %q", status)
	}
}

// A payment that a snapshot load marked deleted no longer counts: C10's only
// payment is left out of a payments snapshot, so C10 drops out of RFM.
func TestRFMIgnoresRowsDeletedBySnapshot(t *testing.T) {
	w := testWarehouse(t, "testdata/rfm")
	src, err := os.ReadFile("testdata/rfm/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		if !strings.HasPrefix(line, "C10-") {
			kept = append(kept, line)
		}
	}
	snap := filepath.Join(t.TempDir(), "payments.csv")
	os.WriteFile(snap, []byte(strings.Join(kept, "\n")+"\n"), 0o644)
	rep, err := etl.Load(context.Background(), w, []string{snap}, etl.Options{Snapshot: []string{"payments"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files[0].Deleted != 1 {
		t.Fatalf("snapshot marked %d rows deleted, want 1", rep.Files[0].Deleted)
	}
	refresh(t, w, "2024-12-31", "rfm")
	var scored int
	if err := w.DB().QueryRow("SELECT count(*) FROM mart_rfm").Scan(&scored); err != nil {
		t.Fatal(err)
	}
	if scored != 9 {
		t.Fatalf("mart_rfm has %d customers after C10's payment was deleted, want 9", scored)
	}
	var n int
	w.DB().QueryRow("SELECT count(*) FROM mart_rfm WHERE customer_id = 'C10'").Scan(&n)
	if n != 0 {
		t.Fatal("C10 is still scored on a deleted payment")
	}
}

// Segment movement: the previous segments are exactly what a refresh as of the
// comparison date scores, and customers without a purchase by then are 'none'.
func TestRFMMovement(t *testing.T) {
	w := testWarehouse(t, "testdata/rfm")
	refresh(t, w, "2024-10-02", "rfm") // 90 days before 2024-12-31
	before := map[string]string{}
	rows, err := w.DB().Query("SELECT customer_id, segment FROM mart_rfm")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, seg string
		if err := rows.Scan(&id, &seg); err != nil {
			t.Fatal(err)
		}
		before[id] = seg
	}
	rows.Close()
	if len(before) == 0 {
		t.Fatal("no customer scored at 2024-10-02")
	}

	refresh(t, w, "2024-12-31", "rfm")
	rows, err = w.DB().Query(`SELECT m.customer_id, m.previous_segment, m.segment, r.segment, CAST(m.previous_as_of AS VARCHAR)
		FROM mart_rfm_movement m LEFT JOIN mart_rfm r USING (customer_id) ORDER BY m.customer_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, moved, fresh := 0, 0, 0
	for rows.Next() {
		var id, prev, seg, prevAsOf string
		var now sql.NullString
		if err := rows.Scan(&id, &prev, &seg, &now, &prevAsOf); err != nil {
			t.Fatal(err)
		}
		n++
		want, ok := before[id]
		if !ok {
			want = "none"
			fresh++
		}
		if prev != want {
			t.Errorf("%s: previous_segment %s, a refresh as of 2024-10-02 scored %s", id, prev, want)
		}
		if seg != now.String && !(seg == "none" && !now.Valid) {
			t.Errorf("%s: segment %s, mart_rfm has %v", id, seg, now)
		}
		if prevAsOf != "2024-10-02" {
			t.Errorf("%s: previous_as_of %s", id, prevAsOf)
		}
		if prev != seg {
			moved++
		}
	}
	if n != 10 || fresh == 0 || moved == 0 {
		t.Fatalf("%d customers, %d new since, %d moved: the fixture should have all three", n, fresh, moved)
	}
}
