package dashboards_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHealthReadyMetrics(t *testing.T) {
	c := newClient(t)
	// In this order: /metrics counts the requests before it (a map's random
	// order made /metrics come first a third of the time, with nothing counted yet).
	for _, pw := range [][2]string{{"/healthz", "ok"}, {"/readyz", "ready"}, {"/metrics", "triscope_http_requests_total"}} {
		path, want := pw[0], pw[1]
		resp, body := c.get(path)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body[:min(len(body), 200)])
		}
	}
	resp, _ := c.get("/healthz")
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no request id header")
	}
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	c := newClient(t)
	resp, body := c.get("/login")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' 'nonce-") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "object-src 'none'") {
		t.Errorf("CSP: %s", csp)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if resp.Header.Get(h) != want {
			t.Errorf("%s = %q", h, resp.Header.Get(h))
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the login page has an inline script without a nonce")
	}
	// Embedded ECharts with long-lived cache headers when versioned.
	c2 := login(t, "ceo")
	_, page := c2.get("/telescope")
	i := strings.Index(page, "/assets/vendor/echarts.min.js?v=")
	if i < 0 {
		t.Fatal("the page does not load ECharts from /assets")
	}
	src := page[i:]
	src = src[:strings.IndexByte(src, '"')]
	resp, js := c.get(src)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || len(js) < 500_000 {
		t.Errorf("echarts: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Cache-Control"), len(js))
	}
	for _, s := range []string{"<script nonce=", `type="application/json" id="ts-config"`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	if strings.Contains(page, "cdn.") || strings.Contains(page, "https://") {
		t.Error("the page references an external URL")
	}
}

func TestLoginRequiredAndSessions(t *testing.T) {
	c := newClient(t)
	resp, _ := c.get("/telescope?period=ly")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code := c.getJSON("/api/charts/telescope.kpis", nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous API: %d", code)
	}
	// Wrong password, then the right one.
	tok := c.loginForm()
	resp, body := c.postForm("/login", url.Values{"csrf": {tok}, "username": {"ceo"}, "password": {"wrong-password"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, _ = c.postForm("/login", url.Values{"csrf": {tok}, "username": {"ceo"}, "password": {env.password}, "next": {"/magnifier?metric=pipeline"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/magnifier?metric=pipeline" {
		t.Fatalf("login: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "triscope_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) < 43 {
		t.Fatalf("session cookie: %+v", cookie)
	}
	first := cookie.Value
	// Rotation: logging in again issues a new token and ends the old session.
	tok2 := newClient(t).loginForm()
	_ = tok2
	c.Jar.SetCookies(mustURL(env.base), []*http.Cookie{{Name: "triscope_login_csrf", Value: tok, Path: "/"}})
	resp, _ = c.postForm("/login", url.Values{"csrf": {tok}, "username": {"ceo"}, "password": {env.password}})
	var second string
	for _, ck := range resp.Cookies() {
		if ck.Name == "triscope_session" {
			second = ck.Value
		}
	}
	if second == "" || second == first {
		t.Fatalf("session not rotated at login (%q → %q)", first, second)
	}
	old := newClient(t)
	old.Jar.SetCookies(mustURL(env.base), []*http.Cookie{{Name: "triscope_session", Value: first, Path: "/"}})
	if code := old.getJSON("/api/me", nil); code != http.StatusUnauthorized {
		t.Fatalf("old session still valid after re-login: %d", code)
	}
	// Open redirects are refused.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil"} {
		c3 := newClient(t)
		tk := c3.loginForm()
		resp, _ := c3.postForm("/login", url.Values{"csrf": {tk}, "username": {"ceo"}, "password": {env.password}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/telescope" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	// Home page by role.
	// Issue 17, point 5: a rep lands on their own page, a manager on their unit's Telescope.
	for user, home := range map[string]string{"ceo": "/telescope", "east": "/telescope", "analyst": "/telescope", "rep": "/reps/" + url.PathEscape(env.rep)} {
		c := login(t, user)
		resp, _ := c.get("/")
		if resp.Header.Get("Location") != home {
			t.Errorf("%s home: %s", user, resp.Header.Get("Location"))
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestCSRF(t *testing.T) {
	// Login without the token, or with another browser's token.
	c := newClient(t)
	c.loginForm()
	resp, _ := c.postForm("/login", url.Values{"username": {"ceo"}, "password": {env.password}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d", resp.StatusCode)
	}
	other := newClient(t).loginForm()
	resp, _ = c.postForm("/login", url.Values{"csrf": {other}, "username": {"ceo"}, "password": {env.password}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with another browser's CSRF token: %d", resp.StatusCode)
	}
	// Logout needs the session's token and a same-origin request.
	s := login(t, "ceo")
	resp, _ = s.postForm("/logout", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: %d", resp.StatusCode)
	}
	resp, _ = s.postForm("/logout", url.Values{"csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a forged token: %d", resp.StatusCode)
	}
	resp, _ = s.postForm("/logout", url.Values{"csrf": {s.csrf}}, "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin logout: %d", resp.StatusCode)
	}
	if code := s.getJSON("/api/me", nil); code != 200 {
		t.Fatal("a refused logout ended the session")
	}
	resp, _ = s.postForm("/logout", url.Values{"csrf": {s.csrf}}, "Origin", env.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if code := s.getJSON("/api/me", nil); code != http.StatusUnauthorized {
		t.Fatalf("session alive after logout: %d", code)
	}
}

func TestLoginThrottle(t *testing.T) {
	c := newClient(t)
	tok := c.loginForm()
	for i := 0; i < 5; i++ {
		resp, _ := c.postForm("/login", url.Values{"csrf": {tok}, "username": {"throttled"}, "password": {"nope-nope-nope"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := c.postForm("/login", url.Values{"csrf": {tok}, "username": {"throttled"}, "password": {env.password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt with the right password: %d (want 429)\n%s", resp.StatusCode, body[:min(300, len(body))])
	}
	events, err := env.auth.AuditLog(context.Background(), 200)
	if err != nil {
		t.Fatal(err)
	}
	var failed, throttled, ok int
	for _, e := range events {
		if e.Username != "throttled" && e.Username != "ceo" {
			continue
		}
		switch e.Action {
		case "login_failed":
			failed++
		case "login_throttled":
			throttled++
		case "login":
			ok++
		}
	}
	if failed < 5 || throttled < 1 || ok < 1 {
		t.Fatalf("audit: %d failed, %d throttled, %d ok logins", failed, throttled, ok)
	}
}

func TestLanguage(t *testing.T) {
	c := login(t, "ceo")
	_, body := c.get("/telescope?lang=zh-CN")
	for _, s := range []string{`lang="zh-CN"`, "望远镜", "放大镜", "本年至今"} {
		if !strings.Contains(body, s) {
			t.Errorf("zh-CN page lacks %q", s)
		}
	}
	// Remembered in a cookie.
	_, body = c.get("/magnifier")
	if !strings.Contains(body, "分解维度") {
		t.Error("the language choice was not remembered")
	}
	_, body = c.get("/magnifier?lang=en")
	if !strings.Contains(body, "Break down by") {
		t.Error("?lang=en did not switch back")
	}
	// Accept-Language for a fresh browser.
	c2 := newClient(t)
	req, _ := http.NewRequest("GET", env.base+"/login", nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	resp, err := c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	resp.Body.Close()
	if !strings.Contains(string(buf[:n]), "登录") {
		t.Error("Accept-Language zh-CN did not give a Chinese login page")
	}
}

func TestChartSQLShowsScope(t *testing.T) {
	c := login(t, "east")
	var info struct {
		SQL    string `json:"sql"`
		Params []struct {
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"params"`
		Definitions string `json:"definitions"`
	}
	if code := c.getJSON("/api/charts/magnifier.breakdown/sql?metric=collections", &info); code != 200 {
		t.Fatal(code)
	}
	if !strings.Contains(info.SQL, "scoped.collections($scope_all, $scope_org, $scope_rep)") {
		t.Fatal("the SQL does not read the scoped relation with the user's scope")
	}
	got := map[string]any{}
	for _, p := range info.Params {
		got[p.Name] = p.Value
	}
	if got["scope_org"] != env.region || got["scope_all"] != false || got["scope_rep"] != nil || got["metric"] != "collections" {
		t.Fatalf("bound parameters: %v", got)
	}
	for _, def := range []string{"CREATE OR REPLACE MACRO scoped.sees(", "CREATE OR REPLACE MACRO scoped.collections(", "CREATE OR REPLACE MACRO scoped.payment_facts("} {
		if !strings.Contains(info.Definitions, def) {
			t.Fatalf("definitions lack %s", def)
		}
	}
}

func TestUnknownChartAndBadInput(t *testing.T) {
	c := login(t, "ceo")
	if code := c.getJSON("/api/charts/nope", nil); code != 404 {
		t.Errorf("unknown chart: %d", code)
	}
	// Junk in filters falls back to defaults, never into SQL.
	var d struct {
		State string `json:"state"`
	}
	if code := c.getJSON("/api/charts/magnifier.breakdown?metric=x%27%3B+DROP+TABLE+customers--&dim=%27&period=zzz&org=%27+OR+1%3D1&pl=%27", &d); code != 200 || d.State != "ok" {
		t.Errorf("junk filters: %d %s", code, d.State)
	}
	if code := c.getJSON("/api/charts/magnifier.breakdown/export?format=pdf", nil); code != 400 {
		t.Errorf("bad export format: %d", code)
	}
}

// TestCacheFollowsDataVersion: chart data is cached per data version and a new
// load (or refresh) invalidates it without a restart.
func TestCacheFollowsDataVersion(t *testing.T) {
	c := login(t, "analyst")
	get := func() (string, string) {
		resp, body := c.get("/api/charts/telescope.bookings?period=ly")
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		var d struct {
			Version string `json:"version"`
		}
		json.Unmarshal([]byte(body), &d)
		return d.Version, resp.Header.Get("X-Cache")
	}
	v1, _ := get()
	if _, cache := get(); cache != "hit" {
		t.Fatalf("second request: X-Cache %q", cache)
	}
	err := env.w.WriteTx(context.Background(), func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `INSERT INTO load_runs (load_id, started_at, finished_at, status, message)
			SELECT nextval('load_id_seq'), now(), now(), 'unchanged', 'cache test'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		v2, cache := get()
		if v2 != v1 {
			if cache == "hit" {
				t.Fatalf("new version %s served from the cache", v2)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version still %s 5 s after a load", v1)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Issue 18, finding 2: a value beginning with =, +, -, @, tab or CR is
// written to a CSV export as text a spreadsheet will not evaluate (a leading
// apostrophe), and numbers (a negative amount) stay numbers.
func TestCSVExportDefusesFormulas(t *testing.T) {
	c := login(t, "ceo")
	resp, body := c.get("/api/charts/customer.payments/export?format=csv&id=" + url.QueryEscape(env.formula))
	if resp.StatusCode != 200 {
		t.Fatalf("export: HTTP %d\n%s", resp.StatusCode, body)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil || len(records) < 2 {
		t.Fatalf("export is not CSV with rows: %v\n%s", err, body)
	}
	found := false
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell == "'"+formulaCustomer {
				found = true
			}
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("a cell starts with %q: %q", cell[:1], cell)
			}
			if cell != "" && cell[0] == '-' {
				if _, err := strconv.ParseFloat(cell, 64); err != nil {
					t.Errorf("a text cell starts with '-': %q", cell)
				}
			}
		}
	}
	if !found {
		t.Errorf("the customer %s named %q is not in the export as defused text:\n%s", env.formula, formulaCustomer, body)
	}
}

// Issue 18, finding 1: while logged in, /login?next=… goes to next only when
// it is a path on this origin; one holding a control character (a browser
// drops a tab and follows "/\t/evil.example" to //evil.example), a backslash
// or an encoded / or \ sends the user home instead.
func TestLoginNextIsAPathOnThisOrigin(t *testing.T) {
	c := login(t, "ceo")
	for _, next := range []string{"/%09/evil.example", "/\t/evil.example", "/%0a/evil.example", "/\\evil.example",
		"/%5cevil.example", "/%2f/evil.example", "//evil.example", "https://evil.example/", "/\x00/x", "/\u0085/evil.example"} {
		resp, _ := c.get("/login?next=" + url.QueryEscape(next))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/telescope" {
			t.Errorf("next=%q: %d to %q, want 303 to the home page", next, resp.StatusCode, loc)
		}
	}
	for _, next := range []string{"/magnifier?metric=pipeline&dim=industry", "/customers/C-0000001"} {
		resp, _ := c.get("/login?next=" + url.QueryEscape(next))
		if loc := resp.Header.Get("Location"); loc != next {
			t.Errorf("next=%q: redirected to %q", next, loc)
		}
	}
}

// Issue 18, finding 7: a request body larger than its route allows is
// refused before any of it is read (an unauthenticated POST /logout
// declaring 300 MB gets its answer while the body has not been sent), and a
// multipart body is never parsed to look for a CSRF token.
func TestRequestBodiesAreBounded(t *testing.T) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /logout HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 314572800\r\n\r\n",
		strings.TrimPrefix(env.base, "http://"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	if !strings.Contains(status, "413") {
		t.Fatalf("POST /logout declaring 300 MB: %q, want 413", strings.TrimSpace(status))
	}
	// A small multipart POST without a token is refused without being parsed as a form.
	c := newClient(t)
	body := "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nwhatever\r\n--x--\r\n"
	req, _ := http.NewRequest(http.MethodPost, env.base+"/logout", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("multipart POST /logout: %d, want 403", resp.StatusCode)
	}
}

// Issue 18, finding 10: parameters out of range are a bad request (400),
// not a server error; the probes answer HEAD; /metrics answers only the
// loopback interface unless a token is configured.
func TestBadParametersProbesAndMetrics(t *testing.T) {
	c := login(t, "ceo")
	for _, q := range []string{"page=9223372036854775807", "page=0", "page=abc", "sort=64", "sort=-1", "size=100000", "sort=9999"} {
		resp, body := c.get("/api/charts/telescope.bookings/rows?" + q)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("rows?%s: %d, want 400\n%s", q, resp.StatusCode, body[:min(len(body), 200)])
		}
	}
	resp, _ := c.get("/api/charts/telescope.bookings/export?format=csv&sort=64")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("export?sort=64: %d, want 400", resp.StatusCode)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodHead, env.base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %d", path, resp.StatusCode)
		}
	}
	// The test client is on loopback; a request from elsewhere is refused.
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.RemoteAddr = "203.0.113.7:40000"
	rec := httptest.NewRecorder()
	env.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("/metrics from 203.0.113.7: %d, want 403", rec.Code)
	}
}

// Issue 17, point 4: the rows dialog speaks the language of whoever asks
// (rows were cached without it, so the first asker's headers stayed for
// everyone), and an export translates code values as the UI does, with the
// codes kept in columns of their own after the others.
func TestRowsAndExportsSpeakTheUsersLanguage(t *testing.T) {
	c := login(t, "ceo")
	labels := func(lang string) []string {
		var r struct {
			Labels []string `json:"labels"`
		}
		if code := c.getJSON("/api/charts/collections.kpis/rows?point=overdue&lang="+lang, &r); code != 200 {
			t.Fatalf("rows in %s: HTTP %d", lang, code)
		}
		return r.Labels
	}
	zh, en := labels("zh-CN"), labels("en")
	if !slices.Contains(zh, "状态") || !slices.Contains(en, "Status") {
		t.Errorf("headers: zh-CN %v, en %v", zh, en)
	}
	resp, body := c.get("/api/charts/collections.kpis/export?format=csv&point=overdue&lang=zh-CN")
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("export: %v (%d records)", err, len(recs))
	}
	status, code := slices.Index(recs[0], "状态"), slices.Index(recs[0], "状态 (code)")
	if status < 0 || code < 0 {
		t.Fatalf("export header %v lacks the status and its code column", recs[0])
	}
	for _, r := range recs[1:] {
		if r[code] != "overdue" || r[status] != "逾期" {
			t.Fatalf("status %q (code %q), want 逾期 (overdue)", r[status], r[code])
		}
	}
}
