package dashboards

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
)

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"asset": s.assetURL,
		"t":     func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
		"add":   func(a, b int) int { return a + b },
		"indent": func(n int) string {
			return strings.Repeat("\u00a0\u00a0", n)
		},
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templatesFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("dashboard templates: %w", err)
	}
	s.tmpl = t
	return nil
}

func (s *Server) render(c *echo.Context, code int, name string, data any) error {
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(code, b.String())
}

// ---- login ----

type loginData struct {
	Lang, Nonce, CSRF, Next, Error, Username string
	CSS, JS, Favicon                         string
	LangLinks                                []langLink
}

type langLink struct {
	Lang, Label, URL string
	Active           bool
}

func langLinks(c *echo.Context) []langLink {
	cur := langOf(c)
	var out []langLink
	for _, l := range []struct{ code, label string }{{i18n.ZH, "中文"}, {i18n.EN, "English"}} {
		u := *c.Request().URL
		q := u.Query()
		q.Set("lang", l.code)
		u.RawQuery = q.Encode()
		out = append(out, langLink{Lang: l.code, Label: l.label, URL: u.RequestURI(), Active: l.code == cur})
	}
	return out
}

func (s *Server) loginCSRFToken(c *echo.Context) string {
	if ck, err := c.Cookie(loginCSRF); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	tok := access.RandomToken(32)
	c.SetCookie(&http.Cookie{Name: loginCSRF, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(c), MaxAge: 3600})
	return tok
}

func (s *Server) loginPage(c *echo.Context) error {
	if sessionOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next"), s.homePath(sessionOf(c).User)))
	}
	return s.renderLogin(c, http.StatusOK, "", "")
}

func (s *Server) renderLogin(c *echo.Context, code int, msg, username string) error {
	return s.render(c, code, "login.html", loginData{
		Lang: langOf(c), Nonce: c.Get("nonce").(string), CSRF: s.loginCSRFToken(c),
		Next: safeNext(c.FormValue("next"), ""), Error: msg, Username: username,
		CSS: s.assetURL("app.css"), JS: s.assetURL("app.js"), Favicon: s.assetURL("favicon.svg"),
		LangLinks: langLinks(c),
	})
}

// safeNext is where to go after logging in: next when it is a path on this
// origin, else def. A next holding anything a browser might read as another
// origin — a scheme or host, "//", a backslash, a control character (a
// browser drops a tab or newline and follows "/\t/evil.example" to
// //evil.example), or an encoded "/" or "\" — is ignored, not cleaned.
func safeNext(next, def string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return def
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' || r >= 0x80 && r < 0xa0 {
			return def
		}
	}
	lower := strings.ToLower(next)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%09") ||
		strings.Contains(lower, "%0a") || strings.Contains(lower, "%0d") || strings.Contains(lower, "%00") {
		return def
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/login") {
		return def
	}
	return next
}

func (s *Server) audit(c *echo.Context, user, action string, detail map[string]any) {
	s.auth.Audit(c.Request().Context(), access.Event{Username: user, Action: action, IP: c.RealIP(),
		RequestID: fmt.Sprint(c.Get("request_id")), Detail: detail})
}

func (s *Server) loginSubmit(c *echo.Context) error {
	lang := langOf(c)
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	ip := c.RealIP()
	if ok, wait := s.thr.Allowed(username, ip); !ok {
		s.metrics.logins.WithLabelValues("throttled").Inc()
		s.audit(c, username, "login_throttled", map[string]any{"retry_after_s": int(wait.Seconds())})
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return s.renderLogin(c, http.StatusTooManyRequests, i18n.T(lang, "login.throttled", int(wait.Minutes())+1), username)
	}
	if username == "" || password == "" || len(username) > 100 {
		return s.renderLogin(c, http.StatusBadRequest, i18n.T(lang, "login.missing"), username)
	}
	u, err := s.auth.Authenticate(c.Request().Context(), username, password)
	if err != nil {
		if !errors.Is(err, access.ErrBadCredentials) && !errors.Is(err, access.ErrDisabled) {
			return err
		}
		s.thr.Failed(username, ip)
		s.metrics.logins.WithLabelValues("failed").Inc()
		reason := "bad_credentials"
		if errors.Is(err, access.ErrDisabled) {
			reason = "disabled"
		}
		s.audit(c, username, "login_failed", map[string]any{"reason": reason})
		return s.renderLogin(c, http.StatusUnauthorized, i18n.T(lang, "login.failed"), username)
	}
	s.thr.Succeeded(username, ip)
	// Rotate: whatever session the browser had ends; a new token is issued.
	if ck, err := c.Cookie(sessionCookie); err == nil {
		s.auth.DeleteSession(c.Request().Context(), ck.Value)
	}
	token, _, err := s.auth.CreateSession(c.Request().Context(), u, ip, c.Request().UserAgent())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	c.SetCookie(&http.Cookie{Name: loginCSRF, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(c)})
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.audit(c, u.Username, "login", map[string]any{"role": u.Role})
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next"), s.homePath(u)))
}

func (s *Server) logout(c *echo.Context) error {
	if sess := sessionOf(c); sess != nil {
		if ck, err := c.Cookie(sessionCookie); err == nil {
			s.auth.DeleteSession(c.Request().Context(), ck.Value)
		}
		s.audit(c, sess.User.Username, "logout", nil)
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// homePath is where a user lands: a rep on their own page (their pipeline,
// targets, deals needing action, customers' alerts), a manager or an
// analyst on their unit's Telescope, an executive on the company's.
func (s *Server) homePath(u access.User) string {
	page, id := homePage(u)
	if page == nil {
		return "/telescope"
	}
	if id != "" {
		return strings.Replace(page.Path, ":id", url.PathEscape(id), 1)
	}
	return page.Path
}

// homePage is the page a user lands on, with its :id when it takes one.
func homePage(u access.User) (*query.Page, string) {
	if u.Role == access.RoleRep && u.RepID != "" {
		if p, ok := query.PageByPath("/reps/:id"); ok {
			return p, u.RepID
		}
	}
	pages := query.Pages()
	for _, p := range pages {
		if slices.Contains(p.Home, u.Role) && !p.Placeholder {
			return p, ""
		}
	}
	for _, p := range pages {
		if p.Nav > 0 && !p.Placeholder {
			return p, ""
		}
	}
	return nil, ""
}

func (s *Server) home(c *echo.Context) error {
	return c.Redirect(http.StatusSeeOther, s.homePath(sessionOf(c).User))
}

// ---- pages ----

type navItem struct {
	Path, Label string
	Active      bool
	Placeholder bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type orgOption struct {
	Value, Label string
	Depth        int
	Selected     bool
}

// chip is a chosen filter value shown above the charts: Href is the page
// without it.
type chip struct {
	Kind, Label, Href string
}

// pickerLabel is what a multi-select picker's button says: the chosen
// option, "A + 2", or none's label.
func pickerLabel(lang, none string, opts []option) string {
	var first string
	n := 0
	for _, o := range opts {
		if o.Selected {
			if n == 0 {
				first = o.Label
			}
			n++
		}
	}
	switch n {
	case 0:
		return i18n.T(lang, none)
	case 1:
		return first
	}
	return i18n.T(lang, "filter.and_more", first, n-1)
}

// filterChips lists the chosen org units and product lines, each with the
// link of the page without it.
func filterChips(lang, path string, q url.Values, orgs []orgOption, lines []option) []chip {
	without := func(param, value string) string {
		v := url.Values{}
		for k, vs := range q {
			if k == "lang" {
				continue
			}
			for _, x := range vs {
				if k != param || x != value {
					v.Add(k, x)
				}
			}
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	var out []chip
	for _, o := range orgs {
		if o.Selected {
			out = append(out, chip{i18n.T(lang, "filter.org"), o.Label, without("org", o.Value)})
		}
	}
	for _, l := range lines {
		if l.Selected {
			out = append(out, chip{i18n.T(lang, "filter.pl"), l.Label, without("pl", l.Value)})
		}
	}
	return out
}

type controlData struct {
	Param, Label string
	Options      []option
}

type chartCard struct {
	ID, Title, Help string
	Info            string // the ⓘ: the glossary's definitions of its figures, else its help
	Span, Height    int
	Kind            query.Kind
	Drill           bool
}

type sectionData struct {
	Title  string
	Charts []chartCard
}

type pageData struct {
	Lang, Nonce, CSRF   string
	Title, PageID, Path string
	User                access.User
	RoleLabel           string
	ScopeLabel          string
	Nav                 []navItem
	Sections            []sectionData
	Placeholder         bool
	Show                map[string]bool
	Periods, Cmps       []option
	Lines, Currencies   []option
	Orgs                []orgOption
	OrgsLabel           string // what the org picker's button says: the chosen units, or the whole scope
	LinesLabel          string // and the product line picker's
	Chips               []chip // the chosen units and lines, each removable
	Controls            []controlData
	Period              string
	From, To            string
	Hidden              []option // query values the filter form must carry (page controls)
	Crumbs              []query.Crumb
	Fresh               query.Freshness
	PeriodLabel         string
	CSS, JS, ECharts    string
	Favicon             string
	LangLinks           []langLink
	Config              map[string]any
	Extra               pageExtra    // part 2: what a page shows besides charts (entities.go)
	Notices             []string     // what of the request could not be used as asked (query.Env.Notices)
	Actions             []pageAction // the other faces' links (shell.go)
}

// env builds the chart environment of a request.
func (s *Server) env(c *echo.Context, page *query.Page) (*query.Env, error) {
	sess := sessionOf(c)
	return s.engine.Env(c.Request().Context(), query.Request{
		Lang: langOf(c), Scope: ScopeFor(sess.User), Query: c.QueryParams(), Page: page,
	})
}

func (s *Server) scopeLabel(c *echo.Context, u access.User) string {
	lang := langOf(c)
	sc := ScopeFor(u)
	switch {
	case sc.All:
		return i18n.T(lang, "scope.all")
	case sc.Org != "":
		units, err := s.engine.OrgUnits(c.Request().Context(), query.Scope{Org: sc.Org})
		if err == nil && len(units) > 0 {
			return units[0].Name
		}
		return sc.Org
	case sc.Rep != "":
		return i18n.T(lang, "scope.own")
	}
	return i18n.T(lang, "scope.none")
}

func (s *Server) renderPage(c *echo.Context, page *query.Page) error {
	sess := sessionOf(c)
	lang := langOf(c)
	ctx := c.Request().Context()
	e, err := s.engine.Env(ctx, query.Request{Lang: lang, Scope: ScopeFor(sess.User), Query: pageQuery(c), Page: page})
	if err != nil {
		return err
	}
	extra, err := s.pageExtra(c, page, e) // an entity the user may not see: 404 here
	if err != nil {
		return err
	}
	st, err := s.engine.State(ctx)
	if err != nil {
		return err
	}
	d := pageData{
		Lang: lang, Nonce: c.Get("nonce").(string), CSRF: sess.CSRF,
		Title: i18n.T(lang, page.Title), PageID: page.ID, Path: page.Path, User: sess.User,
		RoleLabel: i18n.T(lang, "role."+sess.User.Role), ScopeLabel: s.scopeLabel(c, sess.User),
		Placeholder: page.Placeholder, Show: map[string]bool{},
		CSS: s.assetURL("app.css"), JS: s.assetURL("app.js"), ECharts: s.assetURL("vendor/echarts.min.js"),
		Favicon: s.assetURL("favicon.svg"), LangLinks: langLinks(c),
		Fresh: s.engine.PageFreshness(st, lang),
	}
	d.Nav = s.nav(lang, sess.User, page.ID, "")
	d.Actions = s.pageActions(c, lang)
	for _, f := range page.Filters {
		d.Show[f] = true
	}
	d.Period = e.F.Period
	d.Notices = e.Notices
	d.From, d.To = e.F.From.Format("2006-01-02"), e.F.To.Format("2006-01-02")
	d.PeriodLabel = periodLabel(lang, e)
	for _, p := range query.Periods {
		d.Periods = append(d.Periods, option{p, i18n.T(lang, "period."+p), p == e.F.Period})
	}
	for y := e.AsOf.Year() - 1; y >= e.AsOf.Year()-3; y-- {
		v := fmt.Sprintf("y%d", y)
		d.Periods = append(d.Periods, option{v, strconv.Itoa(y), v == e.F.Period})
	}
	d.Periods = append(d.Periods, option{"custom", i18n.T(lang, "period.custom"), e.F.Period == "custom"})
	for _, cmp := range []string{"", "prev", "yoy"} {
		key := "cmp." + cmp
		if cmp == "" {
			key = "cmp.none"
		}
		d.Cmps = append(d.Cmps, option{cmp, i18n.T(lang, key), cmp == e.F.Cmp})
	}
	for _, l := range st.Lines {
		d.Lines = append(d.Lines, option{l, l, slices.Contains(e.F.Products, l)})
	}
	d.LinesLabel = pickerLabel(lang, "filter.all_lines", d.Lines)
	d.Currencies = append(d.Currencies, option{"", s.opts.BaseCurrency, e.F.Currency == ""})
	for cur := range st.Rates {
		if cur != s.opts.BaseCurrency {
			d.Currencies = append(d.Currencies, option{cur, cur, cur == e.F.Currency})
		}
	}
	slices.SortFunc(d.Currencies[1:], func(a, b option) int { return strings.Compare(a.Value, b.Value) })
	if d.Show["org"] && !page.Placeholder {
		units, err := s.engine.OrgUnits(ctx, e.Scope)
		if err != nil {
			return err
		}
		var chosen []option
		for _, u := range units {
			o := orgOption{Value: u.ID, Label: u.Name, Depth: u.Depth, Selected: slices.Contains(e.F.Orgs, u.ID)}
			d.Orgs = append(d.Orgs, o)
			chosen = append(chosen, option{o.Value, o.Label, o.Selected})
		}
		d.OrgsLabel = pickerLabel(lang, "filter.whole_scope", chosen)
		if len(units) == 0 {
			d.Show["org"] = false
		}
	}
	if !page.Placeholder {
		// Only chosen values the page kept (an unknown one is a notice instead).
		var orgs []orgOption
		for _, o := range d.Orgs {
			if d.Show["org"] && o.Selected {
				orgs = append(orgs, o)
			}
		}
		var lines []option
		for _, l := range d.Lines {
			if d.Show["pl"] && l.Selected {
				lines = append(lines, l)
			}
		}
		d.Chips = filterChips(lang, c.Request().URL.Path, c.QueryParams(), orgs, lines)
	}
	for _, ctl := range page.Controls {
		cd := controlData{Param: ctl.Param, Label: i18n.T(lang, ctl.Label)}
		cur := e.Q.Get(ctl.Param)
		for _, o := range ctl.Options {
			cd.Options = append(cd.Options, option{o.Value, i18n.T(lang, o.Label), o.Value == cur})
		}
		d.Controls = append(d.Controls, cd)
	}
	if !page.Placeholder {
		d.Crumbs, err = s.engine.Crumbs(e)
		if err != nil {
			return err
		}
	}
	for _, sec := range page.Sections {
		sd := sectionData{}
		if sec.Title != "" {
			sd.Title = i18n.T(lang, sec.Title)
		}
		for _, id := range sec.Charts {
			ch, _ := query.ChartByID(id)
			card := chartCard{ID: ch.ID, Title: i18n.T(lang, ch.Title), Span: ch.Span, Height: ch.Height, Kind: ch.Kind, Drill: ch.Drill != nil}
			if ch.Help != "" {
				card.Help = i18n.T(lang, ch.Help)
			}
			card.Info = query.ChartInfo(lang, ch)
			sd.Charts = append(sd.Charts, card)
		}
		d.Sections = append(d.Sections, sd)
	}
	d.Config = map[string]any{
		"lang": lang, "currency": e.Currency(), "base": s.opts.BaseCurrency, "page": page.ID,
		"messages": jsMessages(lang),
		"params":   pathParams(c),
	}
	d.Path = c.Request().URL.Path
	if extra != nil {
		d.Extra = *extra
		if extra.Title != "" {
			d.Title = extra.Title
		}
		if extra.NoCrumbs {
			d.Crumbs = nil
		}
	}
	return s.render(c, http.StatusOK, "page.html", d)
}

func periodLabel(lang string, e *query.Env) string {
	s := i18n.Date(lang, e.F.From) + " – " + i18n.Date(lang, e.F.To)
	if !e.F.CmpFrom.IsZero() {
		s += " · " + i18n.T(lang, "filter.vs") + " " + i18n.Date(lang, e.F.CmpFrom) + " – " + i18n.Date(lang, e.F.CmpTo)
	}
	return s
}

// jsMessages are the catalogue entries app.js uses: "js.*", column labels and
// code values ("val.<column>.<code>", shown translated in the rows table).
func jsMessages(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range i18n.Catalogue(lang) {
		if strings.HasPrefix(k, "js.") || strings.HasPrefix(k, "col.") || strings.HasPrefix(k, "val.") {
			out[k] = v
		}
	}
	return out
}

// ---- API ----

func (s *Server) apiMe(c *echo.Context) error {
	sess := sessionOf(c)
	sc := ScopeFor(sess.User)
	return c.JSON(http.StatusOK, map[string]any{"user": sess.User, "scope": sc, "csrf": sess.CSRF})
}

func (s *Server) chartFor(c *echo.Context) (*query.Chart, *query.Env, error) {
	ch, ok := query.ChartByID(c.Param("id"))
	if !ok {
		return nil, nil, echo.ErrNotFound
	}
	e, err := s.env(c, query.PageOfChart(ch.ID))
	if err != nil {
		return nil, nil, err
	}
	return ch, e, nil
}

func (s *Server) apiChart(c *echo.Context) error {
	ch, e, err := s.chartFor(c)
	if err != nil {
		return err
	}
	b, cached, err := s.engine.Data(e, ch)
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-Cache", map[bool]string{true: "hit", false: "miss"}[cached])
	return c.JSONBlob(http.StatusOK, b)
}

func (s *Server) apiChartSQL(c *echo.Context) error {
	ch, e, err := s.chartFor(c)
	if err != nil {
		return err
	}
	info, err := s.engine.SQL(e, ch, c.QueryParam("point"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

// intParam is an integer query parameter (def when absent); a value that is
// not an integer is a bad request.
func intParam(c *echo.Context, name string, def int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s=%q is not a whole number", name, truncateText(s, 40)))
	}
	return v, nil
}

func truncateText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (s *Server) apiChartRows(c *echo.Context) error {
	ch, e, err := s.chartFor(c)
	if err != nil {
		return err
	}
	if ch.Drill == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this chart has no drill-through")
	}
	sortCol, err := intParam(c, "sort", 0)
	if err != nil {
		return err
	}
	page, err := intParam(c, "page", 1)
	if err != nil {
		return err
	}
	size, err := intParam(c, "size", 50)
	if err != nil {
		return err
	}
	rows, err := s.engine.DrillRows(e, ch, c.QueryParam("point"), sortCol, c.QueryParam("desc") == "1", page, size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rows)
}

func (s *Server) apiChartExport(c *echo.Context) error {
	ch, e, err := s.chartFor(c)
	if err != nil {
		return err
	}
	if ch.Drill == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this chart has no drill-through")
	}
	format := c.QueryParam("format")
	if format != "csv" && format != "xlsx" {
		return echo.NewHTTPError(http.StatusBadRequest, "format must be csv or xlsx")
	}
	point := c.QueryParam("point")
	sortCol, err := intParam(c, "sort", 0)
	if err != nil {
		return err
	}
	res, truncated, err := s.engine.AllRows(e, ch, point, sortCol, c.QueryParam("desc") == "1")
	if err != nil {
		return err
	}
	sess := sessionOf(c)
	filters := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "format" {
			filters[k] = v
		}
	}
	s.audit(c, sess.User.Username, "export", map[string]any{"chart": ch.ID, "format": format, "point": point,
		"rows": len(res.Rows), "truncated": truncated, "query": filters.Encode(), "scope": e.Scope.Key()})
	s.metrics.exports.WithLabelValues(format).Inc()
	name := fmt.Sprintf("triscope-%s-%s.%s", strings.ReplaceAll(ch.ID, ".", "-"), time.Now().Format("20060102-1504"), format)
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	h.Set("Cache-Control", "no-store")
	if truncated {
		h.Set("X-Truncated", strconv.Itoa(query.MaxExportRows))
	}
	// Every export goes through render: CSV with its formulas defused
	// (=, +, -, @, tab, CR), XLSX with numbers as numbers.
	table := render.ForPeople(i18n.T(e.Lang, ch.Title), e.Lang, res)
	opts := render.Options{Location: s.engine.Location()}
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		_, err := render.WriteCSV(c.Response(), table, opts)
		return err
	}
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Response().WriteHeader(http.StatusOK)
	_, err = render.WriteXLSX(c.Response(), []*render.Table{table}, render.XLSXOptions{Options: opts})
	return err
}
