package adhoc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configure a Sandbox. Zero values take the defaults in brackets.
type Options struct {
	Catalog   *Catalog       // what queries may read (required)
	Snapshots SnapshotSource // where the workers read (required): *Snapshots or StaticSnapshot
	// Command starts a worker: [os.Executable(), "sql-worker"]. Env is its
	// whole environment (the server's is not passed on).
	Command []string
	Env     []string

	Workers   int           // queries running at once overall, one worker process each [2]
	PerUser   int           // queries running at once per user [1]
	QueueWait time.Duration // how long a query waits for a free worker before Busy [0: none]
	Timeout   time.Duration // default time limit of a query [30s]
	MaxRows   int           // default row cap [10,000]
	MaxBytes  int64         // result size a worker sends at most [64 MiB]

	AddressSpace int64  // RLIMIT_AS of a worker in bytes [4 GiB]
	MemoryLimit  string // DuckDB memory_limit in a worker [a quarter of AddressSpace]
	MaxTemp      string // DuckDB max_temp_directory_size per worker [4GB]
	Threads      int    // DuckDB threads per worker [2]
	TimeZone     string // session time zone [Asia/Shanghai]
	Nice         int    // scheduling priority of the workers, 0..19 [10]: dashboards first; -1 keeps the server's
	TempDir      string // parent of the workers' spill directories [os.TempDir()/triscope-sql]

	Audit  func(AuditEntry) // called once for every query, refused ones included
	Logger *slog.Logger
}

// Request is one ad hoc query.
type Request struct {
	User    string         // who runs it (audit, per-user cap)
	Admin   bool           // admins read DuckDB's raw error texts
	Entry   string         // entry point: cli, http, console, flight, report
	Scope   Scope          // the user's data scope
	SQL     string         // the query as the user wrote it
	Args    map[string]any // values of its parameters ($from → "from", $1 → "1")
	MaxRows int            // row cap [Options.MaxRows]
	Timeout time.Duration  // time limit [Options.Timeout]
	// SchemaOnly (Stream only) binds the query and answers its columns
	// without running it (Flight SQL's prepared statements).
	SchemaOnly bool
}

// Result is a query's answer. Values are JSON values: nil, bool, string,
// json.Number (every number, exact), []any (lists), map[string]any (structs).
type Result struct {
	Columns   []Column
	Rows      [][]any
	Truncated bool          // there were more than MaxRows rows
	Elapsed   time.Duration // in the worker, views and query
	Snapshot  string        // the snapshot file it read
	Streamed  int64         // rows handed to the Sink (Stream)
}

// AuditEntry is what the audit hook receives for every query.
type AuditEntry struct {
	Time     time.Time
	User     string
	Entry    string
	Scope    string
	SQL      string
	Rows     int
	Duration time.Duration
	Outcome  string // "ok", "truncated", or the Class of the error
	Message  string // the error as the user saw it
}

// Sandbox runs ad hoc queries in worker processes.
type Sandbox struct {
	opts Options
	log  *slog.Logger
	sem  chan struct{}

	mu      sync.Mutex
	catalog *Catalog // SetCatalog replaces it (a refresh adds or drops marts)
	perUser map[string]int
	idle    []*worker
	closed  bool
	nextID  uint64
}

// New checks the options and returns a sandbox; workers start on demand.
func New(opts Options) (*Sandbox, error) {
	if opts.Catalog == nil || opts.Snapshots == nil {
		return nil, errors.New("adhoc.New: Catalog and Snapshots are required")
	}
	if len(opts.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		opts.Command = []string{exe, WorkerArg}
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.PerUser <= 0 {
		opts.PerUser = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 10_000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.AddressSpace == 0 {
		opts.AddressSpace = 4 << 30
	}
	if opts.MemoryLimit == "" && opts.AddressSpace > 0 {
		opts.MemoryLimit = strconv.FormatInt(opts.AddressSpace/4/(1<<20), 10) + "MiB"
	}
	if opts.Threads <= 0 {
		opts.Threads = 2
	}
	if opts.TimeZone == "" {
		opts.TimeZone = "Asia/Shanghai"
	}
	if opts.Nice == 0 {
		opts.Nice = 10
	}
	if opts.TempDir == "" {
		opts.TempDir = filepath.Join(os.TempDir(), "triscope-sql")
	}
	if err := os.MkdirAll(opts.TempDir, 0o700); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Sandbox{opts: opts, log: opts.Logger, sem: make(chan struct{}, opts.Workers), perUser: map[string]int{}, catalog: opts.Catalog}, nil
}

// Catalog is what queries may read now.
func (s *Sandbox) Catalog() *Catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.catalog
}

// SetCatalog replaces what queries may read (the server lists the scoped
// relations of each snapshot it publishes: a refresh may add a mart).
// Queries already planned keep the catalog they were checked with.
func (s *Sandbox) SetCatalog(c *Catalog) {
	if c == nil {
		return
	}
	s.mu.Lock()
	s.catalog = c
	s.mu.Unlock()
}

// Close stops the idle workers (running queries finish on their own).
func (s *Sandbox) Close() error {
	s.mu.Lock()
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, w := range idle {
		w.close()
	}
	return nil
}

// Run checks, plans and runs one query, and reports it to the audit hook.
// A refusal or failure is an *Error (see Class).
func (s *Sandbox) Run(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	res, err := s.run(ctx, req, nil)
	s.audit(req, start, res, err)
	return res, err
}

// Sink receives a streamed result: the columns once, then the rows in
// batches as the worker sends them (a batch is not kept after the call).
// An error from it stops the query.
type Sink interface {
	Columns(cols []Column) error
	Rows(rows [][]any) error
}

// Stream is Run for large results (Flight SQL, exports): the rows go to
// sink in batches instead of into Result.Rows, and the sandbox's result
// size bound (MaxBytes) does not apply; the row cap does (Request.MaxRows,
// as a LIMIT in the SQL). The returned Result has no rows, only the count
// in Streamed, Truncated and Elapsed.
func (s *Sandbox) Stream(ctx context.Context, req Request, sink Sink) (*Result, error) {
	start := time.Now()
	res, err := s.run(ctx, req, sink)
	s.audit(req, start, res, err)
	return res, err
}

func (s *Sandbox) audit(req Request, start time.Time, res *Result, err error) {
	if s.opts.Audit == nil {
		return
	}
	e := AuditEntry{Time: start, User: req.User, Entry: req.Entry, Scope: req.Scope.Key(), SQL: req.SQL, Duration: time.Since(start), Outcome: "ok"}
	if err != nil {
		e.Outcome = string(ClassOf(err))
		var ae *Error
		if errors.As(err, &ae) {
			e.Message = ae.For(false)
		} else {
			e.Message = err.Error()
		}
	} else if res != nil {
		e.Rows = len(res.Rows) + int(res.Streamed)
		if res.Truncated {
			e.Outcome = "truncated"
		}
	}
	s.opts.Audit(e)
}

func (s *Sandbox) run(ctx context.Context, req Request, sink Sink) (*Result, error) {
	cat := s.Catalog()
	checked, err := CheckContext(ctx, req.SQL, cat)
	if err != nil {
		return nil, forUser(err, req.Admin)
	}
	for _, p := range checked.Params {
		if _, ok := req.Args[p]; !ok {
			return nil, &Error{Class: Syntax, Message: "no value for parameter $" + p, Position: -1}
		}
	}
	maxRows := req.MaxRows
	if maxRows <= 0 {
		maxRows = s.opts.MaxRows
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = s.opts.Timeout
	}
	plan, err := NewPlan(ctx, checked, cat, req.Scope, maxRows)
	if err != nil {
		return nil, forUser(err, req.Admin)
	}
	release, err := s.admit(ctx, req.User)
	if err != nil {
		return nil, err
	}
	defer release()
	wreq := workerRequest{Op: "run", Views: plan.Views, SQL: plan.SQL, CTEs: plan.CTEs,
		TimeoutMS: timeout.Milliseconds(), MaxBytes: s.opts.MaxBytes}
	if sink != nil {
		wreq.MaxBytes = 0
		if req.SchemaOnly {
			wreq.Op = "schema"
		}
	}
	for _, p := range checked.Params {
		if _, err := strconv.Atoi(p); err == nil {
			continue
		}
		if wreq.Named == nil {
			wreq.Named = map[string]any{}
		}
		wreq.Named[p] = req.Args[p]
	}
	for i := 1; ; i++ {
		v, ok := req.Args[strconv.Itoa(i)]
		if !ok {
			break
		}
		wreq.Positonal = append(wreq.Positonal, v)
	}
	res, werr := s.exchange(ctx, wreq, timeout, sink, maxRows)
	if werr != nil {
		e := &Error{Class: werr.Class, Message: genericMessage[werr.Class], Position: plan.userPos(werr.Position), Raw: werr.Message}
		if e.Class == Refused && werr.Type == "" {
			e.Message = werr.Message // the worker's own refusal, no DuckDB text
		}
		if e.Message == "" {
			e.Class, e.Message = Internal, genericMessage[Internal]
		}
		if e.Class == Internal {
			s.log.Warn("sql worker failure", "user", req.User, "err", werr.Message)
		}
		return nil, forUser(e, req.Admin)
	}
	if len(res.Rows) > maxRows {
		res.Rows = res.Rows[:maxRows]
		res.Truncated = true
	}
	return res, nil
}

// forUser keeps DuckDB's raw text for admins only.
func forUser(err error, admin bool) error {
	var e *Error
	if errors.As(err, &e) && !admin && e.Raw != "" {
		c := *e
		c.Raw = ""
		return &c
	}
	return err
}

// admit takes a per-user slot and an overall slot, or answers Busy.
func (s *Sandbox) admit(ctx context.Context, user string) (func(), error) {
	s.mu.Lock()
	if s.perUser[user] >= s.opts.PerUser {
		s.mu.Unlock()
		return nil, &Error{Class: Busy, Message: fmt.Sprintf("you already have %d queries running; wait for one to finish", s.perUser[user]), Position: -1}
	}
	s.perUser[user]++
	s.mu.Unlock()
	undo := func() {
		s.mu.Lock()
		s.perUser[user]--
		if s.perUser[user] == 0 {
			delete(s.perUser, user)
		}
		s.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; undo() }, nil
	default:
	}
	if s.opts.QueueWait > 0 {
		t := time.NewTimer(s.opts.QueueWait)
		defer t.Stop()
		select {
		case s.sem <- struct{}{}:
			return func() { <-s.sem; undo() }, nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	undo()
	return nil, ErrBusy
}

// Describe lists the relations a scope may read, with their columns as the
// user sees them and the comments of the underlying tables.
func (s *Sandbox) Describe(ctx context.Context, user string, scope Scope) ([]RelationInfo, error) {
	// Counted apart from the user's queries (a console loads its schema
	// while a query of the same user runs), within the overall cap.
	release, err := s.admit(ctx, user+"\x00describe")
	if err != nil {
		return nil, err
	}
	defer release()
	req := workerRequest{Op: "describe"}
	cat := s.Catalog()
	for _, n := range cat.Names() {
		r, _ := cat.Relation(n)
		req.Views = append(req.Views, View{Name: viewName(n), SQL: r.Define(scope)})
	}
	w, err := s.worker(ctx)
	if err != nil {
		return nil, err
	}
	frames, werr := w.do(ctx, req, 30*time.Second)
	if werr != nil {
		w.close()
		return nil, &Error{Class: werr.Class, Message: genericMessage[werr.Class], Position: -1, Raw: werr.Message}
	}
	s.putBack(w)
	for _, f := range frames {
		if f.Kind == "relations" {
			for i := range f.Relations {
				if r, ok := cat.Relation(f.Relations[i].Name); ok && r.Comment != "" {
					f.Relations[i].Comment = r.Comment
				}
			}
			return f.Relations, nil
		}
	}
	return nil, internalf("describe: no answer")
}

// exchange sends a request to a worker and collects the result, or hands
// it to sink (at most maxRows rows; the SQL returns one more to tell that
// it was truncated).
func (s *Sandbox) exchange(ctx context.Context, req workerRequest, timeout time.Duration, sink Sink, maxRows int) (*Result, *workerError) {
	w, err := s.worker(ctx)
	if err != nil {
		return nil, &workerError{Class: Internal, Message: err.Error(), Position: -1}
	}
	res := &Result{Snapshot: w.snapshot}
	var sinkErr error
	_, werr := w.stream(ctx, req, timeout, func(f workerFrame) {
		switch f.Kind {
		case "columns":
			res.Columns = f.Columns
			if sink != nil && sinkErr == nil {
				sinkErr = sink.Columns(f.Columns)
			}
		case "rows":
			if sink == nil {
				res.Rows = append(res.Rows, f.Rows...)
				return
			}
			rows := f.Rows
			if left := int64(maxRows) - res.Streamed; int64(len(rows)) > left {
				rows = rows[:max(left, 0)]
				res.Truncated = true
			}
			res.Streamed += int64(len(rows))
			if sinkErr == nil && len(rows) > 0 {
				sinkErr = sink.Rows(rows)
			}
		case "done":
			res.Elapsed = time.Duration(f.ElapsedUS) * time.Microsecond
		}
	})
	if werr == nil && sinkErr != nil {
		// The receiver is gone (a client hung up): the worker has sent
		// everything already; report the sink's error.
		s.putBack(w)
		return nil, &workerError{Class: Internal, Message: "sending the result: " + sinkErr.Error(), Position: -1}
	}
	if werr != nil {
		if w.dead() {
			w.close()
		} else {
			s.putBack(w)
		}
		return nil, werr
	}
	s.putBack(w)
	if res.Rows == nil {
		res.Rows = [][]any{}
	}
	return res, nil
}

// worker returns an idle worker on the current snapshot, or starts one.
func (s *Sandbox) worker(ctx context.Context) (*worker, error) {
	path, release, err := s.opts.Snapshots.Acquire()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var stale []*worker
	var found *worker
	keep := s.idle[:0]
	for _, w := range s.idle {
		switch {
		case w.dead() || w.snapshot != path:
			stale = append(stale, w)
		case found == nil:
			found = w
		default:
			keep = append(keep, w)
		}
	}
	s.idle = keep
	s.mu.Unlock()
	for _, w := range stale {
		w.close()
	}
	if found != nil {
		release()
		return found, nil
	}
	w, err := s.start(ctx, path, release)
	if err != nil {
		release()
		return nil, err
	}
	return w, nil
}

func (s *Sandbox) putBack(w *worker) {
	s.mu.Lock()
	if s.closed || len(s.idle) >= s.opts.Workers {
		s.mu.Unlock()
		w.close()
		return
	}
	s.idle = append(s.idle, w)
	s.mu.Unlock()
}

// worker is one worker process.
type worker struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	dec      *json.Decoder
	stderr   *tailBuffer
	snapshot string
	release  func() // the snapshot reference this worker holds
	tempDir  string
	done     chan struct{} // closed when the process has exited
	waitErr  error
	timedOut atomic.Bool // killed by us at the time limit
	nextID   uint64
	closeMu  sync.Once
}

func (s *Sandbox) start(ctx context.Context, snapshot string, release func()) (*worker, error) {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	tempDir := filepath.Join(s.opts.TempDir, fmt.Sprintf("w%d-%d", os.Getpid(), id))
	cmd := exec.Command(s.opts.Command[0], s.opts.Command[1:]...)
	cmd.Env = append(slices.Clip(s.opts.Env), fmt.Sprintf("%s=%d", workerParentEnv, os.Getpid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sql worker: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(out, 1<<20))
	dec.UseNumber()
	w := &worker{cmd: cmd, in: in, dec: dec, stderr: tail, snapshot: snapshot, release: release, tempDir: tempDir, done: make(chan struct{})}
	go func() {
		w.waitErr = cmd.Wait()
		close(w.done)
	}()
	cfg := workerConfig{Snapshot: snapshot, TempDir: tempDir, AddressSpace: s.opts.AddressSpace, MemoryLimit: s.opts.MemoryLimit,
		MaxTemp: s.opts.MaxTemp, Threads: s.opts.Threads, TimeZone: s.opts.TimeZone, Nice: s.opts.Nice}
	if err := json.NewEncoder(in).Encode(cfg); err != nil {
		w.close()
		return nil, fmt.Errorf("sql worker: %w (%s)", err, tail.String())
	}
	ready := make(chan error, 1)
	go func() {
		var f workerFrame
		if err := w.dec.Decode(&f); err != nil {
			ready <- err
			return
		}
		if f.Kind != "ready" {
			ready <- fmt.Errorf("unexpected frame %q", f.Kind)
			return
		}
		ready <- nil
	}()
	select {
	case err := <-ready:
		if err != nil {
			w.close()
			<-w.done
			return nil, fmt.Errorf("sql worker did not start: %v: %s", err, strings.TrimSpace(tail.String()))
		}
	case <-time.After(30 * time.Second):
		w.close()
		return nil, errors.New("sql worker did not start within 30s")
	case <-ctx.Done():
		w.close()
		return nil, ctx.Err()
	}
	return w, nil
}

// do sends a request and returns all its frames.
func (w *worker) do(ctx context.Context, req workerRequest, timeout time.Duration) ([]workerFrame, *workerError) {
	var frames []workerFrame
	_, err := w.stream(ctx, req, timeout, func(f workerFrame) { frames = append(frames, f) })
	return frames, err
}

// stream sends a request and hands each frame to fn until done or error.
// Past the time limit (plus a grace for DuckDB's own interrupt) or when ctx
// ends, the worker is killed: a query never outlives its limit.
func (w *worker) stream(ctx context.Context, req workerRequest, timeout time.Duration, fn func(workerFrame)) (int, *workerError) {
	w.nextID++
	req.ID = w.nextID
	grace := 2*time.Second + timeout/10
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTimer(timeout + grace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-stop:
			return
		case <-w.done:
			return
		}
		w.timedOut.Store(true)
		w.kill()
	}()
	if err := json.NewEncoder(w.in).Encode(req); err != nil {
		return 0, w.deathError()
	}
	n := 0
	for {
		var f workerFrame
		if err := w.dec.Decode(&f); err != nil {
			return n, w.deathError()
		}
		if f.ID != req.ID {
			continue
		}
		n++
		if f.Kind == "error" {
			if f.Err == nil {
				return n, &workerError{Class: Internal, Message: "worker error", Position: -1}
			}
			return n, f.Err
		}
		fn(f)
		if f.Kind == "done" || f.Kind == "relations" {
			return n, nil
		}
	}
}

// deathError explains a worker that stopped answering: killed on the time
// limit, or dead by memory (the Go runtime's "out of memory", a C++
// bad_alloc, or the kernel's OOM killer).
func (w *worker) deathError() *workerError {
	select {
	case <-w.done:
	case <-time.After(3 * time.Second):
		w.kill()
		<-w.done
	}
	tail := w.stderr.String()
	if w.timedOut.Load() {
		return &workerError{Class: Timeout, Message: "the worker was stopped at the time limit", Position: -1}
	}
	msg := "the worker died"
	var ee *exec.ExitError
	if errors.As(w.waitErr, &ee) {
		msg += ": " + ee.String()
	}
	if t := strings.TrimSpace(tail); t != "" {
		msg += ": " + firstLines(t, 3)
	}
	lower := strings.ToLower(tail)
	if strings.Contains(lower, "out of memory") || strings.Contains(lower, "bad_alloc") ||
		strings.Contains(lower, "cannot allocate memory") || strings.Contains(lower, "mmap") ||
		(ee != nil && strings.Contains(ee.String(), "killed")) {
		return &workerError{Class: Memory, Message: msg, Position: -1}
	}
	return &workerError{Class: Internal, Message: msg, Position: -1}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

func (w *worker) dead() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *worker) kill() {
	select {
	case <-w.done:
		return
	default:
	}
	if w.cmd.Process != nil {
		_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		_ = w.cmd.Process.Kill()
	}
}

// close ends the worker (stdin closed: it exits; killed if it lingers),
// removes its spill directory and drops its snapshot reference.
func (w *worker) close() {
	w.closeMu.Do(func() {
		w.in.Close()
		go func() {
			select {
			case <-w.done:
			case <-time.After(5 * time.Second):
				w.kill()
				<-w.done
			}
			os.RemoveAll(w.tempDir)
			if w.release != nil {
				w.release()
			}
		}()
	})
}

// tailBuffer keeps the last max bytes written to it (a worker's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Warm starts idle workers on the current snapshot (up to Workers), so the
// first queries after a start or a publication do not wait for a process to
// start (about 0.1 s each).
func (s *Sandbox) Warm(ctx context.Context) error {
	s.mu.Lock()
	n := s.opts.Workers - len(s.idle)
	s.mu.Unlock()
	for i := 0; i < n; i++ {
		path, release, err := s.opts.Snapshots.Acquire()
		if err != nil {
			return err
		}
		w, err := s.start(ctx, path, release)
		if err != nil {
			release()
			return err
		}
		s.putBack(w)
	}
	return nil
}
