package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labstack/echo/v5"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/sql/console"
	"github.com/triscope/triscope/sql/flight"
)

// Ad hoc SQL in the runtime: the sandbox (query/adhoc) over snapshots the
// server publishes beside the warehouse (<db>.snapshots/) at start and after
// every committed load and refresh, its audit hook into the audit trail and
// the query history, the per-role settings (`sql:` in the configuration),
// the command line's way in (through the running server's admin API, or
// directly on the warehouse file when no server runs), and the faces: the
// HTTP API and console (sql/console) and Arrow Flight SQL (sql/flight).

// SQLConfig is the `sql:` section of the configuration.
type SQLConfig struct {
	// Roles: per role, whether it may use ad hoc SQL (every role may by
	// default), its time limit and row cap (0: the defaults below).
	Roles     map[string]SQLRoleConfig `koanf:"roles"`
	Timeout   time.Duration            `koanf:"timeout"`    // default time limit of a query [30s]
	MaxRows   int                      `koanf:"max_rows"`   // default row cap of a query [10000]
	Workers   int                      `koanf:"workers"`    // queries at once overall, one worker process each [2]
	PerUser   int                      `koanf:"per_user"`   // queries at once per user [1]
	QueueWait time.Duration            `koanf:"queue_wait"` // how long a query waits for a worker before "busy" [2s]
	// WorkerMemory is the address-space limit of a worker process (the
	// hard memory bound of a query), e.g. "4GB" [4GB]; DuckDB's own
	// memory_limit inside it is a quarter of it.
	WorkerMemory  string `koanf:"worker_memory"`
	WorkerThreads int    `koanf:"worker_threads"` // DuckDB threads per worker [2]
	// Snapshots is the directory of the read-only copies the workers read
	// [<db>.snapshots].
	Snapshots string       `koanf:"snapshots"`
	Flight    FlightConfig `koanf:"flight"`
}

// SQLRoleConfig is one role's ad hoc SQL settings.
type SQLRoleConfig struct {
	Enabled *bool         `koanf:"enabled"` // nil: enabled
	Timeout time.Duration `koanf:"timeout"`
	MaxRows int           `koanf:"max_rows"`
}

// FlightConfig configures Arrow Flight SQL (off unless Addr is set).
type FlightConfig struct {
	Addr       string        `koanf:"addr"`        // host:port; plaintext only on a loopback address
	TLSCert    string        `koanf:"tls_cert"`    // PEM certificate (chain) file
	TLSKey     string        `koanf:"tls_key"`     // PEM private key file
	MaxStreams int           `koanf:"max_streams"` // result streams at once [4]
	MaxRows    int           `koanf:"max_rows"`    // row cap of a Flight query [10,000,000]
	HandleTTL  time.Duration `koanf:"handle_ttl"`  // statement handles and sessions expire after [10m] unused
}

// Limits are a role's limits under this configuration.
func (c SQLConfig) Limits(role string) adhoc.Limits {
	l := adhoc.Limits{Enabled: true, Timeout: c.Timeout, MaxRows: c.MaxRows}
	if rc, ok := c.Roles[role]; ok {
		if rc.Enabled != nil {
			l.Enabled = *rc.Enabled
		}
		if rc.Timeout > 0 {
			l.Timeout = rc.Timeout
		}
		if rc.MaxRows > 0 {
			l.MaxRows = rc.MaxRows
		}
	}
	return l
}

func (c *SQLConfig) fill(db string) error {
	for role := range c.Roles {
		if !slices.Contains(access.Roles, role) {
			return fmt.Errorf("configuration: sql.roles.%s: unknown role (known: %s)", role, strings.Join(access.Roles, ", "))
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxRows <= 0 {
		c.MaxRows = 10_000
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.PerUser <= 0 {
		c.PerUser = 1
	}
	if c.QueueWait == 0 {
		c.QueueWait = 2 * time.Second
	}
	if c.WorkerMemory == "" {
		c.WorkerMemory = "4GB"
	}
	if parseSize(c.WorkerMemory) <= 0 {
		return fmt.Errorf("configuration: sql.worker_memory %q: want a size like 4GB", c.WorkerMemory)
	}
	if c.Snapshots == "" {
		c.Snapshots = db + ".snapshots"
	}
	if c.Flight.MaxStreams <= 0 {
		c.Flight.MaxStreams = 4
	}
	if c.Flight.MaxRows <= 0 {
		c.Flight.MaxRows = 10_000_000
	}
	if c.Flight.HandleTTL <= 0 {
		c.Flight.HandleTTL = 10 * time.Minute
	}
	return nil
}

// parseSize reads "4GB", "512MiB", "1073741824".
func parseSize(s string) int64 {
	s = strings.ToUpper(strings.TrimSpace(s))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	var f float64
	if _, err := fmt.Sscan(s[:i], &f); err != nil {
		return 0
	}
	mult, ok := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[strings.TrimSpace(s[i:])]
	if !ok {
		return 0
	}
	return int64(f * mult)
}

// sandboxOptions are the sandbox's options under this configuration.
func (c SQLConfig) sandboxOptions(cat *adhoc.Catalog, src adhoc.SnapshotSource, tz string) adhoc.Options {
	return adhoc.Options{Catalog: cat, Snapshots: src, Workers: c.Workers, PerUser: c.PerUser, QueueWait: c.QueueWait,
		Timeout: c.Timeout, MaxRows: c.MaxRows, AddressSpace: parseSize(c.WorkerMemory), Threads: c.WorkerThreads, TimeZone: tz}
}

// sqlService is ad hoc SQL in a serving runtime.
type sqlService struct {
	r     *Runtime
	cfg   SQLConfig
	sb    *adhoc.Sandbox
	snaps *adhoc.Snapshots
	store *adhoc.Store

	publishMu sync.Mutex // one publication at a time
	wg        sync.WaitGroup
}

// startSQL starts ad hoc SQL in this runtime (once): the snapshot directory,
// the sandbox, the saved-query store; the first snapshot is published in
// the background (until it is, queries read the one a previous server
// left, or answer that none is published yet).
func (r *Runtime) startSQL(ctx context.Context) (*sqlService, error) {
	r.sqlMu.Lock()
	defer r.sqlMu.Unlock()
	if r.sql != nil {
		return r.sql, nil
	}
	cfg := r.cfg.SQL
	if err := cfg.fill(r.cfg.DB); err != nil {
		return nil, err
	}
	snaps, err := adhoc.OpenSnapshots(cfg.Snapshots)
	if err != nil {
		return nil, fmt.Errorf("the snapshots of ad hoc SQL: %w", err)
	}
	cat, err := adhoc.InstalledCatalog(ctx, r.w.Reader())
	if err != nil {
		return nil, err
	}
	store, err := adhoc.OpenStore(ctx, r.access)
	if err != nil {
		return nil, err
	}
	s := &sqlService{r: r, cfg: cfg, snaps: snaps, store: store}
	opts := cfg.sandboxOptions(cat, snaps, r.w.TimeZone())
	opts.Logger = r.log
	opts.Audit = s.audit
	if s.sb, err = adhoc.New(opts); err != nil {
		return nil, err
	}
	r.sql = s
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.publish(context.WithoutCancel(ctx), "start")
	}()
	return s, nil
}

// publish makes a new snapshot, switches the catalog to what it holds and
// warms the workers on it.
func (s *sqlService) publish(ctx context.Context, why string) {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	st, err := s.snaps.Publish(ctx, s.r.w)
	if err != nil {
		s.r.log.Error("publishing the snapshot of ad hoc SQL failed; queries read the previous one", "after", why, "err", err)
		return
	}
	if cat, err := adhoc.OpenInstalledCatalog(ctx, st.Path); err != nil {
		s.r.log.Warn("listing the relations of the new snapshot", "err", err)
	} else {
		s.sb.SetCatalog(cat)
	}
	if st.Kept {
		s.r.log.Info("ad hoc SQL snapshot kept: the warehouse is as it was copied", "after", why, "bytes", st.Bytes,
			"lane_ms", st.Lane.Milliseconds())
	} else {
		s.r.log.Info("ad hoc SQL snapshot published", "after", why, "bytes", st.Bytes, "lane_ms", st.Lane.Milliseconds(),
			"total_ms", st.Total.Milliseconds(), "reflink", st.Reflink)
	}
	if err := s.sb.Warm(ctx); err != nil {
		s.r.log.Warn("starting the SQL workers", "err", err)
	}
}

// sqlPublish is the hook of the jobs: after a committed load (unless it
// queued a refresh) or a refresh the server publishes a new snapshot (in
// the background: the job's caller does not wait for the copy). Without ad
// hoc SQL started it does nothing.
func (r *Runtime) sqlPublish(ctx context.Context, why string) {
	r.sqlMu.Lock()
	s := r.sql
	r.sqlMu.Unlock()
	if s == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.publish(context.WithoutCancel(ctx), why)
	}()
}

// startFlight serves Arrow Flight SQL when sql.flight.addr is set (off by
// default) until ctx ends; ready gets its address. The returned function
// waits for it to stop.
func (r *Runtime) startFlight(ctx context.Context, ready func(addr string)) (wait func(), err error) {
	fc := r.cfg.SQL.Flight
	if fc.Addr == "" {
		return func() {}, nil
	}
	s, err := r.startSQL(ctx)
	if err != nil {
		return nil, err
	}
	fc = s.cfg.Flight
	srv, err := flight.New(flight.Options{Sandbox: s.sb, Accounts: r.access, Policy: s.cfg.Limits, Addr: fc.Addr,
		TLSCert: fc.TLSCert, TLSKey: fc.TLSKey, MaxStreams: fc.MaxStreams, MaxRows: fc.MaxRows, HandleTTL: fc.HandleTTL,
		TimeZone: r.w.TimeZone(), Logger: r.log,
		Audit: func(user, action string, detail map[string]any) {
			r.audit(ctx, user, action, detail)
		}})
	if err != nil {
		return nil, err
	}
	addr, err := srv.Listen()
	if err != nil {
		return nil, err
	}
	scheme := "grpc"
	if fc.TLSCert != "" {
		scheme = "grpc+tls"
	}
	r.log.Info("flight sql listening", "addr", addr.String())
	if ready != nil {
		ready(scheme + "://" + addr.String())
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx); err != nil {
			r.log.Error("flight sql server", "err", err)
		}
	}()
	return func() { <-done }, nil
}

// WaitForSnapshots blocks until the snapshot publications under way (at
// start, after loads and refreshes) have finished (tests, benchmarks).
func (r *Runtime) WaitForSnapshots() {
	r.sqlMu.Lock()
	s := r.sql
	r.sqlMu.Unlock()
	if s != nil {
		s.wg.Wait()
	}
}

// closeSQL waits for a publication in progress and stops the workers.
func (r *Runtime) closeSQL() {
	r.sqlMu.Lock()
	s := r.sql
	r.sqlMu.Unlock()
	if s == nil {
		return
	}
	s.wg.Wait()
	s.sb.Close()
}

// audit writes every query to the audit trail (action "sql") and to its
// user's history.
func (s *sqlService) audit(e adhoc.AuditEntry) {
	auditSQL(s.r.access, s.store, e)
}

func auditSQL(a *access.Store, store *adhoc.Store, e adhoc.AuditEntry) {
	ctx := context.Background()
	detail := map[string]any{"entry": e.Entry, "scope": e.Scope, "sql": truncateSQL(e.SQL), "rows": e.Rows,
		"ms": float64(e.Duration.Microseconds()) / 1000, "outcome": e.Outcome}
	if e.Message != "" {
		detail["message"] = e.Message
	}
	a.Audit(ctx, access.Event{At: e.Time, Username: e.User, Action: "sql", Detail: detail})
	if store != nil && e.Entry != "flight-schema" {
		store.Record(ctx, adhoc.HistoryEntry{User: e.User, At: e.Time, Entry: e.Entry, SQL: e.SQL, Rows: int64(e.Rows),
			Elapsed: float64(e.Duration.Microseconds()) / 1000, Outcome: e.Outcome})
	}
}

func truncateSQL(s string) string {
	if len(s) > 16<<10 {
		return s[:16<<10] + "…"
	}
	return s
}

// SQLRequest is a query of the command line.
type SQLRequest struct {
	// User runs it as that user, with their role's limits and scope; ""
	// runs it with every row visible, audited as By (the OS user).
	User    string        `json:"user,omitempty"`
	By      string        `json:"by"`
	SQL     string        `json:"sql"`
	Timeout time.Duration `json:"timeout,omitempty"`
	MaxRows int           `json:"max_rows,omitempty"`
}

// SQLSummary is how a query ended.
type SQLSummary struct {
	Rows      int64         `json:"rows"`
	Truncated bool          `json:"truncated"`
	Elapsed   time.Duration `json:"elapsed"`
}

// SQLClient runs the command line's ad hoc SQL: through the server that
// owns the warehouse, or directly on the file when none runs.
type SQLClient interface {
	// Run streams the query's columns and rows to sink. A refusal or a
	// failure is an *adhoc.Error as the user may read it.
	Run(ctx context.Context, req SQLRequest, sink adhoc.Sink) (*SQLSummary, error)
	// Describe lists the relations the user (or the OS user: everything)
	// may read, with their columns.
	Describe(ctx context.Context, username, by string) ([]adhoc.RelationInfo, error)
	Where() string
	Close() error
}

// OSUser names the person at the terminal in the audit trail: "os:alice".
func OSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return fmt.Sprintf("os:uid-%d", os.Getuid())
}

// sqlIdentity resolves who a command-line query runs as.
type sqlIdentity struct {
	name   string
	role   string
	admin  bool
	scope  adhoc.Scope
	limits adhoc.Limits
}

func resolveSQLUser(ctx context.Context, a *access.Store, cfg SQLConfig, username, by string) (sqlIdentity, error) {
	if username == "" {
		if by == "" {
			by = OSUser()
		}
		return sqlIdentity{name: by, role: "", admin: true, scope: adhoc.Scope{All: true},
			limits: adhoc.Limits{Enabled: true, Timeout: cfg.Timeout, MaxRows: cfg.MaxRows}}, nil
	}
	users, err := a.Users(ctx)
	if err != nil {
		return sqlIdentity{}, err
	}
	for _, u := range users {
		if u.Username != username {
			continue
		}
		if u.Disabled {
			return sqlIdentity{}, &adhoc.Error{Class: adhoc.Refused, Message: "the account " + username + " is disabled", Position: -1}
		}
		l := cfg.Limits(u.Role)
		if !l.Enabled {
			return sqlIdentity{}, adhoc.ErrDisabled(u.Role)
		}
		return sqlIdentity{name: u.Username, role: u.Role, admin: u.Role == access.RoleAdmin, scope: adhoc.Scope(access.ScopeFor(u)), limits: l}, nil
	}
	return sqlIdentity{}, &adhoc.Error{Class: adhoc.Refused, Message: "no user named " + username, Position: -1}
}

func runAs(ctx context.Context, sb *adhoc.Sandbox, id sqlIdentity, req SQLRequest, entry string, sink adhoc.Sink) (*SQLSummary, error) {
	r := adhoc.Request{User: id.name, Admin: id.admin, Entry: entry, Scope: id.scope, SQL: req.SQL, Timeout: req.Timeout, MaxRows: req.MaxRows}
	id.limits.Apply(&r)
	res, err := sb.Stream(ctx, r, sink)
	if err != nil {
		return nil, err
	}
	return &SQLSummary{Rows: res.Streamed, Truncated: res.Truncated, Elapsed: res.Elapsed}, nil
}

// The admin API of ad hoc SQL (the command line through a running server):
// POST /api/admin/sql/run answers NDJSON — a columns line, rows lines in
// batches as the worker sends them, then a done or an error line — so a
// large result is written as it arrives; GET /api/admin/sql/describe.

type sqlFrame struct {
	Columns []adhoc.Column `json:"columns,omitempty"`
	Rows    [][]any        `json:"rows,omitempty"`
	Done    *SQLSummary    `json:"done,omitempty"`
	Error   *sqlWireError  `json:"error,omitempty"`
}

type sqlWireError struct {
	Class    adhoc.Class `json:"class"`
	Message  string      `json:"message"`
	Position int         `json:"position"`
	Raw      string      `json:"raw,omitempty"`
}

func wireError(err error) *sqlWireError {
	var e *adhoc.Error
	if errors.As(err, &e) {
		return &sqlWireError{Class: e.Class, Message: e.Message, Position: e.Position, Raw: e.Raw}
	}
	return &sqlWireError{Class: adhoc.Internal, Message: err.Error(), Position: -1}
}

func (w *sqlWireError) err() error {
	return &adhoc.Error{Class: w.Class, Message: w.Message, Position: w.Position, Raw: w.Raw}
}

// ndjsonSink writes frames to an HTTP response, flushed per batch.
type ndjsonSink struct {
	w   *bufio.Writer
	enc *json.Encoder
	fl  http.Flusher
}

func (n *ndjsonSink) frame(f sqlFrame) error {
	if err := n.enc.Encode(f); err != nil {
		return err
	}
	if err := n.w.Flush(); err != nil {
		return err
	}
	if n.fl != nil {
		n.fl.Flush()
	}
	return nil
}

func (n *ndjsonSink) Columns(c []adhoc.Column) error { return n.frame(sqlFrame{Columns: c}) }
func (n *ndjsonSink) Rows(r [][]any) error           { return n.frame(sqlFrame{Rows: r}) }

// sqlAdminRoutes adds the SQL routes to the admin API (authenticated by
// the server file's token, checked by check).
func (r *Runtime) sqlAdminRoutes(mux *http.ServeMux, check func(w http.ResponseWriter, req *http.Request) bool) {
	mux.HandleFunc("POST "+adminPrefix+"sql/run", func(w http.ResponseWriter, req *http.Request) {
		if !check(w, req) {
			return
		}
		var sr SQLRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxAdminBody)).Decode(&sr); err != nil {
			http.Error(w, "a request to the admin API is JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		fl, _ := w.(http.Flusher)
		bw := bufio.NewWriterSize(w, 64<<10)
		sink := &ndjsonSink{w: bw, enc: json.NewEncoder(bw), fl: fl}
		s, err := r.startSQL(req.Context())
		if err != nil {
			sink.frame(sqlFrame{Error: wireError(err)})
			return
		}
		id, err := resolveSQLUser(req.Context(), r.access, s.cfg, sr.User, sr.By)
		if err != nil {
			sink.frame(sqlFrame{Error: wireError(err)})
			return
		}
		sum, err := runAs(req.Context(), s.sb, id, sr, "cli", sink)
		if err != nil {
			sink.frame(sqlFrame{Error: wireError(err)})
			return
		}
		sink.frame(sqlFrame{Done: sum})
	})
	mux.HandleFunc("GET "+adminPrefix+"sql/describe", func(w http.ResponseWriter, req *http.Request) {
		if !check(w, req) {
			return
		}
		out := map[string]any{}
		rels, err := r.describeSQL(req.Context(), req.URL.Query().Get("user"), req.URL.Query().Get("by"))
		if err != nil {
			out["error"] = wireError(err)
		} else {
			out["result"] = rels
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}

func (r *Runtime) describeSQL(ctx context.Context, username, by string) ([]adhoc.RelationInfo, error) {
	s, err := r.startSQL(ctx)
	if err != nil {
		return nil, err
	}
	id, err := resolveSQLUser(ctx, r.access, s.cfg, username, by)
	if err != nil {
		return nil, err
	}
	return s.sb.Describe(ctx, id.name, id.scope)
}

// ConnectSQL reaches ad hoc SQL for the warehouse of cfg: through the
// server that owns it, or else directly: a sandbox whose workers read the
// warehouse file itself (read-only; no snapshot copy is needed while no
// server writes it), with users and the audit trail from the application
// database.
func ConnectSQL(ctx context.Context, cfg *Config) (SQLClient, error) {
	if sf, ok := RunningServer(ctx, cfg.DB); ok {
		return &remoteSQL{sf: sf}, nil
	}
	sc := cfg.SQL
	if err := sc.fill(cfg.DB); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return nil, fmt.Errorf("the warehouse %s: %w", cfg.DB, err)
	}
	cat, err := adhoc.OpenInstalledCatalog(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("opening %s read-only: %w", cfg.DB, err)
	}
	a, err := access.Open(ctx, cfg.AuthPath(), nil)
	if err != nil {
		return nil, err
	}
	store, err := adhoc.OpenStore(ctx, a)
	if err != nil {
		a.Close()
		return nil, err
	}
	tz := cfg.TimeZone
	opts := sc.sandboxOptions(cat, adhoc.StaticSnapshot(absPath(cfg.DB)), tz)
	opts.Workers, opts.Nice = 1, -1 // one query at a time, at the terminal's priority
	opts.Audit = func(e adhoc.AuditEntry) { auditSQL(a, store, e) }
	sb, err := adhoc.New(opts)
	if err != nil {
		a.Close()
		return nil, err
	}
	return &directSQL{cfg: sc, a: a, sb: sb, path: cfg.DB}, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

type directSQL struct {
	cfg  SQLConfig
	a    *access.Store
	sb   *adhoc.Sandbox
	path string
}

func (d *directSQL) Where() string {
	return "directly on " + d.path + " (no server is running for it)"
}

func (d *directSQL) Run(ctx context.Context, req SQLRequest, sink adhoc.Sink) (*SQLSummary, error) {
	id, err := resolveSQLUser(ctx, d.a, d.cfg, req.User, req.By)
	if err != nil {
		return nil, err
	}
	return runAs(ctx, d.sb, id, req, "cli", sink)
}

func (d *directSQL) Describe(ctx context.Context, username, by string) ([]adhoc.RelationInfo, error) {
	id, err := resolveSQLUser(ctx, d.a, d.cfg, username, by)
	if err != nil {
		return nil, err
	}
	return d.sb.Describe(ctx, id.name, id.scope)
}

func (d *directSQL) Close() error {
	d.sb.Close()
	time.Sleep(50 * time.Millisecond) // the idle workers exit and release the file
	return d.a.Close()
}

type remoteSQL struct{ sf *ServerFile }

func (c *remoteSQL) Where() string {
	return fmt.Sprintf("through the server at %s (pid %d)", c.sf.URL, c.sf.PID)
}

func (c *remoteSQL) Close() error { return nil }

func (c *remoteSQL) Run(ctx context.Context, req SQLRequest, sink adhoc.Sink) (*SQLSummary, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.sf.URL+adminPrefix+"sql/run", strings.NewReader(string(b)))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+c.sf.Token)
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("reaching the server at %s: %w", c.sf.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server at %s refused the request (%s)", c.sf.URL, resp.Status)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(resp.Body, 1<<20))
	dec.UseNumber()
	for {
		var f sqlFrame
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("reading the server's answer: %w", err)
		}
		switch {
		case f.Error != nil:
			return nil, f.Error.err()
		case f.Done != nil:
			return f.Done, nil
		case f.Columns != nil:
			if err := sink.Columns(f.Columns); err != nil {
				return nil, err
			}
		case f.Rows != nil:
			if err := sink.Rows(f.Rows); err != nil {
				return nil, err
			}
		}
	}
}

func (c *remoteSQL) Describe(ctx context.Context, username, by string) ([]adhoc.RelationInfo, error) {
	q := "sql/describe?user=" + url.QueryEscape(username) + "&by=" + url.QueryEscape(by)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, c.sf.URL+adminPrefix+q, nil)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Authorization", "Bearer "+c.sf.Token)
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("reaching the server at %s: %w", c.sf.URL, err)
	}
	defer resp.Body.Close()
	var out struct {
		Result []adhoc.RelationInfo `json:"result"`
		Error  *sqlWireError        `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	if out.Error != nil {
		return nil, out.Error.err()
	}
	return out.Result, nil
}

// The face of ad hoc SQL in the HTTP server.
func init() {
	faceBuilders = append(faceBuilders, func(ctx context.Context, r *Runtime) (dashboards.Face, error) {
		s, err := r.startSQL(ctx)
		if err != nil {
			return dashboards.Face{}, err
		}
		cons, err := console.New(console.Options{Sandbox: s.sb, Store: s.store, Tokens: r.access, Policy: s.cfg.Limits})
		if err != nil {
			return dashboards.Face{}, err
		}
		var roles []string
		for _, role := range access.Roles {
			if s.cfg.Limits(role).Enabled {
				roles = append(roles, role)
			}
		}
		if len(roles) == 0 {
			roles = []string{"-"} // nobody: no entry in the nav bar
		}
		return dashboards.Face{
			Nav:        []dashboards.NavLink{{Path: console.Path, Label: "nav.sql", Roles: roles}},
			Mount:      func(e *echo.Echo, sh *dashboards.Shell) error { return cons.Mount(e, sh) },
			BodyLimits: map[string]int64{"/api/sql": console.BodyLimit},
		}, nil
	})
}
