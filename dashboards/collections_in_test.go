package dashboards_test

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/triscope/triscope/access"
)

// scoped.collections_in sums a period's whole months from
// facts.collection_months and its partial first and last months from the
// payments. For each user and periods that start and end on a month's
// edges, inside months, within one month, across years, reversed, with a
// bound missing: its sums
// by month, owner and product line equal those of the payments of the
// period the reference rule lets the user see (facts.payments' amount_base,
// visibility from the base tables, summed and counted here).
func TestCollectionsInSumsAsCollections(t *testing.T) {
	var last time.Time
	if err := env.w.DB().QueryRow(`SELECT max(paid_on) FROM facts.payments`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	// months back from the last payment's month
	m := func(back, day int) time.Time {
		return time.Date(last.Year(), last.Month()-time.Month(back), day, 0, 0, 0, 0, time.UTC)
	}
	monthEnd := func(back int) time.Time { return m(back-1, 1).AddDate(0, 0, -1) }
	periods := [][2]time.Time{
		{m(11, 1), monthEnd(0)},  // whole months only
		{m(14, 5), m(1, 20)},     // partial first and last months across a year
		{m(3, 5), m(3, 20)},      // inside one month
		{m(3, 1), m(3, 20)},      // from a 1st to inside the month
		{m(3, 5), monthEnd(3)},   // from inside a month to its end
		{m(4, 10), m(2, 9)},      // a partial month, a whole one, a partial one
		{m(2, 1), m(4, 1)},       // reversed: nothing
		{m(40, 1), monthEnd(30)}, // before the data
		{m(3, 5), {}},            // no end (a NULL bound): nothing
		{{}, m(3, 20)},           // no start: nothing
	}
	orNull := func(d time.Time) any {
		if d.IsZero() {
			return nil
		}
		return d
	}
	users := scopeUsers()
	for _, name := range []string{"ceo", "east", "analyst", "rep"} {
		u := users[name]
		p := access.ScopeFor(u).Params()
		vis := ownerVisible(t, "payments", u)
		for _, per := range periods {
			want, wantN, gotN := map[string]*big.Rat{}, map[string]int64{}, map[string]int64{}
			rows, err := env.w.DB().Query(`SELECT payment_id, strftime(paid_on, '%Y-%m') || '|' || coalesce(owner_rep_id, '') || '|' || coalesce(owner_org, '') || '|' || coalesce(product_line, ''),
				CAST(amount_base AS VARCHAR) FROM facts.payments WHERE paid_on BETWEEN $1 AND $2`, orNull(per[0]), orNull(per[1]))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, key, amount string
				if err := rows.Scan(&id, &key, &amount); err != nil {
					t.Fatal(err)
				}
				if vis[id] {
					addRat(t, want, key, amount)
					wantN[key]++
				}
			}
			rows.Close()
			got := map[string]*big.Rat{}
			rows, err = env.w.DB().Query(`SELECT strftime(month, '%Y-%m') || '|' || coalesce(owner_rep_id, '') || '|' || coalesce(owner_org, '') || '|' || coalesce(product_line, ''),
				CAST(sum(amount_base) AS VARCHAR), sum(payments) FROM scoped.collections_in($1, $2, $3, CAST($4 AS DATE), CAST($5 AS DATE)) GROUP BY 1`,
				p["scope_all"], p["scope_org"], p["scope_rep"], orNull(per[0]), orNull(per[1]))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var key, amount string
				var n int64
				if err := rows.Scan(&key, &amount, &n); err != nil {
					t.Fatal(err)
				}
				addRat(t, got, key, amount)
				gotN[key] = n
			}
			rows.Close()
			what := fmt.Sprintf("%s, %s .. %s", name, per[0].Format(time.DateOnly), per[1].Format(time.DateOnly))
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if got[k] == nil || got[k].Cmp(want[k]) != 0 || gotN[k] != wantN[k] {
					t.Errorf("%s: %s sums to %v of %d payments, the visible payments to %s of %d", what, k, got[k], gotN[k], want[k].FloatString(2), wantN[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if want[k] == nil && got[k].Sign() != 0 {
					t.Errorf("%s: %s sums to %s, but no visible payment of the period has it", what, k, got[k].FloatString(2))
				}
			}
			if len(want) == 0 && per[0].Before(per[1]) && per[0].After(m(20, 1)) {
				t.Errorf("%s: no visible payment: the case proves little", what)
			}
		}
	}
}

func addRat(t *testing.T, sums map[string]*big.Rat, key, amount string) {
	t.Helper()
	r, ok := new(big.Rat).SetString(amount)
	if !ok {
		t.Fatalf("amount %q", amount)
	}
	if sums[key] == nil {
		sums[key] = new(big.Rat)
	}
	sums[key].Add(sums[key], r)
}
