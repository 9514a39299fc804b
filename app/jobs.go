package app

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/models"
)

// The jobs: every write to the warehouse is one of them — a load, a refresh,
// a collision ruling — run on the warehouse's one write lane, recorded in the
// audit trail with who asked and through which door (cli, http), and, for a
// load through the server, followed by a refresh of the models it affects
// (Config.RefreshAfterLoad), queued and run in the background so that the
// pages never show new data beside old models without the models following.

// LoadRequest is a load as the command line and the admin API describe it:
// the one translation from flags to the loader's options (loadOptions).
type LoadRequest struct {
	Paths          []string `json:"paths"` // absolute paths on the runtime's machine
	Entity         string   `json:"entity,omitempty"`
	Mapping        string   `json:"mapping,omitempty"` // path of a mapping file
	Encoding       string   `json:"encoding,omitempty"`
	Source         string   `json:"source,omitempty"` // a PostgreSQL connection string
	Snapshot       []string `json:"snapshot,omitempty"`
	Force          bool     `json:"force,omitempty"`
	DryRun         bool     `json:"dry_run,omitempty"`
	MaxRejectShare float64  `json:"max_reject_share,omitempty"` // 0: the configured share
	// Bounds of the load; a request may lower the configured ones, not raise them.
	MaxTextBytes  int    `json:"max_text_bytes,omitempty"`
	MaxFileBytes  int64  `json:"max_file_bytes,omitempty"`
	MaxUnzipBytes int64  `json:"max_unzip_bytes,omitempty"`
	By            string `json:"by,omitempty"` // who asked (the OS user for the command line)
}

// LoadResult is a load's report and what follows it.
type LoadResult struct {
	Report *etl.Report `json:"report"`
	// Refresh is the models' refresh the load scheduled ("" when none):
	// "all" or a comma-separated list of models.
	Refresh string `json:"refresh,omitempty"`
}

// RefreshRequest asks for a refresh of the models.
type RefreshRequest struct {
	AsOf   string   `json:"as_of,omitempty"` // YYYY-MM-DD; "" = the latest date in the data
	Models []string `json:"models,omitempty"`
	Full   bool     `json:"full,omitempty"` // recompute every model from all rows
	By     string   `json:"by,omitempty"`
}

// RefreshResult is what a refresh did.
type RefreshResult struct {
	AsOf    time.Time          `json:"as_of"`
	Results []models.RunResult `json:"results"`
	Elapsed time.Duration      `json:"elapsed"`
}

// jobRunner runs the background jobs (the refreshes loads schedule) one at
// a time; the foreground jobs (a load, a refresh or a ruling asked for by
// someone who waits) run in the caller's goroutine. All of them write on the
// warehouse's one write lane, which orders them.
type jobRunner struct {
	r       *Runtime
	mu      sync.Mutex
	pending *RefreshRequest // the refresh queued after loads (merged)
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	idle    *sync.Cond
	busy    bool
}

func newJobRunner(r *Runtime) *jobRunner {
	j := &jobRunner{r: r, wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	j.idle = sync.NewCond(&j.mu)
	go j.loop()
	return j
}

func (j *jobRunner) loop() {
	defer close(j.stopped)
	for {
		select {
		case <-j.done:
			return
		case <-j.wake:
		}
		for {
			j.mu.Lock()
			req := j.pending
			j.pending = nil
			j.busy = req != nil
			j.mu.Unlock()
			if req == nil {
				break
			}
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
			res, err := j.r.Refresh(ctx, *req)
			cancel()
			if err != nil {
				j.r.log.Error("scheduled refresh after a load failed; the previous models stay", "models", req.Models, "err", err)
			} else {
				j.r.log.Info("scheduled refresh after a load", "models", len(res.Results), "as_of", res.AsOf.Format(time.DateOnly),
					"seconds", res.Elapsed.Seconds())
			}
		}
		j.mu.Lock()
		j.busy = false
		j.idle.Broadcast()
		j.mu.Unlock()
		j.r.modelsSettled() // the after-load reports that waited for these refreshes
	}
}

// schedule queues a refresh; one already queued absorbs it (the union of
// the models, or all of them).
func (j *jobRunner) schedule(req RefreshRequest) {
	j.mu.Lock()
	if j.pending == nil {
		j.pending = &req
	} else if len(j.pending.Models) > 0 {
		if len(req.Models) == 0 {
			j.pending.Models = nil
		} else {
			for _, m := range req.Models {
				if !slices.Contains(j.pending.Models, m) {
					j.pending.Models = append(j.pending.Models, m)
				}
			}
		}
	}
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// queuedOrRunning says whether a background refresh is queued or running.
func (j *jobRunner) queuedOrRunning() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.busy || j.pending != nil
}

// wait blocks until no background job is queued or running (tests, demo).
func (j *jobRunner) wait() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.busy || j.pending != nil {
		j.idle.Wait()
	}
}

func (j *jobRunner) stop() {
	select {
	case <-j.done:
	default:
		close(j.done)
	}
	<-j.stopped
}

// WaitForJobs blocks until the background jobs (refreshes scheduled by
// loads) have finished.
func (r *Runtime) WaitForJobs() { r.jobs.wait() }

// loadOptions turns a load request into the loader's options.
func (r *Runtime) loadOptions(req LoadRequest) (etl.Options, error) {
	opts := etl.Options{Entity: req.Entity, Encoding: req.Encoding, Source: req.Source, Snapshot: req.Snapshot,
		Force: req.Force, DryRun: req.DryRun, MaxRejectShare: req.MaxRejectShare,
		BaseCurrency: r.cfg.BaseCurrency, Logger: r.log,
		MaxTextBytes:  lower(r.cfg.MaxTextBytes, req.MaxTextBytes),
		MaxFileBytes:  lower(r.cfg.MaxFileBytes, req.MaxFileBytes),
		MaxUnzipBytes: lower(r.cfg.MaxUnzipBytes, req.MaxUnzipBytes)}
	if opts.MaxRejectShare == 0 {
		opts.MaxRejectShare = r.cfg.MaxReject
	}
	if req.Mapping != "" {
		m, err := etl.LoadMapping(req.Mapping)
		if err != nil {
			return opts, err
		}
		opts.Mapping = m
	}
	// What is derived from the base tables commits with the load: the
	// facts (for the rows the load changed, models.UpdateFacts), and the
	// scoped relations over them.
	opts.AfterApply = func(ctx context.Context, conn *sql.Conn, rep *etl.Report) error {
		why, err := models.UpdateFacts(ctx, conn, r.cfg.BaseCurrency, rep.LoadID)
		if err != nil {
			return err
		}
		if why != "" {
			r.log.Info("facts built in full with the load", "load_id", rep.LoadID, "why", why)
		}
		return r.installScoped(ctx, conn)
	}
	return opts, nil
}

// lower is the tighter of two bounds, 0 meaning "the default".
func lower[T int | int64](configured, asked T) T {
	if asked > 0 && (configured == 0 || asked < configured) {
		return asked
	}
	return configured
}

// Load runs a load. When scheduleRefresh is set (a load through the
// server) and it committed changes, the refresh of the models it affects is
// queued as configured (Config.RefreshAfterLoad).
func (r *Runtime) Load(ctx context.Context, req LoadRequest, progress func(done, total int64), scheduleRefresh bool) (*LoadResult, error) {
	opts, err := r.loadOptions(req)
	if err != nil {
		return nil, err
	}
	opts.Progress = progress
	asOfBefore := r.asOf(ctx)
	rep, err := etl.Load(ctx, r.w, req.Paths, opts)
	res := &LoadResult{Report: rep}
	detail := map[string]any{"paths": req.Paths, "source": redactSource(req.Source)}
	if rep != nil {
		detail["status"], detail["load_id"] = rep.Status, rep.LoadID
	}
	if err != nil {
		detail["error"] = err.Error()
	}
	if rep != nil && rep.Status == "committed" {
		if r.engine != nil {
			r.engine.Invalidate()
		}
		if scheduleRefresh {
			res.Refresh = r.scheduleRefreshAfter(ctx, rep, asOfBefore, req.By)
			detail["refresh"] = res.Refresh
		}
		// A refresh the load queued publishes ad hoc SQL's snapshot when it
		// ends: one copy of the warehouse file instead of two (8-14 GB each
		// on the large demo company), and no copy holding the write lane the
		// refresh waits for.
		if res.Refresh == "" {
			r.sqlPublish(ctx, "load")
		}
		r.reportsLoaded(time.Now()) // after-load reports, after the refresh it queued
	}
	r.audit(ctx, req.By, "load", detail)
	return res, err
}

// scheduleRefreshAfter queues the refresh a committed load calls for and
// says what it queued.
func (r *Runtime) scheduleRefreshAfter(ctx context.Context, rep *etl.Report, asOfBefore time.Time, by string) string {
	if r.cfg.RefreshAfterLoad == "off" {
		return ""
	}
	var changed []string
	for _, f := range rep.Files {
		if f.Loaded+f.Updated+f.Deleted+f.Restored > 0 && !slices.Contains(changed, f.Entity) {
			changed = append(changed, f.Entity)
		}
	}
	if len(changed) == 0 {
		return ""
	}
	req := RefreshRequest{By: by}
	what := "all"
	// A moved as-of date changes every model (periods, recency, ages).
	if r.cfg.RefreshAfterLoad == "affected" && r.asOf(ctx).Equal(asOfBefore) {
		req.Models = models.Affected(changed)
		if len(req.Models) == 0 {
			return ""
		}
		what = fmt.Sprint(req.Models)
	}
	r.jobs.schedule(req)
	return what
}

// asOf is the latest date in the data (zero when unknown).
func (r *Runtime) asOf(ctx context.Context) time.Time {
	q, err := models.SQL("as_of.sql", nil)
	if err != nil {
		return time.Time{}
	}
	var d sql.NullTime
	if err := r.w.Reader().QueryRowContext(ctx, q).Scan(&d); err != nil {
		return time.Time{}
	}
	return d.Time
}

// Refresh computes the models and publishes them together with the scoped
// relations over them.
func (r *Runtime) Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error) {
	start := time.Now()
	if r.engine != nil {
		// The pages say the models are being computed until it ends (and
		// the warm-up waits: what it would compute is about to change).
		done := r.engine.StartComputing(start)
		defer r.modelsSettled()
		defer done()
	}
	opts := models.RefreshOptions{Models: req.Models, Full: req.Full, BaseCurrency: r.cfg.BaseCurrency, Logger: r.log,
		Settings: map[string]models.Settings{}, BeforePublish: r.installScoped}
	if req.AsOf != "" {
		d, err := time.Parse(time.DateOnly, req.AsOf)
		if err != nil {
			return nil, fmt.Errorf("as-of %q: want a date like 2025-12-31", req.AsOf)
		}
		opts.AsOf = d
	}
	for _, name := range models.Names() {
		opts.Settings[name] = models.Settings(r.cfg.Sub("models." + name))
	}
	asOf, results, err := models.Refresh(ctx, r.w, opts)
	res := &RefreshResult{AsOf: asOf, Results: results, Elapsed: time.Since(start)}
	detail := map[string]any{"models": req.Models, "full": req.Full, "as_of": asOf.Format(time.DateOnly), "seconds": res.Elapsed.Seconds()}
	if err != nil {
		detail["error"] = err.Error()
	}
	if r.engine != nil {
		r.engine.Invalidate()
	}
	// Also after a failed refresh: the load that queued it left its
	// publication to it (a warehouse nothing changed keeps its snapshot).
	// Not when the server is stopping: the next start publishes.
	if ctx.Err() == nil {
		r.sqlPublish(ctx, "refresh")
	}
	r.audit(ctx, req.By, "refresh", detail)
	return res, err
}

// StartRefresh starts a refresh of the models in the background and
// returns what waits for its result. The pages say the models are being
// computed from this call on (before the refresh has the write lane), so a
// server started right after it knows the models are coming (the demo).
func (r *Runtime) StartRefresh(ctx context.Context, req RefreshRequest) (wait func() (*RefreshResult, error)) {
	var done func()
	if r.engine != nil {
		done = r.engine.StartComputing(time.Now())
	}
	var o struct {
		res *RefreshResult
		err error
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		o.res, o.err = r.Refresh(ctx, req)
		if done != nil {
			done()
			r.modelsSettled()
		}
	}()
	// Any number of callers may wait (the demo waits twice: to print the
	// models, and before it closes the runtime on Ctrl-C).
	return func() (*RefreshResult, error) {
		<-finished
		return o.res, o.err
	}
}

// RuleCollision records a ruling on a collision pair (the dashboards'
// /collisions page asks for it).
func (r *Runtime) RuleCollision(ctx context.Context, ru models.Ruling) error {
	err := r.w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return models.RecordRuling(ctx, conn, ru)
	})
	if err != nil {
		return err
	}
	r.engine.Invalidate() // the charts count rulings
	return nil
}

func (r *Runtime) audit(ctx context.Context, by, action string, detail map[string]any) {
	if by == "" {
		by = "cli"
	}
	if err := r.access.Audit(context.WithoutCancel(ctx), access.Event{Username: by, Action: action, Detail: detail}); err != nil {
		r.log.Warn("audit", "action", action, "err", err)
	}
}

// redactSource drops the user and password of a connection string before
// it is logged or audited.
func redactSource(src string) string {
	if i, j := strings.Index(src, "://"), strings.LastIndex(src, "@"); i >= 0 && j > i {
		return src[:i+3] + "…" + src[j:]
	}
	return src
}
