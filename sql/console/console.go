// Package console is the web face of ad hoc SQL: the console page (/sql:
// an editor with completion of the relations the user may read, the schema
// browser, results, exports, a quick chart, history, saved queries, API
// tokens) and the HTTP API scripts call (POST /api/sql with a session and
// its CSRF token, or with an API token "Authorization: Bearer tsk_…").
// Every query runs in the sandbox of query/adhoc as the signed-in user (or
// the token's user), with their data scope and their role's limits.
//
// The package is called console, not sql, so that it never shadows
// database/sql; the HTTP API lives here too because the console is its
// first client (the same endpoint, the same checks). Arrow Flight SQL is
// sql/flight.
//
// Like every face it does not import dashboards: the part of the web server
// it needs is the Shell interface below, which *dashboards.Shell satisfies.
package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"crypto/sha256"
	"encoding/hex"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
)

// Shell is what the console needs of the web server (dashboards.Shell).
type Shell interface {
	Session(c *echo.Context) *access.Session
	Lang(c *echo.Context) string
	RequireUser(next echo.HandlerFunc) echo.HandlerFunc
	Audit(c *echo.Context, action string, detail map[string]any)
	Page(c *echo.Context, title, active string, body template.HTML, styles, scripts []string, config any) error
}

// Tokens are the API tokens of the application database (access.Store).
type Tokens interface {
	CreateToken(ctx context.Context, username, name string) (access.Token, string, error)
	Tokens(ctx context.Context, username string) ([]access.Token, error)
	RevokeToken(ctx context.Context, username, id string) error
	AuthenticateToken(ctx context.Context, secret string) (access.User, error)
}

// Options configure the console.
type Options struct {
	Sandbox *adhoc.Sandbox
	Store   *adhoc.Store // saved queries and history
	Tokens  Tokens
	Policy  adhoc.Policy // a role's limits
	// ExportRows caps the rows of an export (0: the role's row cap).
	ExportRows int
}

// Path is the console page; BodyLimit bounds the API's request bodies.
const (
	Path      = "/sql"
	BodyLimit = 512 << 10
)

//go:embed assets
var assetsFS embed.FS

// Console is the mounted face.
type Console struct {
	opts   Options
	sh     Shell
	assets map[string]string // name → content hash (cache busting)
}

// New checks the options.
func New(opts Options) (*Console, error) {
	if opts.Sandbox == nil || opts.Store == nil || opts.Tokens == nil || opts.Policy == nil {
		return nil, errors.New("console: Sandbox, Store, Tokens and Policy are required")
	}
	c := &Console{opts: opts, assets: map[string]string{}}
	err := fs.WalkDir(assetsFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetsFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		c.assets[strings.TrimPrefix(p, "assets/")] = hex.EncodeToString(h[:6])
		return nil
	})
	return c, err
}

// Mount registers the routes.
func (cn *Console) Mount(e *echo.Echo, sh Shell) error {
	cn.sh = sh
	e.GET("/assets/sql/*", cn.serveAsset)
	e.GET(Path, cn.page, sh.RequireUser)
	// The API: a session (with CSRF on POST, checked by the server's
	// middleware) or an API token.
	e.POST("/api/sql", cn.apiRun, cn.requireCaller)
	e.GET("/api/sql/schema", cn.apiSchema, cn.requireCaller)
	e.POST("/api/sql/export", cn.apiExport, cn.requireCaller)
	// The console's own state: a session only.
	e.GET("/api/sql/history", cn.apiHistory, cn.requireSession)
	e.GET("/api/sql/saved", cn.apiSavedList, cn.requireCaller)
	e.POST("/api/sql/saved", cn.apiSavedSave, cn.requireSession)
	e.DELETE("/api/sql/saved/:id", cn.apiSavedDelete, cn.requireSession)
	e.GET("/api/sql/tokens", cn.apiTokens, cn.requireSession)
	e.POST("/api/sql/tokens", cn.apiTokenCreate, cn.requireSession)
	e.DELETE("/api/sql/tokens/:id", cn.apiTokenRevoke, cn.requireSession)
	return nil
}

// caller is who sends an API request.
type caller struct {
	user  access.User
	entry string // console (a session) or http (an API token)
}

func (cl caller) admin() bool { return cl.user.Role == access.RoleAdmin }

func (cl caller) scope() adhoc.Scope { return adhoc.Scope(access.ScopeFor(cl.user)) }

const callerKey = "sql.caller"

// requireCaller authenticates an API request by its bearer token, else by
// its session. A request with an Authorization header is judged by the
// token alone (a browser cannot send one across origins, which is why such
// a request needs no CSRF token).
func (cn *Console) requireCaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h := c.Request().Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return apiError(c, http.StatusUnauthorized, "unauthorized", "use Authorization: Bearer <API token>")
			}
			u, err := cn.opts.Tokens.AuthenticateToken(c.Request().Context(), strings.TrimSpace(secret))
			if err != nil {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="triscope"`)
				msg := "unknown or revoked API token"
				if errors.Is(err, access.ErrDisabled) {
					msg = "the token's user is disabled"
				}
				return apiError(c, http.StatusUnauthorized, "unauthorized", msg)
			}
			c.Set(callerKey, caller{user: u, entry: "http"})
			return next(c)
		}
		sess := cn.sh.Session(c)
		if sess == nil {
			return apiError(c, http.StatusUnauthorized, "unauthorized", "sign in, or send an API token (Authorization: Bearer tsk_…)")
		}
		c.Set(callerKey, caller{user: sess.User, entry: "console"})
		return next(c)
	}
}

// requireSession admits a signed-in browser only (token management, saved
// queries, history): a token cannot mint tokens.
func (cn *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if c.Request().Header.Get("Authorization") != "" {
			return apiError(c, http.StatusForbidden, "refused", "this endpoint needs a signed-in session, not an API token")
		}
		sess := cn.sh.Session(c)
		if sess == nil {
			return apiError(c, http.StatusUnauthorized, "unauthorized", "sign in first")
		}
		c.Set(callerKey, caller{user: sess.User, entry: "console"})
		return next(c)
	}
}

func callerOf(c *echo.Context) caller { cl, _ := c.Get(callerKey).(caller); return cl }

func apiError(c *echo.Context, status int, class, msg string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, map[string]any{"error": msg, "class": class})
}

// statusOf maps a query's error class to an HTTP status.
func statusOf(class adhoc.Class) int {
	switch class {
	case adhoc.Refused, adhoc.Syntax:
		return http.StatusBadRequest
	case adhoc.Data, adhoc.Memory:
		return http.StatusUnprocessableEntity
	case adhoc.Timeout:
		return http.StatusGatewayTimeout
	case adhoc.TooMany:
		return http.StatusRequestEntityTooLarge
	case adhoc.Busy:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

func queryError(c *echo.Context, err error, admin bool) error {
	var e *adhoc.Error
	if !errors.As(err, &e) {
		if errors.Is(err, adhoc.ErrNoSaved) {
			return apiError(c, http.StatusNotFound, "not_found", err.Error())
		}
		e = &adhoc.Error{Class: adhoc.Internal, Message: "the query sandbox failed; the error was logged", Position: -1}
	}
	if e.Class == adhoc.Busy {
		c.Response().Header().Set("Retry-After", "2")
	}
	body := map[string]any{"error": e.For(admin), "class": e.Class}
	if e.Position >= 0 {
		body["position"] = e.Position
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(statusOf(e.Class), body)
}

// runRequest is the body of POST /api/sql and /api/sql/export.
type runRequest struct {
	SQL       string         `json:"sql"`
	Saved     string         `json:"saved,omitempty"`  // run a saved query (ID or name) instead
	Params    map[string]any `json:"params,omitempty"` // $name → value
	MaxRows   int            `json:"max_rows,omitempty"`
	TimeoutMS int64          `json:"timeout_ms,omitempty"`
	Format    string         `json:"format,omitempty"` // export: csv, xlsx, parquet
}

// runResponse is the JSON of a result.
type runResponse struct {
	Columns   []adhoc.Column `json:"columns"`
	Types     []string       `json:"types"`
	Rows      [][]any        `json:"rows"`
	RowCount  int            `json:"row_count"`
	Truncated bool           `json:"truncated"`
	MaxRows   int            `json:"max_rows"`
	Elapsed   float64        `json:"elapsed"` // milliseconds, in the worker
}

// limits checks the role may use ad hoc SQL and returns its limits.
func (cn *Console) limits(cl caller) (adhoc.Limits, error) {
	l := cn.opts.Policy(cl.user.Role)
	if !l.Enabled {
		return l, adhoc.ErrDisabled(cl.user.Role)
	}
	return l, nil
}

// request builds the sandbox request of a body (a saved query's SQL and
// arguments when it names one).
func (cn *Console) request(ctx context.Context, cl caller, body runRequest, entry string) (adhoc.Request, error) {
	l, err := cn.limits(cl)
	if err != nil {
		return adhoc.Request{}, err
	}
	req := adhoc.Request{User: cl.user.Username, Admin: cl.admin(), Entry: entry, Scope: cl.scope(), SQL: body.SQL,
		MaxRows: body.MaxRows, Timeout: time.Duration(body.TimeoutMS) * time.Millisecond}
	if body.Saved != "" {
		q, err := cn.opts.Store.Get(ctx, adhoc.Viewer{Username: cl.user.Username, Role: cl.user.Role}, body.Saved)
		if err != nil {
			return req, err
		}
		values := map[string]string{}
		for k, v := range body.Params {
			values[k] = fmt.Sprint(v)
		}
		args, err := q.Args(values)
		if err != nil {
			return req, &adhoc.Error{Class: adhoc.Syntax, Message: err.Error(), Position: -1}
		}
		req.SQL, req.Args = q.SQL, args
	} else if len(body.Params) > 0 {
		req.Args = map[string]any{}
		for k, v := range body.Params {
			switch x := v.(type) {
			case string, bool, nil, json.Number:
				req.Args[k] = x
			case float64:
				req.Args[k] = json.Number(strconv.FormatFloat(x, 'f', -1, 64))
			default:
				return req, &adhoc.Error{Class: adhoc.Syntax, Message: "parameter $" + k + ": give a string, a number, a boolean or null", Position: -1}
			}
		}
	}
	if strings.TrimSpace(req.SQL) == "" {
		return req, &adhoc.Error{Class: adhoc.Refused, Message: "the query is empty", Position: -1}
	}
	l.Apply(&req)
	return req, nil
}

func decodeBody(c *echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the request body is JSON: %v", err)
	}
	return nil
}

// apiRun runs one query: POST /api/sql {"sql": "…", "params": {…}}.
func (cn *Console) apiRun(c *echo.Context) error {
	cl := callerOf(c)
	var body runRequest
	if err := decodeBody(c, &body); err != nil {
		return apiError(c, http.StatusBadRequest, "syntax", err.Error())
	}
	req, err := cn.request(c.Request().Context(), cl, body, cl.entry)
	if err != nil {
		return queryError(c, err, cl.admin())
	}
	res, err := cn.opts.Sandbox.Run(c.Request().Context(), req)
	if err != nil {
		return queryError(c, err, cl.admin())
	}
	out := runResponse{Columns: res.Columns, Rows: res.Rows, RowCount: len(res.Rows), Truncated: res.Truncated,
		Elapsed: float64(res.Elapsed.Microseconds()) / 1000, MaxRows: req.MaxRows}
	if out.Columns == nil {
		out.Columns = []adhoc.Column{}
	}
	for _, col := range res.Columns {
		out.Types = append(out.Types, col.Type)
	}
	if out.Types == nil {
		out.Types = []string{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// apiSchema lists the relations the caller may read with their columns.
func (cn *Console) apiSchema(c *echo.Context) error {
	cl := callerOf(c)
	if _, err := cn.limits(cl); err != nil {
		return queryError(c, err, cl.admin())
	}
	rels, err := cn.opts.Sandbox.Describe(c.Request().Context(), cl.user.Username, cl.scope())
	if err != nil {
		return queryError(c, err, cl.admin())
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"relations": rels})
}

// apiExport runs the query again and answers the whole result as a file.
func (cn *Console) apiExport(c *echo.Context) error {
	cl := callerOf(c)
	var body runRequest
	if err := decodeBody(c, &body); err != nil {
		return apiError(c, http.StatusBadRequest, "syntax", err.Error())
	}
	ext, ctype := "", ""
	switch body.Format {
	case "csv":
		ext, ctype = "csv", "text/csv; charset=utf-8"
	case "xlsx":
		ext, ctype = "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case "parquet":
		ext, ctype = "parquet", "application/vnd.apache.parquet"
	default:
		return apiError(c, http.StatusBadRequest, "syntax", "format: csv, xlsx or parquet")
	}
	if body.MaxRows == 0 && cn.opts.ExportRows > 0 {
		body.MaxRows = cn.opts.ExportRows
	}
	req, err := cn.request(c.Request().Context(), cl, body, cl.entry+"-export")
	if err != nil {
		return queryError(c, err, cl.admin())
	}
	res, err := cn.opts.Sandbox.Run(c.Request().Context(), req)
	if err != nil {
		return queryError(c, err, cl.admin())
	}
	t := Table(res)
	var buf bytes.Buffer
	loc := time.UTC
	switch ext {
	case "csv":
		_, err = render.WriteCSV(&buf, t, render.Options{Location: loc})
	case "xlsx":
		_, err = render.WriteXLSX(&buf, []*render.Table{t}, render.XLSXOptions{})
	case "parquet":
		_, err = render.WriteParquet(&buf, t, render.Options{Location: loc})
	}
	if err != nil {
		return apiError(c, http.StatusInternalServerError, "internal", "writing the export failed")
	}
	cn.sh.Audit(c, "sql_export", map[string]any{"format": ext, "rows": len(res.Rows), "truncated": res.Truncated, "entry": cl.entry})
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="query-`+time.Now().Format("20060102-150405")+`.`+ext+`"`)
	h.Set("Cache-Control", "no-store")
	if res.Truncated {
		h.Set("X-Triscope-Truncated", strconv.Itoa(len(res.Rows)))
	}
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// Table is a result as render's writers take it.
func Table(res *adhoc.Result) *render.Table {
	t := &render.Table{Name: "Query"}
	for _, col := range res.Columns {
		t.Columns = append(t.Columns, render.Column{Name: col.Name, Kind: render.Kind(col.Kind())})
	}
	i := -1
	row := make([]any, len(res.Columns))
	t.Rows = render.RowsFunc(func() ([]any, error) {
		i++
		if i >= len(res.Rows) {
			return nil, errEOF
		}
		for j, v := range res.Rows[i] {
			row[j] = adhoc.ExportValue(v)
		}
		return row, nil
	}).Rows()
	return t
}

func (cn *Console) apiHistory(c *echo.Context) error {
	cl := callerOf(c)
	h, err := cn.opts.Store.History(c.Request().Context(), cl.user.Username, 100)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"history": h})
}

func (cn *Console) apiSavedList(c *echo.Context) error {
	cl := callerOf(c)
	l, err := cn.opts.Store.List(c.Request().Context(), adhoc.Viewer{Username: cl.user.Username, Role: cl.user.Role})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"saved": l, "roles": access.Roles})
}

func (cn *Console) apiSavedSave(c *echo.Context) error {
	cl := callerOf(c)
	var q adhoc.Saved
	if err := decodeBody(c, &q); err != nil {
		return apiError(c, http.StatusBadRequest, "syntax", err.Error())
	}
	if _, err := cn.limits(cl); err != nil {
		return queryError(c, err, cl.admin())
	}
	q.Owner = cl.user.Username
	if err := q.Validate(c.Request().Context(), cn.opts.Sandbox.Catalog(), access.Roles); err != nil {
		var e *adhoc.Error
		if errors.As(err, &e) {
			return queryError(c, err, cl.admin())
		}
		return apiError(c, http.StatusBadRequest, "invalid", err.Error())
	}
	saved, err := cn.opts.Store.Save(c.Request().Context(), q)
	if errors.Is(err, adhoc.ErrNoSaved) {
		return apiError(c, http.StatusNotFound, "not_found", "no saved query of yours with that id")
	}
	if err != nil {
		return apiError(c, http.StatusBadRequest, "invalid", err.Error())
	}
	cn.sh.Audit(c, "sql_saved", map[string]any{"id": saved.ID, "name": saved.Name, "shared_role": saved.SharedRole})
	return c.JSON(http.StatusOK, saved)
}

func (cn *Console) apiSavedDelete(c *echo.Context) error {
	cl := callerOf(c)
	if err := cn.opts.Store.Delete(c.Request().Context(), cl.user.Username, c.Param("id")); err != nil {
		return apiError(c, http.StatusNotFound, "not_found", "no saved query of yours with that id")
	}
	cn.sh.Audit(c, "sql_saved_delete", map[string]any{"id": c.Param("id")})
	return c.NoContent(http.StatusNoContent)
}

func (cn *Console) apiTokens(c *echo.Context) error {
	cl := callerOf(c)
	l, err := cn.opts.Tokens.Tokens(c.Request().Context(), cl.user.Username)
	if err != nil {
		return err
	}
	if l == nil {
		l = []access.Token{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"tokens": l})
}

func (cn *Console) apiTokenCreate(c *echo.Context) error {
	cl := callerOf(c)
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeBody(c, &body); err != nil {
		return apiError(c, http.StatusBadRequest, "invalid", err.Error())
	}
	t, secret, err := cn.opts.Tokens.CreateToken(c.Request().Context(), cl.user.Username, body.Name)
	if err != nil {
		return apiError(c, http.StatusBadRequest, "invalid", err.Error())
	}
	cn.sh.Audit(c, "token_create", map[string]any{"token_id": t.ID, "name": t.Name})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"token": t, "secret": secret})
}

func (cn *Console) apiTokenRevoke(c *echo.Context) error {
	cl := callerOf(c)
	if err := cn.opts.Tokens.RevokeToken(c.Request().Context(), cl.user.Username, c.Param("id")); err != nil {
		return apiError(c, http.StatusNotFound, "not_found", "no live token of yours with that id")
	}
	cn.sh.Audit(c, "token_revoke", map[string]any{"token_id": c.Param("id")})
	return c.NoContent(http.StatusNoContent)
}

// page is the console.
func (cn *Console) page(c *echo.Context) error {
	sess := cn.sh.Session(c)
	lang := cn.sh.Lang(c)
	l := cn.opts.Policy(sess.User.Role)
	cfg := map[string]any{
		"csrf":     sess.CSRF,
		"lang":     lang,
		"enabled":  l.Enabled,
		"maxRows":  l.MaxRows,
		"messages": messages(lang),
		"roles":    access.Roles,
		"user":     sess.User.Username,
	}
	body, err := pageBody(lang, l.Enabled)
	if err != nil {
		return err
	}
	return cn.sh.Page(c, i18n.T(lang, "sql.title"), Path, body,
		[]string{cn.assetURL("console.css")},
		[]string{"/assets/vendor/echarts.min.js", cn.assetURL("codemirror.js"), cn.assetURL("console.js")}, cfg)
}

// messages are the console's texts in lang (keys sql.*).
func messages(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range i18n.Catalogue(lang) {
		if strings.HasPrefix(k, "sql.") {
			out[strings.TrimPrefix(k, "sql.")] = v
		}
	}
	return out
}

func (cn *Console) assetURL(name string) string {
	return "/assets/sql/" + name + "?v=" + cn.assets[name]
}

func (cn *Console) serveAsset(c *echo.Context) error {
	name := path.Clean(c.Param("*"))
	if strings.HasPrefix(name, ".") || strings.Contains(name, "..") {
		return echo.ErrNotFound
	}
	b, err := assetsFS.ReadFile("assets/" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if v := c.QueryParam("v"); v != "" && v == cn.assets[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	ctype := "application/octet-stream"
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".txt", "":
		ctype = "text/plain; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ctype, b)
}
