package dashboards_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/triscope/triscope/query"
)

// The segment movement of the customers page (customers.segment_movement,
// from mart_rfm_movement). Its drill-through is also checked for every role by
// TestScopeRowsAndExports (it iterates over the registry); here: the cells
// against an independent count of mart_rfm_movement, and a cell's rows.

type heatJSON struct {
	State  string `json:"state"`
	Option struct {
		Series []struct {
			Type string `json:"type"`
			Data []struct {
				Name  string    `json:"name"`
				Value []float64 `json:"value"`
			} `json:"data"`
		} `json:"series"`
	} `json:"option"`
	Points  []query.Point `json:"points"`
	Missing []string      `json:"missing"`
	Note    string        `json:"note"`
}

// cells returns the heat map's cells by drill key ("mv:<previous>:<segment>").
func (d heatJSON) cells(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	if len(d.Option.Series) == 0 {
		return out
	}
	s := d.Option.Series[0]
	if s.Type != "heatmap" || len(s.Data) != len(d.Points) {
		t.Fatalf("series %q with %d cells and %d points", s.Type, len(s.Data), len(d.Points))
	}
	for i, c := range s.Data {
		if len(c.Value) != 3 {
			t.Fatalf("cell %d: value %v", i, c.Value)
		}
		out[d.Points[i].Key] += c.Value[2]
	}
	return out
}

// movementRef: mart_rfm_movement's rows by cell, for the customers a user may see.
func movementRef(t *testing.T, vis map[string]bool) (map[string]float64, map[string]map[string]bool) {
	t.Helper()
	rows, err := env.w.DB().QueryContext(context.Background(),
		`SELECT customer_id, previous_segment, segment FROM mart_rfm_movement`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, ids := map[string]float64{}, map[string]map[string]bool{}
	for rows.Next() {
		var id, prev, seg string
		if err := rows.Scan(&id, &prev, &seg); err != nil {
			t.Fatal(err)
		}
		if !vis[id] {
			continue
		}
		k := "mv:" + prev + ":" + seg
		n[k]++
		if ids[k] == nil {
			ids[k] = map[string]bool{}
		}
		ids[k][id] = true
	}
	return n, ids
}

func TestSegmentMovement(t *testing.T) {
	ch, ok := query.ChartByID("customers.segment_movement")
	if !ok || ch.Drill == nil {
		t.Fatal("customers.segment_movement is not registered with a drill-through")
	}
	var all, days int
	queryRow(t, `SELECT count(*), date_diff('day', min(previous_as_of), max(as_of)) FROM mart_rfm_movement`, nil, &all, &days)
	users := scopeUsers()
	for _, name := range []string{"ceo", "east", "analyst", "rep", "nobody", "ghost"} {
		t.Run(name, func(t *testing.T) {
			c := login(t, name)
			var d heatJSON
			if code := c.getJSON("/api/charts/customers.segment_movement", &d); code != 200 {
				t.Fatalf("HTTP %d", code)
			}
			got := d.cells(t)
			want, ids := movementRef(t, visible(t, "customers_by_payments", users[name]))
			var sum, wantSum float64
			for _, v := range got {
				sum += v
			}
			for _, v := range want {
				wantSum += v
			}
			if name == "ceo" {
				// Every row of mart_rfm_movement (the demo's customers all exist) is a customer in a cell.
				if d.State != "ok" || sum == 0 || int(sum) != all {
					t.Fatalf("state %s: the cells sum to %v, mart_rfm_movement has %d rows", d.State, sum, all)
				}
				if !strings.Contains(d.Note, fmt.Sprintf("(%d days", days)) {
					t.Errorf("the note does not give the %d days since the comparison date: %q", days, d.Note)
				}
			}
			if sum != wantSum {
				t.Errorf("the cells sum to %v, the reference rule gives %v", sum, wantSum)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("cell %s: %v, want %v", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("cell %s (%v) should not be shown", k, got[k])
				}
			}
			switch name {
			case "nobody", "ghost":
				if len(got) != 0 || d.State != "empty" {
					t.Fatalf("no scope: state %s with %d cells", d.State, len(got))
				}
				return
			case "east", "rep":
				if sum == 0 {
					t.Fatalf("%s has no customer in the movement: the check proves nothing", name)
				}
			}
			// The rows behind the largest cell where customers changed segment
			// (and behind a cell of customers new since) are exactly its customers.
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			best, bestNone := "", ""
			for _, k := range keys {
				p := strings.Split(k, ":")
				if p[1] != p[2] && (best == "" || got[k] > got[best]) {
					best = k
				}
				if p[1] == "none" && (bestNone == "" || got[k] > got[bestNone]) {
					bestNone = k
				}
			}
			for _, k := range []string{best, bestNone} {
				if k == "" {
					continue
				}
				rows, _ := allRows(t, c, ch, url.Values{"point": {k}})
				gotIDs := map[string]bool{}
				for id := range rows["customers"] {
					gotIDs[id] = true
				}
				if dd := diff(gotIDs, ids[k]); dd != "" {
					t.Errorf("rows of %s: %s", k, dd)
				}
			}
		})
	}
}

// TestSegmentMovementNotComputed: on a warehouse without mart_rfm_movement (a
// refresh by an older version) the chart says "not computed yet", and the
// rest of the page works.
func TestSegmentMovementNotComputed(t *testing.T) {
	rename := func(from, to string) {
		t.Helper()
		err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
			_, err := conn.ExecContext(ctx, `ALTER TABLE `+from+` RENAME TO `+to)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		env.srv.Engine().Invalidate()
	}
	rename("mart_rfm_movement", "mart_rfm_movement_hidden")
	t.Cleanup(func() { rename("mart_rfm_movement_hidden", "mart_rfm_movement") })
	c := login(t, "ceo")
	for _, lang := range []string{"en", "zh-CN"} {
		var d heatJSON
		if code := c.getJSON("/api/charts/customers.segment_movement?lang="+lang, &d); code != 200 {
			t.Fatalf("%s: HTTP %d", lang, code)
		}
		if d.State != "not_computed" || !slices.Contains(d.Missing, "mart_rfm_movement") {
			t.Fatalf("%s: state %q, missing %v", lang, d.State, d.Missing)
		}
		var seg chartJSON
		if c.getJSON("/api/charts/customers.segments?lang="+lang, &seg); seg.State != "ok" {
			t.Errorf("%s: the segments chart is %q without the movement", lang, seg.State)
		}
	}
	if code, _ := pageStatus(t, c, "/customers"); code != 200 {
		t.Fatalf("/customers: HTTP %d", code)
	}
}
