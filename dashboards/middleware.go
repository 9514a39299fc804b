package dashboards

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

const (
	sessionCookie = "triscope_session"
	loginCSRF     = "triscope_login_csrf" // double-submit token of the login form (no session yet)
	langCookie    = "lang"
)

// logRequests writes one structured log line per request and feeds the metrics.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		status := http.StatusOK
		if resp, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && resp.Status != 0 {
			status = resp.Status
		}
		if err != nil {
			if sc := echo.StatusCode(err); sc != 0 {
				status = sc
			} else {
				status = http.StatusInternalServerError
			}
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
		attrs := []any{"request_id", c.Get("request_id"), "method", c.Request().Method, "path", c.Request().URL.Path,
			"route", route, "status", status, "ms", float64(d.Microseconds()) / 1000, "ip", c.RealIP()}
		if sess := sessionOf(c); sess != nil {
			attrs = append(attrs, "user", sess.User.Username)
		}
		if err != nil && status >= 500 {
			attrs = append(attrs, "err", err.Error())
			s.log.Error("request", attrs...)
		} else {
			// The access log is for debugging (-v): at INFO every chart request
			// of a busy server was a line (342 MB in 60 s under load). Errors
			// and refusals are logged above and audited.
			s.log.Debug("request", attrs...)
		}
		return err
	}
}

// securityHeaders sets a per-request CSP nonce and the security headers, and
// picks the language (?lang= is remembered in a cookie).
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		nonce := access.RandomToken(18)
		c.Set("nonce", nonce)
		h := c.Response().Header()
		// No inline script at all except by nonce; ECharts and app.js come from
		// /assets ('self'). ECharts sets element styles, hence 'unsafe-inline'
		// for styles only.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-"+nonce+"'; "+
			"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if c.IsTLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		lang := i18n.FromRequest(c.Request())
		c.Set("lang", lang)
		if q := i18n.Normalize(c.QueryParam("lang")); q != "" {
			c.SetCookie(&http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c)})
		}
		return next(c)
	}
}

func (s *Server) secure(c *echo.Context) bool { return s.opts.SecureCookies || c.IsTLS() }

// loadSession attaches the session of the cookie, if valid.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if strings.HasPrefix(c.Request().URL.Path, "/assets/") {
			return next(c)
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, err := s.auth.Session(c.Request().Context(), ck.Value)
			if err == nil {
				c.Set("session", sess)
			} else if errors.Is(err, access.ErrNoSession) {
				s.clearSessionCookie(c)
			} else {
				return err
			}
		}
		return next(c)
	}
}

func sessionOf(c *echo.Context) *access.Session {
	if s, ok := c.Get("session").(*access.Session); ok {
		return s
	}
	return nil
}

func (s *Server) setSessionCookie(c *echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure(c), MaxAge: int(access.AbsoluteTimeout.Seconds())})
}

func (s *Server) clearSessionCookie(c *echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure(c), MaxAge: -1})
}

// csrfCheck protects every state-changing request: the Origin (or Referer)
// must be this host, and the form field "csrf" (or header X-CSRF-Token) must
// match the session's token, or for the login form the double-submit cookie.
func (s *Server) csrfCheck(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			return next(c) // the runtime's bearer-token API, which ignores cookies
		}
		if sessionOf(c) == nil && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+access.TokenPrefix) {
			// An API token and no session cookie (a script calling a face's
			// API, e.g. POST /api/sql): nothing ambient to forge, the
			// handler authenticates by the token.
			return next(c)
		}
		if !sameOrigin(r) {
			return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
		}
		token := r.Header.Get("X-CSRF-Token")
		if token == "" && isURLEncodedForm(r) {
			// Only a urlencoded form (bounded by limitBody) is parsed for the
			// token: a multipart body is never spooled before the request is
			// known to be genuine (uploads send the token as X-CSRF-Token).
			token = c.FormValue("csrf")
		}
		// The session's token; on the login form (no session yet, or signing in
		// again) also the double-submit cookie set with the form.
		var want []string
		if sess := sessionOf(c); sess != nil {
			want = append(want, sess.CSRF)
		}
		if r.URL.Path == "/login" {
			if ck, err := c.Cookie(loginCSRF); err == nil && len(ck.Value) >= 32 {
				want = append(want, ck.Value)
			}
		}
		for _, w := range want {
			if token != "" && subtle.ConstantTimeCompare([]byte(w), []byte(token)) == 1 {
				return next(c)
			}
		}
		return echo.NewHTTPError(http.StatusForbidden, "missing or invalid CSRF token: reload the page and try again")
	}
}

func isURLEncodedForm(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// limitBody refuses a request whose declared body is larger than its route
// allows before reading any of it (413), and bounds what is read of a body
// that did not declare its size.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		limit, best := int64(DefaultBodyLimit), -1
		for prefix, n := range s.opts.BodyLimits {
			if strings.HasPrefix(r.URL.Path, prefix) && len(prefix) > best {
				limit, best = n, len(prefix)
			}
		}
		if r.ContentLength > limit {
			c.Response().Header().Set("Connection", "close")
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// sameOrigin accepts a request whose Origin (else Referer) names this host;
// requests with neither (non-browser clients) pass on the token check alone.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" && r.Header.Get("Origin") == "" {
		return true
	}
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// requireUser sends visitors without a session to the login page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if sessionOf(c) == nil {
			next := c.Request().URL.RequestURI()
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
		}
		return next(c)
	}
}

// requireUserAPI answers 401 without a session.
func (s *Server) requireUserAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if sessionOf(c) == nil {
			return echo.NewHTTPError(http.StatusUnauthorized, "not logged in")
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// ScopeFor is access.ScopeFor (kept for the tests of this package).
func ScopeFor(u access.User) access.Scope { return access.ScopeFor(u) }

func (s *Server) errorHandler(c *echo.Context, err error) {
	if resp, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && resp.Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := i18n.T(langOf(c), "error.internal")
	if errors.Is(err, query.ErrBadParam) {
		err = echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if sc := echo.StatusCode(err); sc != 0 {
		code = sc
		msg = http.StatusText(code)
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Message != "" {
			msg = he.Message
		}
		if code == http.StatusNotFound {
			msg = i18n.T(langOf(c), "error.not_found")
		}
	} else {
		s.log.Error("request failed", "request_id", c.Get("request_id"), "path", c.Request().URL.Path, "err", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || !strings.Contains(c.Request().Header.Get("Accept"), "text/html") {
		c.JSON(code, map[string]any{"error": msg, "request_id": c.Get("request_id")})
		return
	}
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(code)
	s.tmpl.ExecuteTemplate(c.Response(), "error.html", map[string]any{
		"Lang": langOf(c), "Code": code, "Message": msg, "RequestID": fmt.Sprint(c.Get("request_id")),
		"CSS": s.assetURL("app.css"), "Favicon": s.assetURL("favicon.svg"),
	})
}
