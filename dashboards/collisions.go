package dashboards

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/charts"
	"github.com/triscope/triscope/query/i18n"
)

// Collisions (撞单): the list under the charts of /collisions, and the ruling.
// A manager rules on a collision of their subtree (both deals in it), an
// executive or an administrator on any; reps and analysts cannot. A ruling is
// a POST (session CSRF token and same-origin check, as every POST), written
// on the warehouse's write lane into collision_rulings (migration 0005), and
// recorded in the audit trail.

// canRule reports whether a role may rule on collisions at all.
func canRule(u access.User) bool {
	switch u.Role {
	case access.RoleManager, access.RoleExecutive, access.RoleAdmin:
		return !u.Disabled
	}
	return false
}

type collisionItem struct {
	OpportunityID, ConflictsWith, Link, OtherLink string
	CustomerName, OtherCustomer                   string
	CustomerLink, OtherCustomerLink               string
	Registrant, OtherRegistrant                   string
	FirstIsLater                                  bool // the later deal's registrant is the first registrant
	FirstName, OtherName                          string
	Match, Score, Status, RegisteredOn, Amount    string
	Open                                          bool
	Ruled                                         bool
	RulingText, Note                              string
	Rulings                                       int      // how often the pair was ruled on
	Earlier                                       []string // the rulings the standing one overruled, newest first
	CanRule                                       bool
	RepLink, OtherRepLink                         string // the list of one registrant's collisions (reps only)
}

type collisionListData struct {
	Lang, CSRF, Back string
	Items            []collisionItem
	Flash            string
	CanRuleRole      bool
	CanBulk          bool   // some listed collisions can be ruled on at once
	Page             int    // 1-based
	Prev, Next       string // links to the neighbouring pages ("" = none)
	RepName          string // the rep filter in force
	ClearRep         string // the list without it
}

func (s *Server) collisionList(c *echo.Context, e *query.Env) (*pageExtra, error) {
	sess := sessionOf(c)
	lang := e.Lang
	p, _ := charts.CollisionParams(e)
	page := 1
	if n, err := strconv.Atoi(c.QueryParam("page")); err == nil && n > 1 && n <= 100000 {
		page = n
	}
	p["page"], p["page_size"] = int64(page), int64(charts.CollisionPageSize)
	rows, err := s.collisionRows(c.Request().Context(), e, p)
	if err != nil {
		if st, serr := s.engine.State(c.Request().Context()); serr == nil && (!st.Objects["mart_collisions"] || !st.Objects["collision_rulings"]) {
			return nil, nil // not computed yet: the charts say so
		}
		return nil, err
	}
	d := collisionListData{Lang: lang, CSRF: sess.CSRF, Back: c.Request().URL.RequestURI(), CanRuleRole: canRule(sess.User), Page: page}
	pageLink := func(n int, set map[string]string) string {
		q := c.Request().URL.Query()
		q.Del("ruled")
		q.Del("overruled")
		q.Del("bulk")
		q.Set("page", strconv.Itoa(n))
		for k, v := range set {
			if v == "" {
				q.Del(k)
			} else {
				q.Set(k, v)
			}
		}
		if n <= 1 {
			q.Del("page")
		}
		return "/collisions?" + q.Encode() + "#collision-list"
	}
	if len(rows) > charts.CollisionPageSize {
		rows = rows[:charts.CollisionPageSize]
		d.Next = pageLink(page+1, nil)
	}
	if page > 1 {
		d.Prev = pageLink(page-1, nil)
	}
	if rep, _ := p["rep"].(string); rep != "" {
		d.RepName = rep
		d.ClearRep = pageLink(1, map[string]string{"rep": ""})
	}
	if c.QueryParam("ruled") != "" {
		d.Flash = i18n.T(lang, "collisions.flash")
		if c.QueryParam("overruled") != "" {
			d.Flash = i18n.T(lang, "collisions.overruled_flash")
		}
	}
	if n, err := strconv.Atoi(c.QueryParam("bulk")); err == nil && n > 0 {
		d.Flash = i18n.T(lang, "collisions.bulk_flash", n)
	}
	for _, r := range rows {
		it := collisionItem{
			OpportunityID: r.s("opportunity_id"), ConflictsWith: r.s("conflicts_with_opportunity_id"),
			CustomerName: r.s("customer_name"), OtherCustomer: r.s("other_customer_name"),
			Registrant: r.s("registrant_name"), OtherRegistrant: r.s("other_registrant_name"),
			Match: code(lang, "match_kind", r.s("match_kind")), Status: r.s("status"),
			RegisteredOn: dateText(lang, r.s("registered_on")), Open: r.s("status") == "open",
		}
		it.Link = localLink("/deals/", it.OpportunityID)
		it.CustomerLink = localLink("/customers/", r.s("customer_id"))
		it.OtherLink = localLink("/deals/", it.ConflictsWith)
		it.OtherCustomerLink = localLink("/customers/", r.s("conflicts_with_customer_id"))
		if v, ok := r.f("score"); ok && v < 1 {
			it.Score = fmt.Sprintf("%.0f%%", v*100)
		}
		if v, ok := r.f("amount_base"); ok {
			it.Amount = money(e, v)
		}
		first := r.s("first_registrant")
		it.FirstIsLater = first == r.s("registrant")
		if it.FirstIsLater {
			it.FirstName, it.OtherName = it.Registrant, it.OtherRegistrant
		} else {
			it.FirstName, it.OtherName = it.OtherRegistrant, it.Registrant
		}
		if first != r.s("registrant") && first != r.s("conflicts_with_registrant") {
			// the first registrant registered a third, earlier deal
			it.FirstName = registrantName(first)
		}
		if dec := r.s("decision"); dec != "" {
			it.Ruled = true
			when := ""
			if t, ok := r["ruled_at"].(time.Time); ok {
				when = i18n.DateTime(lang, t, s.engine.Location())
			}
			it.RulingText = i18n.T(lang, "collisions.ruled_text", r.s("winner_name"), r.s("ruled_by"), when)
			it.Note = r.s("note")
			if n, ok := r.f("rulings"); ok {
				it.Rulings = int(n)
			}
			for _, e := range strings.Split(r.s("earlier_rulings"), "\x1e") {
				parts := strings.SplitN(e, "|", 4)
				if len(parts) < 4 {
					continue
				}
				at := parts[2]
				if t, err := time.Parse("2006-01-02T15:04:05-0700", parts[2]); err == nil {
					at = i18n.DateTime(lang, t, s.engine.Location())
				}
				line := i18n.T(lang, "collisions.earlier_item", parts[0], parts[1], at)
				if parts[3] != "" {
					line += " — “" + parts[3] + "”"
				}
				it.Earlier = append(it.Earlier, line)
			}
		}
		it.CanRule = d.CanRuleRole && it.Open
		d.CanBulk = d.CanBulk || it.CanRule && !it.Ruled
		for _, x := range []struct {
			reg  string
			name *string
			link *string
		}{{r.s("registrant"), &it.Registrant, &it.RepLink}, {r.s("conflicts_with_registrant"), &it.OtherRegistrant, &it.OtherRepLink}} {
			if id, ok := strings.CutPrefix(x.reg, "rep:"); ok {
				*x.link = pageLink(1, map[string]string{"rep": id})
				if d.RepName == id {
					d.RepName = *x.name
				}
			}
		}
		d.Items = append(d.Items, it)
	}
	html, err := s.renderFragment("collision_list", d)
	if err != nil {
		return nil, err
	}
	return &pageExtra{Bottom: html}, nil
}

// collisionRows reads the list, cached per data version (a ruling changes it:
// ruleCollision invalidates), scope, org filter, status and ruling.
func (s *Server) collisionRows(ctx context.Context, e *query.Env, p map[string]any) ([]row, error) {
	st, err := s.engine.State(ctx)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%p|%s|%s|%v|%v|%v|%v|%v|%v", s, e.Scope.Key(), strings.Join(e.F.Orgs, ","), p["status"], p["ruling"], p["rep"], p["min_age"], p["max_age"], p["page"])
	collisionCache.Lock()
	if collisionCache.version != st.Version { // a load, a refresh or a ruling
		collisionCache.version, collisionCache.rows = st.Version, map[string][]row{}
	}
	rows, ok := collisionCache.rows[key]
	collisionCache.Unlock()
	if ok {
		return rows, nil
	}
	rows, err = s.sqlRows(ctx, e, "collisions_list.sql", p)
	if err != nil {
		return nil, err
	}
	collisionCache.Lock()
	if collisionCache.version == st.Version && len(collisionCache.rows) < 500 {
		collisionCache.rows[key] = rows
	}
	collisionCache.Unlock()
	return rows, nil
}

var collisionCache struct {
	sync.Mutex
	version string
	rows    map[string][]row
}

func registrantName(reg string) string {
	_, id, _ := strings.Cut(reg, ":")
	if id == "" {
		return reg
	}
	return id
}

// ruleCollision records a ruling: POST /collisions/rule with csrf,
// opportunity_id, conflicts_with, decision (first or other), note and back.
func (s *Server) ruleCollision(c *echo.Context) error {
	sess := sessionOf(c)
	if sess == nil {
		return echo.ErrUnauthorized
	}
	lang := langOf(c)
	if !canRule(sess.User) {
		s.audit(c, sess.User.Username, "collision_ruling_refused", map[string]any{"reason": "role", "role": sess.User.Role})
		return echo.NewHTTPError(http.StatusForbidden, i18n.T(lang, "collisions.not_allowed"))
	}
	opp := strings.TrimSpace(c.FormValue("opportunity_id"))
	other := strings.TrimSpace(c.FormValue("conflicts_with"))
	overrule := c.FormValue("overrule") == "1"
	if err := s.decide(c, sess, opp, other, c.FormValue("decision"), c.FormValue("note"), overrule); err != nil {
		return err
	}
	s.engine.Invalidate() // the charts count rulings
	return c.Redirect(http.StatusSeeOther, rulingBack(c.FormValue("back"), opp, overrule))
}

// maxBulkRulings bounds the collisions one bulk ruling may decide.
const maxBulkRulings = 100

// ruleCollisions records one decision (keep with the first registrant) on
// several collisions at once: POST /collisions/rule-bulk with pair values
// "<later deal>|<earlier deal>", a note and back. Each is checked like a
// single ruling; a bulk ruling never overrules (a pair ruled on already is
// refused: overrule it on its own, with the reason).
func (s *Server) ruleCollisions(c *echo.Context) error {
	sess := sessionOf(c)
	if sess == nil {
		return echo.ErrUnauthorized
	}
	lang := langOf(c)
	if !canRule(sess.User) {
		s.audit(c, sess.User.Username, "collision_ruling_refused", map[string]any{"reason": "role", "role": sess.User.Role})
		return echo.NewHTTPError(http.StatusForbidden, i18n.T(lang, "collisions.not_allowed"))
	}
	form, err := c.FormValues()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, i18n.T(lang, "collisions.bad_request"))
	}
	pairs := form["pair"]
	if len(pairs) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, i18n.T(lang, "collisions.bulk_none"))
	}
	if len(pairs) > maxBulkRulings {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("at most %d collisions at once", maxBulkRulings))
	}
	n := 0
	for _, pair := range pairs {
		opp, other, ok := strings.Cut(pair, "|")
		if !ok {
			return echo.NewHTTPError(http.StatusBadRequest, i18n.T(lang, "collisions.bad_request"))
		}
		if err := s.decide(c, sess, opp, other, "first", c.FormValue("note"), false); err != nil {
			if n > 0 {
				s.engine.Invalidate()
			}
			return err
		}
		n++
	}
	s.engine.Invalidate()
	back := rulingBack(c.FormValue("back"), "", false)
	u, _ := url.Parse(back)
	q := u.Query()
	q.Del("ruled")
	q.Set("bulk", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return c.Redirect(http.StatusSeeOther, u.String())
}

// decide records a ruling on one collision after checking it: a pair the
// user sees (both deals), still open, not ruled on before unless this is an
// overruling with its reason (issue 18: rulings were replaced silently).
func (s *Server) decide(c *echo.Context, sess *access.Session, opp, other, decision, note string, overrule bool) error {
	lang := langOf(c)
	note = strings.TrimSpace(note)
	if len([]rune(note)) > 500 {
		note = string([]rune(note)[:500])
	}
	if opp == "" || other == "" || len(opp) > 200 || len(other) > 200 || (decision != "first" && decision != "other") {
		return echo.NewHTTPError(http.StatusBadRequest, i18n.T(lang, "collisions.bad_request"))
	}
	e, err := s.engine.Env(c.Request().Context(), query.Request{Lang: lang, Scope: ScopeFor(sess.User), Query: url.Values{}})
	if err != nil {
		return err
	}
	rows, err := s.sqlRows(c.Request().Context(), e, "collision_pair.sql", map[string]any{"id": opp, "other": other})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return echo.ErrNotFound // not a collision the user can see (both deals)
	}
	r := rows[0]
	if n, _ := r.f("rulings"); n > 0 && !overrule {
		return echo.NewHTTPError(http.StatusConflict, i18n.T(lang, "collisions.already_ruled"))
	}
	if overrule && note == "" {
		return echo.NewHTTPError(http.StatusBadRequest, i18n.T(lang, "collisions.overrule_reason"))
	}
	if r.s("status") != "open" {
		return echo.NewHTTPError(http.StatusConflict, i18n.T(lang, "collisions.closed"))
	}
	first, regA, regB := r.s("first_registrant"), r.s("registrant"), r.s("conflicts_with_registrant")
	var winner, winnerOpp string
	switch {
	case decision == "first":
		winner = first
		switch first {
		case regA:
			winnerOpp = opp
		case regB:
			winnerOpp = other
		default:
			winnerOpp = r.s("first_registered_opportunity_id")
		}
	case regA != first:
		winner, winnerOpp = regA, opp
	default:
		winner, winnerOpp = regB, other
	}
	if s.opts.Jobs == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, i18n.T(lang, "collisions.not_allowed"))
	}
	err = s.opts.Jobs.RuleCollision(c.Request().Context(), Ruling{OpportunityID: opp, ConflictsWith: other, Decision: decision,
		WinnerOpportunityID: winnerOpp, WinnerRegistrant: winner, Note: note, By: sess.User.Username, ByRole: sess.User.Role, At: time.Now()})
	if err != nil {
		return fmt.Errorf("recording the ruling: %w", err)
	}
	action := "collision_ruling"
	if overrule {
		action = "collision_overrule"
	}
	s.audit(c, sess.User.Username, action, map[string]any{"opportunity_id": opp, "conflicts_with": other,
		"decision": decision, "winner": winner, "winner_opportunity_id": winnerOpp, "note": note})
	return nil
}

// rulingBack is where the browser goes after a ruling: the collisions page it
// came from (local paths under /collisions only), with a confirmation.
func rulingBack(back, opp string, overruled bool) string {
	u, err := url.Parse(back)
	if err != nil || u.IsAbs() || u.Host != "" || u.Path != "/collisions" {
		u = &url.URL{Path: "/collisions"}
	}
	q := u.Query()
	q.Del("page")
	if opp != "" {
		q.Set("ruled", opp)
	}
	if overruled {
		q.Set("overruled", "1")
	}
	return (&url.URL{Path: "/collisions", RawQuery: q.Encode()}).String()
}
