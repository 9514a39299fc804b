package dashboards

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/i18n"
)

// The settings page: every user changes their own password and the
// language they read pages and reports in; an administrator also sets
// where each user's reports go (email, WeCom and DingTalk user ids, a
// mobile number for robot mentions) and their language.

func (s *Server) settingsRoutes(e *echo.Echo) {
	e.GET("/settings", s.settingsPage, s.requireUser)
	e.POST("/settings/password", s.settingsPassword, s.requireUser)
	e.POST("/settings/lang", s.settingsLang, s.requireUser)
	e.POST("/settings/profile", s.settingsProfile, s.requireUser)
}

type settingsData struct {
	Lang, CSRF string
	User       access.User
	Profile    access.Profile
	Msg, Error string
	Admin      bool
	Users      []access.User
	Edit       *access.Profile // the user an administrator edits
	EditUser   access.User
}

func (s *Server) settingsPage(c *echo.Context) error {
	return s.renderSettings(c, http.StatusOK, c.QueryParam("msg"), "")
}

func (s *Server) renderSettings(c *echo.Context, code int, msg, errMsg string) error {
	ctx := c.Request().Context()
	sess := sessionOf(c)
	lang := langOf(c)
	d := settingsData{Lang: lang, CSRF: sess.CSRF, User: sess.User, Msg: msg, Error: errMsg, Admin: sess.User.Role == access.RoleAdmin}
	p, err := s.auth.Profile(ctx, sess.User.Username)
	if err != nil {
		return err
	}
	d.Profile = p
	if d.Admin {
		if d.Users, err = s.auth.Users(ctx); err != nil {
			return err
		}
		if name := c.QueryParam("user"); name != "" {
			u, err := s.auth.User(ctx, name)
			if errors.Is(err, access.ErrNoUser) {
				return echo.ErrNotFound
			}
			if err != nil {
				return err
			}
			ep, err := s.auth.Profile(ctx, name)
			if err != nil {
				return err
			}
			d.Edit, d.EditUser = &ep, u
		}
	}
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, "settings.html", d); err != nil {
		return err
	}
	if code != http.StatusOK {
		withStatus(c, code)
	}
	return (&Shell{s}).Page(c, i18n.T(lang, "settings.title"), "/settings", template.HTML(b.String()), nil, nil, nil)
}

func (s *Server) settingsPassword(c *echo.Context) error {
	sess := sessionOf(c)
	lang := langOf(c)
	cur, next, again := c.FormValue("current"), c.FormValue("new"), c.FormValue("again")
	if next != again {
		return s.renderSettings(c, http.StatusUnprocessableEntity, "", i18n.T(lang, "settings.password_differ"))
	}
	if ok, wait := s.thr.Allowed(sess.User.Username, c.RealIP()); !ok {
		return s.renderSettings(c, http.StatusTooManyRequests, "", i18n.T(lang, "login.throttled", int(wait.Minutes())+1))
	}
	err := s.auth.ChangePassword(c.Request().Context(), sess.User.Username, cur, next)
	switch {
	case errors.Is(err, access.ErrBadCredentials):
		s.thr.Failed(sess.User.Username, c.RealIP())
		s.audit(c, sess.User.Username, "password_change_failed", nil)
		return s.renderSettings(c, http.StatusUnprocessableEntity, "", i18n.T(lang, "settings.password_wrong"))
	case err != nil:
		return s.renderSettings(c, http.StatusUnprocessableEntity, "", err.Error())
	}
	s.audit(c, sess.User.Username, "password_change", nil)
	// Every session of the user ended with the change: sign in again.
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape("/settings"))
}

func (s *Server) settingsLang(c *echo.Context) error {
	sess := sessionOf(c)
	lang := i18n.Normalize(c.FormValue("lang"))
	if lang == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "lang: zh-CN or en")
	}
	if err := s.auth.SetLang(c.Request().Context(), sess.User.Username, lang); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c)})
	s.audit(c, sess.User.Username, "profile_lang", map[string]any{"lang": lang})
	return c.Redirect(http.StatusSeeOther, "/settings?lang="+lang+"&msg="+url.QueryEscape(i18n.T(lang, "settings.saved")))
}

func (s *Server) settingsProfile(c *echo.Context) error {
	sess := sessionOf(c)
	if sess.User.Role != access.RoleAdmin {
		return echo.ErrForbidden
	}
	lang := langOf(c)
	field := func(k string) string {
		v := strings.TrimSpace(c.FormValue(k))
		if len(v) > 300 {
			v = v[:300]
		}
		return v
	}
	p := access.Profile{Username: field("username"), Email: field("email"), Lang: field("lang"), WeComUserID: field("wecom_userid"),
		DingTalkUserID: field("dingtalk_userid"), Mobile: field("mobile")}
	if err := s.auth.SetProfile(c.Request().Context(), p); err != nil {
		if errors.Is(err, access.ErrNoUser) {
			return echo.ErrNotFound
		}
		c.Request().URL.RawQuery = url.Values{"user": {p.Username}}.Encode()
		return s.renderSettings(c, http.StatusUnprocessableEntity, "", err.Error())
	}
	s.audit(c, sess.User.Username, "profile_set", map[string]any{"user": p.Username, "email": p.Email, "lang": p.Lang,
		"wecom_userid": p.WeComUserID, "dingtalk_userid": p.DingTalkUserID, "mobile": p.Mobile != ""})
	return c.Redirect(http.StatusSeeOther, "/settings?user="+url.QueryEscape(p.Username)+"&msg="+url.QueryEscape(i18n.T(lang, "settings.saved")))
}

// withStatus makes the page about to be written answer code (a form sent
// back with its error: 422) whatever status the renderer writes.
func withStatus(c *echo.Context, code int) {
	c.SetResponse(statusWriter{c.Response(), code})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w statusWriter) WriteHeader(int) { w.ResponseWriter.WriteHeader(w.code) }

func (w statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
