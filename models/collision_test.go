package models

import (
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestCollisionKey(t *testing.T) {
	for in, want := range map[string]string{
		"Huaxin Technology Co., Ltd.": "huaxintechnology", // Co., Ltd.
		"ＨＵＡＸＩＮ Technology Co.，Ltd":   "huaxintechnology", // full-width letters and comma (NFKC)
		"huaxin  technology inc.":     "huaxintechnology", // case, double space, Inc.
		"ACME　Retail":                 "acmeretail",       // ideographic space
		"１２３ Trading Co.":             "123trading",       // full-width digits
		"Acme Corp.":                  "acme",
		"Acme Limited":                "acme",
		"ABC Holdings Co Ltd":         "abc",
		"Acme Group":                  "acme",
		"Group":                       "group",  // only a legal form: kept
		"上海明达物流有限公司":                  "上海明达物流", // 有限公司
		"上海明达物流股份有限公司":                "上海明达物流", // 股份有限公司
		"明达集团有限公司":                    "明达",     // 有限公司, then 集团
		"明达（集团）":                      "明达",     // full-width brackets
		"明达 集团":                       "明达",     // spacing
		"集团":                          "集团",     // only a legal form: kept
	} {
		if got := collisionKey(in); got != want {
			t.Errorf("collisionKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Fixture testdata/collision, as_of 2024-06-30, all on product line ERP but
// D09 (CRM). Keys: K1 K2 K3 → huaxintechnology (Co., Ltd.; full-width; Inc.
// and spacing), K4 K5 → 上海明达物流, K6 K7 → 明达, K8 → huaxingtechnology
// (a typo), K9 → huaxtechnology. Registrants: R1, R2, R3 and partner PT1 (D06, owner R1).
// No customer has a city, so the cores are the keys.
//
// Similarity = 1 − character edits ÷ longer length, for at most max_edits (1)
// edits. huaxingtechnology (17) vs huaxintechnology (16): one insertion →
// 1 − 1/17 = 0.941176 ≥ 0.9. K9 huaxtechnology (14) vs huaxintechnology: two
// deletions → 1 − 2/16 = 0.875: below 0.9 and over one edit; vs
// huaxingtechnology: three edits.
//
//	D02 (R2) ← D01 (R1) same name
//	D07 (R2) ← D01 similar 0.941176 (D02 is R2's own)
//	D08 (R3, huaxtechnology) nothing at 0.9 / one edit
//	D03 (R3, won 03-15) ← D01, D02 same name, D07 similar: closed
//	D04 (K1, R1) ← D02 same name, D07 similar, D03 same name (still open on 02-05);
//	  D01 is the same customer but R1's own: not a conflict, yet the first registration
//	D06 (partner PT1) ← D05 (R1) same name (股份有限公司)
//	D13 (R2) ← D05 same customer K4, D06 same name
//	D09: other product line. D10 (06-01): every huaxin deal is over 90 days older.
//	D12 (明达) ← D11 (明达集团) would match, but D11 was lost on 04-10, before 04-15.
func TestCollisionCoreAndSimilarity(t *testing.T) {
	for _, c := range []struct{ name, city, core string }{
		{"Shanghai Huaxin Technology Co., Ltd.", "Shanghai", "huaxintechnology"},
		{"上海明达物流有限公司", "上海", "明达物流"},
		{"上海明达物流有限公司", "上海市", "明达物流"},                         // 市 in the city column
		{"Huaxin Technology", "Shanghai", "huaxintechnology"}, // no city in the name
		{"Shanghai", "Shanghai", "shanghai"},                  // nothing but the city: kept
	} {
		if got := collisionCore(collisionKey(c.name), c.city); got != c.core {
			t.Errorf("core of %q in %q = %q, want %q", c.name, c.city, got, c.core)
		}
	}
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"明达物流", "明达物资", 0.75}, // one character of four, not two bytes
		{"huaxintechnology", "huaxingtechnology", 1 - 1.0/17},
		{"gangzielectronics", "yangshielectronics", 1 - 3.0/18}, // different companies of one city
		{"", "", 1},
	} {
		if got := nameSimilarity([]rune(c.a), []rune(c.b)); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("similarity(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	// Pairs: equal cores pair up at 1; one edit anywhere (even the first
	// letter) is found; two edits are not with max_edits 1.
	pairs := similarNamePairs(map[string]string{
		"shanghaihuaxintechnology": "huaxintechnology",
		"huaxintechnology":         "huaxintechnology",
		"huaxingtechnology":        "huaxingtechnology",
		"uaxintechnology":          "uaxintechnology",
		"huaxtechnology":           "huaxtechnology",
		"beijinghuaxintechnology":  "huaxintechnology",
	}, map[string]string{"shanghaihuaxintechnology": "shanghai", "beijinghuaxintechnology": "beijing"}, 0.9, 1)
	got := map[string]float64{}
	for _, p := range pairs {
		got[p[0].(string)+"|"+p[1].(string)] = p[2].(float64)
	}
	// beijinghuaxintechnology pairs with every key of unknown city, never with
	// the Shanghai one.
	want := map[string]float64{
		"beijinghuaxintechnology|huaxintechnology": 1, "huaxintechnology|beijinghuaxintechnology": 1,
		"beijinghuaxintechnology|huaxingtechnology": 1 - 1.0/17, "huaxingtechnology|beijinghuaxintechnology": 1 - 1.0/17,
		"beijinghuaxintechnology|uaxintechnology": 1 - 1.0/16, "uaxintechnology|beijinghuaxintechnology": 1 - 1.0/16,
		"shanghaihuaxintechnology|huaxintechnology": 1, "huaxintechnology|shanghaihuaxintechnology": 1,
		"huaxintechnology|huaxingtechnology": 1 - 1.0/17, "huaxingtechnology|huaxintechnology": 1 - 1.0/17,
		"shanghaihuaxintechnology|huaxingtechnology": 1 - 1.0/17, "huaxingtechnology|shanghaihuaxintechnology": 1 - 1.0/17,
		"huaxintechnology|uaxintechnology": 1 - 1.0/16, "uaxintechnology|huaxintechnology": 1 - 1.0/16,
		"shanghaihuaxintechnology|uaxintechnology": 1 - 1.0/16, "uaxintechnology|shanghaihuaxintechnology": 1 - 1.0/16,
	}
	if len(got) != len(want) {
		t.Errorf("pairs = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
			t.Errorf("pair %s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestCollisions(t *testing.T) {
	w := plWarehouse(t, "testdata/collision")
	plRefresh(t, w, "2024-06-30", nil, "collision")
	const cols = `opportunity_id, conflicts_with_opportunity_id, customer_key, match_kind, score, first_registered_opportunity_id, first_registrant, registered_at, status`
	plExpect(t, w, "SELECT "+cols+" FROM mart_collisions", []string{
		"D02 | D01 | huaxintechnology | same_name | 1.000000 | D01 | rep:R1 | 2024-01-10 | open",
		"D07 | D01 | huaxingtechnology | similar_name | 0.941176 | D01 | rep:R1 | 2024-01-10 | open",
		"D03 | D01 | huaxintechnology | same_name | 1.000000 | D01 | rep:R1 | 2024-01-10 | closed",
		"D03 | D02 | huaxintechnology | same_name | 1.000000 | D01 | rep:R1 | 2024-01-10 | closed",
		"D03 | D07 | huaxintechnology | similar_name | 0.941176 | D01 | rep:R1 | 2024-01-10 | closed",
		"D04 | D02 | huaxintechnology | same_name | 1.000000 | D01 | rep:R1 | 2024-01-10 | open",
		"D04 | D07 | huaxintechnology | similar_name | 0.941176 | D01 | rep:R1 | 2024-01-10 | open",
		"D04 | D03 | huaxintechnology | same_name | 1.000000 | D01 | rep:R1 | 2024-01-10 | closed",
		"D06 | D05 | 上海明达物流 | same_name | 1.000000 | D05 | rep:R1 | 2024-03-01 | open",
		"D13 | D05 | 上海明达物流 | same_customer | 1.000000 | D05 | rep:R1 | 2024-03-01 | open",
		"D13 | D06 | 上海明达物流 | same_name | 1.000000 | D05 | rep:R1 | 2024-03-01 | open",
	})
	plExpect(t, w, "SELECT registrant, conflicts_with_registrant FROM mart_collisions WHERE opportunity_id = 'D13' ORDER BY 2", []string{
		"rep:R2 | partner:PT1",
		"rep:R2 | rep:R1",
	})
	// At 0.85 with two edits allowed the near miss counts: huaxtechnology is
	// 0.875 from huaxintechnology (D01, D02); huaxingtechnology (D07) is
	// three edits away.
	plRefresh(t, w, "2024-06-30", map[string]Settings{"collision": {"similarity": 0.85, "max_edits": 2}}, "collision")
	plExpect(t, w, "SELECT conflicts_with_opportunity_id, match_kind, score FROM mart_collisions WHERE opportunity_id = 'D08'", []string{
		"D01 | similar_name | 0.875000",
		"D02 | similar_name | 0.875000",
	})
	// A window of 200 days reaches back from D10 (06-01) to the huaxin deals
	// open on 06-01: D01, D02, D04, D07 (D03 was won on 03-15).
	plRefresh(t, w, "2024-06-30", map[string]Settings{"collision": {"window_days": 200}}, "collision")
	plExpect(t, w, "SELECT conflicts_with_opportunity_id, match_kind FROM mart_collisions WHERE opportunity_id = 'D10'", []string{
		"D01 | same_customer",
		"D02 | same_name",
		"D07 | similar_name",
		"D04 | same_customer",
	})
}

// TestSimilarNamePairsMatchesBruteForce compares the deletion index with
// every pair of names scored directly, on random names with planted near
// duplicates (one and two edits, Chinese and Latin letters).
func TestSimilarNamePairsMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabets := [][]rune{[]rune("abcdefghij"), []rune("明达物流华信科技贸易")}
	randomName := func() []rune {
		a := alphabets[rng.IntN(2)]
		r := make([]rune, 6+rng.IntN(14))
		for i := range r {
			r[i] = a[rng.IntN(len(a))]
		}
		return r
	}
	edit := func(r []rune) []rune {
		r = slices.Clone(r)
		switch i := rng.IntN(len(r)); rng.IntN(3) {
		case 0:
			return slices.Delete(r, i, i+1)
		case 1:
			return slices.Insert(r, i, 'x')
		default:
			r[i] = 'y'
			return r
		}
	}
	cityNames := []string{"", "shanghai", "beijing"}
	cores, cities := map[string]string{}, map[string]string{}
	add := func(core []rune) {
		city := cityNames[rng.IntN(3)]
		key := city + string(core)
		cores[key], cities[key] = string(core), city
		if rng.IntN(4) == 0 {
			cores[string(core)], cities[string(core)] = string(core), "" // the same core without the city
		}
	}
	for range 400 {
		r := randomName()
		add(r)
		if rng.IntN(2) == 0 {
			add(edit(r))
		}
		if rng.IntN(4) == 0 {
			add(edit(edit(r)))
		}
	}
	// once as the fixture's size makes it (one range), once split over five
	// workers: the index is built, sorted, merged and paired in parts
	for _, split := range []bool{false, true} {
		if split {
			defer func(min, procs int) { parallelMinItems = min; runtime.GOMAXPROCS(procs) }(parallelMinItems, runtime.GOMAXPROCS(5))
			parallelMinItems = 1
		}
		checkSimilarNamePairs(t, cores, cities, split)
	}
}

func checkSimilarNamePairs(t *testing.T, cores, cities map[string]string, split bool) {
	for _, c := range []struct {
		threshold float64
		maxEdits  int
	}{{0.9, 1}, {0.8, 2}, {0.95, 1}, {1, 1}} {
		want := map[string]float64{}
		for a, ca := range cores {
			for b, cb := range cores {
				if a == b || (cities[a] != "" && cities[b] != "" && cities[a] != cities[b]) {
					continue
				}
				ra, rb := []rune(ca), []rune(cb)
				score := nameSimilarity(ra, rb)
				edits := int(math.Round((1 - score) * float64(max(len(ra), len(rb)))))
				if ca == cb || (edits <= c.maxEdits && score >= c.threshold) {
					want[a+"|"+b] = score
				}
			}
		}
		got := map[string]float64{}
		for _, p := range similarNamePairs(cores, cities, c.threshold, c.maxEdits) {
			got[p[0].(string)+"|"+p[1].(string)] = p[2].(float64)
		}
		if len(got) != len(want) {
			t.Errorf("split %v, threshold %v, max %d edits: %d pairs, brute force %d", split, c.threshold, c.maxEdits, len(got), len(want))
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
				t.Errorf("split %v, threshold %v, max %d edits: pair %s = %v (present %v), want %v", split, c.threshold, c.maxEdits, k, g, ok, v)
			}
		}
		if c.threshold == 0.9 && len(want) < 200 {
			t.Errorf("only %d pairs: the fixture plants too few near duplicates to test anything", len(want))
		}
		// The pairs of some keys only (what the collision cache replaces when
		// their customers change): exactly the brute-force pairs with one of
		// them on either side.
		keys := slices.Sorted(maps.Keys(cores))
		changed := map[string]bool{}
		for i, k := range keys {
			if i%7 == 0 {
				changed[k] = true
			}
		}
		touching := map[string]float64{}
		for _, p := range similarNamePairsTouching(cores, cities, changed, c.threshold, c.maxEdits) {
			touching[p[0].(string)+"|"+p[1].(string)] = p[2].(float64)
		}
		n := 0
		for k, v := range want {
			a, b, _ := strings.Cut(k, "|")
			if !changed[a] && !changed[b] {
				continue
			}
			n++
			if g, ok := touching[k]; !ok || math.Abs(g-v) > 1e-12 {
				t.Errorf("split %v, threshold %v, max %d edits: pair %s of a changed key = %v (present %v), want %v", split, c.threshold, c.maxEdits, k, g, ok, v)
			}
		}
		if len(touching) != n {
			t.Errorf("split %v, threshold %v, max %d edits: %d pairs of the changed keys, brute force %d", split, c.threshold, c.maxEdits, len(touching), n)
		}
	}
}

// Merging sorted parts gives one sorted slice, whatever part holds the
// smallest head and however the parts' runs interleave.
func TestMergeSorted(t *testing.T) {
	parts := [][]deletionEntry{
		{1, 5, 6, 9},
		{},
		{2, 3, 7, 8},
		{0, 4, 10, 12},
		{11},
	}
	got := mergeSorted(parts)
	want := []deletionEntry{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if !slices.Equal(got, want) {
		t.Fatalf("merged\n%v\nwant\n%v", got, want)
	}
}

// An entry keeps its core whole and its hash less the core's bits; sorted
// entries are in hash order, then core order.
func TestDeletionEntry(t *testing.T) {
	bits := deletionBits(1_600_000) // the large demo company's names
	if bits != 21 {
		t.Fatalf("deletionBits(1.6 M) = %d, want 21", bits)
	}
	r := []rune("taimingmei")
	es := appendDeletionHashes(nil, r, 1, 1_599_999, bits)
	if len(es) != deletionCount(len(r), 1) {
		t.Fatalf("%d entries, want %d", len(es), deletionCount(len(r), 1))
	}
	for i, e := range es {
		if e.core(bits) != 1_599_999 {
			t.Fatalf("entry %d: core %d", i, e.core(bits))
		}
	}
	if es[0].hash(bits) != hashSkipping(r, nil)>>bits {
		t.Fatalf("the first entry is the whole core's hash less %d bits", bits)
	}
	sorted := sortEntries(slices.Clone(es))
	if !slices.IsSorted(sorted) || len(sorted) != len(es) {
		t.Fatalf("sortEntries: %v", sorted)
	}
}

// BenchmarkSimilarNamePairs indexes 200,000 Latin names of 12–24 letters
// (the large demo company has ~1.6 M customers).
func BenchmarkSimilarNamePairs(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cores, cities := map[string]string{}, map[string]string{}
	for len(cores) < 200_000 {
		r := make([]rune, 12+rng.IntN(13))
		for i := range r {
			r[i] = rune('a' + rng.IntN(26))
		}
		cores[string(r)] = string(r)
	}
	b.ResetTimer()
	for b.Loop() {
		similarNamePairs(cores, cities, 0.9, 1)
	}
}
