package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// collision: duplicate deal registrations — a new opportunity on a customer
// (same customer, or a customer whose name matches after normalisation or is
// similar enough) that already has an open opportunity of the same product
// line registered by another rep or partner within the window. The first
// registrant keeps it; managers rule on the list. See docs/models/pipeline.md.
//
// Settings (models.collision.*): similarity (0.9: jaro_winkler_similarity of
// the normalised names at or above which names are "similar"), window_days
// (90: how far back an earlier registration counts).
func init() {
	register(&Model{
		Name:   "collision",
		Reads:  append([]string{"customers", "partners"}, pipelineInputs...),
		Needs:  []string{"opportunities"},
		Tables: []string{"mart_collisions"},
		Run:    runCollision,
	})
}

// Legal-form words removed from the end of a name. Chinese forms are cut off
// the end of the last word (longest first); English forms are whole words.
var (
	collisionZhSuffixes = []string{"股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "集团", "公司", "股份"}
	collisionEnSuffixes = map[string]bool{"co": true, "ltd": true, "limited": true, "inc": true, "incorporated": true,
		"corp": true, "corporation": true, "company": true, "llc": true, "plc": true, "group": true, "holdings": true}
)

// collisionKey normalises a customer name for matching: NFKC (full-width
// letters, digits, punctuation and spaces become their ASCII forms), lower
// case, punctuation to spaces, legal forms (有限公司, 股份有限公司, 集团, Co.,
// Ltd., Inc. …) removed from the end, then all spacing removed. A name that
// is nothing but a legal form is kept as it is.
func collisionKey(name string) string {
	s := strings.ToLower(norm.NFKC.String(name))
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return ' '
	}, s)
	words := strings.Fields(s)
	for changed := true; changed && len(words) > 0; {
		changed = false
		last := words[len(words)-1]
		if collisionEnSuffixes[last] && len(words) > 1 {
			words, changed = words[:len(words)-1], true
			continue
		}
		for _, suf := range collisionZhSuffixes {
			if strings.HasSuffix(last, suf) && (len(last) > len(suf) || len(words) > 1) {
				if rest := strings.TrimSuffix(last, suf); rest != "" {
					words[len(words)-1] = rest
				} else {
					words = words[:len(words)-1]
				}
				changed = true
				break
			}
		}
	}
	return strings.Join(words, "")
}

// collisionCore removes the customer's city from the front of its name key:
// Chinese company names are city + trade name + industry + legal form, so two
// different companies of one city share a long prefix that says nothing about
// whether they are the same customer. The trade name and industry remain.
func collisionCore(key, city string) string { return coreOf(key, collisionCity(city)) }

// coreOf is key without the normalised city normCity in front.
func coreOf(key, normCity string) string {
	if normCity != "" && strings.HasPrefix(key, normCity) && len(key) > len(normCity) {
		return key[len(normCity):]
	}
	return key
}

// collisionCity normalises a city name: 上海市 and 上海, "Shanghai City" and
// "shanghai" are one city.
func collisionCity(city string) string {
	return strings.TrimSuffix(strings.TrimSuffix(collisionKey(city), "市"), "city")
}

// nameSimilarity is 1 − (Levenshtein distance in characters ÷ the longer
// length): 1 for equal names, 0.94 for one typo in a 17-letter name.
// Characters, not bytes: one differing Chinese character costs one edit.
func nameSimilarity(a, b []rune) float64 {
	n := max(len(a), len(b))
	if n == 0 {
		return 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(b)])/float64(n)
}

// similarNamePairs lists the ordered pairs of different name keys whose cores
// differ by at most maxEdits characters (Levenshtein) and are at least
// threshold similar; equal cores score 1. Candidates come from a deletion
// index (two strings within k edits share a string obtained by deleting at
// most k characters from each), so the work grows with the number of
// customers, not with the pairs of customers.
//
// cities maps a key to its customer's normalised city: keys in two different
// known cities are never near matches (a duplicate record of one company is
// in its city; "Taimingmei" in Zhengzhou and "Taimingbei" in Ningbo are two).
func similarNamePairs(cores map[string]string, cities map[string]string, threshold float64, maxEdits int) [][]driver.Value {
	return similarNamePairsTouching(cores, cities, nil, threshold, maxEdits)
}

// similarNamePairsTouching lists the pairs of similarNamePairs that have a
// key in changed (all of them when changed is nil): what the collision cache
// replaces when those keys' customers changed. Only the changed cores'
// deletion variants are indexed, and every core's variants are looked up in
// it, so a daily load's few new names cost one pass over the names instead
// of the index of all of them.
func similarNamePairsTouching(cores, cities map[string]string, changed map[string]bool, threshold float64, maxEdits int) [][]driver.Value {
	keysByCore := make(map[string][]string, len(cores))
	for key, core := range cores {
		keysByCore[core] = append(keysByCore[core], key)
	}
	// Two different cores are at least one edit apart, so their similarity is
	// at most 1 − 1/n for the longer length n: below minLong characters no
	// pair can reach the threshold, and the shorter core is at most maxEdits
	// shorter. Leaving the short cores out of the index changes no result and
	// keeps it small (most Chinese company names are 4–6 characters without
	// their city and legal form, and share many deletion variants).
	minLen := math.MaxInt
	if threshold < 1 {
		minLen = int(math.Ceil(1/(1-threshold)-1e-9)) - maxEdits
	}
	var indexed []string
	for core := range keysByCore {
		if utf8.RuneCountInString(core) >= minLen {
			indexed = append(indexed, core)
		}
	}
	sort.Strings(indexed)
	runes := make([][]rune, len(indexed))
	for i, core := range indexed {
		runes[i] = []rune(core)
	}
	var pairs []uint64
	changedCores := map[string]bool{}
	if changed == nil {
		pairs = candidatePairs(deletionIndex(runes, maxEdits))
	} else {
		for key := range changed {
			if core, ok := cores[key]; ok {
				changedCores[core] = true
			}
		}
		pairs = candidatePairsWith(runes, indexed, changedCores, maxEdits)
	}
	// Score each candidate pair once, in parallel (the machine's other cores
	// are idle while this runs: the refresh waits for it).
	scores := make([]float64, len(pairs))
	inParallel(parallelRanges(len(pairs), nil), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			ra, rb := runes[pairs[i]>>32], runes[uint32(pairs[i])]
			score := nameSimilarity(ra, rb)
			edits := int(math.Round((1 - score) * float64(max(len(ra), len(rb)))))
			if edits > maxEdits || score < threshold {
				score = -1
			}
			scores[i] = score
		}
	})
	var out [][]driver.Value
	emit := func(ca, cb string, score float64) {
		for _, a := range keysByCore[ca] {
			for _, b := range keysByCore[cb] {
				if a != b && (cities[a] == "" || cities[b] == "" || cities[a] == cities[b]) &&
					(changed == nil || changed[a] || changed[b]) {
					out = append(out, []driver.Value{a, b, score})
				}
			}
		}
	}
	for core := range keysByCore {
		if changed == nil || changedCores[core] {
			emit(core, core, 1) // different keys, same core: e.g. with and without the city
		}
	}
	for i, p := range pairs {
		if scores[i] >= 0 {
			a, b := indexed[p>>32], indexed[uint32(p)]
			emit(a, b, scores[i])
			emit(b, a, scores[i])
		}
	}
	return out
}

// candidatePairsWith lists, like candidatePairs, the pairs of different
// cores (a < b, as a<<32 | b, numbered in indexed) within edit reach of each
// other, but only those with a core in some: their deletion variants are
// indexed in a map, and every core's variants looked up in it.
func candidatePairsWith(runes [][]rune, indexed []string, some map[string]bool, maxEdits int) []uint64 {
	coreBits := deletionBits(len(runes))
	lookup := map[uint64][]uint32{}
	for i, core := range indexed {
		if !some[core] {
			continue
		}
		for _, e := range appendDeletionHashes(nil, runes[i], maxEdits, uint32(i), coreBits) {
			h := e.hash(coreBits)
			if l := lookup[h]; len(l) == 0 || l[len(l)-1] != uint32(i) {
				lookup[h] = append(l, uint32(i))
			}
		}
	}
	if len(lookup) == 0 {
		return nil
	}
	ranges := parallelRanges(len(runes), nil)
	lists := make([][]uint64, len(ranges))
	inParallel(ranges, func(part, lo, hi int) {
		var pairs []uint64
		var buf []deletionEntry
		for j := lo; j < hi; j++ {
			buf = appendDeletionHashes(buf[:0], runes[j], maxEdits, uint32(j), coreBits)
			for _, e := range buf {
				for _, i := range lookup[e.hash(coreBits)] {
					switch {
					case i < uint32(j):
						pairs = append(pairs, uint64(i)<<32|uint64(j))
					case i > uint32(j):
						pairs = append(pairs, uint64(j)<<32|uint64(i))
					}
				}
			}
		}
		slices.Sort(pairs)
		lists[part] = slices.Compact(pairs)
	})
	all := slices.Concat(lists...)
	slices.Sort(all)
	return slices.Compact(all)
}

// deletionIndex is the sorted list of entries (hash of a deletion variant,
// core number) of the cores: one allocation and no pointers for the garbage
// collector to scan, where a map from variant strings to cores made 1.6 M
// customers' ~30 M variants cost a minute. Each worker fills and sorts its
// own slice of the cores, and the sorted slices are merged. It returns the
// number of low bits that number the cores.
func deletionIndex(runes [][]rune, maxEdits int) ([]deletionEntry, uint) {
	coreBits := deletionBits(len(runes))
	offsets := make([]int, len(runes)+1)
	for i, r := range runes {
		offsets[i+1] = offsets[i] + deletionCount(len(r), maxEdits)
	}
	all := make([]deletionEntry, offsets[len(runes)])
	ranges := parallelRanges(len(runes), func(i int) int { return offsets[i+1] - offsets[i] })
	parts := make([][]deletionEntry, len(ranges))
	inParallel(ranges, func(part, lo, hi int) {
		entries := all[offsets[lo]:offsets[lo]:offsets[hi]]
		for i := lo; i < hi; i++ {
			entries = appendDeletionHashes(entries, runes[i], maxEdits, uint32(i), coreBits)
		}
		parts[part] = sortEntries(entries)
	})
	return slices.Compact(mergeSorted(parts)), coreBits // a core's variants can repeat ("aab" less either a)
}

// mergeSorted merges sorted slices into one sorted slice.
func mergeSorted(parts [][]deletionEntry) []deletionEntry {
	if len(parts) == 1 {
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]deletionEntry, 0, n)
	for {
		best := -1
		for i, p := range parts {
			if len(p) > 0 && (best < 0 || p[0] < parts[best][0]) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		// copy the run of the best part up to the other parts' smallest head
		p, limit := parts[best], deletionEntry(math.MaxUint64)
		for i, q := range parts {
			if i != best && len(q) > 0 && q[0] < limit {
				limit = q[0]
			}
		}
		k := 1
		for k < len(p) && p[k] <= limit {
			k++
		}
		out = append(out, p[:k]...)
		parts[best] = p[k:]
	}
}

// candidatePairs lists, sorted and once each, the pairs of different cores
// (a < b, as a<<32 | b) that share a hash in the index: the pairs within
// edit reach of each other, and a few that a hash collision adds (the edit
// distance rejects them).
func candidatePairs(index []deletionEntry, coreBits uint) []uint64 {
	ranges := parallelRanges(len(index), nil)
	lists := make([][]uint64, len(ranges))
	inParallel(ranges, func(part, lo, hi int) {
		// a group of equal hashes belongs to the range holding its first entry
		for lo > 0 && lo < hi && index[lo].hash(coreBits) == index[lo-1].hash(coreBits) {
			lo++
		}
		var pairs []uint64
		for lo < hi {
			h := index[lo].hash(coreBits)
			end := lo + 1
			for end < len(index) && index[end].hash(coreBits) == h {
				end++
			}
			for i := lo; i < end; i++ {
				for j := i + 1; j < end; j++ {
					// sorted by hash, then core: index[i]'s core is the smaller
					pairs = append(pairs, uint64(index[i].core(coreBits))<<32|uint64(index[j].core(coreBits)))
				}
			}
			lo = end
		}
		slices.Sort(pairs)
		lists[part] = slices.Compact(pairs)
	})
	all := slices.Concat(lists...)
	slices.Sort(all)
	return slices.Compact(all)
}

// deletionEntry is one entry of the deletion index: the hash of a string
// made by deleting characters from a core in its high bits, the core's
// number in its low coreBits bits. Eight bytes an entry, not sixteen: the
// index is held three times over while it is sorted and merged (a name of
// n letters makes n + 1 entries with one edit: tens of millions for the
// large demo company's 1.6 M names). The hash loses coreBits
// bits, which adds a few candidate pairs the edit distance rejects.
type deletionEntry uint64

// deletionBits is the number of low bits of an entry that number n cores.
func deletionBits(n int) uint { return uint(max(1, bits.Len(uint(n)))) }

func (e deletionEntry) hash(coreBits uint) uint64 { return uint64(e) >> coreBits }
func (e deletionEntry) core(coreBits uint) uint32 { return uint32(uint64(e) & (1<<coreBits - 1)) }

// appendDeletionHashes appends an entry for every string made by deleting at
// most k characters from r (r itself included; a string that can be made in
// two ways appears twice).
func appendDeletionHashes(dst []deletionEntry, r []rune, k int, core uint32, coreBits uint) []deletionEntry {
	skip := make([]int, 0, k)
	var walk func(from int)
	walk = func(from int) {
		dst = append(dst, deletionEntry(hashSkipping(r, skip)>>coreBits<<coreBits|uint64(core)))
		if len(skip) == k {
			return
		}
		for i := from; i < len(r); i++ {
			skip = append(skip, i)
			walk(i + 1)
			skip = skip[:len(skip)-1]
		}
	}
	walk(0)
	return dst
}

// deletionCount is the number of entries appendDeletionHashes makes for n
// characters: the ways to delete at most k of them.
func deletionCount(n, k int) int {
	count, ways := 0, 1
	for d := 0; d <= k && d <= n; d++ {
		count += ways
		ways = ways * (n - d) / (d + 1)
	}
	return count
}

// sortEntries sorts the entries (a least-significant-digit radix sort, 16
// bits a pass: linear where a comparison sort of tens of millions of entries
// takes many seconds). It may return the other of its two buffers.
func sortEntries(a []deletionEntry) []deletionEntry {
	b := make([]deletionEntry, len(a))
	var count [1 << 16]int
	for shift := 0; shift < 64; shift += 16 {
		clear(count[:])
		for _, e := range a {
			count[e>>shift&0xffff]++
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for _, e := range a {
			d := e >> shift & 0xffff
			b[count[d]] = e
			count[d]++
		}
		a, b = b, a
	}
	return a
}

// hashSkipping is the 64-bit FNV-1a hash of r's characters (three bytes
// each) without those at the positions in skip (increasing).
func hashSkipping(r []rune, skip []int) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i, c := range r {
		if len(skip) > 0 && skip[0] == i {
			skip = skip[1:]
			continue
		}
		h = (h ^ uint64(c&0xff)) * prime
		h = (h ^ uint64(c>>8&0xff)) * prime
		h = (h ^ uint64(c>>16)) * prime
	}
	return h
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func runCollision(ctx context.Context, rc *RunContext) error {
	if err := plPrep(ctx, rc); err != nil {
		return err
	}
	p := collisionParams{
		similarity: rc.Settings.Float("similarity", 0.9),
		windowDays: rc.Settings.Int("window_days", 90),
		maxEdits:   rc.Settings.Int("max_edits", 1),
	}
	if p.similarity <= 0 || p.similarity > 1 {
		return fmt.Errorf("models.collision.similarity: %g is not in (0, 1]", p.similarity)
	}
	if p.maxEdits < 0 || p.maxEdits > 3 {
		return fmt.Errorf("models.collision.max_edits: %d is not between 0 and 3", p.maxEdits)
	}
	if p.windowDays < 0 {
		return fmt.Errorf("models.collision.window_days: %d is negative", p.windowDays)
	}
	// pl_col_keys, pl_col_similar, pl_col_deals and pl_col_matches, from the
	// cache or computed directly (collision_cache.go)
	if err := collisionInputs(ctx, rc, p); err != nil {
		return err
	}
	return rc.Exec(ctx, "collision.sql", p.data("mart", nil))
}

// collisionParams are collision's settings.
type collisionParams struct {
	similarity float64
	windowDays int
	maxEdits   int
}

// data is the template data of collision.sql's step.
func (p collisionParams) data(step string, more map[string]any) map[string]any {
	return mergeData(map[string]any{"Step": step, "WindowDays": fmt.Sprint(p.windowDays)}, more)
}

// colName is one customer's normalised name (key) and city.
type colName struct{ id, key, city string }

// collisionNames reads the customers of live.customers (those in the temp
// table col_changed_customers when onlyChanged) and normalises their names
// and cities.
func collisionNames(ctx context.Context, conn *sql.Conn, onlyChanged bool) ([]colName, error) {
	type customer struct{ id, name, city string }
	var customers []customer
	q := "SELECT customer_id, name, coalesce(city, '') FROM live.customers"
	if onlyChanged {
		q += " WHERE customer_id IN (SELECT customer_id FROM col_changed_customers)"
	}
	if err := plScan(ctx, conn, q, func(r *sql.Rows) error {
		var c customer
		if err := r.Scan(&c.id, &c.name, &c.city); err != nil {
			return err
		}
		customers = append(customers, c)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading the customers' names: %w", err)
	}
	// Normalising 1.6 M names and cities (NFKC, legal forms) takes seconds of
	// one core while the others wait: split it.
	out := make([]colName, len(customers))
	inParallel(parallelRanges(len(customers), nil), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			c := customers[i]
			out[i] = colName{id: c.id, key: collisionKey(c.name)}
			if out[i].key != "" {
				out[i].city = collisionCity(c.city)
			}
		}
	})
	return out, nil
}

// keyAttributes gives each name key its city and core. Customers sharing a
// key may name different cities: the key's city is the first of them in
// byte order (so "" — a customer without a city — makes the key match in
// any city), and its core is the key without that city in front.
func keyAttributes(names []colName) (cores, cities map[string]string) {
	// sized up front: growing maps of 1.6 M keys rehashes them several times
	cores = make(map[string]string, len(names))  // name key → its core (the key without the city)
	cities = make(map[string]string, len(names)) // name key → normalised city
	for _, n := range names {
		if n.key == "" {
			continue
		}
		if c, ok := cities[n.key]; !ok || n.city < c {
			cities[n.key] = n.city
		}
	}
	for key, city := range cities {
		cores[key] = coreOf(key, city)
	}
	return cores, cities
}
