// Package dashboards is the Triscope web server: echo/v5 serving the pages
// registered in query/charts, their chart data as JSON from the engine,
// embedded assets (ECharts and our own app.js / app.css), login and sessions
// (access), health, readiness and Prometheus metrics.
package dashboards

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	_ "github.com/triscope/triscope/query/charts" // registers the pages and charts
	"github.com/triscope/triscope/query/i18n"
)

//go:embed assets
var assetsFS embed.FS

//go:embed templates/*.html
var templatesFS embed.FS

// Options configure the server.
type Options struct {
	// Engine runs the charts over the warehouse; the runtime (package app)
	// owns the warehouse and builds what the engine reads on the write path.
	Engine *query.Service
	Auth   *access.Store
	// Jobs carries out the writes a page asks for (collision rulings) on the
	// runtime's write lane.
	Jobs Jobs
	// AdminAPI, when set, is served at /api/admin/: the runtime's API for
	// the command line (bearer token from the server file; no session, no
	// CSRF token, cookies ignored).
	AdminAPI http.Handler
	// Ready reports whether the warehouse can serve (readiness probe).
	Ready        func(ctx context.Context) error
	BaseCurrency string
	Logger       *slog.Logger
	// SecureCookies forces the Secure flag on cookies (set it behind a TLS
	// proxy); cookies are Secure anyway when the request came over TLS.
	SecureCookies bool
	// TrustProxy makes the client IP come from X-Forwarded-For / X-Real-IP
	// (only behind a reverse proxy you control).
	TrustProxy bool
	// NoWarmUp turns off computing every page's default view in the
	// background after each load or refresh (benchmarks of cold requests).
	NoWarmUp bool
	// Faces are the other faces served here (reports, ad hoc SQL): their
	// nav entries and routes (shell.go).
	Faces []Face
	// MetricsToken, when set, is the bearer token /metrics asks for; without
	// one, /metrics answers only clients on the loopback interface (a
	// Prometheus on the same machine, or behind a proxy that adds the token).
	MetricsToken string
	// BodyLimits are the largest request bodies by path prefix (the longest
	// matching prefix wins); every other request body is limited to
	// DefaultBodyLimit (forms: a login, a ruling).
	BodyLimits map[string]int64
}

// DefaultBodyLimit bounds a request body where Options.BodyLimits says nothing.
const DefaultBodyLimit = 64 << 10

// Jobs are the writes the dashboards ask the runtime for.
type Jobs interface {
	// RuleCollision records a ruling on a collision pair.
	RuleCollision(ctx context.Context, r Ruling) error
}

// Ruling is a decision on a collision (撞单) pair of mart_collisions.
type Ruling struct {
	OpportunityID, ConflictsWith string // the later and the earlier deal
	Decision                     string // first or other
	WinnerOpportunityID          string
	WinnerRegistrant             string // rep:<id> or partner:<id>
	Note                         string
	By, ByRole                   string
	At                           time.Time
}

// Server is the dashboard web server.
type Server struct {
	warmed  atomic.Value // string: see Warmed
	opts    Options
	echo    *echo.Echo
	engine  *query.Service
	auth    *access.Store
	log     *slog.Logger
	tmpl    *template.Template
	assets  map[string]string // asset path → content hash
	metrics *metrics
	thr     *access.Throttle
	ready   atomic.Bool
}

// New builds the server: it checks the page and chart registry and sets up
// the routes.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Engine == nil || opts.Auth == nil {
		return nil, errors.New("dashboards: a query engine and an access store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BaseCurrency == "" {
		opts.BaseCurrency = "CNY"
	}
	if err := query.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, auth: opts.Auth, log: opts.Logger, thr: access.NewThrottle(), engine: opts.Engine}
	s.metrics = newMetrics()
	s.engine.Observe(s.metrics.observeChart)
	if err := s.loadAssets(); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.echo = s.routes()
	if err := s.mountFaces(s.echo); err != nil {
		return nil, err
	}
	s.ready.Store(true)
	return s, nil
}

// Warmed is the data version whose default views the warm-up has computed
// completely ("" until the first one).
func (s *Server) Warmed() string {
	v, _ := s.warmed.Load().(string)
	return v
}

// adminPrefix is where Options.AdminAPI is served.
const adminPrefix = "/api/admin/"

// Engine is the chart engine (tests, the screenshot command).
func (s *Server) Engine() *query.Service { return s.engine }

// Handler is the HTTP handler (for tests and custom listeners).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves on ln until ctx ends, then shuts down gracefully (in-flight
// requests get up to 10 s).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	go s.purgeSessions(ctx)
	if !s.opts.NoWarmUp {
		go s.warmUp(ctx)
	}
	sc := echo.StartConfig{
		Listener:        ln,
		HideBanner:      true,
		HidePort:        true,
		GracefulTimeout: 10 * time.Second,
		BeforeServeFunc: func(srv *http.Server) error {
			srv.ReadHeaderTimeout = 10 * time.Second
			srv.IdleTimeout = 2 * time.Minute
			return nil
		},
	}
	s.log.Info("dashboards listening", "addr", ln.Addr().String())
	err := sc.Start(ctx, s.echo)
	s.ready.Store(false)
	return err
}

// ListenAndServe listens on addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// warmUp keeps the cache warm: whenever the data version changes (a load or
// a refresh, also one made by another process), it computes each enabled
// account's home page first (what people open after the morning load), then
// every page's default view for the executives' scope, then each manager's
// and analyst's org unit, then each rep's (only while there are at most
// warmRepLimit rep accounts: with hundreds of reps the rest of the server
// matters more), in both languages.
func (s *Server) warmUp(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	warmed := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, computing := s.engine.Computing(); computing {
			continue // the models are about to change what the pages show
		}
		st, err := s.engine.State(ctx)
		if err != nil || st.Version == warmed {
			continue
		}
		users, err := s.auth.Users(ctx)
		if err != nil {
			s.log.Warn("warm-up: listing users", "err", err)
			continue
		}
		rep, err := s.engine.Warm(ctx, warmHomes(users), warmScopes(users), i18n.Langs)
		if err != nil {
			s.log.Warn("warm-up", "err", err)
			continue
		}
		s.log.Info("warm-up", "version", rep.Version, "charts", rep.Charts, "failed", rep.Failed,
			"seconds", rep.Elapsed.Seconds(), "complete", rep.Complete)
		if rep.Complete {
			warmed = rep.Version
			s.warmed.Store(warmed)
		}
	}
}

const warmRepLimit = 50

// warmHomes lists each enabled account's home page with its scope,
// executives first, then managers and analysts, then reps.
func warmHomes(users []access.User) []query.Home {
	rank := map[string]int{access.RoleExecutive: 0, access.RoleAdmin: 0, access.RoleManager: 1, access.RoleAnalyst: 1, access.RoleRep: 2}
	users = slices.Clone(users)
	slices.SortStableFunc(users, func(a, b access.User) int { return rank[a.Role] - rank[b.Role] })
	var out []query.Home
	for _, u := range users {
		if u.Disabled {
			continue
		}
		if page, id := homePage(u); page != nil {
			out = append(out, query.Home{Scope: ScopeFor(u), Page: page, ID: id})
		}
	}
	return out
}

// warmScopes lists the distinct scopes of the enabled accounts, executives
// first, then org units, then reps (see warmUp).
func warmScopes(users []access.User) []query.Scope {
	var all bool
	var orgs, reps []query.Scope
	seen := map[string]bool{}
	for _, u := range users {
		sc := ScopeFor(u)
		if u.Disabled || sc.Empty() || seen[sc.Key()] {
			continue
		}
		seen[sc.Key()] = true
		switch {
		case sc.All:
			all = true
		case sc.Org != "":
			orgs = append(orgs, sc)
		default:
			reps = append(reps, sc)
		}
	}
	var out []query.Scope
	if all {
		out = append(out, query.Scope{All: true})
	}
	out = append(out, orgs...)
	if len(reps) <= warmRepLimit {
		out = append(out, reps...)
	}
	return out
}

func (s *Server) purgeSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.auth.PurgeExpired(ctx); err != nil {
				s.log.Warn("purging sessions", "err", err)
			}
		}
	}
}

func (s *Server) loadAssets() error {
	s.assets = map[string]string{}
	return fs.WalkDir(assetsFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetsFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		s.assets[strings.TrimPrefix(p, "assets/")] = hex.EncodeToString(h[:6])
		return nil
	})
}

// assetURL is the cache-busting URL of an embedded asset.
func (s *Server) assetURL(name string) string {
	return "/assets/" + name + "?v=" + s.assets[name]
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.Logger = s.log
	e.HTTPErrorHandler = s.errorHandler
	if s.opts.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(middleware.Recover())
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c *echo.Context, id string) { c.Set("request_id", id) },
	}))
	e.Use(s.logRequests)
	e.Use(s.limitBody)
	e.Use(s.securityHeaders)
	e.Use(s.loadSession)
	e.Use(s.csrfCheck)

	healthz := func(c *echo.Context) error { return c.String(http.StatusOK, "ok\n") }
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	if s.opts.AdminAPI != nil {
		e.Any(adminPrefix+"*", echo.WrapHandler(s.opts.AdminAPI))
	}
	e.GET("/readyz", s.readyz)
	e.HEAD("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})), s.metricsAccess)
	e.GET("/assets/*", s.serveAsset)
	e.GET("/favicon.ico", func(c *echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, s.assetURL("favicon.svg"))
	})

	e.GET("/login", s.loginPage)
	e.POST("/login", s.loginSubmit)
	e.POST("/logout", s.logout)
	e.GET("/", s.home, s.requireUser)
	e.POST("/collisions/rule", s.ruleCollision, s.requireUser) // collisions.go
	e.POST("/collisions/rule-bulk", s.ruleCollisions, s.requireUser)
	s.settingsRoutes(e) // settings.go

	for _, p := range query.Pages() {
		page := p
		e.GET(page.Path, func(c *echo.Context) error { return s.renderPage(c, page) }, s.requireUser)
	}
	api := e.Group("/api", s.requireUserAPI)
	api.GET("/me", s.apiMe)
	api.GET("/search", s.apiSearch)
	api.GET("/charts/:id", s.apiChart)
	api.GET("/charts/:id/sql", s.apiChartSQL)
	api.GET("/charts/:id/rows", s.apiChartRows)
	api.GET("/charts/:id/export", s.apiChartExport)
	return e
}

// metricsAccess lets a request read /metrics: with the configured bearer
// token, or, without a token configured, from a loopback address.
func (s *Server) metricsAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if tok := s.opts.MetricsToken; tok != "" {
			got := strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				return echo.NewHTTPError(http.StatusUnauthorized, "/metrics needs the metrics token")
			}
			return next(c)
		}
		host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return echo.NewHTTPError(http.StatusForbidden, "/metrics answers the loopback interface only (set metrics_token to read it from elsewhere)")
		}
		return next(c)
	}
}

func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if !s.ready.Load() {
		return c.String(http.StatusServiceUnavailable, "shutting down\n")
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "warehouse: "+err.Error()+"\n")
		}
	}
	if err := s.auth.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "auth database: "+err.Error()+"\n")
	}
	if _, err := s.engine.State(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "warehouse state: "+err.Error()+"\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

func (s *Server) serveAsset(c *echo.Context) error {
	name := path.Clean(c.Param("*"))
	if strings.HasPrefix(name, ".") || strings.Contains(name, "..") {
		return echo.ErrNotFound
	}
	b, err := assetsFS.ReadFile("assets/" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if v := c.QueryParam("v"); v != "" && v == s.assets[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", `"`+s.assets[name]+`"`)
	if match := c.Request().Header.Get("If-None-Match"); match == `"`+s.assets[name]+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	ctype := "application/octet-stream"
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	case ".png":
		ctype = "image/png"
	case ".txt", "":
		ctype = "text/plain; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ctype, b)
}

// metrics are the server's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	charts   *prometheus.HistogramVec
	cache    *prometheus.CounterVec
	logins   *prometheus.CounterVec
	exports  *prometheus.CounterVec
	queries  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "triscope_http_requests_total", Help: "HTTP requests by route, method and status."}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "triscope_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"})
	m.charts = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "triscope_chart_query_seconds", Help: "Time to produce chart data, rows and exports (cache misses).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"chart", "kind"})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "triscope_chart_cache_total", Help: "Chart cache lookups by result (hit, miss)."}, []string{"result"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "triscope_logins_total", Help: "Login attempts by result."}, []string{"result"})
	m.exports = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "triscope_exports_total", Help: "Exports by format."}, []string{"format"})
	m.queries = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "triscope_chart_sql_seconds", Help: "Chart queries run against the warehouse, by SQL file (charts sharing a query and its arguments run it once).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"sql"})
	m.reg.MustRegister(m.requests, m.latency, m.charts, m.cache, m.logins, m.exports, m.queries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeChart(chart, kind string, d time.Duration, cached bool, err error) {
	if kind == "sql" {
		m.queries.WithLabelValues(chart).Observe(d.Seconds())
		return
	}
	if cached {
		m.cache.WithLabelValues("hit").Inc()
		return
	}
	m.cache.WithLabelValues("miss").Inc()
	m.charts.WithLabelValues(chart, kind).Observe(d.Seconds())
}

// langOf is the request's language (set by the middleware).
func langOf(c *echo.Context) string {
	if l, ok := c.Get("lang").(string); ok {
		return l
	}
	return i18n.EN
}
