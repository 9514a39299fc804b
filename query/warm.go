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

// Warm computes the default view of every page that needs no id (the
// telescope, magnifier, funnel, customers, collections, microscope, alerts,
// collisions) for each scope and language, one chart at a time, so that the
// first person to open a page after a load or refresh gets it from the cache.
// Scopes come first to last in the order given (the most-used first). It
// stops as soon as the data version moves on (the next warm-up takes over)
// or ctx ends. One chart at a time keeps it from crowding out live requests.
func (s *Service) Warm(ctx context.Context, scopes []Scope, langs []string) (WarmReport, error) {
	start := time.Now()
	st, err := s.State(ctx)
	if err != nil {
		return WarmReport{}, err
	}
	rep := WarmReport{Version: st.Version}
	// Each chart runs with the defaults of the page the chart API takes it
	// from (PageOfChart), so the cache keys match what a browser asks for.
	var charts []*Chart
	seen := map[string]bool{}
	for _, p := range Pages() {
		if p.Placeholder || isDetailPath(p.Path) {
			continue
		}
		for _, sec := range p.Sections {
			for _, id := range sec.Charts {
				c, ok := ChartByID(id)
				if !ok || seen[id] {
					continue
				}
				if home := PageOfChart(id); home == nil || home.Placeholder || isDetailPath(home.Path) {
					continue
				}
				seen[id] = true
				charts = append(charts, c)
			}
		}
	}
	for _, sc := range scopes {
		if sc.Empty() {
			continue
		}
		for _, lang := range langs {
			envs := map[*Page]*Env{}
			for _, c := range charts {
				if ctx.Err() != nil {
					rep.Elapsed = time.Since(start)
					return rep, nil
				}
				if now, err := s.State(ctx); err != nil || now.Version != rep.Version {
					rep.Elapsed = time.Since(start)
					return rep, err
				}
				page := PageOfChart(c.ID)
				e := envs[page]
				if e == nil {
					if e, err = s.Env(ctx, Request{Lang: lang, Scope: sc, Query: url.Values{}, Page: page}); err != nil {
						return rep, err
					}
					envs[page] = e
				}
				t0 := time.Now()
				if _, _, err := s.Data(e, c); err != nil {
					rep.Failed++
				}
				rep.Charts++
				rep.noteTime(ChartTime{c.ID, sc.Key(), time.Since(t0)})
			}
		}
	}
	rep.Elapsed, rep.Complete = time.Since(start), true
	return rep, nil
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
