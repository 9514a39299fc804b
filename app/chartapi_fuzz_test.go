package app_test

import (
	"context"
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
	"sync"
	"testing"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/query"
)

// The chart API's URL parameters are outside input: every chart, its rows,
// its export and its SQL read the period, comparison, org unit, product
// line, currency, page controls, point, page, size, sort and format from
// the query string (query.Service.Env, ResolvePeriod, Comparison, the
// drill-through and export handlers). FuzzChartAPI sends fuzzed query
// strings to every chart endpoint of a real server (the runtime over the
// tiny company, loaded and computed) as an executive, a manager and a rep:
// the answer is never a 5xx, a chart never answers "error", and a 200 is
// well-formed JSON (or a CSV/XLSX file) — a bad parameter is a 400 or falls
// back to a default. Seeds below and in testdata/fuzz/FuzzChartAPI/.

var chartAPI struct {
	once    sync.Once
	err     error
	base    string
	clients []*http.Client // executive, manager, rep
	charts  []*query.Chart
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func chartAPIServer() error {
	chartAPI.once.Do(func() { chartAPI.err = startChartAPI() })
	return chartAPI.err
}

func startChartAPI() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "triscope-fuzz-api-")
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := &app.Config{DB: filepath.Join(dir, "wh.duckdb"), BaseCurrency: "CNY", RefreshAfterLoad: "off", MaxReject: 0.05}
	r, err := app.Open(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	tiny, _ := filepath.Abs("../etl/testdata/tiny")
	if _, err := r.Load(ctx, app.LoadRequest{Paths: []string{tiny}}, nil, false); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if _, err := r.Refresh(ctx, app.RefreshRequest{}); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	password := access.RandomPassword()
	users := []access.User{{Username: "exec", Role: access.RoleExecutive}, {Username: "mgr", Role: access.RoleManager, OrgUnit: "R-E"},
		{Username: "rep", Role: access.RoleRep, RepID: "R2"}}
	for _, u := range users {
		if err := r.AddUser(ctx, u, password, "fuzz"); err != nil {
			return err
		}
	}
	srv, err := r.Dashboards(ctx, "", true)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ctx, ln)
	chartAPI.base = "http://" + ln.Addr().String()
	for _, u := range users {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(chartAPI.base + "/login")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfField.FindSubmatch(body)
		if m == nil {
			return fmt.Errorf("no login form")
		}
		resp, err = c.PostForm(chartAPI.base+"/login", url.Values{"csrf": {string(m[1])}, "username": {u.Username}, "password": {password}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("login %s: %s", u.Username, resp.Status)
		}
		chartAPI.clients = append(chartAPI.clients, c)
	}
	chartAPI.charts = query.Charts()
	return nil
}

func FuzzChartAPI(f *testing.F) {
	for _, q := range []string{
		"", "period=ytd&cmp=yoy", "period=l12m&cmp=prev&metric=collections&dim=org", "period=custom&from=2024-01-01&to=2024-06-30",
		"period=custom&from=2024-06-30&to=2024-01-01", "period=y1989", "period=y99999", "period=custom&from=0001-01-01&to=9999-12-31",
		"org=HQ&pl=Software&cur=USD", "org=NOPE&cur=xx&lang=de", "page=9223372036854775807&size=500", "page=0&size=0", "size=501",
		"sort=64&desc=1", "sort=65", "sort=-1", "point=u:R-E", "point=r:R2", "point=m:2024-13", "point=v:%00", "point=" + strings.Repeat("x", 300),
		"format=csv", "format=xlsx&point=m:2024-01", "format=pdf", "metric=win_rate&dim=industry", "metric=../../etc&dim=1;DROP",
		"id=C1", "id=O1", "id=R1", "id=%27%3B--", "period=%F0%9F%98%80", "from=2024-02-30&to=2024-02-31&period=custom",
		"cmp=yoy&period=custom&from=2024-02-29&to=2024-02-29", "by=amount&status=open&segment=Champions&tier=gold&kind=settlement_due",
	} {
		for ep := range uint8(5) {
			f.Add(uint16(len(q)), ep, uint8(len(q)), q)
		}
	}
	f.Fuzz(func(t *testing.T, chart uint16, endpoint, user uint8, rawQuery string) {
		if err := chartAPIServer(); err != nil {
			t.Fatal(err)
		}
		if len(rawQuery) > 4096 {
			return
		}
		ch := chartAPI.charts[int(chart)%len(chartAPI.charts)]
		c := chartAPI.clients[int(user)%len(chartAPI.clients)]
		var path string
		switch endpoint % 5 {
		case 0:
			path = "/api/charts/" + url.PathEscape(ch.ID)
		case 1:
			path = "/api/charts/" + url.PathEscape(ch.ID) + "/rows"
		case 2:
			path = "/api/charts/" + url.PathEscape(ch.ID) + "/export"
		case 3:
			path = "/api/charts/" + url.PathEscape(ch.ID) + "/sql"
		case 4:
			page := query.PageOfChart(ch.ID)
			if page == nil {
				return
			}
			path = page.Path
		}
		// The raw query as a client would send it (a URL cannot hold some
		// bytes as they are: Go's client refuses them, so they are escaped).
		req, err := http.NewRequest(http.MethodGet, chartAPI.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = escapeRawQuery(rawQuery)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s?%s: %v", path, req.URL.RawQuery, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		where := fmt.Sprintf("GET %s?%s as %d", path, req.URL.RawQuery, int(user)%len(chartAPI.clients))
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %s %s", where, resp.Status, body)
		}
		if resp.StatusCode != http.StatusOK {
			return
		}
		ct := resp.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "application/json"):
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s: not JSON: %v", where, err)
			}
			if v["state"] == "error" {
				t.Fatalf("%s: the chart failed: %v", where, v["message"])
			}
		case endpoint%5 == 2:
			if len(body) == 0 {
				t.Fatalf("%s: an empty export", where)
			}
		}
	})
}

// escapeRawQuery keeps a query string as it is, but escapes the bytes a
// request line cannot carry (controls, spaces, non-ASCII, '#').
func escapeRawQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
