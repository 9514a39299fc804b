package adhoc

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// The worker is a separate process (the hidden `triscope sql-worker`, or a
// test binary) that runs planned queries on one read-only snapshot. It lives
// under an OS limit on its address space (RLIMIT_AS), so a query that
// allocates without bound (repeat('x', n) with n from the data, a huge
// string_agg) fails there or kills the worker, never the server. It talks
// to the server over stdin/stdout: one JSON object per line.
//
// Why JSON lines and not Arrow IPC: every front end of this issue but Flight
// SQL wants rows as values (CLI, HTTP JSON, the console grid), the results
// are capped, and duckdb-go's Arrow interface needs the duckdb_arrow build
// tag for the whole binary. Rows travel in batches (a columns frame, row
// frames, a done frame), so the Flight SQL front end can switch the batch
// payload to Arrow IPC later without changing the protocol's shape.

// workerConfig is the first line the server sends.
type workerConfig struct {
	Snapshot     string `json:"snapshot"`      // the DuckDB file, opened read-only
	TempDir      string `json:"temp_dir"`      // spill directory (private to this worker)
	AddressSpace int64  `json:"address_space"` // RLIMIT_AS in bytes; 0 = none
	MemoryLimit  string `json:"memory_limit"`  // DuckDB memory_limit
	MaxTemp      string `json:"max_temp"`      // DuckDB max_temp_directory_size
	Threads      int    `json:"threads"`
	TimeZone     string `json:"time_zone"`
	Nice         int    `json:"nice"` // scheduling priority: above 0 yields the CPU to the server
}

// workerRequest is one query (op "run") or a schema listing (op "describe").
type workerRequest struct {
	ID        uint64         `json:"id"`
	Op        string         `json:"op"`
	Views     []View         `json:"views"`
	SQL       string         `json:"sql,omitempty"`
	Named     map[string]any `json:"named,omitempty"`
	Positonal []any          `json:"positional,omitempty"`
	CTEs      []string       `json:"ctes,omitempty"`
	TimeoutMS int64          `json:"timeout_ms,omitempty"`
	MaxBytes  int64          `json:"max_bytes,omitempty"`
	BatchRows int            `json:"batch_rows,omitempty"`
}

// workerFrame is one line the worker writes.
type workerFrame struct {
	ID        uint64         `json:"id"`
	Kind      string         `json:"kind"` // ready, columns, rows, done, error, relations
	Columns   []Column       `json:"columns,omitempty"`
	Rows      [][]any        `json:"rows,omitempty"`
	N         int64          `json:"n,omitempty"`
	ElapsedUS int64          `json:"elapsed_us,omitempty"`
	Err       *workerError   `json:"error,omitempty"`
	Settings  map[string]any `json:"settings,omitempty"`
	Relations []RelationInfo `json:"relations,omitempty"`
	PID       int            `json:"pid,omitempty"`
}

type workerError struct {
	Class    Class  `json:"class"`
	Type     string `json:"type,omitempty"` // DuckDB's exception type
	Message  string `json:"message"`        // DuckDB's text (admins only)
	Position int    `json:"position"`       // in the planned SQL; -1 when unknown
}

// RelationInfo describes one relation as a user sees it (schema browser).
type RelationInfo struct {
	Name    string   `json:"name"`
	Comment string   `json:"comment,omitempty"`
	Columns []Column `json:"columns"`
}

// workerParentEnv carries the server's process id to the worker
// (WorkerMain: it exits when its parent is another process).
const workerParentEnv = "TRISCOPE_SQL_WORKER_PARENT"

// WorkerArg is the argument a sandbox starts its workers with (the default
// command is this executable and WorkerArg): any binary that links this
// package serves as a worker when started so (init below), the triscope
// command and every test binary alike. A test binary whose TestMain did not
// know it ran its whole test suite instead, browser included, for minutes
// after the test that started it had ended.
const WorkerArg = "sql-worker"

func init() {
	if len(os.Args) == 2 && os.Args[1] == WorkerArg {
		os.Exit(WorkerMain())
	}
}

// WorkerMain runs a worker on stdin/stdout until stdin closes and returns the
// process exit code (see WorkerArg). A worker
// whose server is gone exits at once, even in the middle of a query: the
// server enforces the time limit by killing it, so an orphan would run its
// query to the end (workers found still busy minutes after a killed test
// binary: they are their own process group, so nothing signals them).
func WorkerMain() int {
	parent := os.Getppid()
	if p, err := strconv.Atoi(os.Getenv(workerParentEnv)); err == nil {
		parent = p // the server may have died before this process asked
	}
	go exitWhenOrphaned(parent, 250*time.Millisecond)
	if err := ServeWorker(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sql-worker:", err)
		return 1
	}
	return 0
}

// exitWhenOrphaned ends the process when its parent is no longer parent
// (it died: the process was handed to init or a subreaper). Polling the
// parent's id is portable; Linux's Pdeathsig fires when the thread that
// started the worker ends, which in Go is not the server ending.
func exitWhenOrphaned(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			fmt.Fprintln(os.Stderr, "sql-worker: the server is gone; exiting")
			os.Exit(3)
		}
	}
}

// ServeWorker reads the configuration line, limits the process, opens the
// snapshot with verified hardening settings, says ready, and answers
// requests until in ends.
func ServeWorker(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<20)
	dec := json.NewDecoder(r)
	dec.UseNumber()
	bw := bufio.NewWriterSize(out, 1<<16)
	enc := json.NewEncoder(bw)
	send := func(f workerFrame) error {
		if err := enc.Encode(f); err != nil {
			return err
		}
		return bw.Flush()
	}
	var cfg workerConfig
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	if cfg.AddressSpace > 0 {
		if err := limitAddressSpace(cfg.AddressSpace); err != nil {
			return err
		}
	}
	if cfg.Nice > 0 {
		if err := lowerPriority(cfg.Nice); err != nil {
			return err
		}
	}
	w, err := openWorkerDB(cfg)
	if err != nil {
		return err
	}
	defer w.db.Close()
	if err := send(workerFrame{Kind: "ready", Settings: w.settings, PID: os.Getpid()}); err != nil {
		return err
	}
	for {
		var req workerRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		var err error
		switch req.Op {
		case "run":
			err = w.run(req, send)
		case "describe":
			err = w.describe(req, send)
		case "schema":
			err = w.schema(req, send)
		default:
			err = send(workerFrame{ID: req.ID, Kind: "error", Err: &workerError{Class: Internal, Message: "unknown op " + req.Op, Position: -1}})
		}
		if err != nil {
			return err // the pipe is gone
		}
	}
}

type workerDB struct {
	db       *sql.DB
	cfg      workerConfig
	settings map[string]any
	reserved map[string]bool // names of existing tables and views: no CTE may take one
	loc      *time.Location
}

// hardening is applied in this order on one bootstrap connection (DSN
// options are applied in random order): the directories first, then
// external access off, then the configuration locked.
func hardening(cfg workerConfig) [][2]string {
	return [][2]string{
		{"threads", strconv.Itoa(cfg.Threads)},
		{"memory_limit", cfg.MemoryLimit},
		{"temp_directory", cfg.TempDir},
		{"max_temp_directory_size", cfg.MaxTemp},
		{"allowed_directories", "[" + quoteLiteral(cfg.TempDir+string(os.PathSeparator)) + "]"},
		{"TimeZone", cfg.TimeZone},
		{"errors_as_json", "true"},
		{"autoinstall_known_extensions", "false"},
		{"autoload_known_extensions", "false"},
		{"allow_community_extensions", "false"},
		{"enable_external_access", "false"},
		{"lock_configuration", "true"},
	}
}

func openWorkerDB(cfg workerConfig) (*workerDB, error) {
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = "UTC"
	}
	if cfg.MemoryLimit == "" {
		cfg.MemoryLimit = "1GB"
	}
	if cfg.MaxTemp == "" {
		cfg.MaxTemp = "4GB"
	}
	if cfg.TempDir == "" {
		return nil, errors.New("no temp directory")
	}
	if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	connector, err := duckdb.NewConnector(cfg.Snapshot+"?access_mode=READ_ONLY", nil)
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", cfg.Snapshot, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxIdleConns(0) // every query on a fresh connection: its temp views die with it
	w := &workerDB{db: db, cfg: cfg, loc: loc, settings: map[string]any{}}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	defer conn.Close()
	steps := hardening(cfg)
	for _, kv := range steps {
		val := kv[1]
		if kv[0] != "allowed_directories" && kv[0] != "threads" {
			val = quoteLiteral(val)
		}
		if _, err := conn.ExecContext(ctx, "SET GLOBAL "+kv[0]+" = "+val); err != nil {
			db.Close()
			return nil, fmt.Errorf("setting %s: %w", kv[0], err)
		}
	}
	// Read every setting back; refuse to serve on a mismatch.
	rows, err := conn.QueryContext(ctx, "SELECT name, CAST(value AS VARCHAR) FROM system.main.duckdb_settings()")
	if err != nil {
		db.Close()
		return nil, err
	}
	got := map[string]string{}
	for rows.Next() {
		var n string
		var v sql.NullString
		if err := rows.Scan(&n, &v); err != nil {
			rows.Close()
			db.Close()
			return nil, err
		}
		got[strings.ToLower(n)] = v.String
	}
	rows.Close()
	for _, kv := range steps {
		name := strings.ToLower(kv[0])
		g, ok := got[name]
		if !ok {
			db.Close()
			return nil, fmt.Errorf("setting %s not found in duckdb_settings()", kv[0])
		}
		if !settingMatches(name, g, kv[1]) {
			db.Close()
			return nil, fmt.Errorf("setting %s is %q, want %q: refusing to run queries with unverified settings", kv[0], g, kv[1])
		}
		w.settings[name] = g
	}
	// A function of the snapshot's schema main shadows DuckDB's built-in of
	// the same name for unqualified calls (a macro main.lower(x) is what
	// lower('A') calls, in an analyst's query and in a scoped macro alike):
	// refuse a snapshot that defines one. The worker's own queries call
	// system.main.* and lower-case in Go, so no such macro can answer them.
	if shadow, err := shadowedBuiltins(ctx, conn); err != nil || len(shadow) > 0 {
		db.Close()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the snapshot defines %s, named like DuckDB's built-in functions: ad hoc SQL would call them instead; rename them", strings.Join(shadow, ", "))
	}
	// Names no CTE may take: a CTE the guard took for visible but DuckDB
	// did not would otherwise resolve to one of these.
	w.reserved = map[string]bool{}
	for _, q := range []string{
		"SELECT table_name FROM system.main.duckdb_tables()",
		"SELECT view_name FROM system.main.duckdb_views()",
	} {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			db.Close()
			return nil, err
		}
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				w.reserved[foldName(n)] = true
			}
		}
		rows.Close()
	}
	return w, nil
}

// shadowedBuiltins lists the functions of schema main (of any database on
// the search path) named like a built-in or an allowed function.
func shadowedBuiltins(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT database_name, schema_name, function_name, internal FROM system.main.duckdb_functions()")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	builtin := map[string]bool{}
	var user [][3]string
	for rows.Next() {
		var db, schema, name string
		var internal bool
		if err := rows.Scan(&db, &schema, &name, &internal); err != nil {
			return nil, err
		}
		name = strings.ToLower(name)
		if internal {
			builtin[name] = true
		} else if schema == "main" {
			user = append(user, [3]string{db, schema, name})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, u := range user {
		if builtin[u[2]] || allowedFunctions[u[2]] || allowedTableFunctions[u[2]] {
			out = append(out, u[1]+"."+u[2])
		}
	}
	// Types too: a type main.json would be what CAST(x AS JSON) means.
	trows, err := conn.QueryContext(ctx, "SELECT schema_name, type_name FROM system.main.duckdb_types() WHERE NOT internal")
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	for trows.Next() {
		var schema, name string
		if err := trows.Scan(&schema, &name); err != nil {
			return nil, err
		}
		if schema == "main" && allowedTypeNames[strings.ToLower(name)] {
			out = append(out, "type "+schema+"."+strings.ToLower(name))
		}
	}
	sort.Strings(out)
	return out, trows.Err()
}

func settingMatches(name, got, want string) bool {
	switch name {
	case "memory_limit", "max_temp_directory_size":
		return parseBytes(got) > 0 && math.Abs(float64(parseBytes(got)-parseBytes(want))) <= float64(parseBytes(want))/100+1<<20
	case "allowed_directories":
		return strings.Contains(got, strings.Trim(want, "[]'"))
	case "temp_directory":
		return strings.TrimRight(got, "/") == strings.TrimRight(want, "/")
	}
	return strings.EqualFold(got, want)
}

// parseBytes reads DuckDB's sizes ("953.6 MiB", "1GB", "1000000 bytes").
func parseBytes(s string) int64 {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0
	}
	unit := strings.ToUpper(strings.TrimSpace(s[i:]))
	mult := map[string]float64{"": 1, "B": 1, "BYTES": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[unit]
	return int64(f * mult)
}

func (w *workerDB) run(req workerRequest, send func(workerFrame) error) error {
	start := time.Now()
	fail := func(e *workerError) error { return send(workerFrame{ID: req.ID, Kind: "error", Err: e}) }
	for _, c := range req.CTEs {
		if w.reserved[foldName(c)] {
			return fail(&workerError{Class: Refused, Message: "WITH " + c + ": the name of an existing relation; choose another name", Position: -1})
		}
	}
	timeout := time.Duration(req.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := w.prepare(ctx, req)
	if err != nil {
		return fail(w.classify(ctx, err))
	}
	defer conn.Close()
	var args []any
	for _, a := range req.Positonal {
		args = append(args, argValue(a))
	}
	names := make([]string, 0, len(req.Named))
	for n := range req.Named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		args = append(args, sql.Named(n, argValue(req.Named[n])))
	}
	rows, err := conn.QueryContext(ctx, req.SQL, args...)
	if err != nil {
		return fail(w.classify(ctx, err))
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return fail(w.classify(ctx, err))
	}
	header := make([]Column, len(cols))
	for i, c := range cols {
		header[i] = Column{Name: c.Name(), Type: c.DatabaseTypeName()}
	}
	if err := send(workerFrame{ID: req.ID, Kind: "columns", Columns: header}); err != nil {
		return err
	}
	batch := req.BatchRows
	if batch <= 0 {
		batch = 1000
	}
	var n, bytes int64
	buf := make([][]any, 0, batch)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fail(w.classify(ctx, err))
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			row[i] = w.jsonValue(v, header[i].Type)
			bytes += approxSize(row[i])
		}
		if req.MaxBytes > 0 && bytes > req.MaxBytes {
			return fail(&workerError{Class: TooMany, Message: fmt.Sprintf("result larger than %d bytes", req.MaxBytes), Position: -1})
		}
		buf = append(buf, row)
		n++
		if len(buf) == batch {
			if err := send(workerFrame{ID: req.ID, Kind: "rows", Rows: buf}); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fail(w.classify(ctx, err))
	}
	if len(buf) > 0 {
		if err := send(workerFrame{ID: req.ID, Kind: "rows", Rows: buf}); err != nil {
			return err
		}
	}
	return send(workerFrame{ID: req.ID, Kind: "done", N: n, ElapsedUS: time.Since(start).Microseconds()})
}

// schema answers the columns of a planned query without running it
// (DESCRIBE of the query: DuckDB binds it and plans nothing).
func (w *workerDB) schema(req workerRequest, send func(workerFrame) error) error {
	start := time.Now()
	fail := func(e *workerError) error { return send(workerFrame{ID: req.ID, Kind: "error", Err: e}) }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := w.prepare(ctx, req)
	if err != nil {
		return fail(w.classify(ctx, err))
	}
	defer conn.Close()
	const prefix = "SELECT column_name, column_type FROM (DESCRIBE "
	rows, err := conn.QueryContext(ctx, prefix+req.SQL+")")
	if err != nil {
		e := w.classify(ctx, err)
		if e.Position >= len(prefix) {
			e.Position -= len(prefix)
		}
		return fail(e)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return fail(w.classify(ctx, err))
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return fail(w.classify(ctx, err))
	}
	if err := send(workerFrame{ID: req.ID, Kind: "columns", Columns: cols}); err != nil {
		return err
	}
	return send(workerFrame{ID: req.ID, Kind: "done", ElapsedUS: time.Since(start).Microseconds()})
}

// prepare opens a fresh connection, checks that the planned SQL is one
// statement (the server checked it; this is the last line before DuckDB
// runs it), and creates the request's views on it.
func (w *workerDB) prepare(ctx context.Context, req workerRequest) (*sql.Conn, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if req.SQL != "" {
		var out string
		if err := conn.QueryRowContext(ctx, "SELECT CAST(system.main.json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", req.SQL).Scan(&out); err != nil {
			conn.Close()
			return nil, err
		}
		var p parsed
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.Error || len(p.Statements) != 1 {
			conn.Close()
			return nil, &workerError{Class: Refused, Message: "the planned query is not exactly one query", Position: -1}
		}
	}
	for _, v := range req.Views {
		if !strings.HasPrefix(v.Name, viewPrefix) {
			conn.Close()
			return nil, &workerError{Class: Internal, Message: "bad view name " + v.Name, Position: -1}
		}
		if _, err := conn.ExecContext(ctx, "CREATE TEMP VIEW "+quoteIdent(v.Name)+" AS "+v.SQL); err != nil {
			conn.Close()
			return nil, fmt.Errorf("view %s: %w", v.Name, err)
		}
	}
	return conn, nil
}

func (e *workerError) Error() string { return e.Message }

func (w *workerDB) describe(req workerRequest, send func(workerFrame) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := w.prepare(ctx, workerRequest{Views: req.Views})
	if err != nil {
		return send(workerFrame{ID: req.ID, Kind: "error", Err: w.classify(ctx, err)})
	}
	defer conn.Close()
	comments := map[[2]string]string{}
	tableComments := map[string]string{}
	if rows, err := conn.QueryContext(ctx, "SELECT table_name, column_name, comment FROM system.main.duckdb_columns() WHERE schema_name = 'main' AND database_name <> 'temp' AND comment IS NOT NULL"); err == nil {
		for rows.Next() {
			var t, c, cm string
			if rows.Scan(&t, &c, &cm) == nil {
				comments[[2]string{strings.ToLower(t), strings.ToLower(c)}] = cm
			}
		}
		rows.Close()
	}
	if rows, err := conn.QueryContext(ctx, "SELECT table_name, comment FROM system.main.duckdb_tables() WHERE schema_name = 'main' AND database_name <> 'temp' AND comment IS NOT NULL"); err == nil {
		for rows.Next() {
			var t, cm string
			if rows.Scan(&t, &cm) == nil {
				tableComments[strings.ToLower(t)] = cm
			}
		}
		rows.Close()
	}
	var out []RelationInfo
	for _, v := range req.Views {
		rel := strings.TrimPrefix(v.Name, viewPrefix)
		info := RelationInfo{Name: rel, Comment: tableComments[rel]}
		rows, err := conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+quoteIdent(v.Name)+")")
		if err != nil {
			return send(workerFrame{ID: req.ID, Kind: "error", Err: w.classify(ctx, err)})
		}
		for rows.Next() {
			var c Column
			if rows.Scan(&c.Name, &c.Type) == nil {
				c.Comment = comments[[2]string{rel, strings.ToLower(c.Name)}]
				info.Columns = append(info.Columns, c)
			}
		}
		rows.Close()
		out = append(out, info)
	}
	return send(workerFrame{ID: req.ID, Kind: "relations", Relations: out})
}

// classify turns an error of DuckDB (or of the context) into a class, the
// raw text and a position in the planned SQL.
func (w *workerDB) classify(ctx context.Context, err error) *workerError {
	var we *workerError
	if errors.As(err, &we) {
		return we
	}
	out := &workerError{Class: Internal, Message: err.Error(), Position: -1}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		out.Class = Timeout
		return out
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return out
	}
	msg := de.Msg
	if i := strings.IndexByte(msg, '{'); i >= 0 {
		var j struct {
			Type     string `json:"exception_type"`
			Message  string `json:"exception_message"`
			Position string `json:"position"`
		}
		if json.Unmarshal([]byte(msg[i:]), &j) == nil && j.Message != "" {
			out.Type = j.Type
			out.Message = j.Type + " Error: " + j.Message
			if p, err := strconv.Atoi(j.Position); err == nil {
				out.Position = p
			}
		}
	}
	typ := out.Type
	if typ == "" {
		if p, _, ok := strings.Cut(msg, " Error: "); ok {
			typ = p
		}
	}
	if c, ok := exceptionClass[strings.ToLower(typ)]; ok {
		out.Class = c
	}
	return out
}

// exceptionClass maps DuckDB's exception types to classes.
var exceptionClass = map[string]Class{
	"parser": Syntax, "syntax": Syntax, "binder": Syntax, "catalog": Syntax, "mismatch type": Syntax,
	"not implemented": Syntax, "parameter not resolved": Syntax, "parameter not allowed": Syntax, "invalid type": Syntax,
	"planner": Syntax, "dependency": Syntax,
	"conversion": Data, "out of range": Data, "divide by zero": Data, "invalid input": Data, "decimal": Data,
	"constraint": Data, "expression": Data, "overflow": Data,
	"out of memory": Memory,
	"interrupt":     Timeout,
	"permission":    Refused, "io": Refused, "network": Refused, "http": Refused, "missing extension": Refused,
	"extension autoloading": Refused, "settings": Refused, "invalid configuration": Refused,
}

func argValue(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
		return string(n)
	}
	return v
}

// jsonValue turns a scanned DuckDB value into a JSON value: decimals and
// 128-bit integers as exact numbers, times as text in the session zone.
func (w *workerDB) jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case nil, bool, string, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return x
	case float32:
		return floatValue(float64(x))
	case float64:
		return floatValue(x)
	case []byte:
		return x // base64 in JSON
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case time.Time:
		switch {
		case typ == "DATE":
			return x.Format("2006-01-02")
		case strings.HasPrefix(typ, "TIME") && !strings.HasPrefix(typ, "TIMESTAMP"):
			return x.Format("15:04:05.999999")
		case strings.Contains(typ, "TIME ZONE") || typ == "TIMESTAMPTZ":
			return x.In(w.loc).Format(time.RFC3339Nano)
		}
		return x.Format("2006-01-02 15:04:05.999999")
	case duckdb.Interval:
		return map[string]any{"months": x.Months, "days": x.Days, "micros": x.Micros}
	case duckdb.UUID:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = w.jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = w.jsonValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make([]any, 0, len(x))
		for k, e := range x {
			out = append(out, map[string]any{"key": w.jsonValue(k, ""), "value": w.jsonValue(e, "")})
		}
		return out
	case duckdb.Union:
		return map[string]any{"tag": x.Tag, "value": w.jsonValue(x.Value, "")}
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			return w.jsonValue(dv, typ)
		}
	}
	return fmt.Sprint(v)
}

func floatValue(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

func approxSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x)) + 2
	case []byte:
		return int64(len(x))*4/3 + 2
	case json.Number:
		return int64(len(x))
	case []any:
		var n int64 = 2
		for _, e := range x {
			n += approxSize(e) + 1
		}
		return n
	case map[string]any:
		var n int64 = 2
		for k, e := range x {
			n += int64(len(k)) + 4 + approxSize(e)
		}
		return n
	}
	return 8
}
