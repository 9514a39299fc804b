package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
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
	register(80, &Model{
		Name:   "collision",
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
func collisionCore(key, city string) string {
	c := collisionCity(city)
	if c != "" && strings.HasPrefix(key, c) && len(key) > len(c) {
		return key[len(c):]
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
	keysByCore := map[string][]string{}
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
	index := map[string][]string{}
	for core := range keysByCore {
		if utf8.RuneCountInString(core) < minLen {
			continue
		}
		for _, v := range deletionVariants([]rune(core), maxEdits) {
			index[v] = append(index[v], core)
		}
	}
	type pair struct{ a, b string }
	scored := map[pair]float64{}
	for _, group := range index {
		for i := range group {
			for j := i + 1; j < len(group); j++ {
				a, b := group[i], group[j]
				if a > b {
					a, b = b, a
				}
				if _, done := scored[pair{a, b}]; done {
					continue
				}
				ra, rb := []rune(a), []rune(b)
				score := nameSimilarity(ra, rb)
				edits := int(math.Round((1 - score) * float64(max(len(ra), len(rb)))))
				if edits > maxEdits || score < threshold {
					score = -1
				}
				scored[pair{a, b}] = score
			}
		}
	}
	var out [][]driver.Value
	emit := func(ca, cb string, score float64) {
		for _, a := range keysByCore[ca] {
			for _, b := range keysByCore[cb] {
				if a != b && (cities[a] == "" || cities[b] == "" || cities[a] == cities[b]) {
					out = append(out, []driver.Value{a, b, score})
				}
			}
		}
	}
	for core := range keysByCore {
		emit(core, core, 1) // different keys, same core: e.g. with and without the city
	}
	for p, score := range scored {
		if score >= 0 {
			emit(p.a, p.b, score)
			emit(p.b, p.a, score)
		}
	}
	return out
}

// deletionVariants lists the distinct strings made by deleting at most k
// characters from r (r itself included).
func deletionVariants(r []rune, k int) []string {
	seen := map[string]bool{string(r): true}
	frontier := [][]rune{r}
	for range k {
		var next [][]rune
		for _, s := range frontier {
			for i := range s {
				v := append(append([]rune{}, s[:i]...), s[i+1:]...)
				if key := string(v); !seen[key] {
					seen[key] = true
					next = append(next, v)
				}
			}
		}
		frontier = next
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
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
	sim := rc.Settings.Float("similarity", 0.9)
	window := rc.Settings.Int("window_days", 90)
	if sim <= 0 || sim > 1 {
		return fmt.Errorf("models.collision.similarity: %g is not in (0, 1]", sim)
	}
	maxEdits := rc.Settings.Int("max_edits", 1)
	if maxEdits < 0 || maxEdits > 3 {
		return fmt.Errorf("models.collision.max_edits: %d is not between 0 and 3", maxEdits)
	}
	if window < 0 {
		return fmt.Errorf("models.collision.window_days: %d is negative", window)
	}
	conn := rc.Conn
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pl_col_keys (customer_id VARCHAR, name_key VARCHAR)"); err != nil {
		return err
	}
	var rows [][]driver.Value
	cores := map[string]string{}  // name key → its core (the key without the city)
	cities := map[string]string{} // name key → normalised city
	if err := plScan(ctx, conn, `SELECT customer_id, name, coalesce(city, '') FROM pl_live_customers
		WHERE customer_id IN (SELECT customer_id FROM pl_deals)`, func(r *sql.Rows) error {
		var id, name, city string
		if err := r.Scan(&id, &name, &city); err != nil {
			return err
		}
		key := collisionKey(name)
		rows = append(rows, []driver.Value{id, key})
		if key != "" {
			cores[key] = collisionCore(key, city)
			if _, ok := cities[key]; !ok {
				cities[key] = collisionCity(city)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := plAppend(conn, "pl_col_keys", rows); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pl_col_similar (key_a VARCHAR, key_b VARCHAR, score DOUBLE)"); err != nil {
		return err
	}
	if err := plAppend(conn, "pl_col_similar", similarNamePairs(cores, cities, sim, maxEdits)); err != nil {
		return err
	}
	return rc.Exec(ctx, "collision.sql", map[string]string{"WindowDays": fmt.Sprint(window)})
}
