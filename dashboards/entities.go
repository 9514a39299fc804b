package dashboards

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// The parts of a page that are not charts, drawn by the server with
// html/template (so every value is escaped): the header of an entity page
// (a customer's 360, a rep, a deal) and the collision list with its ruling
// forms. renderPage asks pageExtra for them; an entity the user may not see
// answers 404 before anything is drawn.

// pageExtra is what a page shows besides its charts.
type pageExtra struct {
	Title       string        // replaces the page title (the entity's name)
	Top, Bottom template.HTML // above and below the chart grid
	NoFilters   bool          // the page has no filter bar
	NoCrumbs    bool          // the org breadcrumbs do not apply
}

var pageExtras = map[string]func(s *Server, c *echo.Context, e *query.Env) (*pageExtra, error){
	"customers.detail": (*Server).customerHead,
	"microscope.rep":   (*Server).repHead,
	"microscope.deal":  (*Server).dealHead,
	"collisions":       (*Server).collisionList,
}

// pageExtra returns the extra parts of a page (nil when it has none).
func (s *Server) pageExtra(c *echo.Context, page *query.Page, e *query.Env) (*pageExtra, error) {
	if f, ok := pageExtras[page.ID]; ok {
		return f(s, c, e)
	}
	return nil, nil
}

// pathParams are the path parameters of a page request (/customers/:id → id).
func pathParams(c *echo.Context) map[string]string {
	out := map[string]string{}
	for _, p := range c.PathValues() {
		if p.Name != "" && p.Name != "*" {
			out[p.Name] = p.Value
		}
	}
	return out
}

// pageQuery is the query of a page request with its path parameters added
// (they win over query parameters of the same name). The page passes them to
// its charts' API calls the same way (app.js: cfg.params).
func pageQuery(c *echo.Context) url.Values {
	q := url.Values{}
	for k, v := range c.QueryParams() {
		q[k] = v
	}
	for k, v := range pathParams(c) {
		q.Set(k, v)
	}
	return q
}

// row is one result row, values normalised (decimals to float64, dates to
// YYYY-MM-DD, NULL to nil).
type row map[string]any

func (r row) s(k string) string {
	switch v := r[k].(type) {
	case nil:
		return ""
	case string:
		return query.ShortText(v) // a page shows a name, not 64 KiB of it
	default:
		return fmt.Sprint(v)
	}
}

func (r row) f(k string) (float64, bool) {
	switch v := r[k].(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return math.NaN(), false
}

func (r row) b(k string) bool { v, _ := r[k].(bool); return v }

// sqlRows runs an embedded SQL file (query/charts/sql) with the request's
// standard parameters (the scope among them) and extra ones, through the
// engine (gated reads, timeout, normalised values).
func (s *Server) sqlRows(ctx context.Context, e *query.Env, file string, extra map[string]any) ([]row, error) {
	ec := *e
	ec.Ctx = ctx
	res, err := s.engine.Query(&ec, file, extra)
	if err != nil {
		return nil, err
	}
	out := make([]row, len(res.Rows))
	for i := range res.Rows {
		out[i] = res.Map(i)
	}
	return out, nil
}

// ---- entity headers ----

// field is one line of an entity header: a label, a value and an optional link.
type field struct {
	Label, Value, Link string
}

// badge is a coloured tag (tier, segment, status).
type badge struct {
	Text, Class, Title string
}

type entityHead struct {
	Lang     string
	Kind     string // customer, rep, deal
	Back     string // link back to the overview
	BackText string
	Name, ID string
	ShowName bool   // the name is also the page title: shown once
	Sub      string // a line under the name
	Badges   []badge
	Fields   []field
	Notes    []field // highlighted lines (cross-sell, collisions)
}

func (s *Server) renderFragment(name string, data any) (template.HTML, error) {
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	// html/template escaped every value while executing.
	return template.HTML(b.String()), nil
}

func code(lang, kind, v string) string {
	if v == "" {
		return ""
	}
	if k := "val." + kind + "." + v; i18n.Has(lang, k) {
		return i18n.T(lang, k)
	}
	return v
}

func money(e *query.Env, v float64) string {
	if e.Rate > 0 {
		v /= e.Rate
	}
	return i18n.Money(e.Lang, v, e.Currency())
}

func dateText(lang, d string) string {
	if t, err := time.Parse("2006-01-02", d); err == nil {
		return i18n.Date(lang, t)
	}
	return d
}

func localLink(prefix, id string) string {
	if id == "" {
		return ""
	}
	return prefix + url.PathEscape(id)
}

func (s *Server) customerHead(c *echo.Context, e *query.Env) (*pageExtra, error) {
	id := e.Q.Get("id")
	ctx := c.Request().Context()
	rows, err := s.sqlRows(ctx, e, "entity_customer.sql", map[string]any{"id": id})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, echo.ErrNotFound
	}
	r, lang := rows[0], e.Lang
	h := entityHead{Lang: lang, Kind: "customer", Back: "/customers", BackText: i18n.T(lang, "page.customers"),
		Name: r.s("customer_name"), ID: r.s("customer_id")}
	h.Sub = strings.Join(nonEmpty(code(lang, "industry", r.s("industry")), code(lang, "size_band", r.s("size_band")), r.s("city")), " · ")
	if st := r.s("lifecycle_stage"); st != "" {
		h.Badges = append(h.Badges, badge{Text: code(lang, "lifecycle_stage", st), Class: "lifecycle", Title: i18n.T(lang, "col.lifecycle_stage")})
	}
	h.Fields = append(h.Fields,
		field{Label: i18n.T(lang, "col.rep_name"), Value: r.s("rep_name"), Link: localLink("/reps/", r.s("owner_rep_id"))},
		field{Label: i18n.T(lang, "col.org_unit"), Value: r.s("org_unit")},
		field{Label: i18n.T(lang, "col.source"), Value: code(lang, "source", r.s("source"))},
		field{Label: i18n.T(lang, "head.customer_since"), Value: dateText(lang, r.s("created_on"))},
		field{Label: i18n.T(lang, "head.first_contract"), Value: dateText(lang, r.s("first_contract_on"))},
		field{Label: i18n.T(lang, "head.last_activity"), Value: dateText(lang, r.s("last_activity_on"))},
	)
	if r.b("partial") {
		h.Notes = append(h.Notes, field{Label: i18n.T(lang, "head.partial"), Value: i18n.T(lang, "head.partial_text")})
	}
	// What the models say (skipped while they are not computed).
	if mr, err := s.sqlRows(ctx, e, "entity_customer_models.sql", map[string]any{"id": id}); err != nil {
		s.log.Warn("customer header: models", "err", err)
	} else if len(mr) == 1 {
		m := mr[0]
		if tier := m.s("tier"); tier != "" {
			h.Badges = append([]badge{{Text: code(lang, "tier", tier), Class: "tier-" + tier, Title: i18n.T(lang, "col.tier")}}, h.Badges...)
		}
		if seg := m.s("segment"); seg != "" {
			h.Badges = append(h.Badges, badge{Text: code(lang, "segment", seg), Class: "segment", Title: i18n.T(lang, "col.segment")})
			h.Fields = append(h.Fields, field{Label: "RFM", Value: fmt.Sprintf("R%s · F%s · M%s", m.s("r_score"), m.s("f_score"), m.s("m_score"))})
		}
		if v, ok := m.f("recency_days"); ok {
			h.Fields = append(h.Fields, field{Label: i18n.T(lang, "col.recency_days"), Value: i18n.Int(lang, int64(v))})
		}
		if v, ok := m.f("p_alive"); ok {
			h.Fields = append(h.Fields, field{Label: i18n.T(lang, "col.p_alive"), Value: i18n.Percent(lang, v)})
		}
		if v, ok := m.f("value_index"); ok {
			h.Fields = append(h.Fields, field{Label: i18n.T(lang, "col.value_index"), Value: fmt.Sprintf("%.0f / 100", v)})
		}
		if xs := m.s("cross_sell"); xs != "" {
			var parts []string
			for _, p := range strings.Split(xs, ";") {
				line, share, _ := strings.Cut(p, "|")
				parts = append(parts, i18n.T(lang, "head.cross_sell_item", line, share+"%"))
			}
			h.Notes = append(h.Notes, field{Label: i18n.T(lang, "head.cross_sell"), Value: strings.Join(parts, " · ")})
		}
	}
	top, err := s.renderFragment("entity_head", h)
	if err != nil {
		return nil, err
	}
	return &pageExtra{Title: h.Name, Top: top, NoCrumbs: true}, nil
}

func (s *Server) repHead(c *echo.Context, e *query.Env) (*pageExtra, error) {
	id := e.Q.Get("id")
	rows, err := s.sqlRows(c.Request().Context(), e, "entity_rep.sql", map[string]any{"id": id})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, echo.ErrNotFound
	}
	r, lang := rows[0], e.Lang
	h := entityHead{Lang: lang, Kind: "rep", Back: "/microscope", BackText: i18n.T(lang, "page.microscope"),
		Name: r.s("rep_name"), ID: r.s("rep_id")}
	path := r.s("org_path")
	if path != "" {
		path += " › "
	}
	h.Sub = path + r.s("org_unit")
	if r.s("left_on") != "" {
		h.Badges = append(h.Badges, badge{Text: i18n.T(lang, "head.left", dateText(lang, r.s("left_on"))), Class: "muted"})
	}
	h.Fields = append(h.Fields,
		field{Label: i18n.T(lang, "head.manager"), Value: r.s("manager_name")},
		field{Label: i18n.T(lang, "head.hired"), Value: dateText(lang, r.s("hired_on"))},
	)
	// Rulings on collisions of the rep's deals (issue 17: the rep is told).
	if rr, err := s.sqlRows(c.Request().Context(), e, "rep_rulings.sql", map[string]any{"id": id}); err == nil {
		for _, x := range rr {
			key := "head.ruling_lost"
			if x.b("won") {
				key = "head.ruling_won"
			}
			when := ""
			if t, ok := x["ruled_at"].(time.Time); ok {
				when = i18n.Date(lang, t)
			}
			h.Notes = append(h.Notes, field{Label: i18n.T(lang, "head.ruling"),
				Value: i18n.T(lang, key, x.s("opportunity_id"), x.s("customer_name"), x.s("ruled_by"), when),
				Link:  localLink("/deals/", x.s("opportunity_id"))})
		}
	} else if st, serr := s.engine.State(c.Request().Context()); serr == nil && st.Objects["mart_collisions"] {
		s.log.Warn("rep header: rulings", "err", err)
	}
	top, err := s.renderFragment("entity_head", h)
	if err != nil {
		return nil, err
	}
	return &pageExtra{Title: h.Name, Top: top, NoCrumbs: true}, nil
}

func (s *Server) dealHead(c *echo.Context, e *query.Env) (*pageExtra, error) {
	id := e.Q.Get("id")
	rows, err := s.sqlRows(c.Request().Context(), e, "entity_deal.sql", map[string]any{"id": id})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, echo.ErrNotFound
	}
	r, lang := rows[0], e.Lang
	h := entityHead{Lang: lang, Kind: "deal", ShowName: true, Back: localLink("/customers/", r.s("customer_id")), BackText: r.s("customer_name"),
		Name: r.s("customer_name"), ID: r.s("opportunity_id")}
	amount, _ := r.f("amount_base")
	h.Sub = strings.Join(nonEmpty(r.s("product"), r.s("product_line"), money(e, amount)), " · ")
	status := r.s("status")
	if status == "open" {
		h.Badges = append(h.Badges, badge{Text: code(lang, "stage", r.s("stage")), Class: "stage", Title: i18n.T(lang, "col.stage")})
	} else {
		h.Badges = append(h.Badges, badge{Text: code(lang, "status", status), Class: "status-" + status, Title: i18n.T(lang, "col.status")})
	}
	if n, _ := r.f("collisions"); n > 0 {
		h.Badges = append(h.Badges, badge{Text: i18n.T(lang, "head.collision"), Class: "warn"})
	}
	prob := ""
	if v, ok := r.f("probability"); ok {
		prob = fmt.Sprintf("%.0f%%", v)
	}
	amt := money(e, amount)
	if cur := r.s("currency"); cur != "" && cur != e.Base {
		v, _ := r.f("amount")
		amt += " (" + i18n.Money(lang, v, cur) + ")"
	}
	h.Fields = append(h.Fields,
		field{Label: i18n.T(lang, "col.customer_name"), Value: r.s("customer_name"), Link: localLink("/customers/", r.s("customer_id"))},
		field{Label: i18n.T(lang, "col.rep_name"), Value: r.s("rep_name"), Link: localLink("/reps/", r.s("owner_rep_id"))},
		field{Label: i18n.T(lang, "col.amount"), Value: amt},
		field{Label: i18n.T(lang, "col.probability"), Value: prob},
		field{Label: i18n.T(lang, "col.source"), Value: code(lang, "source", r.s("source"))},
		field{Label: i18n.T(lang, "col.channel"), Value: strings.Join(nonEmpty(code(lang, "channel", r.s("channel")), r.s("partner")), " · ")},
		field{Label: i18n.T(lang, "col.campaign"), Value: r.s("campaign")},
		field{Label: i18n.T(lang, "col.created_on"), Value: dateText(lang, r.s("created_on"))},
		field{Label: i18n.T(lang, "col.expected_close_on"), Value: dateText(lang, r.s("expected_close_on"))},
		field{Label: i18n.T(lang, "col.closed_on"), Value: dateText(lang, r.s("closed_on"))},
	)
	if v, ok := r.f("age_days"); ok {
		h.Fields = append(h.Fields, field{Label: i18n.T(lang, "head.age"), Value: i18n.T(lang, "head.days", i18n.Int(lang, int64(v)))})
	}
	if v := r.s("competitor"); v != "" {
		h.Notes = append(h.Notes, field{Label: i18n.T(lang, "col.competitor"), Value: v})
	}
	if v := r.s("close_reason"); v != "" {
		h.Notes = append(h.Notes, field{Label: i18n.T(lang, "col.close_reason"), Value: code(lang, "close_reason", v)})
	}
	top, err := s.renderFragment("entity_head", h)
	if err != nil {
		return nil, err
	}
	title := i18n.T(lang, "head.deal_title", r.s("opportunity_id"))
	return &pageExtra{Title: title, Top: top, NoCrumbs: true}, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
