package dashboards

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// The search box of the nav bar (issue 17, point 6): customers, deals,
// contracts and reps of the user's scope by name or number, through the
// scoped relations like every chart (query/charts/sql/search.sql).

// searchHit is one result: what it is, its page, and what to show.
type searchHit struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	Label string `json:"label"`
	Sub   string `json:"sub,omitempty"`
	Link  string `json:"link"`
	Type  string `json:"type"` // the kind in the user's language
}

func (s *Server) apiSearch(c *echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	// One Chinese character is a word; one Latin letter is not worth a scan.
	if utf8.RuneCountInString(q) < 1 || len(q) < 2 && q[0] < 0x80 {
		return c.JSON(http.StatusOK, []searchHit{})
	}
	if utf8.RuneCountInString(q) > 100 {
		return echo.NewHTTPError(http.StatusBadRequest, "search for at most 100 characters")
	}
	sess := sessionOf(c)
	lang := langOf(c)
	e, err := s.engine.Env(c.Request().Context(), query.Request{Lang: lang, Scope: access.ScopeFor(sess.User), Query: url.Values{}})
	if err != nil {
		return err
	}
	res, err := s.engine.Query(e, "search.sql", map[string]any{"q": q})
	if err != nil {
		return err
	}
	out := make([]searchHit, 0, len(res.Rows))
	for i := range res.Rows {
		h := searchHit{Kind: res.Str(i, "kind"), ID: res.Str(i, "id"), Label: res.Str(i, "label"), Sub: res.Str(i, "sub")}
		switch h.Kind {
		case "customer":
			h.Link = localLink("/customers/", h.ID)
		case "deal":
			h.Link = localLink("/deals/", h.ID)
			h.Sub = code(lang, "stage", h.Sub)
		case "contract":
			h.Link = localLink("/customers/", res.Str(i, "target"))
		case "rep":
			h.Link = localLink("/reps/", h.ID)
		}
		h.Type = i18n.T(lang, "search.kind."+h.Kind)
		out = append(out, h)
	}
	return c.JSON(http.StatusOK, out)
}
