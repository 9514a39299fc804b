package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/warehouse"
)

// The ad hoc SQL entry points end to end: the small demo company served by
// the runtime (HTTP with the console and the API, Arrow Flight SQL on
// loopback, the admin API the command line uses), with the workers being
// this test binary (TestMain).

var sqlEnv struct {
	once      sync.Once
	err       error
	dir       string
	cfg       *app.Config
	rt        *app.Runtime
	base      string // http://…
	flight    string // host:port
	password  string
	users     map[string]access.User
	tokens    map[string]string // user → API token
	canary    string
	stop      func()
	snapshots string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sqlEnv.stop != nil {
		sqlEnv.stop()
	}
	if sqlEnv.dir != "" {
		os.RemoveAll(sqlEnv.dir)
	}
	os.Exit(code)
}

func quietLog() *slog.Logger {
	if os.Getenv("TRISCOPE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// setupSQL builds the environment once: the small demo company (generated,
// loaded, every model computed), five users, a server with Flight SQL.
func setupSQL(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and serves the small demo company (-short)")
	}
	sqlEnv.once.Do(func() { sqlEnv.err = buildSQLEnv() })
	if sqlEnv.err != nil {
		t.Fatal(sqlEnv.err)
	}
}

func buildSQLEnv() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "triscope-sql-test-")
	if err != nil {
		return err
	}
	sqlEnv.dir = dir
	log := quietLog()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(ctx, synth.Config{Size: "small", Seed: 1, Locale: "en", Format: "csv"}, data, nil); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	db := filepath.Join(dir, "wh.duckdb")
	w, err := warehouse.Open(ctx, warehouse.Options{Path: db, Logger: log})
	if err != nil {
		return err
	}
	if _, err := etl.Load(ctx, w, []string{data}, etl.Options{Logger: log}); err != nil {
		w.Close()
		return fmt.Errorf("load: %w", err)
	}
	for _, name := range models.Names() {
		if _, _, err := models.Refresh(ctx, w, models.RefreshOptions{Models: []string{name}, Logger: log}); err != nil {
			fmt.Fprintf(os.Stderr, "note: model %s not computed: %v\n", name, err)
		}
	}
	var region, branch, rep string
	r := w.DB()
	if err := r.QueryRowContext(ctx, `SELECT org_unit_id FROM org_units WHERE level = 'region' AND name = 'East China'`).Scan(&region); err != nil {
		return err
	}
	if err := r.QueryRowContext(ctx, `SELECT org_unit_id FROM org_units WHERE parent_id = $1 ORDER BY org_unit_id LIMIT 1`, region).Scan(&branch); err != nil {
		return err
	}
	if err := r.QueryRowContext(ctx, `SELECT owner_rep_id FROM contracts GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&rep); err != nil {
		return err
	}
	w.Close()

	cfg := &app.Config{DB: db, BaseCurrency: "CNY", TimeZone: warehouse.DefaultTimeZone, MaxReject: 0.05,
		RefreshAfterLoad: "affected", Benchmarks: access.DefaultBenchmarks}
	cfg.SQL = app.SQLConfig{Timeout: 10 * time.Second, MaxRows: 5000, Workers: 3, PerUser: 2, QueueWait: 20 * time.Second,
		WorkerMemory: "4GB", WorkerThreads: 1}
	// Executives and admins get a longer limit: the million-row streams run
	// as them (a busy CI machine must not stop them at 10 s).
	cfg.SQL.Roles = map[string]app.SQLRoleConfig{access.RoleExecutive: {Timeout: time.Minute}, access.RoleAdmin: {Timeout: time.Minute}}
	cfg.SQL.Flight = app.FlightConfig{Addr: "127.0.0.1:0", MaxRows: 2_000_000}
	sqlEnv.cfg = cfg
	rt, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	sqlEnv.rt = rt
	sqlEnv.password = "sql-test-password-1"
	sqlEnv.users = map[string]access.User{
		"admin":   {Username: "admin", Role: access.RoleAdmin},
		"ceo":     {Username: "ceo", Role: access.RoleExecutive},
		"manager": {Username: "manager", Role: access.RoleManager, OrgUnit: region},
		"rep":     {Username: "rep", Role: access.RoleRep, RepID: rep},
		"analyst": {Username: "analyst", Role: access.RoleAnalyst, OrgUnit: branch},
	}
	sqlEnv.tokens = map[string]string{}
	for name, u := range sqlEnv.users {
		if err := rt.Access().PutUser(ctx, u, sqlEnv.password); err != nil {
			return err
		}
		_, secret, err := rt.Access().CreateToken(ctx, name, "test")
		if err != nil {
			return err
		}
		sqlEnv.tokens[name] = secret
	}
	sqlEnv.canary = filepath.Join(dir, "canary.csv")
	os.WriteFile(sqlEnv.canary, []byte("secret\nCANARY-7f3a\n"), 0o600)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		done <- rt.Serve(sctx, app.ServeOptions{Listener: ln, NoWarmUp: true,
			Ready:       func(u string) { sqlEnv.base = u; ready <- struct{}{} },
			FlightReady: func(a string) { sqlEnv.flight = strings.TrimPrefix(a, "grpc://"); ready <- struct{}{} }})
	}()
	for i := 0; i < 2; i++ {
		select {
		case <-ready:
		case err := <-done:
			cancel()
			return fmt.Errorf("serve: %v", err)
		case <-time.After(2 * time.Minute):
			cancel()
			return errors.New("the server did not start")
		}
	}
	rt.WaitForSnapshots()
	sqlEnv.snapshots = db + ".snapshots"
	sqlEnv.stop = func() {
		cancel()
		<-done
		rt.Close()
	}
	return nil
}

func currentSnapshot(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sqlEnv.snapshots, "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := strings.Cut(string(b), "\n") // the second line is the source's stamp
	return filepath.Join(sqlEnv.snapshots, strings.TrimSpace(name))
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// outcome is what an entry point answered, in one comparable form.
type outcome struct {
	class   string // "" for a result
	message string
	rows    []string // canonical, sorted
	columns []string
}

func (o outcome) String() string {
	if o.class != "" {
		return o.class + ": " + o.message
	}
	return fmt.Sprintf("%d rows %v", len(o.rows), o.columns)
}

// canon prints a value the same whichever entry point it came through.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'g', 12, 64)
		}
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', 12, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', 6, 64)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int:
		f, _ := strconv.ParseFloat(fmt.Sprint(x), 64)
		return strconv.FormatFloat(f, 'g', 12, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.ContainsAny(x, "0123456789") && !strings.ContainsAny(x, "-:T ") {
			return strconv.FormatFloat(f, 'g', 12, 64)
		}
		return x
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return canonJSONText(string(b))
	}
	return fmt.Sprint(v)
}

// canonJSONText normalises a JSON text's numbers (1.50 and 1.5).
func canonJSONText(s string) string {
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return s
	}
	var norm func(any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			f, _ := x.Float64()
			return f
		case []any:
			for i := range x {
				x[i] = norm(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = norm(x[k])
			}
		}
		return v
	}
	b, _ := json.Marshal(norm(v))
	return string(b)
}

func canonRows(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = canon(v)
		}
		out[i] = strings.Join(parts, "|")
	}
	sort.Strings(out)
	return out
}

// --- the four entry points -------------------------------------------------

// viaCLI is the command line's way in (app.ConnectSQL: the running server's
// admin API), as `triscope sql --user NAME` uses it.
func viaCLI(t *testing.T, user, q string, timeout time.Duration) outcome {
	t.Helper()
	client, err := app.ConnectSQL(context.Background(), sqlEnv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if !strings.Contains(client.Where(), "through the server") {
		t.Fatalf("the CLI does not go through the server: %s", client.Where())
	}
	var sink rowSink
	_, err = client.Run(context.Background(), app.SQLRequest{User: user, By: "test", SQL: q, Timeout: timeout, MaxRows: 1000}, &sink)
	if err != nil {
		var e *adhoc.Error
		if !errors.As(err, &e) {
			t.Fatalf("cli: %v", err)
		}
		return outcome{class: string(e.Class), message: e.Message}
	}
	return outcome{rows: canonRows(sink.rows), columns: sink.names()}
}

type rowSink struct {
	cols []adhoc.Column
	rows [][]any
}

func (s *rowSink) Columns(c []adhoc.Column) error { s.cols = c; return nil }
func (s *rowSink) Rows(r [][]any) error           { s.rows = append(s.rows, r...); return nil }
func (s *rowSink) names() []string {
	var out []string
	for _, c := range s.cols {
		out = append(out, c.Name)
	}
	return out
}

// httpResult decodes an answer of POST /api/sql.
func httpResult(t *testing.T, resp *http.Response) outcome {
	t.Helper()
	defer resp.Body.Close()
	var body struct {
		Error   string `json:"error"`
		Class   string `json:"class"`
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows [][]any `json:"rows"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("api answer (%s): %v", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		// "refused: relation main.customers: … (at character 15)" → the message.
		msg := strings.TrimPrefix(body.Error, body.Class+": ")
		if i := strings.LastIndex(msg, " (at character "); i >= 0 {
			msg = msg[:i]
		}
		return outcome{class: body.Class, message: msg}
	}
	var names []string
	for _, c := range body.Columns {
		names = append(names, c.Name)
	}
	return outcome{rows: canonRows(body.Rows), columns: names}
}

func sqlBody(q string, timeout time.Duration) string {
	b, _ := json.Marshal(map[string]any{"sql": q, "max_rows": 1000, "timeout_ms": timeout.Milliseconds()})
	return string(b)
}

// viaAPI is a script with an API token.
func viaAPI(t *testing.T, user, q string, timeout time.Duration) outcome {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sqlEnv.base+"/api/sql", strings.NewReader(sqlBody(q, timeout)))
	req.Header.Set("Authorization", "Bearer "+sqlEnv.tokens[user])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult(t, resp)
}

// browser is a signed-in session with its CSRF token (the console's API).
type browser struct {
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signIn(t *testing.T, user string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(sqlEnv.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the login form")
	}
	resp, err = c.PostForm(sqlEnv.base+"/login", url.Values{"username": {user}, "password": {sqlEnv.password}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(sqlEnv.base + "/sql")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/sql as %s: %s", user, resp.Status)
	}
	m = csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the console")
	}
	return &browser{c: c, csrf: string(m[1])}
}

func (b *browser) do(t *testing.T, method, path, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, sqlEnv.base+path, strings.NewReader(body))
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// viaConsole is the console's own call: the session and its CSRF token.
func viaConsole(t *testing.T, b *browser, q string, timeout time.Duration) outcome {
	t.Helper()
	return httpResult(t, b.do(t, http.MethodPost, "/api/sql", sqlBody(q, timeout)))
}

func flightClient(t *testing.T, user, password string) (*flightsql.Client, context.Context, error) {
	t.Helper()
	cl, err := flightsql.NewClient(sqlEnv.flight, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, err := cl.Client.AuthenticateBasicToken(context.Background(), user, password)
	return cl, ctx, err
}

// viaFlight runs a query with arrow-go's Flight SQL client.
func viaFlight(t *testing.T, cl *flightsql.Client, ctx context.Context, q string) outcome {
	t.Helper()
	info, err := cl.Execute(ctx, q)
	if err == nil {
		var rows [][]any
		var names []string
		rows, names, err = readFlight(ctx, cl, info.Endpoint[0].Ticket)
		if err == nil {
			return outcome{rows: canonRows(rows), columns: names}
		}
	}
	st, _ := status.FromError(err)
	msg := st.Message()
	class := ""
	if c, rest, ok := strings.Cut(msg, ": "); ok {
		class, msg = c, rest
	}
	if i := strings.LastIndex(msg, " (at character "); i >= 0 {
		msg = msg[:i]
	}
	return outcome{class: class, message: msg}
}

func readFlight(ctx context.Context, cl *flightsql.Client, tkt *flight.Ticket) ([][]any, []string, error) {
	rdr, err := cl.DoGet(ctx, tkt)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var names []string
	for _, f := range rdr.Schema().Fields() {
		names = append(names, f.Name)
	}
	var rows [][]any
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for j := 0; j < int(rec.NumCols()); j++ {
				row[j] = arrowValue(rec.Column(j), i)
			}
			rows = append(rows, row)
		}
	}
	return rows, names, rdr.Err()
}

// arrowValue reads a cell as the HTTP API would show it.
func arrowValue(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch c := col.(type) {
	case *array.String:
		return c.Value(i)
	case *array.Boolean:
		return c.Value(i)
	case *array.Int8:
		return c.Value(i)
	case *array.Int16:
		return c.Value(i)
	case *array.Int32:
		return c.Value(i)
	case *array.Int64:
		return c.Value(i)
	case *array.Float32:
		return c.Value(i)
	case *array.Float64:
		return c.Value(i)
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return c.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		tt := c.DataType().(*arrow.TimestampType)
		v := time.UnixMicro(int64(c.Value(i))).UTC()
		if tt.TimeZone != "" {
			loc, _ := time.LoadLocation(tt.TimeZone)
			return v.In(loc).Format(time.RFC3339Nano)
		}
		return v.Format("2006-01-02 15:04:05.999999")
	case *array.Binary:
		return string(c.Value(i))
	}
	return col.ValueStr(i)
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
