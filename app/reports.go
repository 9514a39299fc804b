package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/render"
	"github.com/triscope/triscope/reports"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/reports/schedule"
)

// The reports face (issue 16) in the runtime: the reports service over the
// engine and the application database, its face on the HTTP server, its
// scheduler inside serve, after-load triggers from the loads, the delivery
// channels of the configuration (delivery:), and the reports' commands of
// the admin API.

// ReportsConfig is the reports section of the configuration.
type ReportsConfig struct {
	// FilesDir keeps each run's rendered files ("" = beside the warehouse:
	// <db>.reports/).
	FilesDir string `koanf:"files_dir"`
	// RetentionDays is how long rendered files are kept.
	RetentionDays int `koanf:"retention_days"`
	// PublicURL is the address people reach the server at (links back to
	// the live pages, unsubscribe links); "" = http://<addr>.
	PublicURL string `koanf:"public_url"`
	// Lang is the language of recipients whose profile names none.
	Lang string `koanf:"lang"`
	// Scopes are the named scopes external recipients are bound to:
	// name: all | org:<unit> | rep:<rep>.
	Scopes map[string]string `koanf:"scopes"`
	// Burst is how many recipients of a run render at once.
	Burst int `koanf:"burst"`
	// BrowserPages bounds headless Chromium's pages; Chromium is its path.
	BrowserPages int    `koanf:"browser_pages"`
	Chromium     string `koanf:"chromium"`
	// Grace: fire times older than the start minus this were missed while
	// the server was down (their report's missed policy applies).
	Grace time.Duration `koanf:"grace"`
	// Interval is how often the scheduler looks for due fire times.
	Interval time.Duration `koanf:"interval"`
}

// reportsState is the runtime's reports service, made on first use.
type reportsState struct {
	mu  sync.Mutex
	svc *reports.Service
	// afterLoad is the last committed load whose after-load reports wait
	// for the refresh of the models that follows it (zero: none wait).
	afterLoad time.Time
}

func init() {
	faceBuilders = append(faceBuilders, func(ctx context.Context, r *Runtime) (dashboards.Face, error) {
		svc, err := r.Reports(ctx)
		if err != nil {
			return dashboards.Face{}, err
		}
		var actions []dashboards.PageAction
		for _, a := range reports.PageActions {
			actions = append(actions, dashboards.PageAction{Label: a.Label, Path: a.Path, Blank: a.Blank, ListPages: a.ListPages})
		}
		return dashboards.Face{
			Nav:         []dashboards.NavLink{{Path: reports.NavPath, Label: reports.NavLabel}},
			PageActions: actions,
			Mount:       func(e *echo.Echo, sh *dashboards.Shell) error { return svc.Mount(e, sh) },
		}, nil
	})
	adminRoutes = append(adminRoutes, reportsAdminRoutes)
}

// Reports is the runtime's reports service: the definitions of
// reports_dir (validated: a bad file stops here, naming file and line),
// those made in the UI, the channels of delivery:, the run ledger.
func (r *Runtime) Reports(ctx context.Context) (*reports.Service, error) {
	r.reports.mu.Lock()
	defer r.reports.mu.Unlock()
	if r.reports.svc != nil {
		return r.reports.svc, nil
	}
	channels, err := deliver.NewRegistry(r.cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("delivery channels: %w", err)
	}
	rc := r.cfg.Reports
	files := rc.FilesDir
	if files == "" {
		files = strings.TrimSuffix(r.cfg.DB, ".duckdb") + ".reports"
	}
	if files, err = filepath.Abs(files); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(files, 0o700); err != nil {
		return nil, fmt.Errorf("reports.files_dir: %w", err)
	}
	public := rc.PublicURL
	if public == "" {
		public = "http://" + r.cfg.Addr
	}
	svc, err := reports.New(ctx, reports.Options{Engine: r.engine, Access: r.access, Channels: channels, Dir: r.cfg.ReportsDir, Logger: r.log,
		Saved: savedQueries{r},
		Config: reports.Config{Lang: rc.Lang, Scopes: rc.Scopes, FilesDir: files, Retention: time.Duration(rc.RetentionDays) * 24 * time.Hour,
			PublicURL: public, Burst: rc.Burst, BrowserPages: rc.BrowserPages, Chromium: rc.Chromium, Grace: rc.Grace, Interval: rc.Interval}})
	if err != nil {
		return nil, err
	}
	r.reports.svc = svc
	return svc, nil
}

// savedQueries runs the SQL face's saved queries for reports (query/adhoc):
// as the recipient, with their scope and what is shared with their role.
type savedQueries struct{ r *Runtime }

func (q savedQueries) RunSaved(ctx context.Context, name string, as access.User, values map[string]string) (*reports.SavedResult, error) {
	s, err := q.r.startSQL(ctx)
	if err != nil {
		return nil, err
	}
	if s.snaps.Current() == "" {
		q.r.WaitForSnapshots() // the first snapshot is being published
	}
	viewer := adhoc.Viewer{Username: as.Username, Role: as.Role}
	sq, err := s.store.Get(ctx, viewer, name)
	if err != nil {
		return nil, err
	}
	args := map[string]string{} // the values of the parameters the query declares
	for _, p := range sq.Params {
		if v, ok := values[p.Name]; ok {
			args[p.Name] = v
		}
	}
	res, saved, err := s.store.RunSaved(ctx, s.sb, name, viewer, as.Role == access.RoleAdmin, adhoc.Scope(access.ScopeFor(as)), args, "report")
	if err != nil {
		return nil, err
	}
	out := &reports.SavedResult{Title: saved.Name, Truncated: res.Truncated}
	seen := map[string]bool{}
	for i, c := range res.Columns {
		name := c.Name
		if name == "" || seen[name] {
			name = fmt.Sprintf("%s_%d", c.Name, i+1)
		}
		seen[name] = true
		out.Columns = append(out.Columns, render.Column{Name: name, Label: c.Name, Kind: render.Kind(c.Kind())})
	}
	for _, row := range res.Rows {
		vals := make([]any, len(row))
		for i, v := range row {
			vals[i] = adhoc.ExportValue(v)
		}
		out.Rows = append(out.Rows, vals)
	}
	return out, nil
}

// startReports starts the scheduler once the server listens at url, and
// returns what stops it.
func (r *Runtime) startReports(ctx context.Context, u string) (func(), error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	svc.SetBaseURL(loopbackURL(u))
	if err := svc.Start(ctx); err != nil {
		return nil, err
	}
	// A load that committed just before the server stopped still triggers
	// its after-load reports.
	if st, err := r.engine.State(ctx); err == nil && !st.LoadedAt.IsZero() {
		r.reportsLoaded(st.LoadedAt)
	}
	// When the server stops, the runs under way are interrupted at once,
	// before the HTTP server they print from goes away: the ledger keeps
	// them running and the next start resumes them, sending only what was
	// not recorded as sent.
	stopped := make(chan struct{})
	sctx, stop := context.WithCancel(ctx)
	go func() {
		defer close(stopped)
		<-sctx.Done()
		now, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancel()
		if err := svc.Stop(now); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Warn("reports: stopping the scheduler", "err", err)
		}
	}()
	return func() { stop(); <-stopped }, nil
}

// loopbackURL is the address Chromium reaches the server at: a listener
// on every interface is reached on loopback.
func loopbackURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	host, port, err := net.SplitHostPort(pu.Host)
	if err != nil {
		return u
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() || host == "" {
		pu.Host = net.JoinHostPort("127.0.0.1", port)
	}
	return pu.String()
}

// reportsLoaded tells the scheduler a load committed at at (after-load
// reports) once the models reflect it: at once when no refresh of the
// models is under way or queued, else when the last of them ends
// (modelsSettled) — an after-load report reads the models too, and sent
// before them it would pair the new data with the old models.
func (r *Runtime) reportsLoaded(at time.Time) {
	r.reports.mu.Lock()
	if r.modelsBusy() {
		if at.After(r.reports.afterLoad) {
			r.reports.afterLoad = at
		}
		r.reports.mu.Unlock()
		return
	}
	svc := r.reports.svc
	r.reports.mu.Unlock()
	if svc != nil {
		svc.Loaded(at)
	}
}

// modelsBusy says whether a refresh of the models is under way or queued.
func (r *Runtime) modelsBusy() bool {
	if r.engine != nil {
		if _, computing := r.engine.Computing(); computing {
			return true
		}
	}
	return r.jobs != nil && r.jobs.queuedOrRunning()
}

// modelsSettled is called when a refresh ends: the after-load reports that
// waited for it run once no other refresh is under way or queued.
func (r *Runtime) modelsSettled() {
	r.reports.mu.Lock()
	at := r.reports.afterLoad
	if at.IsZero() || r.modelsBusy() {
		r.reports.mu.Unlock()
		return
	}
	r.reports.afterLoad = time.Time{}
	svc := r.reports.svc
	r.reports.mu.Unlock()
	if svc != nil {
		svc.Loaded(at)
	}
}

// closeReports stops the browser of a reports service used without a server.
func (r *Runtime) closeReports() {
	r.reports.mu.Lock()
	svc := r.reports.svc
	r.reports.mu.Unlock()
	if svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Stop(ctx)
	}
}

// withPrintServer makes sure the print pages are served (PDF and chart
// images need them): by the server when this runtime serves, else by a
// server on a loopback port for the time of fn.
func (r *Runtime) withPrintServer(ctx context.Context, svc *reports.Service, fn func() error) error {
	if svc.BaseURL() != "" {
		return fn()
	}
	srv, err := r.Dashboards(ctx, "", true)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(sctx, ln)
	}()
	svc.SetBaseURL("http://" + ln.Addr().String())
	defer func() {
		svc.SetBaseURL("")
		cancel()
		<-done
	}()
	return fn()
}

// ---- the command line's report commands ----

// ReportsAdmin are the report commands (triscope report …).
type ReportsAdmin interface {
	ReportList(ctx context.Context) ([]ReportSummary, error)
	ReportRun(ctx context.Context, req ReportRunRequest) (*reports.Copy, error)
	ReportPreview(ctx context.Context, req ReportRunRequest) (*reports.Copy, error)
	ReportSend(ctx context.Context, name, by string) (*reports.RunInfo, error)
	ReportHistory(ctx context.Context, name string, limit int) ([]reports.RunInfo, error)
	ReportPause(ctx context.Context, name string, paused bool, by string) error
	ReportValidate(ctx context.Context) error
}

// ReportSummary is one line of `report list`.
type ReportSummary struct {
	Name       string       `json:"name"`
	Title      reports.Text `json:"title"`
	Source     string       `json:"source"`
	File       string       `json:"file,omitempty"`
	Owner      string       `json:"owner"`
	Content    int          `json:"content"`
	Formats    []string     `json:"formats"`
	Recipients int          `json:"recipients"`
	Channels   []string     `json:"channels"`
	Schedule   string       `json:"schedule"`
	Paused     bool         `json:"paused"`
	LastRun    string       `json:"last_run,omitempty"`
	LastStatus string       `json:"last_status,omitempty"`
}

// ReportRunRequest renders a report for one user or recipient into a
// folder of the runtime's machine.
type ReportRunRequest struct {
	Name    string   `json:"name"`
	As      string   `json:"as,omitempty"` // run: a user name; preview: a recipient key ("" = the first)
	Formats []string `json:"formats,omitempty"`
	Out     string   `json:"out"` // an absolute folder
	By      string   `json:"by,omitempty"`
}

// ReportList lists the reports.
func (r *Runtime) ReportList(ctx context.Context) ([]ReportSummary, error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	all, err := svc.Reports(ctx)
	if err != nil {
		return nil, err
	}
	paused, err := svc.Paused(ctx)
	if err != nil {
		return nil, err
	}
	out := []ReportSummary{}
	for _, rep := range all {
		s := ReportSummary{Name: rep.Name, Title: rep.Title, Source: rep.Source, File: rep.File, Owner: rep.Owner, Content: len(rep.Content),
			Formats: rep.Formats, Recipients: len(rep.Recipients), Channels: rep.Channels, Paused: paused[rep.Name], Schedule: scheduleText(rep.Schedule)}
		if h, err := svc.History(ctx, rep.Name, 1, nil); err == nil && len(h) > 0 {
			s.LastRun, s.LastStatus = h[0].FireTime.UTC().Format(time.RFC3339), h[0].Status
		}
		out = append(out, s)
	}
	return out, nil
}

func scheduleText(s reports.Schedule) string {
	var parts []string
	if s.Cron != "" {
		tz := s.TimeZone
		if tz == "" {
			tz = schedule.DefaultTimeZone
		}
		parts = append(parts, s.Cron+" "+tz)
	}
	if s.AfterLoad {
		parts = append(parts, "after load")
	}
	if !s.Once.IsZero() {
		parts = append(parts, "once "+s.Once.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "manual"
	}
	return strings.Join(parts, "; ")
}

func checkOut(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("--out %q: an absolute folder on the server's machine", dir)
	}
	return os.MkdirAll(dir, 0o755)
}

// ReportRun renders a report as a user into a folder and delivers nothing.
func (r *Runtime) ReportRun(ctx context.Context, req ReportRunRequest) (*reports.Copy, error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	if req.As == "" {
		return nil, errors.New("--as: the user the report is rendered as")
	}
	if err := checkOut(req.Out); err != nil {
		return nil, err
	}
	var cp *reports.Copy
	err = r.withPrintServer(ctx, svc, func() error {
		var err error
		cp, err = svc.RenderAs(ctx, req.Name, req.As, req.Formats, req.Out)
		return err
	})
	if err == nil {
		r.audit(ctx, req.By, "report_run_as", map[string]any{"report": req.Name, "as": req.As, "formats": req.Formats, "out": req.Out})
	}
	return cp, err
}

// ReportPreview renders a report for one of its recipients into a folder.
func (r *Runtime) ReportPreview(ctx context.Context, req ReportRunRequest) (*reports.Copy, error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkOut(req.Out); err != nil {
		return nil, err
	}
	var cp *reports.Copy
	err = r.withPrintServer(ctx, svc, func() error {
		var err error
		cp, err = svc.Preview(ctx, req.Name, req.As, req.Formats, req.Out)
		return err
	})
	if err == nil {
		r.audit(ctx, req.By, "report_preview", map[string]any{"report": req.Name, "as": req.As, "out": req.Out})
	}
	return cp, err
}

// ReportSend runs a report now for every recipient and delivers it; it
// returns when the run has finished.
func (r *Runtime) ReportSend(ctx context.Context, name, by string) (*reports.RunInfo, error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	var run schedule.Run
	err = r.withPrintServer(ctx, svc, func() error {
		var err error
		run, err = svc.Send(ctx, name, by)
		if err != nil && run.ID == "" {
			return err
		}
		// Through the scheduler the run is queued: wait for it.
		for run.FinishedAt.IsZero() && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
			hist, herr := svc.History(ctx, name, 5, nil)
			if herr != nil {
				return herr
			}
			for _, h := range hist {
				if h.ID == run.ID {
					run = h.Run
				}
			}
		}
		return nil
	})
	if run.ID == "" {
		return nil, err
	}
	if err == nil && run.Status == schedule.StatusFailed {
		err = fmt.Errorf("run %s failed: %s", run.ID, run.Error)
	}
	r.audit(ctx, by, "report_send", map[string]any{"report": name, "run": run.ID, "status": run.Status})
	hist, herr := svc.History(ctx, name, 10, nil)
	if herr != nil {
		return nil, errors.Join(err, herr)
	}
	for _, h := range hist {
		if h.ID == run.ID {
			info := h
			return &info, err
		}
	}
	return &reports.RunInfo{Run: run}, err
}

// ReportHistory lists a report's runs.
func (r *Runtime) ReportHistory(ctx context.Context, name string, limit int) ([]reports.RunInfo, error) {
	svc, err := r.Reports(ctx)
	if err != nil {
		return nil, err
	}
	return svc.History(ctx, name, limit, nil)
}

// ReportPause pauses or resumes a report's schedule.
func (r *Runtime) ReportPause(ctx context.Context, name string, paused bool, by string) error {
	svc, err := r.Reports(ctx)
	if err != nil {
		return err
	}
	if paused {
		err = svc.Pause(ctx, name, by)
	} else {
		err = svc.Resume(ctx, name, by)
	}
	if err == nil {
		r.audit(ctx, by, map[bool]string{true: "report_pause", false: "report_resume"}[paused], map[string]any{"report": name})
	}
	return err
}

// ReportValidate reads the definitions of reports_dir again.
func (r *Runtime) ReportValidate(ctx context.Context) error {
	svc, err := r.Reports(ctx)
	if err != nil {
		return err
	}
	return svc.Reload()
}

// reportsAdminRoutes serves the report commands on the admin API.
func reportsAdminRoutes(r *Runtime, handle adminHandle, decode func(*http.Request, any) error) {
	handle("GET "+adminPrefix+"reports", func(w http.ResponseWriter, req *http.Request) (any, error) {
		return r.ReportList(req.Context())
	})
	handle("POST "+adminPrefix+"reports/run", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var rr ReportRunRequest
		if err := decode(req, &rr); err != nil {
			return nil, err
		}
		return r.ReportRun(req.Context(), rr)
	})
	handle("POST "+adminPrefix+"reports/preview", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var rr ReportRunRequest
		if err := decode(req, &rr); err != nil {
			return nil, err
		}
		return r.ReportPreview(req.Context(), rr)
	})
	handle("POST "+adminPrefix+"reports/send", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var body struct{ Name, By string }
		if err := decode(req, &body); err != nil {
			return nil, err
		}
		return r.ReportSend(req.Context(), body.Name, body.By)
	})
	handle("GET "+adminPrefix+"reports/history", func(w http.ResponseWriter, req *http.Request) (any, error) {
		limit := 20
		fmt.Sscan(req.URL.Query().Get("limit"), &limit)
		return r.ReportHistory(req.Context(), req.URL.Query().Get("name"), limit)
	})
	handle("POST "+adminPrefix+"reports/pause", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var body struct {
			Name   string
			Paused bool
			By     string
		}
		if err := decode(req, &body); err != nil {
			return nil, err
		}
		return nil, r.ReportPause(req.Context(), body.Name, body.Paused, body.By)
	})
	handle("POST "+adminPrefix+"reports/validate", func(w http.ResponseWriter, req *http.Request) (any, error) {
		return nil, r.ReportValidate(req.Context())
	})
}

func (c *remote) ReportList(ctx context.Context) ([]ReportSummary, error) {
	var out []ReportSummary
	err := c.call(ctx, http.MethodGet, "reports", nil, &out)
	return out, err
}

func (c *remote) ReportRun(ctx context.Context, req ReportRunRequest) (*reports.Copy, error) {
	var out reports.Copy
	err := c.call(ctx, http.MethodPost, "reports/run", req, &out)
	return &out, err
}

func (c *remote) ReportPreview(ctx context.Context, req ReportRunRequest) (*reports.Copy, error) {
	var out reports.Copy
	err := c.call(ctx, http.MethodPost, "reports/preview", req, &out)
	return &out, err
}

func (c *remote) ReportSend(ctx context.Context, name, by string) (*reports.RunInfo, error) {
	var out reports.RunInfo
	err := c.call(ctx, http.MethodPost, "reports/send", map[string]string{"Name": name, "By": by}, &out)
	return &out, err
}

func (c *remote) ReportHistory(ctx context.Context, name string, limit int) ([]reports.RunInfo, error) {
	var out []reports.RunInfo
	err := c.call(ctx, http.MethodGet, "reports/history?name="+url.QueryEscape(name)+"&limit="+fmt.Sprint(limit), nil, &out)
	return out, err
}

func (c *remote) ReportPause(ctx context.Context, name string, paused bool, by string) error {
	return c.call(ctx, http.MethodPost, "reports/pause", map[string]any{"Name": name, "Paused": paused, "By": by}, nil)
}

func (c *remote) ReportValidate(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "reports/validate", nil, nil)
}
