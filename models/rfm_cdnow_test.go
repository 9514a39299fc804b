package models

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRFMOnCDNOWMaster scores the 23,570 CDNOW customers as of 1998-06-30 and
// compares every customer's R, F, M and segment with an independent Go
// implementation of the same definition (pandas qcut rules).
func TestRFMOnCDNOWMaster(t *testing.T) {
	type cust struct {
		last  time.Time
		freq  int
		cents int64
		id    string
	}
	f, err := os.Open("testdata/cdnow_master/CDNOW_master.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "payments.csv"))
	bw := bufio.NewWriter(out)
	bw.WriteString("payment_id,customer_id,paid_on,amount\n")
	byID := map[string]*cust{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	line := 1
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			continue
		}
		day, err := time.Parse("20060102", fs[1])
		if err != nil {
			t.Fatal(err)
		}
		dollars, _ := strconv.ParseFloat(fs[3], 64)
		cents := int64(math.Round(dollars * 100))
		fmt.Fprintf(bw, "L%d,%s,%s,%d.%02d\n", line, fs[0], day.Format("2006-01-02"), cents/100, cents%100)
		c := byID[fs[0]]
		if c == nil {
			c = &cust{id: fs[0]}
			byID[fs[0]] = c
		}
		c.freq++
		c.cents += cents
		if day.After(c.last) {
			c.last = day
		}
	}
	bw.Flush()
	out.Close()

	asOf := time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
	var cs []*cust
	for _, c := range byID {
		cs = append(cs, c)
	}
	n := len(cs)
	if n != 23570 {
		t.Fatalf("%d customers in the master file, want 23570", n)
	}
	recency := func(c *cust) float64 { return math.Round(asOf.Sub(c.last).Hours() / 24) }
	edges := func(vals []float64) [4]float64 {
		s := append([]float64(nil), vals...)
		sort.Float64s(s)
		var e [4]float64
		for i, q := range []float64{0.2, 0.4, 0.6, 0.8} {
			pos := q * float64(len(s)-1)
			lo := math.Floor(pos)
			hi := math.Min(lo+1, float64(len(s)-1))
			e[i] = s[int(lo)] + (pos-lo)*(s[int(hi)]-s[int(lo)])
		}
		return e
	}
	bin := func(v float64, e [4]float64) int {
		for i, x := range e {
			if v <= x {
				return i + 1
			}
		}
		return 5
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].freq != cs[j].freq {
			return cs[i].freq < cs[j].freq
		}
		return cs[i].id < cs[j].id
	})
	rank := map[string]float64{}
	var rv, fv, mv []float64
	for i, c := range cs {
		rank[c.id] = float64(i + 1)
		rv = append(rv, recency(c))
		fv = append(fv, float64(i+1))
		mv = append(mv, float64(c.cents)/100)
	}
	re, fe, me := edges(rv), edges(fv), edges(mv)

	w := testWarehouse(t, dir)
	refresh(t, w, "1998-06-30", "rfm")
	rows, err := w.DB().Query("SELECT customer_id, recency_days, frequency, CAST(monetary * 100 AS BIGINT), r_score, f_score, m_score, segment FROM mart_rfm")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	segments := map[string]int{}
	for rows.Next() {
		var id, seg string
		var rec, freq int
		var cents int64
		var r, fs, m int
		rows.Scan(&id, &rec, &freq, &cents, &r, &fs, &m, &seg)
		c := byID[id]
		wantR := 6 - bin(recency(c), re)
		wantF := bin(rank[id], fe)
		wantM := bin(float64(c.cents)/100, me)
		if float64(rec) != recency(c) || freq != c.freq || cents != c.cents || r != wantR || fs != wantF || m != wantM {
			t.Fatalf("customer %s: got R%d(%d) F%d(%d) M%d(%d); want R%d(%v) F%d(%d) M%d(%d)", id, r, rec, fs, freq, m, cents, wantR, recency(c), wantF, c.freq, wantM, c.cents)
		}
		segments[seg]++
		got++
	}
	if got != n {
		t.Fatalf("mart_rfm has %d customers, want %d", got, n)
	}
	// Equal-sized frequency bins despite heavy ties (most customers bought once).
	var perF [6]int
	for _, c := range cs {
		perF[bin(rank[c.id], fe)]++
	}
	for s := 1; s <= 5; s++ {
		if perF[s] != n/5 {
			t.Errorf("F%d holds %d customers, want %d", s, perF[s], n/5)
		}
	}
	t.Logf("CDNOW segments as of 1998-06-30: %v; edges R %v M %v", segments, re, me)
}
