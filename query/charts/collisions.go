package charts

import (
	"github.com/triscope/triscope/query"
)

// Collisions (撞单): deals registered while another registrant (rep or
// partner) had an open deal on the same customer or a customer of the same
// (normalised) name. The list with the ruling forms is drawn by the server
// (dashboards/collisions.go); rulings are stored in collision_rulings.
var (
	collisionStatuses = []string{"open", "closed", "all"}
	collisionRulings  = []string{"all", "pending", "ruled"}
	// collisionAges: how long ago the later deal was registered (days, from
	// the as-of date): at most max, at least min (-1 = no bound).
	collisionAges = []struct {
		value    string
		min, max int
	}{{"all", -1, -1}, {"week", -1, 7}, {"month", -1, 30}, {"quarter", -1, 90}, {"older", 91, -1}}
)

// CollisionPageSize is how many collisions the list shows a page.
const CollisionPageSize = 25

func init() {
	var st, ru []query.Choice
	for _, s := range collisionStatuses {
		st = append(st, query.Choice{Value: s, Label: "collisions.status." + s})
	}
	for _, s := range collisionRulings {
		ru = append(ru, query.Choice{Value: s, Label: "collisions.ruling." + s})
	}
	var ag []query.Choice
	for _, a := range collisionAges {
		ag = append(ag, query.Choice{Value: a.value, Label: "collisions.age." + a.value})
	}
	query.RegisterPage(&query.Page{
		ID: "collisions", Path: "/collisions", Title: "page.collisions", Nav: 8,
		Filters:  []string{"org", "cur"},
		Defaults: map[string]string{"status": "open", "ruling": "all", "age": "all"},
		Controls: []query.Control{
			{Param: "status", Label: "control.collision_status", Options: st},
			{Param: "ruling", Label: "control.ruling", Options: ru},
			{Param: "age", Label: "control.collision_age", Options: ag},
		},
		Sections: []query.Section{
			{Charts: []string{"collisions.kpis"}},
			{Charts: []string{"collisions.by_kind", "collisions.by_org"}},
		},
	})
	drill := &query.Drill{SQL: "collisions_rows.sql", Key: "collision_id", Entity: "collisions"}
	needs := []string{"mart_collisions", "collision_rulings"}
	query.RegisterChart(&query.Chart{
		ID:       "collisions.kpis",
		Glossary: []string{"collisions", "collisions_open", "collisions_pending", "collisions_ruled"}, Title: "chart.collisions.kpis", Kind: query.KindKPI, Span: 12, Height: 120,
		SQL: "collisions_kpis.sql", Needs: needs, Params: CollisionParams, Build: buildCollisionKPIs, Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "collisions.by_kind",
		Glossary: []string{"collisions"}, Title: "chart.collisions.by_kind", Help: "help.collisions.by_kind", Span: 6, Height: 300,
		SQL: "collisions_by_kind.sql", Needs: needs, Params: CollisionParams, Build: buildCollisionsByKind, Drill: drill,
	})
	query.RegisterChart(&query.Chart{
		ID:       "collisions.by_org",
		Glossary: []string{"collisions"}, Title: "chart.collisions.by_org", Help: "help.collisions.by_org", Span: 6, Height: 300,
		SQL: "collisions_by_org.sql", Needs: needs, Params: CollisionParams, Build: buildCollisionsByOrg, Drill: drill,
	})
}

// CollisionParams are the page's filters as SQL parameters: $status (open,
// closed; NULL = all), $ruling (pending, ruled; NULL = all), $rep (a rep of
// either deal; NULL = any), $min_age and $max_age (days since the later
// registration; NULL = no bound).
func CollisionParams(e *query.Env) (map[string]any, error) {
	st := e.Param("status", "open", collisionStatuses...)
	ru := e.Param("ruling", "all", collisionRulings...)
	p := map[string]any{"status": st, "ruling": ru, "rep": nil, "min_age": nil, "max_age": nil}
	if st == "all" {
		p["status"] = nil
	}
	if ru == "all" {
		p["ruling"] = nil
	}
	if rep := e.Param("rep", ""); rep != "" && len(rep) <= 100 {
		p["rep"] = rep
	}
	age := e.Param("age", "all")
	for _, a := range collisionAges {
		if a.value == age {
			if a.min >= 0 {
				p["min_age"] = int64(a.min)
			}
			if a.max >= 0 {
				p["max_age"] = int64(a.max)
			}
		}
	}
	return p, nil
}

func buildCollisionKPIs(e *query.Env, r *query.Result) (*query.Output, error) {
	k := kpiRows(r)
	c := k["collisions"]
	ck := kpi(e, "collisions", "count", c.v, c.ok)
	ck.Sub = t(e, "kpi.sub.amount_later", fmtMoney(e, zeroNaN(c.extra)))
	o := k["open"]
	ok := kpi(e, "collisions_open", "count", o.v, o.ok)
	ok.Point = "open"
	p := k["pending"]
	pk := kpi(e, "collisions_pending", "count", p.v, p.ok)
	pk.Point = "pending"
	pk.Sub = t(e, "kpi.sub.pending")
	rl := k["ruled"]
	rk := kpi(e, "collisions_ruled", "count", rl.v, rl.ok)
	rk.Point = "ruled"
	return &query.Output{KPIs: []query.KPI{ck, ok, pk, rk}}, nil
}

func buildCollisionsByKind(e *query.Env, r *query.Result) (*query.Output, error) {
	n := len(r.Rows)
	cats := make([]string, n)
	ruled, pending := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i := range r.Rows {
		k := r.Str(i, "match_kind")
		cats[i] = code(e, "match_kind", k)
		ruled[i], pending[i] = r.Float(i, "ruled"), r.Float(i, "pending")
		points[i] = query.Point{Key: "k:" + k}
	}
	a := newAxisChart(cats, true)
	a.bars(t(e, "series.pending"), pending, query.ColorWarn, "r")
	a.bars(t(e, "series.ruled"), ruled, query.ColorGood, "r")
	return &query.Output{Option: finish(a, "count"), Points: points, Labels: cats, Horizontal: true, Format: "count", Legend: a.legend,
		Empty: allZeroOrNaN(ruled, pending)}, nil
}

func buildCollisionsByOrg(e *query.Env, r *query.Result) (*query.Output, error) {
	n := min(len(r.Rows), 15)
	cats := make([]string, n)
	ruled, pending := make([]float64, n), make([]float64, n)
	points := make([]query.Point, n)
	for i := 0; i < n; i++ {
		cats[i] = r.Str(i, "label")
		key := r.Str(i, "key")
		if r.Str(i, "kind") == "org" {
			points[i] = query.Point{Key: "u:" + key, Zoom: key}
		} else {
			points[i] = query.Point{Key: "r:" + key[len("rep:"):]}
		}
		ruled[i], pending[i] = r.Float(i, "ruled"), r.Float(i, "pending")
	}
	a := newAxisChart(cats, true)
	a.bars(t(e, "series.pending"), pending, query.ColorWarn, "r")
	a.bars(t(e, "series.ruled"), ruled, query.ColorGood, "r")
	return &query.Output{Option: finish(a, "count"), Points: points, Labels: cats, Horizontal: true, Format: "count", Legend: a.legend,
		Empty: allZeroOrNaN(ruled, pending)}, nil
}
