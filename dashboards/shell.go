package dashboards

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// The other faces of the product — scheduled reports, ad hoc SQL — are
// served by this server without importing it (faces never import each
// other): the runtime (package app) hands each one the Shell, the part of the
// web server they share: sessions and their CSRF token, the language, the
// nav bar and the page chrome, the audit trail. A face registers its routes
// on the server's echo instance, so the same middleware (sessions, CSRF,
// security headers with the CSP nonce, logging) covers them.

// Face is another face served by this server.
type Face struct {
	// Nav are its entries in the nav bar, after the dashboard pages.
	Nav []NavLink
	// PageActions are links shown on every dashboard page (subscribe to
	// it, download it as PDF), each given the page's address as from=….
	PageActions []PageAction
	// Mount registers its routes (and its embedded assets, under
	// /assets/<face>/) with the shell's middleware at hand.
	Mount func(e *echo.Echo, sh *Shell) error
	// BodyLimits are its routes' largest request bodies by path prefix
	// (see Options.BodyLimits).
	BodyLimits map[string]int64
}

// NavLink is an entry of the nav bar: a path and the i18n key of its label;
// Roles, when set, lists the roles that see it.
type NavLink struct {
	Path, Label string
	Roles       []string
}

// PageAction is a link on every dashboard page: Path (which may carry a
// query) gets from=<the page's address>; Label is an i18n key; Blank opens
// it in a new tab.
type PageAction struct {
	Label, Path string
	Blank       bool
	// ListPages leaves the link off the pages of one customer, rep or deal.
	ListPages bool
}

type pageAction struct {
	Label, URL string
	Blank      bool
}

// pageActions are the faces' links for a page request.
func (s *Server) pageActions(c *echo.Context, lang string) []pageAction {
	var out []pageAction
	from := c.Request().URL.RequestURI()
	entity := strings.Contains(c.Path(), ":")
	for _, f := range s.opts.Faces {
		for _, a := range f.PageActions {
			if a.ListPages && entity {
				continue
			}
			sep := "?"
			if strings.Contains(a.Path, "?") {
				sep = "&"
			}
			out = append(out, pageAction{Label: i18n.T(lang, a.Label), URL: a.Path + sep + "from=" + url.QueryEscape(from), Blank: a.Blank})
		}
	}
	return out
}

// Shell is what the faces share with the dashboards.
type Shell struct{ s *Server }

// Session is the signed-in session of the request (nil when none).
func (sh *Shell) Session(c *echo.Context) *access.Session { return sessionOf(c) }

// Scope is the data scope of the signed-in user (nothing without a session).
func (sh *Shell) Scope(c *echo.Context) access.Scope {
	if sess := sessionOf(c); sess != nil {
		return access.ScopeFor(sess.User)
	}
	return access.Scope{}
}

// Lang is the request's language (zh-CN or en).
func (sh *Shell) Lang(c *echo.Context) string { return langOf(c) }

// Nonce is the request's CSP nonce for inline-free script tags.
func (sh *Shell) Nonce(c *echo.Context) string { n, _ := c.Get("nonce").(string); return n }

// RequireUser redirects to the login page without a session (pages).
func (sh *Shell) RequireUser(next echo.HandlerFunc) echo.HandlerFunc { return sh.s.requireUser(next) }

// RequireUserAPI answers 401 without a session (JSON APIs).
func (sh *Shell) RequireUserAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return sh.s.requireUserAPI(next)
}

// Engine is the query engine.
func (sh *Shell) Engine() *query.Service { return sh.s.engine }

// Audit records an event of the signed-in user (or of user, when given).
func (sh *Shell) Audit(c *echo.Context, action string, detail map[string]any) {
	user := ""
	if sess := sessionOf(c); sess != nil {
		user = sess.User.Username
	}
	sh.s.audit(c, user, action, detail)
}

// Page renders a page of another face in the chrome of the dashboards: the
// nav bar (every face's entries, active marks the one whose path is a
// prefix of it), the user, the languages, logout. body is the face's own
// markup, escaped by its own templates; styles and scripts are URLs of its
// own assets (same origin; scripts load deferred with the CSP nonce); config
// is given to its scripts as JSON in #ts-config. (Plain arguments: a face
// declares the Shell it needs as an interface of its own.)
func (sh *Shell) Page(c *echo.Context, title, active string, body template.HTML, styles, scripts []string, config any) error {
	s := sh.s
	sess := sessionOf(c)
	if sess == nil {
		return echo.ErrUnauthorized
	}
	lang := langOf(c)
	d := shellData{
		Lang: lang, Nonce: sh.Nonce(c), CSRF: sess.CSRF, Title: title, User: sess.User,
		RoleLabel: i18n.T(lang, "role."+sess.User.Role), ScopeLabel: s.scopeLabel(c, sess.User),
		CSS: s.assetURL("app.css"), Favicon: s.assetURL("favicon.svg"), LangLinks: langLinks(c),
		Nav: s.nav(lang, sess.User, "", active), Body: body, Styles: styles, Scripts: scripts, Config: config,
	}
	return s.render(c, http.StatusOK, "shell.html", d)
}

type shellData struct {
	Lang, Nonce, CSRF string
	Title             string
	User              access.User
	RoleLabel         string
	ScopeLabel        string
	Nav               []navItem
	CSS, Favicon      string
	LangLinks         []langLink
	Body              template.HTML
	Styles, Scripts   []string
	Config            any
}

// nav is the nav bar: the dashboard pages, then the other faces' entries the
// user's role may see; pageID or path marks the active one.
func (s *Server) nav(lang string, u access.User, pageID, path string) []navItem {
	var out []navItem
	for _, p := range query.Pages() {
		if p.Nav > 0 {
			active := pageID != "" && (p.ID == pageID || strings.HasPrefix(pageID, p.ID+".")) // an entity page under its section
			out = append(out, navItem{Path: p.Path, Label: i18n.T(lang, p.Title), Active: active, Placeholder: p.Placeholder})
		}
	}
	for _, f := range s.opts.Faces {
		for _, l := range f.Nav {
			if len(l.Roles) > 0 && !slices.Contains(l.Roles, u.Role) {
				continue
			}
			out = append(out, navItem{Path: l.Path, Label: i18n.T(lang, l.Label), Active: path != "" && strings.HasPrefix(path, l.Path)})
		}
	}
	return out
}

// mountFaces registers the other faces' routes.
func (s *Server) mountFaces(e *echo.Echo) error {
	sh := &Shell{s}
	for _, f := range s.opts.Faces {
		for prefix, n := range f.BodyLimits {
			if s.opts.BodyLimits == nil {
				s.opts.BodyLimits = map[string]int64{}
			}
			s.opts.BodyLimits[prefix] = n
		}
	}
	for i, f := range s.opts.Faces {
		if f.Mount == nil {
			continue
		}
		if err := f.Mount(e, sh); err != nil {
			return fmt.Errorf("face %d: %w", i+1, err)
		}
	}
	return nil
}
