package reports

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
	"github.com/triscope/triscope/render/chromium"
	"github.com/triscope/triscope/reports/deliver"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed assets
var assetsFS embed.FS

// Shell is what the reports face needs of the web server it is mounted
// in (the dashboards' *dashboards.Shell): sessions, language, the CSP
// nonce, the login guard, the audit trail and the page chrome.
type Shell interface {
	Session(c *echo.Context) *access.Session
	Lang(c *echo.Context) string
	Nonce(c *echo.Context) string
	RequireUser(next echo.HandlerFunc) echo.HandlerFunc
	Audit(c *echo.Context, action string, detail map[string]any)
	Page(c *echo.Context, title, active string, body template.HTML, styles, scripts []string, config any) error
}

// NavPath is where the reports live in the nav bar; NavLabel its i18n key.
const (
	NavPath  = "/reports"
	NavLabel = "nav.reports"
)

// PageAction is a link the dashboards show on every page, carrying the
// page's current address (from=…): subscribe to it, download it as PDF,
// print it.
type PageAction struct {
	Label     string // i18n key
	Path      string
	Blank     bool // opens in a new tab
	ListPages bool // not on the page of one customer, rep or deal
}

// PageActions are the reports' links on every dashboard page.
var PageActions = []PageAction{
	{Label: "report.action.subscribe", Path: "/reports/new", ListPages: true},
	{Label: "report.action.pdf", Path: "/reports/pdf"},
	{Label: "report.action.print", Path: "/reports/pdf?inline=1", Blank: true},
}

type web struct {
	s     *Service
	sh    Shell
	tmpl  *template.Template
	asset map[string]string
}

// Mount registers the reports' routes on the dashboards' server.
func (s *Service) Mount(e *echo.Echo, sh Shell) error {
	w := &web{s: s, sh: sh, asset: map[string]string{}}
	funcs := template.FuncMap{
		"t":    func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
		"get":  func(t Text, lang string) string { return t.Get(lang) },
		"size": humanSize,
		"add":  func(a, b int) int { return a + b },
		"when": func(t time.Time, lang string) string {
			if t.IsZero() {
				return ""
			}
			return i18n.DateTime(lang, t, s.engine.Location())
		},
		"has":  func(list []string, v string) bool { return slices.Contains(list, v) },
		"list": func(a ...string) []string { return a },
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templatesFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("reports templates: %w", err)
	}
	w.tmpl = t
	e.GET("/assets/reports/*", w.serveAsset)
	g := e.Group("/reports", sh.RequireUser)
	g.GET("", w.list)
	g.GET("/new", w.form)
	g.POST("", w.save)
	g.GET("/print", w.print)
	g.GET("/pdf", w.pagePDF)
	g.GET("/files/:id", w.file)
	g.GET("/:name", w.detail)
	g.GET("/:name/edit", w.form)
	g.GET("/:name/preview", w.preview)
	g.POST("/:name/run", w.runNow)
	g.POST("/:name/pause", w.pause)
	g.POST("/:name/resume", w.pause)
	g.POST("/:name/delete", w.remove)
	g.GET("/:name/unsubscribe", w.unsubscribe)
	g.POST("/:name/unsubscribe", w.unsubscribe)
	return nil
}

func (w *web) serveAsset(c *echo.Context) error {
	name := path.Clean(c.Param("*"))
	b, err := assetsFS.ReadFile("assets/" + name)
	if err != nil || strings.Contains(name, "..") {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, ctype, b)
}

func (w *web) user(c *echo.Context) access.User { return w.sh.Session(c).User }

func (w *web) lang(c *echo.Context) string { return w.sh.Lang(c) }

// page renders a template into the shell's chrome.
func (w *web) page(c *echo.Context, title, tmpl string, data map[string]any) error {
	data["Lang"] = w.lang(c)
	data["CSRF"] = w.sh.Session(c).CSRF
	data["User"] = w.user(c)
	var b bytes.Buffer
	if err := w.tmpl.ExecuteTemplate(&b, tmpl, data); err != nil {
		return err
	}
	return w.sh.Page(c, title, NavPath, template.HTML(b.String()), []string{"/assets/reports/reports.css"}, nil, nil)
}

// ---- who may see what ----

// recipientOf reports whether a user is among a report's recipients.
func (w *web) recipientOf(ctx context.Context, r *Report, u access.User) bool {
	ps, _, err := w.s.Resolve(ctx, r)
	if err != nil {
		return false
	}
	for _, p := range ps {
		if !p.External && p.Key == u.Username {
			return true
		}
	}
	return false
}

// canSee: administrators see every report; others the reports they own
// or receive.
func (w *web) canSee(ctx context.Context, r *Report, u access.User) bool {
	return u.Role == access.RoleAdmin || r.Owner == u.Username || w.recipientOf(ctx, r, u)
}

// canManage: run now, pause, edit, preview for others: the owner and
// administrators.
func (w *web) canManage(r *Report, u access.User) bool {
	return u.Role == access.RoleAdmin || r.Owner == u.Username
}

func (w *web) report(c *echo.Context) (*Report, error) {
	r, err := w.s.Report(c.Request().Context(), c.Param("name"))
	if errors.Is(err, ErrNoReport) {
		return nil, echo.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !w.canSee(c.Request().Context(), r, w.user(c)) {
		return nil, echo.ErrNotFound
	}
	return r, nil
}

// ---- list and detail ----

type listRow struct {
	R        *Report
	Paused   bool
	Schedule string
	Last     *RunInfo
	Manage   bool
}

func (w *web) list(c *echo.Context) error {
	ctx := c.Request().Context()
	u, lang := w.user(c), w.lang(c)
	all, err := w.s.Reports(ctx)
	if err != nil {
		return err
	}
	paused, err := w.s.Paused(ctx)
	if err != nil {
		return err
	}
	var rows []listRow
	for _, r := range all {
		if !w.canSee(ctx, r, u) {
			continue
		}
		row := listRow{R: r, Paused: paused[r.Name], Schedule: describeSchedule(r.Schedule, lang), Manage: w.canManage(r, u)}
		if h, err := w.s.History(ctx, r.Name, 1, w.visible(u)); err == nil && len(h) > 0 {
			row.Last = &h[0]
		}
		rows = append(rows, row)
	}
	return w.page(c, i18n.T(lang, "report.list.title"), "list.html", map[string]any{"Rows": rows, "Msg": c.QueryParam("msg")})
}

// visible keeps the recipients a user may see in a history: their own
// copies; an administrator all.
func (w *web) visible(u access.User) func(string) bool {
	if u.Role == access.RoleAdmin {
		return nil
	}
	return func(key string) bool { return key == u.Username }
}

func (w *web) detail(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, lang := w.user(c), w.lang(c)
	hist, err := w.s.History(ctx, r.Name, 30, w.visible(u))
	if err != nil {
		return err
	}
	paused, err := w.s.Paused(ctx)
	if err != nil {
		return err
	}
	var recipients []Principal
	var notes []string
	if w.canManage(r, u) {
		recipients, notes, _ = w.s.Resolve(ctx, r)
	}
	var content []string
	for _, ct := range r.Content {
		content = append(content, describeContent(ct, lang))
	}
	return w.page(c, r.Title.Get(lang), "detail.html", map[string]any{
		"R": r, "Runs": hist, "Paused": paused[r.Name], "Manage": w.canManage(r, u), "Recipients": recipients, "Notes": notes,
		"Schedule": describeSchedule(r.Schedule, lang), "Content": content, "Msg": c.QueryParam("msg"),
		"Self": w.s.selfSubscription(r, Principal{Key: u.Username}),
	})
}

func describeContent(c Content, lang string) string {
	switch {
	case c.Page != "":
		if p := pageByID(c.Page); p != nil {
			return i18n.T(lang, "report.content.page", i18n.T(lang, p.Title))
		}
	case c.Chart != "":
		if ch, ok := query.ChartByID(c.Chart); ok {
			return i18n.T(lang, "report.content.chart", i18n.T(lang, ch.Title))
		}
	case c.Rows != "":
		if ch, ok := query.ChartByID(c.Rows); ok {
			return i18n.T(lang, "report.rows_of", i18n.T(lang, ch.Title))
		}
	case c.Query != "":
		return i18n.T(lang, "report.content.query", c.Query)
	}
	return c.Page + c.Chart + c.Rows
}

func describeSchedule(s Schedule, lang string) string {
	var parts []string
	if s.Cron != "" {
		tz := s.TimeZone
		if tz == "" {
			tz = "Asia/Shanghai"
		}
		parts = append(parts, i18n.T(lang, "report.sched.cron", s.Cron, tz))
	}
	if s.AfterLoad {
		parts = append(parts, i18n.T(lang, "report.sched.after_load"))
	}
	if !s.Once.IsZero() {
		parts = append(parts, i18n.T(lang, "report.sched.once", s.Once.Format("2006-01-02 15:04 MST")))
	}
	if len(parts) == 0 {
		return i18n.T(lang, "report.sched.manual")
	}
	return strings.Join(parts, "; ")
}

// ---- actions ----

func (w *web) back(c *echo.Context, name, msgKey string, args ...any) error {
	to := NavPath
	if name != "" {
		to += "/" + name
	}
	return c.Redirect(http.StatusSeeOther, to+"?msg="+url.QueryEscape(i18n.T(w.lang(c), msgKey, args...)))
}

func (w *web) runNow(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	u := w.user(c)
	if !w.canManage(r, u) {
		return echo.ErrForbidden
	}
	run, err := w.s.Send(c.Request().Context(), r.Name, u.Username)
	if err != nil {
		return w.back(c, r.Name, "report.msg.failed", err.Error())
	}
	w.sh.Audit(c, "report_run_now", map[string]any{"report": r.Name, "run": run.ID})
	return w.back(c, r.Name, "report.msg.started", run.ID)
}

func (w *web) pause(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	u := w.user(c)
	if !w.canManage(r, u) {
		return echo.ErrForbidden
	}
	ctx := c.Request().Context()
	if strings.HasSuffix(c.Path(), "/pause") {
		err = w.s.Pause(ctx, r.Name, u.Username)
	} else {
		err = w.s.Resume(ctx, r.Name, u.Username)
	}
	if err != nil {
		return err
	}
	action := path.Base(c.Path())
	w.sh.Audit(c, "report_"+action, map[string]any{"report": r.Name})
	return w.back(c, r.Name, "report.msg."+action)
}

func (w *web) remove(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	if err := w.s.Delete(c.Request().Context(), r.Name, w.user(c)); err != nil {
		if errors.Is(err, ErrForbidden) {
			return echo.NewHTTPError(http.StatusForbidden, err.Error())
		}
		return w.back(c, r.Name, "report.msg.failed", err.Error())
	}
	w.sh.Audit(c, "report_delete", map[string]any{"report": r.Name})
	return w.back(c, "", "report.msg.deleted", r.Name)
}

// unsubscribe ends a subscription the user made for themselves (the link
// every such message carries): a confirmation page, then a POST (with the
// session's CSRF token) that deletes it.
func (w *web) unsubscribe(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	u := w.user(c)
	if !w.s.selfSubscription(r, Principal{Key: u.Username}) {
		return echo.NewHTTPError(http.StatusForbidden, i18n.T(w.lang(c), "report.unsub.not_yours"))
	}
	if c.Request().Method == http.MethodGet {
		return w.page(c, i18n.T(w.lang(c), "report.unsubscribe"), "unsubscribe.html", map[string]any{"R": r})
	}
	if err := w.s.Delete(c.Request().Context(), r.Name, u); err != nil {
		return err
	}
	w.sh.Audit(c, "report_unsubscribe", map[string]any{"report": r.Name})
	return w.back(c, "", "report.msg.unsubscribed", r.Title.Get(w.lang(c)))
}

// preview renders the report for the viewer (or, for its owner and
// administrators, as one of its recipients) and sends the file back;
// nothing is delivered.
func (w *web) preview(c *echo.Context) error {
	r, err := w.report(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := w.user(c)
	format := c.QueryParam("format")
	if format == "" {
		format = r.Formats[0]
	}
	if !slices.Contains(Formats, format) {
		return echo.NewHTTPError(http.StatusBadRequest, "format: "+strings.Join(Formats, ", "))
	}
	dir, err := os.MkdirTemp(w.s.cfg.FilesDir, ".preview-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	as := c.QueryParam("as")
	var cp *Copy
	if as != "" && as != u.Username {
		if !w.canManage(r, u) {
			return echo.ErrForbidden
		}
		cp, err = w.s.Preview(ctx, r.Name, as, []string{format}, dir)
	} else {
		cp, err = w.s.RenderAs(ctx, r.Name, u.Username, []string{format}, dir)
	}
	if err != nil {
		return err
	}
	w.sh.Audit(c, "report_preview", map[string]any{"report": r.Name, "as": firstNonEmpty(as, u.Username), "format": format})
	if len(cp.Files) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, i18n.T(w.lang(c), "report.preview.empty"))
	}
	return sendFile(c, cp.Files[0].Path, cp.Files[0].Name, cp.Files[0].ContentType, format == "pdf" || format == "html")
}

// file sends a kept file to one of its recipients or an administrator.
func (w *web) file(c *echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	f, _, recipient, err := w.s.StoredFileByID(c.Request().Context(), id)
	if errors.Is(err, os.ErrNotExist) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	u := w.user(c)
	if u.Role != access.RoleAdmin && recipient != u.Username {
		return echo.ErrNotFound
	}
	w.sh.Audit(c, "report_file", map[string]any{"file": f.ID, "name": f.Name, "recipient": recipient})
	return sendFile(c, f.Path, f.Name, contentTypes[f.Format], false)
}

func sendFile(c *echo.Context, p, name, ctype string, inline bool) error {
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return echo.NewHTTPError(http.StatusGone, "the file is past its retention period")
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	disp := "attachment"
	if inline {
		disp = "inline"
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if strings.HasPrefix(ctype, "text/html") {
		// A rendered HTML file is shown as a document of its own: no script
		// may run in it even if a value slipped through.
		h.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
	}
	return c.Stream(http.StatusOK, ctype, fh)
}

// ---- the PDF of a dashboard page as it is ----

// pagePDF prints the dashboard page the user is looking at (from=…, its
// filters in the query) in their own scope and language, as a PDF.
func (w *web) pagePDF(c *echo.Context) error {
	from := c.QueryParam("from")
	if from == "" || !strings.HasPrefix(from, "/") || strings.HasPrefix(from, "//") || strings.ContainsAny(from, "\\\r\n") ||
		strings.HasPrefix(from, "/reports") || strings.HasPrefix(from, "/api") || strings.HasPrefix(from, "/login") {
		return echo.NewHTTPError(http.StatusBadRequest, "from: a page of the dashboards")
	}
	base := w.s.BaseURL()
	if base == "" {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "printing needs the running server")
	}
	u, lang := w.user(c), w.lang(c)
	pu, err := url.Parse(from)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "from: a page of the dashboards")
	}
	q := pu.Query()
	if l := i18n.Normalize(q.Get("lang")); l != "" {
		lang = l
	}
	q.Set("lang", lang)
	pu.RawQuery = q.Encode()
	p := Principal{Key: u.Username, User: u, Scope: access.ScopeFor(u), Lang: lang}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Minute)
	defer cancel()
	cookies, end, err := w.s.asRecipient(ctx, p)
	if err != nil {
		return err
	}
	defer end()
	title := pu.Path
	if pg, ok := query.PageByPath(pu.Path); ok {
		title = i18n.T(lang, pg.Title)
	}
	b, err := w.s.browser().PDF(ctx, chromium.Source{URL: base + pu.RequestURI(), Cookies: cookies, WaitFor: "body[data-loaded=true]",
		Settle: 700 * time.Millisecond}, chromium.PDFOptions{Landscape: true, Scale: printScale(true), Title: title,
		Footer: "Triscope · " + u.Username + " · " + i18n.DateTime(lang, w.s.now(), w.s.engine.Location())})
	if err != nil {
		return err
	}
	w.sh.Audit(c, "page_pdf", map[string]any{"page": pu.Path, "query": pu.RawQuery})
	name := deliver.SafeName(title+" "+w.s.now().In(w.s.engine.Location()).Format("2006-01-02"), "page") + ".pdf"
	disp := "attachment"
	if c.QueryParam("inline") == "1" {
		disp = "inline"
	}
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/pdf", b)
}

// ---- the print page ----

type printCard struct {
	Fig          int
	ID, Title    string
	Help         string
	Kind         query.Kind
	Span, Height int
	Query        string
}

type printCell struct {
	Text string
	Num  bool
}

type printRows struct {
	Head  []printCell
	Rows  [][]printCell
	Total int64
	Shown int
}

type printPart struct {
	Title, Help string
	Cards       []printCard
	Rows        *printRows
}

// print is a report's print page, laid out for A4 (the cover, then each
// part); Chromium loads it with a recipient's session for the PDF and for
// the chart images of a mail (mail=1: one column, mail width). The charts
// are the dashboards' own (app.js, ECharts), each with its part's query.
func (w *web) print(c *echo.Context) error {
	ctx := c.Request().Context()
	u, lang := w.user(c), w.lang(c)
	r, err := w.s.Report(ctx, c.QueryParam("r"))
	if errors.Is(err, ErrNoReport) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(u.Username, "report:") && !w.canSee(ctx, r, u) {
		return echo.ErrNotFound
	}
	p := Principal{Key: u.Username, User: u, Scope: access.ScopeFor(u), Lang: lang, Name: firstNonEmpty(u.Name, u.Username)}
	doc, err := w.s.collect(ctx, r, p, false)
	if err != nil {
		return err
	}
	mail := c.QueryParam("mail") == "1"
	var parts []printPart
	n := 0
	for _, pt := range doc.Parts {
		pp := printPart{Title: pt.Title, Help: pt.Help}
		q := pt.Values
		q.Set("lang", lang)
		for _, f := range pt.Figures {
			ch, _ := query.ChartByID(f.ID)
			span := ch.Span
			if mail || len(pt.Figures) == 1 {
				span = 12
			}
			pp.Cards = append(pp.Cards, printCard{Fig: n, ID: f.ID, Title: f.Title, Help: f.Help, Kind: ch.Kind, Span: span, Height: ch.Height, Query: q.Encode()})
			n++
		}
		if pt.Rows != nil && !mail {
			pr, err := w.s.printRows(pt, lang)
			if err != nil {
				return err
			}
			pp.Rows = pr
		}
		if pt.Saved != nil && !mail {
			pp.Rows = savedRows(pt.Saved, lang, w.s.engine.Location())
			pp.Help = strings.TrimSpace(pp.Help + " " + pt.Note)
		}
		parts = append(parts, pp)
	}
	cfg := map[string]any{"lang": lang, "currency": doc.Currency, "base": doc.Currency, "page": "report", "messages": jsMessages(lang), "params": map[string]string{}}
	data := map[string]any{"Lang": lang, "Nonce": w.sh.Nonce(c), "Doc": doc, "Parts": parts, "Mail": mail, "Config": cfg}
	var b bytes.Buffer
	if err := w.tmpl.ExecuteTemplate(&b, "print.html", data); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, b.String())
}

// jsMessages are the catalogue entries the dashboards' app.js reads.
func jsMessages(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range i18n.Catalogue(lang) {
		if strings.HasPrefix(k, "js.") || strings.HasPrefix(k, "col.") || strings.HasPrefix(k, "val.") {
			out[k] = v
		}
	}
	return out
}

// printRows reads the rows a PDF lists (up to the part's limit) and counts
// the rest.
func (s *Service) printRows(pt *part, lang string) (*printRows, error) {
	cur, err := s.engine.OpenRows(pt.Env, pt.Rows.Chart, pt.Rows.Point, 0, false, 0)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	pr := &printRows{}
	for _, col := range cur.Columns {
		pr.Head = append(pr.Head, printCell{query.ColumnLabel(lang, col.Name), col.Type == "money" || col.Type == "number" || col.Type == "percent"})
	}
	for cur.Next() {
		pr.Total++
		if int(pr.Total) > pt.Rows.Limit {
			continue
		}
		row := make([]printCell, len(cur.Columns))
		for i, v := range cur.Values() {
			row[i] = printCell{cellText(lang, cur.Columns[i], v, s.engine.Location()), pr.Head[i].Num}
		}
		pr.Rows = append(pr.Rows, row)
	}
	pr.Shown = len(pr.Rows)
	return pr, cur.Err()
}

// savedRows are a saved query's rows on the print page (all of them: the
// SQL face capped them already).
func savedRows(t *memTable, lang string, loc *time.Location) *printRows {
	pr := &printRows{}
	for _, c := range t.Columns {
		label := c.Label
		if label == "" {
			label = c.Name
		}
		pr.Head = append(pr.Head, printCell{label, c.Kind == render.Number || c.Kind == render.Integer || c.Kind == render.Money || c.Kind == render.Percent})
	}
	for _, r := range t.Rows {
		row := make([]printCell, len(t.Columns))
		for i, v := range r {
			typ := "text"
			switch t.Columns[i].Kind {
			case render.Money:
				typ = "money"
			case render.Percent:
				typ = "percent"
			case render.Number, render.Integer:
				typ = "number"
			}
			if s, ok := v.(string); ok && typ != "text" {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					v = f
				}
			}
			row[i] = printCell{cellText(lang, query.Column{Name: t.Columns[i].Name, Type: typ}, v, loc), pr.Head[i].Num}
		}
		pr.Rows = append(pr.Rows, row)
	}
	pr.Total, pr.Shown = int64(len(pr.Rows)), len(pr.Rows)
	return pr
}

// cellText is a value of the rows behind a chart as the dashboards' rows
// table shows it.
func cellText(lang string, col query.Column, v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if col.Type == "text" {
			if l, ok := query.CodeLabel(lang, col.Name, x); ok {
				return l
			}
		}
		return x
	case bool:
		if x {
			return "✓"
		}
		return ""
	case time.Time:
		return x.In(loc).Format("2006-01-02 15:04")
	case int64:
		return groupInt(float64(x))
	case float64:
		switch col.Type {
		case "money":
			return groupMoney(x)
		case "percent":
			return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
		}
		if x == float64(int64(x)) {
			return groupInt(x)
		}
		return trimZeros(strconv.FormatFloat(x, 'f', 2, 64))
	}
	return fmt.Sprint(v)
}

func groupMoney(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	v, _ := strconv.ParseFloat(intPart, 64)
	out := groupInt(v) + "." + frac
	if x < 0 {
		out = "-" + out
	}
	return out
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 0, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
