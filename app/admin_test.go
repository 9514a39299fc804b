package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/app"
)

// The admin API (what the command line asks a running server for) answers
// only the bearer token of the server file: no token, a wrong one, or a
// browser's cookies get 401 and nothing runs; a body over its bound is
// refused before it is read.
func TestAdminAPINeedsTheServerFileToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := &app.Config{DB: filepath.Join(t.TempDir(), "wh.duckdb"), BaseCurrency: "CNY", RefreshAfterLoad: "off"}
	r, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const token = "the-token-of-the-server-file-0123456789abcdef"
	srv, err := r.Dashboards(ctx, token, true)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx, ln)
	base := "http://" + ln.Addr().String()
	do := func(method, path, auth string, body []byte, cookie string) (int, string) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	users := []byte(`{"user":{"Username":"mallory","Role":"admin"},"password":"a-long-enough-password"}`)
	for _, c := range []struct{ auth, cookie string }{
		{"", ""}, {"Bearer wrong", ""}, {"Bearer " + token[:len(token)-1], ""}, {"Bearer " + token + "x", ""}, {"Basic " + token, ""},
		{"", "triscope_session=anything; triscope_login_csrf=x"},
	} {
		if code, body := do(http.MethodPost, "/api/admin/users", c.auth, users, c.cookie); code != http.StatusUnauthorized {
			t.Errorf("POST /api/admin/users with %q %q: %d %s, want 401", c.auth, c.cookie, code, body)
		}
		if code, _ := do(http.MethodGet, "/api/admin/audit", c.auth, nil, c.cookie); code != http.StatusUnauthorized {
			t.Errorf("GET /api/admin/audit with %q: %d, want 401", c.auth, code)
		}
	}
	if us, _ := r.Users(ctx); len(us) != 0 {
		t.Fatalf("a refused request added a user: %v", us)
	}
	// With the token: it works (and the refusals were audited).
	if code, body := do(http.MethodGet, "/api/admin/audit?limit=20", "Bearer "+token, nil, ""); code != 200 || !strings.Contains(body, "admin_refused") {
		t.Fatalf("GET /api/admin/audit with the token: %d %s", code, body)
	}
	// A body over the bound (1 MiB) is refused by its declared size.
	big := bytes.Repeat([]byte("x"), 2<<20)
	if code, _ := do(http.MethodPost, "/api/admin/load", "Bearer "+token, big, ""); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB body to the admin API: %d, want 413", code)
	}
}
