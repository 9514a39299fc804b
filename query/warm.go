package query

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// WarmReport says what a warm-up did.
type WarmReport struct {
	Version  string
	Charts   int // chart responses computed (or already cached)
	Failed   int
	Elapsed  time.Duration
	Complete bool // false when the data changed or ctx ended part-way
	// Slowest are the charts that took longest to compute, slowest first (at
	// most 10; cache hits take no time).
	Slowest []ChartTime
}

// ChartTime is how long one chart took for one scope.
type ChartTime struct {
	Chart   string
	Scope   string
	Elapsed time.Duration
}

// Home is a page someone lands on: warmed before everything else.
type Home struct {
	Scope Scope
	Page  *Page
	ID    string // the :id of a detail page (/reps/:id), "" for others
}

// Warm computes, for each language, first the homes given (each person's
// landing page, in the order given), then the default view of every page
// that needs no id (the telescope, magnifier, funnel, customers,
// collections, microscope, alerts, collisions) for each scope, one chart at
// a time, so that the first person to open a page after a load or refresh
// gets it from the cache. It stops as soon as the data version moves on
// (the next warm-up takes over) or ctx ends. One chart at a time keeps it
// from crowding out live requests.
func (s *Service) Warm(ctx context.Context, homes []Home, scopes []Scope, langs []string) (WarmReport, error) {
	start := time.Now()
	st, err := s.State(ctx)
	if err != nil {
		return WarmReport{}, err
	}
	w := &warming{s: s, rep: WarmReport{Version: st.Version}, done: map[string]bool{}}
	finish := func(complete bool, err error) (WarmReport, error) {
		w.rep.Elapsed, w.rep.Complete = time.Since(start), complete && err == nil
		return w.rep, err
	}
	for _, h := range homes {
		if h.Scope.Empty() || h.Page == nil || h.Page.Placeholder {
			continue
		}
		q := url.Values{}
		if h.ID != "" {
			q.Set("id", h.ID)
		}
		for _, lang := range langs {
			if ok, err := w.charts(ctx, h.Scope, lang, pageCharts(h.Page), q); !ok || err != nil {
				return finish(false, err)
			}
		}
	}
	// Each chart runs with the defaults of the page the chart API takes it
	// from (PageOfChart), so the cache keys match what a browser asks for.
	var charts []*Chart
	seen := map[string]bool{}
	for _, p := range Pages() {
		if p.Placeholder || isDetailPath(p.Path) {
			continue
		}
		for _, c := range pageCharts(p) {
			if home := PageOfChart(c.ID); seen[c.ID] || home == nil || home.Placeholder || isDetailPath(home.Path) {
				continue
			}
			seen[c.ID] = true
			charts = append(charts, c)
		}
	}
	for _, sc := range scopes {
		if sc.Empty() {
			continue
		}
		for _, lang := range langs {
			if ok, err := w.charts(ctx, sc, lang, charts, url.Values{}); !ok || err != nil {
				return finish(false, err)
			}
		}
	}
	return finish(true, nil)
}

// warming is one warm-up under way.
type warming struct {
	s    *Service
	rep  WarmReport
	done map[string]bool // scope|lang|chart|query already computed
}

// charts computes charts for one scope and language as the chart API does
// for a request with query q (a detail page's id). ok is false when the data
// changed or ctx ended: the warm-up stops.
func (w *warming) charts(ctx context.Context, sc Scope, lang string, charts []*Chart, q url.Values) (ok bool, err error) {
	envs := map[*Page]*Env{}
	for _, c := range charts {
		key := strings.Join([]string{sc.Key(), lang, c.ID, q.Encode()}, "|")
		if w.done[key] {
			continue
		}
		w.done[key] = true
		if ctx.Err() != nil {
			return false, nil
		}
		if now, err := w.s.State(ctx); err != nil || now.Version != w.rep.Version {
			return false, err
		}
		page := PageOfChart(c.ID)
		e := envs[page]
		if e == nil {
			if e, err = w.s.Env(ctx, Request{Lang: lang, Scope: sc, Query: cloneValues(q), Page: page}); err != nil {
				return false, err
			}
			envs[page] = e
		}
		t0 := time.Now()
		if _, _, err := w.s.Data(e, c); err != nil {
			w.rep.Failed++
		}
		w.rep.Charts++
		w.rep.noteTime(ChartTime{c.ID, sc.Key(), time.Since(t0)})
	}
	return true, nil
}

// pageCharts are the charts of a page, in its order.
func pageCharts(p *Page) []*Chart {
	var out []*Chart
	for _, sec := range p.Sections {
		for _, id := range sec.Charts {
			if c, ok := ChartByID(id); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// isDetailPath reports whether a page path takes an id (/customers/:id).
func isDetailPath(path string) bool { return strings.Contains(path, "/:") }

func (r *WarmReport) noteTime(t ChartTime) {
	i := sort.Search(len(r.Slowest), func(i int) bool { return r.Slowest[i].Elapsed < t.Elapsed })
	if i >= 10 {
		return
	}
	r.Slowest = slices.Insert(r.Slowest, i, t)
	if len(r.Slowest) > 10 {
		r.Slowest = r.Slowest[:10]
	}
}
