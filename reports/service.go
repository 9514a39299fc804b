// Package reports is the reports face of Triscope: report definitions (YAML
// files in reports_dir, or made in the web UI), their parameters with
// relative periods, recipients (users, roles, org units, external addresses
// bound to a named scope), each recipient's copy rendered as that
// recipient — their own data scope and language, never the owner's — in
// PDF, XLSX, CSV, HTML and Parquet, conditions, and delivery through the
// channels an administrator configured, exactly once per (schedule, fire
// time) through the run ledger of reports/schedule.
//
// Data comes only from the chart engine (package query): the same charts,
// drill-through rows and scoped relations the dashboards show. A PDF is the
// report's print page (served by this face) loaded by headless Chromium
// with a short-lived session of the recipient.
package reports

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/render"
	"github.com/triscope/triscope/render/chromium"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/reports/schedule"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

//go:embed sql/appdb/*.sql
var appdbFS embed.FS

func init() {
	sub, err := fs.Sub(sqlFiles, "sql")
	if err != nil {
		panic(err)
	}
	query.RegisterSQL(sub)
}

// Config are the reports' settings (triscope.yaml, section reports).
type Config struct {
	// Lang is the language of recipients whose profile names none.
	Lang string
	// Scopes are the named scopes external recipients are bound to:
	// name → all | org:<unit> | rep:<rep>.
	Scopes map[string]string
	// FilesDir keeps the rendered files of every run (history downloads).
	FilesDir string
	// Retention is how long rendered files are kept (0: 90 days).
	Retention time.Duration
	// PublicURL is the address people reach the server at: links back to
	// the live pages and the unsubscribe link ("" = no links).
	PublicURL string
	// Burst is how many recipients of one run are rendered at once (0: 2).
	Burst int
	// BrowserPages bounds Chromium's pages (0: 2); Chromium is the browser
	// ("" = Debian's /usr/bin/chromium).
	BrowserPages int
	Chromium     string
	// MaxRows bounds the rows of a table in an XLSX, CSV or Parquet
	// (0: 50 million); an XLSX splits sheets at Excel's limit.
	MaxRows int64
	// MaxImages bounds the chart images of a mail body (0: 8).
	MaxImages int
	// Grace and Interval configure the scheduler (reports/schedule).
	Grace    time.Duration
	Interval time.Duration
}

// SavedQueries runs the saved queries of the ad hoc SQL face (query/adhoc)
// for reports: the query called name, as a user (their scope; it must be
// theirs or shared with their role), its parameters from values over their
// defaults, its rows as a table.
type SavedQueries interface {
	RunSaved(ctx context.Context, name string, as access.User, values map[string]string) (*SavedResult, error)
}

// SavedResult is a saved query's answer.
type SavedResult struct {
	Title     string // the saved query's name
	Columns   []render.Column
	Rows      [][]any
	Truncated bool // the SQL face's row cap cut it
}

// Options are what a Service works with.
type Options struct {
	Engine   *query.Service
	Access   *access.Store
	Channels *deliver.Registry // nil: none configured
	Config   Config
	// Dir is reports_dir ("" = no file reports).
	Dir    string
	Logger *slog.Logger
	// Clock replaces time.Now (tests).
	Clock func() time.Time
	// Saved runs saved SQL queries (content query:); nil: none.
	Saved SavedQueries
}

// Service holds the report definitions and runs them.
type Service struct {
	cfg      Config
	engine   *query.Service
	access   *access.Store
	db       *sql.DB
	channels *deliver.Registry
	ledger   *schedule.Ledger
	sched    *schedule.Scheduler
	dir      string
	log      *slog.Logger
	clock    func() time.Time
	saved    SavedQueries

	mu      sync.RWMutex
	files   []*Report // from Dir
	baseURL string
	started bool
	pool    *chromium.Pool
	stop    context.CancelFunc
}

// New opens the reports: it migrates their tables in the application
// database, reads and validates the definitions in Dir (an error names
// every file and line at fault) and prepares the scheduler (Start starts
// it).
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Engine == nil || o.Access == nil {
		return nil, errors.New("reports: an engine and an access store are required")
	}
	cfg := o.Config
	if cfg.Lang == "" {
		cfg.Lang = "zh-CN"
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 2
	}
	if cfg.BrowserPages <= 0 {
		cfg.BrowserPages = 2
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = 50_000_000
	}
	if cfg.MaxImages <= 0 {
		cfg.MaxImages = 8
	}
	if cfg.FilesDir == "" {
		return nil, errors.New("reports: a folder for the rendered files is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	channels := o.Channels
	if channels == nil {
		var err error
		if channels, err = deliver.NewRegistry(deliver.Config{}); err != nil {
			return nil, err
		}
	}
	s := &Service{cfg: cfg, engine: o.Engine, access: o.Access, db: o.Access.DB(), channels: channels, dir: o.Dir, log: o.Logger, clock: o.Clock, saved: o.Saved}
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	if err := o.Access.Migrate(ctx, "reports", ms); err != nil {
		return nil, err
	}
	if err := schedule.Migrate(ctx, s.db); err != nil {
		return nil, err
	}
	s.ledger = schedule.NewLedger(s.db)
	if o.Clock != nil {
		s.ledger = s.ledger.WithClock(o.Clock)
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	s.sched, err = schedule.New(schedule.Config{Ledger: s.ledger, Run: s.runScheduled, Grace: cfg.Grace, Interval: cfg.Interval,
		Concurrency: 2, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func migrations() ([]string, error) {
	entries, err := appdbFS.ReadDir("sql/appdb")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		b, err := appdbFS.ReadFile("sql/appdb/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// Env is what definitions are validated against.
func (s *Service) Env() Env { return Env{Channels: s.channels.Names(), Scopes: s.cfg.Scopes} }

// Reload reads the definition files again; on an error the previous ones
// stay.
func (s *Service) Reload() error {
	if s.dir == "" {
		return nil
	}
	if _, err := os.Stat(s.dir); err != nil {
		return fmt.Errorf("reports_dir %s: %w", s.dir, err)
	}
	files, err := LoadDir(os.DirFS(s.dir), ".", s.Env())
	if err != nil {
		return fmt.Errorf("report definitions in %s:\n%w", s.dir, err)
	}
	for _, r := range files {
		r.File = s.dir + string(os.PathSeparator) + r.File
	}
	s.mu.Lock()
	s.files = files
	s.mu.Unlock()
	return nil
}

// Reports lists every report: the files', then those made in the UI, by name.
func (s *Service) Reports(ctx context.Context) ([]*Report, error) {
	s.mu.RLock()
	out := slices.Clone(s.files)
	s.mu.RUnlock()
	taken := map[string]bool{}
	for _, r := range out {
		taken[r.Name] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, owner, definition, created_at, updated_at FROM report_definitions ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, owner, def string
		var created, updated time.Time
		if err := rows.Scan(&name, &owner, &def, &created, &updated); err != nil {
			return nil, err
		}
		if taken[name] {
			s.log.Warn("reports: a report made in the UI has the name of a file's; the file's wins", "report", name)
			continue
		}
		var r Report
		if err := json.Unmarshal([]byte(def), &r); err != nil {
			return nil, fmt.Errorf("report %s: %w", name, err)
		}
		r.Name, r.Owner, r.Source, r.CreatedAt, r.UpdatedAt = name, owner, "ui", created, updated
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Report) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

// ErrNoReport is returned for an unknown report name.
var ErrNoReport = errors.New("no such report")

// Report returns one report.
func (s *Service) Report(ctx context.Context, name string) (*Report, error) {
	all, err := s.Reports(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoReport, name)
}

// Save stores a report made in the UI (new or changed) after validating it
// and checking that by may: their own report, or any as an administrator;
// recipients other than themselves need a manager (within their subtree)
// or an administrator.
func (s *Service) Save(ctx context.Context, r *Report, by access.User) error {
	if ps := r.Validate(s.Env()); len(ps) > 0 {
		return ValidationError(ps)
	}
	existing, err := s.Report(ctx, r.Name)
	switch {
	case err == nil && existing.Source == "file":
		return fmt.Errorf("report %s is defined in %s: change the file", r.Name, existing.File)
	case err == nil && existing.Owner != by.Username && by.Role != access.RoleAdmin:
		return fmt.Errorf("%w: report %s belongs to %s", ErrForbidden, r.Name, existing.Owner)
	case err != nil && !errors.Is(err, ErrNoReport):
		return err
	}
	if err == nil {
		r.Owner = existing.Owner
	} else {
		r.Owner = by.Username
	}
	r.Source = "ui"
	if err := s.checkRecipients(ctx, r, by); err != nil {
		return err
	}
	def, err := json.Marshal(r)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO report_definitions VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`, r.Name, r.Owner, string(def), now); err != nil {
		return err
	}
	return s.syncSchedules(ctx)
}

// ErrForbidden is returned when a user may not do what they ask.
var ErrForbidden = errors.New("not allowed")

// ValidationError lists a definition's problems.
type ValidationError []Problem

func (v ValidationError) Error() string {
	msg := "the report is not valid:"
	for _, p := range v {
		msg += "\n  " + p.Error()
	}
	return msg
}

// checkRecipients refuses recipients the author may not send to: only an
// administrator names roles; a manager names users, org units and external
// scopes within their subtree; anyone else only themselves.
func (s *Service) checkRecipients(ctx context.Context, r *Report, by access.User) error {
	if by.Role == access.RoleAdmin {
		return nil
	}
	var inside func(access.Scope) bool
	var units map[string]bool
	if by.Role == access.RoleManager {
		var err error
		if inside, err = s.subtree(ctx, by.OrgUnit); err != nil {
			return err
		}
		if units, _, err = s.members(ctx, by.OrgUnit); err != nil {
			return err
		}
	}
	for _, rc := range r.Recipients {
		if rc.User == by.Username && !rc.External() {
			continue
		}
		if inside == nil {
			return fmt.Errorf("%w: you may subscribe only yourself; reports for others are made by managers and administrators", ErrForbidden)
		}
		switch {
		case rc.Role != "" && rc.OrgUnit == "":
			return fmt.Errorf("%w: only an administrator sends to everyone with a role; name an org unit of yours", ErrForbidden)
		case rc.OrgUnit != "":
			if !units[rc.OrgUnit] {
				return fmt.Errorf("%w: org unit %s is outside your subtree", ErrForbidden, rc.OrgUnit)
			}
		case rc.User != "":
			u, err := s.access.User(ctx, rc.User)
			if err != nil {
				return fmt.Errorf("recipient %s: %w", rc.User, err)
			}
			if !inside(access.ScopeFor(u)) {
				return fmt.Errorf("%w: %s sees data outside your subtree", ErrForbidden, rc.User)
			}
		default:
			sc, err := ParseScope(rc.Scope, s.cfg.Scopes)
			if err != nil {
				return err
			}
			if !inside(sc) {
				return fmt.Errorf("%w: the scope %s of %s is outside your subtree", ErrForbidden, rc.Scope, firstNonEmpty(rc.Email, rc.Name))
			}
		}
	}
	return nil
}

// Delete removes a report made in the UI (its history stays).
func (s *Service) Delete(ctx context.Context, name string, by access.User) error {
	r, err := s.Report(ctx, name)
	if err != nil {
		return err
	}
	if r.Source == "file" {
		return fmt.Errorf("report %s is defined in %s: remove the file", name, r.File)
	}
	if r.Owner != by.Username && by.Role != access.RoleAdmin {
		return fmt.Errorf("%w: report %s belongs to %s", ErrForbidden, name, r.Owner)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM report_definitions WHERE name = $1`, name); err != nil {
		return err
	}
	return s.syncSchedules(ctx)
}

// syncSchedules hands every report's schedule to the scheduler.
func (s *Service) syncSchedules(ctx context.Context) error {
	all, err := s.Reports(ctx)
	if err != nil {
		return err
	}
	plans := make([]schedule.Schedule, 0, len(all))
	for _, r := range all {
		plans = append(plans, r.Plan())
	}
	return s.sched.Set(plans)
}

// SetBaseURL is the loopback address of the HTTP server that serves the
// print pages (Chromium loads them from there).
func (s *Service) SetBaseURL(u string) {
	s.mu.Lock()
	s.baseURL = u
	s.mu.Unlock()
}

// BaseURL is the address set by SetBaseURL.
func (s *Service) BaseURL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.baseURL
}

// browser is the Chromium pool, started on first use.
func (s *Service) browser() *chromium.Pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool == nil {
		s.pool = chromium.NewPool(s.cfg.Chromium, s.cfg.BrowserPages)
	}
	return s.pool
}

// Start runs the scheduler (inside serve) and the retention of rendered
// files, until Stop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.syncSchedules(ctx); err != nil {
		return err
	}
	if err := s.sched.Start(ctx); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.started, s.stop = true, cancel
	s.mu.Unlock()
	go s.retention(rctx)
	return nil
}

// Stop stops the scheduler (runs under way get until ctx ends) and the
// browser.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	stop, pool := s.stop, s.pool
	s.started, s.pool = false, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	err := s.sched.Stop(ctx)
	if pool != nil {
		pool.Close()
	}
	return err
}

// Loaded tells the scheduler a load committed at at (after-load reports).
func (s *Service) Loaded(at time.Time) { s.sched.Loaded(at) }

// Pause and Resume stop and restart a report's schedule.
func (s *Service) Pause(ctx context.Context, name, by string) error {
	if _, err := s.Report(ctx, name); err != nil {
		return err
	}
	return s.sched.Pause(ctx, name, by)
}

// Resume restarts a paused report's schedule from now on.
func (s *Service) Resume(ctx context.Context, name, by string) error {
	if _, err := s.Report(ctx, name); err != nil {
		return err
	}
	return s.sched.Resume(ctx, name, by)
}

// Paused reports whether a report's schedule is paused.
func (s *Service) Paused(ctx context.Context) (map[string]bool, error) {
	st, err := s.ledger.States(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for id, v := range st {
		out[id] = v.Paused
	}
	return out, nil
}
