package app

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/triscope/triscope/access"
)

// The admin API: what the command line asks a running server for, under
// /api/admin/ (served by the dashboards' HTTP server, see Serve). It is
// authenticated by the token of the server file, readable only by the user
// running the server; it ignores cookies, so a browser cannot drive it (and
// it needs no CSRF token). Bodies are bounded.

const (
	adminPrefix  = "/api/admin/"
	maxAdminBody = 1 << 20
)

// adminHandler serves the admin API for a runtime.
func (r *Runtime) adminHandler(token string) http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, f func(w http.ResponseWriter, req *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
			got := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
			if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				r.audit(req.Context(), "", "admin_refused", map[string]any{"path": req.URL.Path, "reason": "bad token"})
				http.Error(w, "the admin API needs the token of the server file beside the warehouse", http.StatusUnauthorized)
				return
			}
			req.Body = http.MaxBytesReader(w, req.Body, maxAdminBody)
			out, err := f(w, req)
			resp := map[string]any{"result": out}
			if err != nil {
				resp["error"] = err.Error()
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			json.NewEncoder(w).Encode(resp)
		})
	}
	r.sqlAdminRoutes(mux, func(w http.ResponseWriter, req *http.Request) bool {
		got := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "the admin API needs the token of the server file beside the warehouse", http.StatusUnauthorized)
			return false
		}
		return true
	})
	decode := func(req *http.Request, v any) error {
		if err := json.NewDecoder(req.Body).Decode(v); err != nil {
			return fmt.Errorf("a request to the admin API is JSON: %w", err)
		}
		return nil
	}
	handle("POST "+adminPrefix+"load", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var lr LoadRequest
		if err := decode(req, &lr); err != nil {
			return nil, err
		}
		if len(lr.Paths) == 0 && lr.Source == "" {
			return nil, errors.New("give paths to load, or a source")
		}
		return r.Load(req.Context(), lr, nil, true)
	})
	handle("POST "+adminPrefix+"refresh", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var rr RefreshRequest
		if err := decode(req, &rr); err != nil {
			return nil, err
		}
		return r.Refresh(req.Context(), rr)
	})
	handle("GET "+adminPrefix+"users", func(w http.ResponseWriter, req *http.Request) (any, error) {
		return r.Users(req.Context())
	})
	handle("POST "+adminPrefix+"users", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var body struct {
			User     access.User `json:"user"`
			Password string      `json:"password"`
			By       string      `json:"by"`
		}
		if err := decode(req, &body); err != nil {
			return nil, err
		}
		return nil, r.AddUser(req.Context(), body.User, body.Password, body.By)
	})
	handle("POST "+adminPrefix+"users/password", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var body struct{ Username, Password, By string }
		if err := decode(req, &body); err != nil {
			return nil, err
		}
		return nil, r.SetPassword(req.Context(), body.Username, body.Password, body.By)
	})
	handle("POST "+adminPrefix+"users/disabled", func(w http.ResponseWriter, req *http.Request) (any, error) {
		var body struct {
			Username string
			Disabled bool
			By       string
		}
		if err := decode(req, &body); err != nil {
			return nil, err
		}
		return nil, r.SetDisabled(req.Context(), body.Username, body.Disabled, body.By)
	})
	handle("GET "+adminPrefix+"audit", func(w http.ResponseWriter, req *http.Request) (any, error) {
		limit, _ := strconv.Atoi(req.URL.Query().Get("limit"))
		if limit <= 0 || limit > 10000 {
			limit = 50
		}
		return r.AuditLog(req.Context(), limit)
	})
	for _, add := range adminRoutes {
		add(r, handle, decode)
	}
	return mux
}

// adminHandle registers a route of the admin API (token checked, body
// bounded, {"result", "error"} answered).
type adminHandle func(pattern string, f func(w http.ResponseWriter, req *http.Request) (any, error))

// adminRoutes are the admin API routes other files of this package add
// (reports.go).
var adminRoutes []func(r *Runtime, handle adminHandle, decode func(*http.Request, any) error)

// remote is the admin API of a running server.
type remote struct{ sf *ServerFile }

func (c *remote) Where() string {
	return fmt.Sprintf("through the server at %s (pid %d)", c.sf.URL, c.sf.PID)
}

func (c *remote) Close() error { return nil }

// call sends a request and decodes {"result": …, "error": "…"} into out.
func (c *remote) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.sf.URL+adminPrefix+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.sf.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the server at %s: %w", c.sf.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the server at %s refused the request (%s): %s", c.sf.URL, resp.Status, bytes.TrimSpace(msg))
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	if out != nil && len(env.Result) > 0 && string(env.Result) != "null" {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return fmt.Errorf("reading the server's answer: %w", err)
		}
	}
	if env.Error != "" {
		return errRemote{env.Error}
	}
	return nil
}

func (c *remote) Load(ctx context.Context, req LoadRequest, _ func(done, total int64)) (*LoadResult, error) {
	var out LoadResult
	err := c.call(ctx, http.MethodPost, "load", req, &out)
	return &out, err
}

func (c *remote) Refresh(ctx context.Context, req RefreshRequest) (*RefreshResult, error) {
	var out RefreshResult
	err := c.call(ctx, http.MethodPost, "refresh", req, &out)
	return &out, err
}

func (c *remote) Users(ctx context.Context) ([]access.User, error) {
	var out []access.User
	err := c.call(ctx, http.MethodGet, "users", nil, &out)
	return out, err
}

func (c *remote) AddUser(ctx context.Context, u access.User, password, by string) error {
	return c.call(ctx, http.MethodPost, "users", map[string]any{"user": u, "password": password, "by": by}, nil)
}

func (c *remote) SetPassword(ctx context.Context, username, password, by string) error {
	return c.call(ctx, http.MethodPost, "users/password", map[string]any{"Username": username, "Password": password, "By": by}, nil)
}

func (c *remote) SetDisabled(ctx context.Context, username string, disabled bool, by string) error {
	return c.call(ctx, http.MethodPost, "users/disabled", map[string]any{"Username": username, "Disabled": disabled, "By": by}, nil)
}

func (c *remote) AuditLog(ctx context.Context, limit int) ([]access.Event, error) {
	var out []access.Event
	err := c.call(ctx, http.MethodGet, "audit?limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}
