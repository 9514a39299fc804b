package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
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
	if err := plScan(ctx, conn, `SELECT customer_id, name FROM pl_live_customers
		WHERE customer_id IN (SELECT customer_id FROM pl_deals)`, func(r *sql.Rows) error {
		var id, name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		rows = append(rows, []driver.Value{id, collisionKey(name)})
		return nil
	}); err != nil {
		return err
	}
	if err := plAppend(conn, "pl_col_keys", rows); err != nil {
		return err
	}
	return rc.Exec(ctx, "collision.sql", map[string]string{"Similarity": plFloat(sim), "WindowDays": fmt.Sprint(window)})
}
