package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"unicode"

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
	c := collisionKey(city)
	c = strings.TrimSuffix(strings.TrimSuffix(c, "市"), "city")
	if c != "" && strings.HasPrefix(key, c) && len(key) > len(c) {
		return key[len(c):]
	}
	return key
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
// are at least threshold similar (equal cores score 1). Only cores that share
// their first two characters are compared (blocking: the work grows with the
// customers per block, not with all pairs of customers), and pairs whose
// lengths alone rule the threshold out are skipped.
func similarNamePairs(cores map[string]string, threshold float64) [][]driver.Value {
	keysByCore := map[string][]string{}
	for key, core := range cores {
		keysByCore[core] = append(keysByCore[core], key)
	}
	blocks := map[string][]string{}
	for core := range keysByCore {
		r := []rune(core)
		blocks[string(r[:min(2, len(r))])] = append(blocks[string(r[:min(2, len(r))])], core)
	}
	var out [][]driver.Value
	emit := func(ca, cb string, score float64) {
		for _, a := range keysByCore[ca] {
			for _, b := range keysByCore[cb] {
				if a != b {
					out = append(out, []driver.Value{a, b, score})
				}
			}
		}
	}
	for core := range keysByCore {
		emit(core, core, 1) // different keys, same core: e.g. with and without the city
	}
	for _, block := range blocks {
		sort.Strings(block)
		runes := make([][]rune, len(block))
		for i, c := range block {
			runes[i] = []rune(c)
		}
		for i := range block {
			for j := i + 1; j < len(block); j++ {
				la, lb := len(runes[i]), len(runes[j])
				if 1-float64(abs(la-lb))/float64(max(la, lb)) < threshold {
					continue
				}
				if score := nameSimilarity(runes[i], runes[j]); score >= threshold {
					emit(block[i], block[j], score)
					emit(block[j], block[i], score)
				}
			}
		}
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
	if window < 0 {
		return fmt.Errorf("models.collision.window_days: %d is negative", window)
	}
	conn := rc.Conn
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE pl_col_keys (customer_id VARCHAR, name_key VARCHAR)"); err != nil {
		return err
	}
	var rows [][]driver.Value
	cores := map[string]string{} // name key → its core (the key without the city)
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
	if err := plAppend(conn, "pl_col_similar", similarNamePairs(cores, sim)); err != nil {
		return err
	}
	return rc.Exec(ctx, "collision.sql", map[string]string{"WindowDays": fmt.Sprint(window)})
}
