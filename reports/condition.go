package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// conditionEnv is the environment of a condition's chart: the report's
// parameters, the condition's own, the recipient's scope.
func (s *Service) conditionEnv(ctx context.Context, r *Report, p Principal, d *document, chart string) (*query.Chart, *query.Env, error) {
	ch, ok := query.ChartByID(chart)
	if !ok {
		return nil, nil, fmt.Errorf("chart %q does not exist", chart)
	}
	st, err := s.engine.State(ctx)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.engine.Env(ctx, query.Request{Lang: d.Lang, Scope: p.Scope, Query: Values(st.AsOf, r.Params, r.Condition.Params), Page: query.PageOfChart(chart)})
	return ch, e, err
}

// kpiHolds compares the condition's KPI tile, in the recipient's scope.
func (s *Service) kpiHolds(ctx context.Context, r *Report, p Principal, d *document) (bool, string, error) {
	c := r.Condition
	ch, e, err := s.conditionEnv(ctx, r, p, d, c.Chart)
	if err != nil {
		return false, "", err
	}
	b, _, err := s.engine.Data(e, ch)
	if err != nil {
		return false, "", err
	}
	var data query.ChartData
	if err := json.Unmarshal(b, &data); err != nil {
		return false, "", err
	}
	for _, k := range data.KPIs {
		if k.Key != c.KPI {
			continue
		}
		var v *float64
		switch c.Field {
		case "", "value":
			v = k.Value
		case "target":
			v = k.Target
		case "compare":
			v = k.Compare
		case "progress":
			v = k.Progress
			if v == nil && k.Value != nil && k.Target != nil && *k.Target != 0 {
				x := *k.Value / *k.Target
				v = &x
			}
		}
		if v == nil {
			return false, i18n.T(d.Lang, "report.cond.no_value", k.Label), nil
		}
		if compare(*v, c.Op, c.Value) {
			return true, "", nil
		}
		return false, i18n.T(d.Lang, "report.cond.kpi", k.Label, strconv.FormatFloat(*v, 'g', 6, 64), c.Op, strconv.FormatFloat(c.Value, 'g', 6, 64)), nil
	}
	return false, i18n.T(d.Lang, "report.cond.no_value", c.KPI), nil
}

func compare(v float64, op string, x float64) bool {
	switch op {
	case "<":
		return v < x
	case "<=":
		return v <= x
	case ">":
		return v > x
	case ">=":
		return v >= x
	case "=":
		return math.Abs(v-x) < 1e-9
	case "!=":
		return math.Abs(v-x) >= 1e-9
	}
	return false
}

// conditionRowLimit bounds the rows a condition reads.
const conditionRowLimit = 100_000

// conditionRows lists the keys of the rows behind the condition's chart,
// in the recipient's scope, that pass its filters.
func (s *Service) conditionRows(ctx context.Context, r *Report, p Principal, d *document) ([]string, error) {
	c := r.Condition
	ch, e, err := s.conditionEnv(ctx, r, p, d, c.Rows)
	if err != nil {
		return nil, err
	}
	cur, err := s.engine.OpenRows(e, ch, c.Point, 0, false, conditionRowLimit)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	idx := map[string]int{}
	for i, col := range cur.Columns {
		idx[col.Name] = i
	}
	key, ok := idx[ch.Drill.Key]
	if !ok {
		key = 0
	}
	for _, f := range c.Where {
		if _, ok := idx[f.Column]; !ok {
			return nil, fmt.Errorf("the rows of %s have no column %q", c.Rows, f.Column)
		}
	}
	var keys []string
	for cur.Next() {
		row := cur.Values()
		pass := true
		for _, f := range c.Where {
			if !filterHolds(row[idx[f.Column]], f) {
				pass = false
				break
			}
		}
		if pass {
			keys = append(keys, fmt.Sprint(row[key]))
		}
	}
	return keys, cur.Err()
}

func filterHolds(v any, f Filter) bool {
	if v == nil {
		return false
	}
	if fv, ok := asFloat(v); ok {
		if x, ok := asFloat(f.Value); ok {
			return compare(fv, f.Op, x)
		}
	}
	a, b := fmt.Sprint(v), fmt.Sprint(f.Value)
	switch f.Op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// hash is a digest of what a document shows: its charts' numbers and the
// rows it lists (the condition "only when it changes").
func (s *Service) hash(d *document) (string, error) {
	h := sha256.New()
	for _, pt := range d.Parts {
		fmt.Fprintf(h, "part %s\n", pt.Title)
		for _, f := range pt.Figures {
			b, _ := json.Marshal(struct {
				K any
				T any
				S string
			}{f.KPIs, f.Table, f.State})
			h.Write(b)
		}
		if pt.Saved != nil {
			b, _ := json.Marshal(pt.Saved.Rows)
			h.Write(b)
		}
		if pt.Rows != nil {
			cur, err := s.engine.OpenRows(pt.Env, pt.Rows.Chart, pt.Rows.Point, 0, false, conditionRowLimit)
			if err != nil {
				return "", err
			}
			for cur.Next() {
				b, _ := json.Marshal(cur.Values())
				h.Write(b)
			}
			err = cur.Err()
			cur.Close()
			if err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
