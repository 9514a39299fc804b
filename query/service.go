package query

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/i18n"
)

//go:embed sql/data_state.sql
var dataStateSQL string

// Options configure a Service.
type Options struct {
	DB           Querier        // the warehouse read pool
	BaseCurrency string         // default CNY
	Location     *time.Location // how instants are shown
	Logger       *slog.Logger
	QueryTimeout time.Duration // per query (default 30 s)
	// FiscalYearStart is the first month of the fiscal year (1 = January,
	// the default): the fytd and lfy periods.
	FiscalYearStart int
	// CacheEntries bounds the chart cache (default 2000); negative turns it
	// off, every request computed (bench-serve --cold measures first views).
	CacheEntries int
	// Observe, when set, is called after every chart request (metrics):
	// kind "data" (a chart's JSON) or "rows" (the rows behind it), cached or
	// not; and kind "sql" each time a chart query runs against the
	// warehouse, with the SQL file's name for chart (charts that share a
	// query and its arguments run it once).
	Observe func(chart, kind string, d time.Duration, cached bool, err error)
}

// Service runs charts for requests.
type Service struct {
	opts    Options
	log     *slog.Logger
	cache   *cache[[]byte]
	results *cache[*Result]
	group   singleflight.Group
	pinyin  pinyinState

	observer atomic.Value // func(chart, kind string, d time.Duration, cached bool, err error)

	// computing is when the refresh of the models under way started (Unix
	// nanoseconds; 0: none): the pages say the models are being computed.
	computing   atomic.Int64
	computingMu sync.Mutex
	computingN  int // refreshes under way

	mu       sync.Mutex
	state    *DataState
	checked  time.Time
	checking bool       // a background version check is running
	refresh  sync.Mutex // one state refresh at a time
}

// DataState is what the dashboards know about the warehouse at one data version.
type DataState struct {
	Version    string    // "<max load_id>.<max refresh_id>.<generation>"
	AsOf       time.Time // latest date with activity in the data
	LoadedAt   time.Time // last committed load
	LoadID     int64
	ComputedAt time.Time // last model refresh
	ModelsAsOf time.Time
	Objects    map[string]bool    // tables and table macros that exist
	Rates      map[string]float64 // display currencies → rate to base on the as-of date
	Lines      []string           // product lines
	Roots      []string           // org units without a parent
}

// New creates a Service.
func New(opts Options) *Service {
	if opts.BaseCurrency == "" {
		opts.BaseCurrency = "CNY"
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.CacheEntries == 0 {
		opts.CacheEntries = 2000
	}
	if opts.CacheEntries < 0 {
		opts.CacheEntries = 0
	}
	return &Service{opts: opts, log: opts.Logger, cache: newCache[[]byte](opts.CacheEntries), results: newCache[*Result](opts.CacheEntries / 4)}
}

// Observe sets the function called after every chart query (the HTTP
// server's metrics), replacing Options.Observe.
func (s *Service) Observe(f func(chart, kind string, d time.Duration, cached bool, err error)) {
	s.observer.Store(f)
}

// Definitions is the text of the shared definitions a chart's SQL runs on:
// the relations of schema scoped (access/sql/scoped.sql) it names, and those
// they name in turn, as installed, over the facts the models build on the
// write path (models/sql/facts.sql).
func (s *Service) Definitions(sqlTexts ...string) string {
	st := s.current()
	defs := map[string]access.Relation{}
	for _, r := range access.Relations() {
		if st == nil || st.Objects["scoped."+r.Name] {
			defs[r.Name] = r // a later block of the same name (the fallback) is the one installed
		}
	}
	var order []string
	seen := map[string]bool{}
	var visit func(text string)
	visit = func(text string) {
		for _, m := range scopedRef.FindAllStringSubmatch(text, -1) {
			name := m[1]
			r, ok := defs[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			visit(r.SQL)
			order = append(order, name)
		}
	}
	for _, t := range sqlTexts {
		visit(t)
	}
	var b strings.Builder
	b.WriteString("-- The scoped relations it reads (access/sql/scoped.sql): the only way charts read customer data,\n")
	b.WriteString("-- over the facts every load builds (models/sql/facts.sql).\n")
	for _, name := range order {
		r := defs[name]
		b.WriteString("\n-- " + r.Comment + "\n" + r.SQL + ";\n")
	}
	return b.String()
}

// scopedRef finds the scoped relations and macros a SQL text names.
var scopedRef = regexp.MustCompile(`scoped\.([a-z_]+)\(`)

// current is the last data state read (nil before the first).
func (s *Service) current() *DataState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

var generation struct {
	sync.Mutex
	n int64
}

// Invalidate drops every cached result (the data changed outside a load or
// refresh); the next request re-reads the data state.
func (s *Service) Invalidate() {
	generation.Lock()
	generation.n++
	generation.Unlock()
	s.mu.Lock()
	s.state = nil
	s.checked = time.Time{}
	s.mu.Unlock()
	s.cache.reset()
	s.results.reset()
}

// State returns the data state. The load and refresh counters are checked in
// the background at most every 250 ms, so a request never waits for that
// check (only the very first one, or the first after Invalidate, reads the
// state itself); when they moved, the state is re-read and the cache dropped.
func (s *Service) State(ctx context.Context) (*DataState, error) {
	s.mu.Lock()
	st := s.state
	if st != nil {
		if time.Since(s.checked) >= 250*time.Millisecond && !s.checking {
			s.checking = true
			go func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if _, err := s.refreshState(cctx); err != nil {
					s.log.Warn("checking the data version", "err", err)
				}
			}()
		}
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	return s.refreshState(ctx)
}

// refreshState reads the data version and, when it changed, the state.
func (s *Service) refreshState(ctx context.Context) (*DataState, error) {
	s.refresh.Lock()
	defer s.refresh.Unlock()
	defer func() {
		s.mu.Lock()
		s.checking = false
		s.mu.Unlock()
	}()
	vres, err := run(ctx, s.opts.DB, `SELECT (SELECT coalesce(max(load_id), 0) FROM main.load_runs) AS l,
		(SELECT coalesce(max(refresh_id), 0) FROM main.model_runs) AS r`, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("data version: %w", err)
	}
	loadID, refreshID := vres.Int(0, "l"), vres.Int(0, "r")
	generation.Lock()
	gen := generation.n
	generation.Unlock()
	version := fmt.Sprintf("%d.%d.%d", loadID, refreshID, gen)
	s.mu.Lock()
	cur := s.state
	s.checked = time.Now()
	s.mu.Unlock()
	if cur != nil && cur.Version == version {
		return cur, nil
	}
	st, err := s.readState(ctx, version)
	if err != nil {
		return nil, err
	}
	s.cache.reset()
	s.results.reset()
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	return st, nil
}

func (s *Service) readState(ctx context.Context, version string) (*DataState, error) {
	st := &DataState{Version: version, Objects: map[string]bool{}, Rates: map[string]float64{s.opts.BaseCurrency: 1}}
	res, err := run(ctx, s.opts.DB, dataStateSQL, []any{sql.Named("base", s.opts.BaseCurrency)}, s.opts.Location)
	if err != nil {
		return nil, fmt.Errorf("data state: %w", err)
	}
	for i := range res.Rows {
		kind, name := res.Str(i, "kind"), res.Str(i, "name")
		switch kind {
		case "as_of":
			st.AsOf = res.Date(i, "d")
		case "load":
			st.LoadID = res.Int(i, "n")
			if t, ok := res.Rows[i][res.Col("t")].(time.Time); ok {
				st.LoadedAt = t
			}
		case "refresh":
			if t, ok := res.Rows[i][res.Col("t")].(time.Time); ok {
				st.ComputedAt = t
			}
			st.ModelsAsOf = res.Date(i, "d")
		case "object":
			st.Objects[name] = true
		case "rate":
			if f, ok := res.NullFloat(i, "x"); ok && f > 0 {
				st.Rates[name] = f
			}
		case "line":
			st.Lines = append(st.Lines, name)
		case "root":
			st.Roots = append(st.Roots, name)
		}
	}
	if st.AsOf.IsZero() {
		now := time.Now().In(s.opts.Location)
		st.AsOf = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	slices.Sort(st.Lines)
	return st, nil
}

// Request is what the HTTP layer knows about a request.
type Request struct {
	Lang  string
	Scope Scope
	Query url.Values
	Page  *Page // for defaults; may be nil
}

// Env resolves a request into the environment charts run in: the period and
// comparison relative to the data's as-of date, the org filter checked
// against the scope, the display currency.
func (s *Service) Env(ctx context.Context, r Request) (*Env, error) {
	st, err := s.State(ctx)
	if err != nil {
		return nil, err
	}
	// Parameters are bound to SQL as text: a value that is not UTF-8 makes
	// DuckDB fail the query (a 500: GET /api/charts/deal.stages?org=%80e as
	// a manager, found by FuzzChartAPI). It is dropped: the default applies.
	q := url.Values{}
	for k, v := range r.Query {
		if !utf8.ValidString(k) {
			continue
		}
		for _, x := range v {
			if utf8.ValidString(x) {
				q[k] = append(q[k], x)
			}
		}
	}
	if r.Page != nil {
		for k, v := range r.Page.Defaults {
			if q.Get(k) == "" {
				q.Set(k, v)
			}
		}
	}
	e := &Env{Ctx: ctx, Lang: i18n.Normalize(r.Lang), Scope: r.Scope, Q: q, AsOf: st.AsOf, ModelsAsOf: st.ModelsAsOf, Base: s.opts.BaseCurrency, Rate: 1}
	if e.Lang == "" {
		e.Lang = i18n.EN
	}
	f := &e.F
	var periodOK bool
	f.Period, f.From, f.To, periodOK = ResolvePeriod(clean(q.Get("period"), 16), q.Get("from"), q.Get("to"), st.AsOf, s.opts.FiscalYearStart)
	if !periodOK {
		e.Notices = append(e.Notices, i18n.T(e.Lang, "notice.period", clean(q.Get("period"), 16)))
	}
	if f.To.After(st.AsOf) {
		e.Notices = append(e.Notices, i18n.T(e.Lang, "notice.future", i18n.Date(e.Lang, st.AsOf)))
	}
	f.Cmp, f.CmpFrom, f.CmpTo = Comparison(q.Get("cmp"), f.From, f.To)
	for _, pl := range cleanList(q["pl"], 100) {
		if slices.Contains(st.Lines, pl) {
			f.Products = append(f.Products, pl)
		} else {
			e.Notices = append(e.Notices, i18n.T(e.Lang, "notice.product_line", pl))
		}
	}
	if cur := strings.ToUpper(clean(q.Get("cur"), 3)); cur != "" && cur != e.Base {
		if rate, ok := st.Rates[cur]; ok {
			f.Currency, e.Rate = cur, rate
		} else {
			e.Notices = append(e.Notices, i18n.T(e.Lang, "notice.currency", cur, e.Base))
		}
	}
	// The org filter must lie inside the scope; a rep's pages are about the rep.
	if r.Scope.Rep != "" && !r.Scope.All && r.Scope.Org == "" {
		e.NodeRep = r.Scope.Rep
	} else if orgs := cleanList(q["org"], 100); len(orgs) > 0 {
		chosen, outside, err := s.orgsInScope(ctx, r.Scope, orgs)
		if err != nil {
			return nil, err
		}
		for _, org := range outside {
			e.Notices = append(e.Notices, i18n.T(e.Lang, "notice.org", org))
		}
		if len(chosen) > 0 {
			f.Orgs = chosen
			// The page is about the chosen unit, or about the lowest unit
			// holding all of them (its by-unit charts show them side by side).
			if e.Node, err = s.commonAncestor(ctx, chosen); err != nil {
				return nil, err
			}
		}
	}
	if e.Node == "" && e.NodeRep == "" {
		switch {
		case r.Scope.All && len(st.Roots) == 1:
			e.Node = st.Roots[0]
		case r.Scope.Org != "":
			e.Node = r.Scope.Org
		}
	}
	return e, nil
}

// orgsInScope splits the units a request chose into those the scope may
// filter on (without the ones under another chosen unit: they add nothing)
// and those it may not (unknown or outside the scope).
func (s *Service) orgsInScope(ctx context.Context, sc Scope, orgs []string) (chosen, outside []string, err error) {
	p := sc.Params()
	p["orgs"] = orgs
	q := `WITH asked AS (SELECT unnest($orgs) AS org_unit_id),
visible AS (
    SELECT a.org_unit_id FROM asked a JOIN live.org_units u ON u.org_unit_id = a.org_unit_id
    WHERE scoped.sees(NULL, u.org_unit_id, $scope_all, $scope_org, $scope_rep)
)
SELECT a.org_unit_id,
       a.org_unit_id IN (SELECT org_unit_id FROM visible) AS visible,
       EXISTS (SELECT 1 FROM facts.org_paths p JOIN visible v ON v.org_unit_id = p.ancestor_id
               WHERE p.org_unit_id = a.org_unit_id AND p.depth > 0) AS covered
FROM asked a ORDER BY a.org_unit_id`
	res, err := s.query(ctx, q, p)
	if err != nil {
		return nil, nil, err
	}
	for i := range res.Rows {
		switch id := res.Str(i, "org_unit_id"); {
		case !res.Bool(i, "visible"):
			outside = append(outside, id)
		case !res.Bool(i, "covered"):
			chosen = append(chosen, id)
		}
	}
	return chosen, outside, nil
}

// commonAncestor is the lowest unit holding every one of units ("" when
// they lie in different trees).
func (s *Service) commonAncestor(ctx context.Context, units []string) (string, error) {
	if len(units) == 1 {
		return units[0], nil
	}
	q := `SELECT p.ancestor_id FROM facts.org_paths p WHERE list_contains($orgs, p.org_unit_id)
GROUP BY p.ancestor_id HAVING count(DISTINCT p.org_unit_id) = len($orgs)
ORDER BY min(p.depth), p.ancestor_id LIMIT 1`
	res, err := s.query(ctx, q, map[string]any{"orgs": units})
	if err != nil || len(res.Rows) == 0 {
		return "", err
	}
	return res.Str(0, "ancestor_id"), nil
}

// OrgUnit is an entry of the org filter.
type OrgUnit struct {
	ID, Name, Level string
	Depth           int
}

// OrgUnits lists the units a scope may filter on, in tree order.
func (s *Service) OrgUnits(ctx context.Context, sc Scope) ([]OrgUnit, error) {
	q := `WITH RECURSIVE t(org_unit_id, name, level, depth, path) AS (
    SELECT u.org_unit_id, u.name, u.level, 0, [u.name] FROM live.org_units u WHERE u.parent_id IS NULL
    UNION ALL
    SELECT u.org_unit_id, u.name, u.level, t.depth + 1, list_append(t.path, u.name)
    FROM live.org_units u JOIN t ON u.parent_id = t.org_unit_id WHERE t.depth < 32
)
SELECT org_unit_id, name, level, depth FROM t
WHERE scoped.sees(NULL, t.org_unit_id, $scope_all, $scope_org, $scope_rep)
ORDER BY path`
	_, args, err := bind(q, sc.Params())
	if err != nil {
		return nil, err
	}
	res, err := run(ctx, s.opts.DB, q, args, s.opts.Location)
	if err != nil {
		return nil, err
	}
	var out []OrgUnit
	min := 1 << 30
	for i := range res.Rows {
		u := OrgUnit{ID: res.Str(i, "org_unit_id"), Name: res.Str(i, "name"), Level: res.Str(i, "level"), Depth: int(res.Int(i, "depth"))}
		min = mini(min, u.Depth)
		out = append(out, u)
	}
	for i := range out {
		out[i].Depth -= min
	}
	return out, nil
}

// Crumbs names the unit or rep a page is about, with its path from the
// scope's root (breadcrumbs).
func (s *Service) Crumbs(e *Env) ([]Crumb, error) {
	if e.NodeRep != "" {
		res, err := s.query(e.Ctx, `SELECT name FROM live.reps WHERE rep_id = $node_rep`, e.StandardParams())
		if err != nil || len(res.Rows) == 0 {
			return nil, err
		}
		return []Crumb{{Key: "", Label: res.Str(0, "name")}}, nil
	}
	if e.Node == "" {
		return nil, nil
	}
	q := `SELECT u.org_unit_id, u.name, p.depth
FROM facts.org_paths p JOIN live.org_units u ON u.org_unit_id = p.ancestor_id
WHERE p.org_unit_id = $node
  AND scoped.sees(NULL, u.org_unit_id, $scope_all, $scope_org, $scope_rep)
ORDER BY p.depth DESC`
	res, err := s.query(e.Ctx, q, e.StandardParams())
	if err != nil {
		return nil, err
	}
	var out []Crumb
	for i := range res.Rows {
		out = append(out, Crumb{Key: res.Str(i, "org_unit_id"), Label: res.Str(i, "name")})
	}
	return out, nil
}

func (s *Service) query(ctx context.Context, q string, p map[string]any) (*Result, error) {
	_, args, err := bind(q, p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	return run(ctx, s.opts.DB, q, args, s.opts.Location)
}

// Freshness says when the data behind a chart was loaded and computed.
type Freshness struct {
	LoadedAt   string `json:"loaded_at,omitempty"`   // localised
	ComputedAt string `json:"computed_at,omitempty"` // localised; only for charts that read model tables
	AsOf       string `json:"as_of,omitempty"`
	// Complete is the latest complete day when the as-of day is still in
	// progress (the last load happened on it or before): its figures may grow.
	Complete string `json:"complete,omitempty"`
	// Computing says, localised, that a refresh of the models is under way
	// (since when): figures that need them follow when it commits. Pages
	// only (PageFreshness): a chart's cached data does not carry it.
	Computing string `json:"-"`
	// Stale says, localised, that the models were computed on older data
	// than the pages show (a load since the last refresh moved the as-of
	// date): their figures lag until the next refresh.
	Stale string `json:"stale,omitempty"`
}

// Freshness of the data (models too when usesModels).
func (s *Service) Freshness(st *DataState, lang string, usesModels bool) Freshness {
	f := Freshness{AsOf: i18n.Date(lang, st.AsOf)}
	if !st.LoadedAt.IsZero() {
		f.LoadedAt = i18n.DateTime(lang, st.LoadedAt, s.opts.Location)
		y, m, d := st.LoadedAt.In(s.opts.Location).Date()
		if loadDay := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); !loadDay.After(st.AsOf) {
			f.Complete = i18n.Date(lang, st.AsOf.AddDate(0, 0, -1))
		}
	}
	if usesModels && !st.ComputedAt.IsZero() {
		f.ComputedAt = i18n.DateTime(lang, st.ComputedAt, s.opts.Location)
	}
	if usesModels && !st.ModelsAsOf.IsZero() && st.ModelsAsOf.Before(st.AsOf) {
		f.Stale = i18n.T(lang, "fresh.stale", i18n.Date(lang, st.ModelsAsOf), f.AsOf)
	}
	return f
}

// PageFreshness is Freshness for a page: with whether the models are
// being computed right now (never cached).
func (s *Service) PageFreshness(st *DataState, lang string) Freshness {
	f := s.Freshness(st, lang, true)
	if since, ok := s.Computing(); ok {
		f.Computing = i18n.T(lang, "fresh.computing", i18n.DateTime(lang, since, s.opts.Location))
	}
	return f
}

// StartComputing records that a refresh of the models started at since;
// the function it returns records its end. Refreshes queue on the write
// lane, so several may be under way: the pages say so until the last ends.
func (s *Service) StartComputing(since time.Time) (done func()) {
	s.computingMu.Lock()
	defer s.computingMu.Unlock()
	if s.computingN == 0 {
		s.computing.Store(since.UnixNano())
	}
	s.computingN++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.computingMu.Lock()
			defer s.computingMu.Unlock()
			if s.computingN--; s.computingN == 0 {
				s.computing.Store(0)
			}
		})
	}
}

// Computing says whether a refresh of the models is under way, and since when.
func (s *Service) Computing() (time.Time, bool) {
	n := s.computing.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Location is the time zone instants are shown in.
func (s *Service) Location() *time.Location { return s.opts.Location }

// ErrUnknownChart is returned for a chart id that is not registered.
var ErrUnknownChart = errors.New("unknown chart")

func jsonBytes(v any) ([]byte, error) {
	// encoding/json escapes <, > and & in strings, so data can never close a
	// <script> element or start markup wherever the JSON ends up.
	return json.Marshal(v)
}

func itoa(n int) string { return strconv.Itoa(n) }

func mini(a, b int) int {
	if a < b {
		return a
	}
	return b
}
