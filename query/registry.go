// Package query is the one query path of Triscope, shared by every face
// (dashboards, reports, ad hoc SQL): pages and charts register themselves
// here (from package query/charts); Service runs a chart's embedded SQL —
// which reads customer data only through the scoped relations of package
// access, with the user's scope bound as $scope_all, $scope_org, $scope_rep
// — on the warehouse's gated read pool, caches the result per data version,
// turns rows into an ECharts option (go-echarts types, served as JSON), and
// serves the rows behind a point (drill-through), their export, and the
// exact SQL with its parameters. It only reads: what it reads is built on
// the write path (the facts of package models, the scoped relations).
//
// See dashboards/README.md for how to add a page or a chart.
package query

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Kind is how a chart is drawn in the browser.
type Kind string

const (
	KindECharts Kind = "echarts" // Output.Option is an ECharts option
	KindKPI     Kind = "kpi"     // Output.KPIs are shown as tiles
	KindTable   Kind = "table"   // Output.Table is shown as a table
)

// Chart is one card on a page: an embedded .sql file and a builder that turns
// its rows into what the browser draws.
type Chart struct {
	ID    string // unique and URL-safe, "<page>.<name>", e.g. "telescope.bookings"
	Title string // i18n key of the title
	Help  string // i18n key of the one-line definition under the title ("" = none)
	// Glossary are the glossary terms of the figures the chart shows (its ⓘ
	// gives their definitions; see glossary.go).
	Glossary []string
	Kind     Kind // default KindECharts

	// SQL is the file (in a registered SQL FS) that produces the rows. It is a
	// single SELECT that reads customer data only through the scoped.*
	// relations, called with the user's scope ($scope_all, $scope_org,
	// $scope_rep). Parameters are $names; see Env.StandardParams for the
	// standard ones. The file is shown verbatim behind the chart's "SQL" button.
	SQL string

	// Needs are tables or table macros that must exist for the SQL to run
	// (typically mart_* tables of a model not computed yet). When one is
	// missing the chart says "not computed yet" instead of failing.
	Needs []string

	// Params adds chart-specific parameters (for example $metric) to the
	// standard ones. Values must be nil, bool, int, int64, float64 or string.
	Params func(e *Env) (map[string]any, error)

	// Build turns the rows into the output. It must not build JavaScript from data.
	Build func(e *Env, res *Result) (*Output, error)

	// Drill, when set, lists the rows behind a clicked point.
	Drill *Drill

	// OneUnit says the chart shows a model's figures of one unit (the
	// page's $node, e.g. its funnel): with several units chosen in the org
	// filter it says so instead of showing the figures of the unit holding them.
	OneUnit bool

	Span   int // width in grid columns out of 12 (default 6)
	Height int // chart height in px (default 320)
}

// Drill is the drill-through of a chart: the rows behind a point.
type Drill struct {
	// SQL gets the chart's parameters plus $point: the key of the clicked point
	// (Output.Points[i].Key), or NULL for every row behind the whole chart.
	SQL string
	// Key is the column that identifies a row (contract_id, payment_id, ...).
	Key string
	// Entity is the base table the rows come from: customers, opportunities,
	// contracts or payments. The scope tests compare the rows with a reference
	// query on that table.
	Entity string
	// All is the point that stands for "every row behind the chart" when a
	// request names none (the chart's Rows button), for a drill SQL shared
	// with charts that show other rows ("" = NULL: every row it can list).
	All string
}

// Page is one page of the dashboards.
type Page struct {
	ID    string // "telescope"
	Path  string // "/telescope"
	Title string // i18n key
	Nav   int    // position in the nav bar, 1 = first; 0 = not in the nav bar
	// Home lists the roles for which this page is the home page.
	Home []string
	// Filters are the global filters shown: "period", "cmp", "org", "pl", "cur".
	Filters []string
	// Defaults are query values used when the URL has none (e.g. "period": "ytd").
	Defaults map[string]string
	// Controls are page-specific selectors (e.g. metric, dimension).
	Controls []Control
	// Sections are rows of chart cards, in order.
	Sections []Section
	// Placeholder marks a page that is not built yet: it shows a notice.
	Placeholder bool
}

// Section is a titled group of charts.
type Section struct {
	Title  string // i18n key ("" = no title)
	Charts []string
}

// Control is a page-specific selector that sets a query parameter.
type Control struct {
	Param   string // query parameter, e.g. "metric"
	Label   string // i18n key
	Options []Choice
}

// Choice is one option of a Control.
type Choice struct {
	Value string
	Label string // i18n key
}

var (
	regMu    sync.RWMutex
	chartReg = map[string]*Chart{}
	pageReg  []*Page
	sqlFS    []fs.FS
)

var idRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// RegisterSQL adds a file system that holds chart SQL files (at its root).
func RegisterSQL(fsys fs.FS) {
	regMu.Lock()
	defer regMu.Unlock()
	sqlFS = append(sqlFS, fsys)
}

// ReadSQL returns a registered SQL file.
func ReadSQL(name string) (string, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	for _, f := range sqlFS {
		if b, err := fs.ReadFile(f, name); err == nil {
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", fmt.Errorf("chart SQL file %q not found", name)
}

// RegisterChart adds a chart. It panics on a bad definition: registration
// happens in init functions, so a mistake stops the program at start.
func RegisterChart(c *Chart) {
	if !idRE.MatchString(c.ID) {
		panic(fmt.Sprintf("chart id %q: use lower-case letters, digits, '_' and '.'", c.ID))
	}
	if c.Build == nil || c.SQL == "" || c.Title == "" {
		panic(fmt.Sprintf("chart %s: Title, SQL and Build are required", c.ID))
	}
	if c.Kind == "" {
		c.Kind = KindECharts
	}
	if c.Span == 0 {
		c.Span = 6
	}
	if c.Height == 0 {
		c.Height = 320
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := chartReg[c.ID]; dup {
		panic(fmt.Sprintf("chart %s registered twice", c.ID))
	}
	chartReg[c.ID] = c
}

// RegisterPage adds a page. A real page replaces a placeholder with the same
// ID or path (whichever registers first), so part-2 pages need not touch
// placeholders.go.
func RegisterPage(p *Page) {
	if !idRE.MatchString(p.ID) || !strings.HasPrefix(p.Path, "/") {
		panic(fmt.Sprintf("page %q: bad id or path %q", p.ID, p.Path))
	}
	regMu.Lock()
	defer regMu.Unlock()
	for i, q := range pageReg {
		if q.ID == p.ID || q.Path == p.Path {
			switch {
			case p.Placeholder: // the real page is there already
				return
			case q.Placeholder: // the real page replaces its placeholder
				pageReg = slices.Delete(pageReg, i, i+1)
			default:
				panic(fmt.Sprintf("page %s (%s) registered twice", p.ID, p.Path))
			}
			break
		}
	}
	pageReg = append(pageReg, p)
	sort.SliceStable(pageReg, func(i, j int) bool { return navOrder(pageReg[i]) < navOrder(pageReg[j]) })
}

func navOrder(p *Page) int {
	if p.Nav == 0 {
		return 1 << 20
	}
	return p.Nav
}

// ReplacePage swaps a registered page (same ID) for p: a placeholder is
// replaced by the real page this way.
func ReplacePage(p *Page) {
	regMu.Lock()
	for i, q := range pageReg {
		if q.ID == p.ID {
			pageReg = slices.Delete(pageReg, i, i+1)
			break
		}
	}
	regMu.Unlock()
	RegisterPage(p)
}

// ChartByID returns a registered chart.
func ChartByID(id string) (*Chart, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	c, ok := chartReg[id]
	return c, ok
}

// Charts lists the registered charts, sorted by ID.
func Charts() []*Chart {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Chart, 0, len(chartReg))
	for _, c := range chartReg {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Pages lists the registered pages in nav order.
func Pages() []*Page {
	regMu.RLock()
	defer regMu.RUnlock()
	return slices.Clone(pageReg)
}

// PageByPath returns the page served at path.
func PageByPath(path string) (*Page, bool) {
	for _, p := range Pages() {
		if p.Path == path {
			return p, true
		}
	}
	return nil, false
}

// Validate checks that every page's charts exist and every chart's SQL files
// are there; the server calls it at start.
func Validate() error {
	var errs []string
	for _, p := range Pages() {
		for _, s := range p.Sections {
			for _, id := range s.Charts {
				if _, ok := ChartByID(id); !ok {
					errs = append(errs, fmt.Sprintf("page %s: unknown chart %s", p.ID, id))
				}
			}
		}
	}
	for _, c := range Charts() {
		if _, err := ReadSQL(c.SQL); err != nil {
			errs = append(errs, fmt.Sprintf("chart %s: %v", c.ID, err))
		}
		if c.Drill != nil {
			if _, err := ReadSQL(c.Drill.SQL); err != nil {
				errs = append(errs, fmt.Sprintf("chart %s drill: %v", c.ID, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dashboard registry: %s", strings.Join(errs, "; "))
	}
	return nil
}

// PageOfChart returns the page that shows a chart (nil if none).
func PageOfChart(id string) *Page {
	for _, p := range Pages() {
		for _, s := range p.Sections {
			if slices.Contains(s.Charts, id) {
				return p
			}
		}
	}
	return nil
}
