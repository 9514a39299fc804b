package reports_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/etl"
	"github.com/triscope/triscope/etl/synth"
	"github.com/triscope/triscope/models"
	"github.com/triscope/triscope/reports"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/warehouse"
)

// The end-to-end tests share one small demo company, loaded and computed
// once, served by the runtime exactly as `triscope serve` does (the
// scheduler runs, Chromium prints from the server) with real peers: an
// SMTP server (emersion/go-smtp) and a WeCom robot on loopback.
var env struct {
	once     sync.Once
	err      error
	dir      string
	template string // the warehouse before the runtime opened it (the crash test copies it)
	rt       *app.Runtime
	svc      *reports.Service
	base     string
	smtp     *smtpPeer
	wecom    *wecomPeer
	password string
	region   string // East China
	branch   string // a branch of it
	rep      string // a rep of that branch with installments due
	other    string // a rep of another region
	stop     func()
}

func TestMain(m *testing.M) {
	if os.Getenv("TRISCOPE_REPORTS_HELPER") != "" {
		helperServe() // the crash test's server process
		return
	}
	code := m.Run()
	if env.stop != nil {
		env.stop()
	}
	if env.dir != "" {
		os.RemoveAll(env.dir)
	}
	os.Exit(code)
}

func quiet() *slog.Logger {
	if os.Getenv("TRISCOPE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// setup builds the company and starts the server once; tests that need it
// call it first.
func setup(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and serves the demo company (-short)")
	}
	env.once.Do(func() { env.err = build() })
	if env.err != nil {
		t.Fatal(env.err)
	}
}

func build() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "triscope-reports-test-")
	if err != nil {
		return err
	}
	env.dir = dir
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(ctx, synth.Config{Size: "small", Seed: 1, Locale: "en", Format: "csv"}, data, nil); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	db := filepath.Join(dir, "wh.duckdb")
	w, err := warehouse.Open(ctx, warehouse.Options{Path: db, Logger: quiet()})
	if err != nil {
		return err
	}
	if _, err := etl.Load(ctx, w, []string{data}, etl.Options{Logger: quiet()}); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	for _, name := range models.Names() {
		if _, _, err := models.Refresh(ctx, w, models.RefreshOptions{Models: []string{name}, Logger: quiet()}); err != nil {
			fmt.Fprintf(os.Stderr, "note: model %s not computed: %v\n", name, err)
		}
	}
	rdb := w.DB()
	if err := rdb.QueryRowContext(ctx, `SELECT org_unit_id FROM org_units WHERE level = 'region' AND name = 'East China'`).Scan(&env.region); err != nil {
		return err
	}
	// A branch of East China, and a rep of it with installments due.
	if err := rdb.QueryRowContext(ctx, `WITH RECURSIVE t AS (SELECT org_unit_id, org_unit_id AS branch FROM org_units WHERE parent_id = $1
		    UNION ALL SELECT o.org_unit_id, t.branch FROM org_units o JOIN t ON o.parent_id = t.org_unit_id)
		SELECT t.branch, c.owner_rep_id FROM payment_schedule s JOIN contracts c USING (contract_id)
		JOIN reps r ON r.rep_id = c.owner_rep_id JOIN t ON t.org_unit_id = r.org_unit_id
		GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1`, env.region).Scan(&env.branch, &env.rep); err != nil {
		return err
	}
	if err := rdb.QueryRowContext(ctx, `SELECT owner_rep_id FROM contracts c JOIN reps r ON r.rep_id = c.owner_rep_id
		WHERE r.org_unit_id NOT IN (SELECT org_unit_id FROM org_units WHERE parent_id = $1 OR org_unit_id = $1)
		GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1`, env.region).Scan(&env.other); err != nil {
		return err
	}
	w.Close()
	env.template = filepath.Join(dir, "template.duckdb")
	if err := copyFile(db, env.template); err != nil {
		return err
	}

	env.smtp = startSMTP()
	env.wecom = startWeCom()
	defs := filepath.Join(dir, "defs")
	if err := os.MkdirAll(defs, 0o755); err != nil {
		return err
	}
	for name, body := range testReports {
		if err := os.WriteFile(filepath.Join(defs, name+".yaml"), []byte(body), 0o644); err != nil {
			return err
		}
	}
	cfg := &app.Config{DB: db, BaseCurrency: "CNY", TimeZone: warehouse.DefaultTimeZone, MaxReject: 0.05, RefreshAfterLoad: "off",
		Benchmarks: access.DefaultBenchmarks, Addr: "127.0.0.1:0", ReportsDir: defs,
		Reports: app.ReportsConfig{Lang: "zh-CN", RetentionDays: 90, PublicURL: "https://bi.example.com", Scopes: map[string]string{"east-partners": "org:" + env.region}},
		Delivery: deliver.Config{Channels: map[string]deliver.ChannelConfig{
			"mail":        {Kind: "smtp", SMTP: &deliver.SMTPConfig{Host: "127.0.0.1", Port: env.smtp.port, Security: "none", From: "Triscope 报表 <reports@triscope.test>"}, Retry: deliver.RetryConfig{Attempts: 2}},
			"archive":     {Kind: "folder", Folder: &deliver.FolderConfig{Root: filepath.Join(dir, "archive")}},
			"sales-wecom": {Kind: "wecom", WeCom: &deliver.WeComConfig{Webhook: deliver.Secret(env.wecom.url + "/cgi-bin/webhook/send?key=" + wecomKey)}},
		}}}
	env.rt, err = app.Open(ctx, cfg, quiet())
	if err != nil {
		return err
	}
	env.password = "test-password-1"
	users := []struct {
		u    access.User
		mail string
		lang string
	}{
		{access.User{Username: "ceo", Name: "CEO", Role: access.RoleExecutive}, "ceo@example.com", "en"},
		{access.User{Username: "admin", Name: "Admin", Role: access.RoleAdmin}, "admin@example.com", "en"},
		{access.User{Username: "east", Name: "East manager", Role: access.RoleManager, OrgUnit: env.region}, "east@example.com", "zh-CN"},
		{access.User{Username: "rep", Name: "A rep", Role: access.RoleRep, RepID: env.rep}, "rep@example.com", "en"},
		{access.User{Username: "analyst", Name: "Branch analyst", Role: access.RoleAnalyst, OrgUnit: env.branch}, "analyst@example.com", "en"},
		{access.User{Username: "other", Name: "Other rep", Role: access.RoleRep, RepID: env.other}, "other@example.com", "en"},
	}
	for _, u := range users {
		if err := env.rt.Access().PutUser(ctx, u.u, env.password); err != nil {
			return err
		}
		if err := env.rt.Access().SetProfile(ctx, access.Profile{Username: u.u.Username, Email: u.mail, Lang: u.lang}); err != nil {
			return err
		}
	}
	env.svc, err = env.rt.Reports(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- env.rt.Serve(sctx, app.ServeOptions{Listener: ln, NoWarmUp: true, Ready: func(u string) { ready <- u }})
	}()
	select {
	case env.base = <-ready:
	case err := <-done:
		stop()
		return fmt.Errorf("serve: %w", err)
	}
	env.stop = func() {
		stop()
		<-done
		env.rt.Close()
	}
	return nil
}

const wecomKey = "3f6c9a3e-test-key"

// testReports are the definitions the tests use (reports_dir).
var testReports = map[string]string{
	// A burst to a rep, a manager and an analyst, each rendered in their
	// own scope: the payments behind the collections chart, and bookings by month.
	"burst-scope": `
title: {en: Collections and bookings, zh-CN: 回款与签约}
content:
  - rows: telescope.collections
  - chart: telescope.bookings
params: {period: ytd}
formats: [csv, xlsx]
recipients:
  - user: rep
  - user: east
  - user: analyst
channels: [mail]
`,
	// The weekly pack of the demo, printed.
	"pdf-pack": `
title: {en: Weekly executive pack, zh-CN: 每周经营简报}
description: {zh-CN: 签约与回款对比目标、预测及各区域达成率, en: Bookings and collections against target}
content:
  - page: telescope
  - rows: telescope.collections
    limit: 40
params: {period: year_to_date}
formats: [pdf, html]
recipients: [{user: east}]
channels: [archive]
schedule: {cron: "0 8 * * 1"}
`,
	// Sent only while collections lag the target (progress < 1.5: holds
	// for everyone) or (< 0.01: holds for no one).
	"cond-kpi-holds": `
title: Collections below target
content: [{chart: collections.kpis}]
formats: [csv]
recipients: [{user: east}, {user: rep}]
channels: [archive]
condition: {chart: collections.kpis, kpi: collected, field: value, op: ">", value: 1, cooldown: 24h}
`,
	"cond-kpi-never": `
title: Collections far below target
content: [{chart: collections.kpis}]
formats: [csv]
recipients: [{user: east}]
channels: [archive]
condition: {chart: collections.kpis, kpi: collected, op: "<", value: 0}
`,
	// A recipient the mail channel cannot reach: the run fails and its
	// owner (the administrator, for a file's report) is told by mail.
	"unreachable": `
title: {en: Unreachable, zh-CN: 无法送达}
content: [{chart: collections.kpis}]
formats: [csv]
recipients: [{name: Nobody, scope: all}]
channels: [mail]
`,
	// A saved query of the SQL face, shared with the reps, run as each
	// recipient; the manager is not one it is shared with.
	"saved-query": `
title: {en: My payments, zh-CN: 我的回款}
content:
  - query: rep-payments
    params: {period: ytd}
formats: [csv]
recipients: [{user: rep}, {user: other}, {user: east}]
channels: [archive]
`,
	// An alert digest to a WeCom group bound to East China: only when
	// there are alerts it has not sent before.
	"alert-digest": `
title: {en: Alert digest, zh-CN: 每日预警}
content:
  - chart: alerts.kpis
  - chart: alerts.list
formats: [csv]
recipients:
  - name: East China sales group
    scope: east-partners
    channels: [sales-wecom]
condition: {rows: alerts.list, new: true}
`,
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// ---- an SMTP server on loopback (emersion/go-smtp) ----

type smtpPeer struct {
	port int
	srv  *smtp.Server

	mu   sync.Mutex
	got  []received
	hold map[string]chan struct{} // RCPT address → DATA waits until closed (crash test)
	held chan string              // told when a DATA waits
}

type received struct {
	To   []string
	Data []byte
}

type smtpSession struct {
	p  *smtpPeer
	to []string
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	var wait chan struct{}
	for _, to := range s.to {
		if ch, ok := s.p.hold[to]; ok {
			wait = ch
		}
	}
	s.p.mu.Unlock()
	if wait != nil {
		s.p.held <- s.to[0]
		<-wait
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "held back by the test"}
	}
	s.p.mu.Lock()
	s.p.got = append(s.p.got, received{To: s.to, Data: b})
	s.p.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.to = nil }
func (s *smtpSession) Logout() error { return nil }

func startSMTP() *smtpPeer {
	p := &smtpPeer{hold: map[string]chan struct{}{}, held: make(chan string, 4)}
	p.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{p: p}, nil }))
	p.srv.Domain = "localhost"
	p.srv.MaxMessageBytes = 50 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go p.srv.Serve(l)
	p.port = l.Addr().(*net.TCPAddr).Port
	return p
}

func (p *smtpPeer) received() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}

// message is a received mail, parsed.
type message struct {
	Header      mail.Header
	Subject     string
	Text, HTML  string
	Attachments map[string][]byte // file name → content
	Inline      map[string][]byte // Content-ID → content
}

func parseMail(t *testing.T, data []byte) message {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	msg := message{Header: m.Header, Subject: subj, Attachments: map[string][]byte{}, Inline: map[string][]byte{}}
	walkMIME(t, textproto(m.Header), m.Body, &msg)
	return msg
}

func textproto(h mail.Header) map[string][]string { return map[string][]string(h) }

func walkMIME(t *testing.T, h map[string][]string, body io.Reader, msg *message) {
	t.Helper()
	get := func(k string) string {
		for key, v := range h {
			if strings.EqualFold(key, k) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	ct, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walkMIME(t, part.Header, part, msg)
		}
	}
	b, _ := io.ReadAll(body)
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		b = decodeBase64(t, b)
	case "quoted-printable":
		b, _ = io.ReadAll(newQP(b))
	}
	disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
	switch {
	case disp == "attachment":
		msg.Attachments[dparams["filename"]] = b
	case get("Content-ID") != "":
		msg.Inline[strings.Trim(get("Content-ID"), "<>")] = b
	case ct == "text/plain":
		msg.Text = string(b)
	case ct == "text/html":
		msg.HTML = string(b)
	}
}

// ---- a WeCom group robot on loopback ----

type wecomPeer struct {
	url  string
	mu   sync.Mutex
	msgs []map[string]any
}

func startWeCom() *wecomPeer {
	p := &wecomPeer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/webhook/upload_media" && r.URL.Query().Get("key") == wecomKey {
			if _, _, err := r.FormFile("media"); err != nil {
				json.NewEncoder(w).Encode(map[string]any{"errcode": 40058, "errmsg": "no media"})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "type": "file", "media_id": "media-1", "created_at": "1"})
			return
		}
		var m map[string]any
		if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != wecomKey || json.NewDecoder(r.Body).Decode(&m) != nil {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40058, "errmsg": "bad request"})
			return
		}
		p.mu.Lock()
		p.msgs = append(p.msgs, m)
		p.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok"})
	}))
	p.url = srv.URL
	return p
}

func (p *wecomPeer) messages() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.msgs...)
}

// ---- a browser-less client of the server ----

type client struct {
	*http.Client
	t    *testing.T
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func login(t *testing.T, user string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, Client: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := c.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	resp, body := c.post("/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {env.password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
	var me struct {
		CSRF string `json:"csrf"`
	}
	_, body = c.get("/api/me")
	json.Unmarshal([]byte(body), &me)
	c.csrf = me.CSRF
	return c
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

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if c.csrf != "" && form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, env.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// ---- Debian's independent readers ----

// debianPython is the interpreter python3-openpyxl installs for (a python3
// earlier on PATH, e.g. pyenv's, may not have it).
func debianPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			return p
		}
	}
	need(t, "python3-openpyxl")
	return ""
}

func need(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("TRISCOPE_RENDER_TESTS") == "require" {
		t.Fatalf("%s is missing (Debian: apt-get install python3-openpyxl poppler-utils)", what)
	}
	t.Skipf("%s is missing (Debian: apt-get install python3-openpyxl poppler-utils)", what)
}

func needTool(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		need(t, tool)
	}
	return p
}

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		if os.Getenv("TRISCOPE_BROWSER_TESTS") == "require" {
			t.Fatal("chromium is missing")
		}
		t.Skip("chromium is missing")
	}
}

func decodeBase64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' {
			return -1
		}
		return r
	}, string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newQP(b []byte) io.Reader { return quotedprintable.NewReader(bytes.NewReader(b)) }

func urlQuery(s string) string { return url.QueryEscape(s) }

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
