package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
)

// document is a report as one recipient sees it: every part with its
// figures (the chart engine's data in the recipient's scope and language)
// or the rows it lists, and what the cover says.
type document struct {
	Report     *Report
	Lang       string
	Title      string
	Period     string // the period of the first part, for the cover and the subject
	ScopeLabel string
	Recipient  string
	AsOf       string
	Generated  string
	Currency   string
	Parts      []*part
	figures    int
}

// part is one content item.
type part struct {
	Title   string
	Help    string
	Page    *query.Page
	Figures []*figure
	Rows    *rowsPart
	Saved   *memTable  // the rows of a saved query (in memory: the SQL face caps them)
	Note    string     // e.g. the saved query's rows were cut
	Values  url.Values // the chart API query of this part
	Env     *query.Env
}

// rowsPart lists the rows behind a chart.
type rowsPart struct {
	Chart *query.Chart
	Point string
	Limit int // rows in a PDF
}

// PDFRowLimit is how many rows a PDF lists by default (the XLSX, CSV and
// Parquet carry them all).
const PDFRowLimit = 2000

// collect resolves a report for a recipient: the environment of each part
// (its parameters, relative periods against the data's as-of date, the
// recipient's scope and language) and, with data, every chart's data.
func (s *Service) collect(ctx context.Context, r *Report, p Principal, data bool) (*document, error) {
	st, err := s.engine.State(ctx)
	if err != nil {
		return nil, err
	}
	lang := i18n.Normalize(p.Lang)
	if lang == "" {
		lang = i18n.Normalize(s.cfg.Lang)
	}
	if lang == "" {
		lang = i18n.ZH
	}
	doc := &document{Report: r, Lang: lang, Title: r.Title.Get(lang), Recipient: p.Display(), AsOf: i18n.Date(lang, st.AsOf),
		Generated: i18n.DateTime(lang, s.now(), s.engine.Location())}
	for i, c := range r.Content {
		pt := &part{}
		var page *query.Page
		var charts []string
		switch {
		case c.Page != "":
			page = pageByID(c.Page)
			if page == nil {
				return nil, fmt.Errorf("content %d: page %q does not exist", i+1, c.Page)
			}
			pt.Title = i18n.T(lang, page.Title)
			for _, sec := range page.Sections {
				charts = append(charts, sec.Charts...)
			}
		case c.Chart != "":
			ch, ok := query.ChartByID(c.Chart)
			if !ok {
				return nil, fmt.Errorf("content %d: chart %q does not exist", i+1, c.Chart)
			}
			page = query.PageOfChart(c.Chart)
			pt.Title, charts = i18n.T(lang, ch.Title), []string{c.Chart}
			if ch.Help != "" {
				pt.Help = i18n.T(lang, ch.Help)
			}
		case c.Query != "":
			pt.Title = c.Query
		default:
			ch, ok := query.ChartByID(c.Rows)
			if !ok || ch.Drill == nil {
				return nil, fmt.Errorf("content %d: chart %q has no rows", i+1, c.Rows)
			}
			page = query.PageOfChart(c.Rows)
			pt.Title = i18n.T(lang, "report.rows_of", i18n.T(lang, ch.Title))
			limit := c.Limit
			if limit <= 0 {
				limit = PDFRowLimit
			}
			pt.Rows = &rowsPart{Chart: ch, Point: c.Point, Limit: limit}
		}
		if !c.Title.IsZero() {
			pt.Title = c.Title.Get(lang)
		}
		pt.Page = page
		pt.Values = Values(st.AsOf, r.Params, c.Params)
		pt.Env, err = s.engine.Env(ctx, query.Request{Lang: lang, Scope: p.Scope, Query: pt.Values, Page: page})
		if err != nil {
			return nil, err
		}
		if c.Query != "" {
			if err := s.runSaved(ctx, pt, c.Query, p, lang); err != nil {
				return nil, fmt.Errorf("content %d: %w", i+1, err)
			}
			if !c.Title.IsZero() {
				pt.Title = c.Title.Get(lang)
			}
		}
		for _, id := range charts {
			ch, _ := query.ChartByID(id)
			f := &figure{ID: id, Title: i18n.T(lang, ch.Title), Kind: ch.Kind, Query: pt.Values.Encode(), State: "ok"}
			if ch.Help != "" {
				f.Help = i18n.T(lang, ch.Help)
			}
			if data {
				if err := s.load(pt.Env, ch, f, lang); err != nil {
					return nil, err
				}
			}
			pt.Figures = append(pt.Figures, f)
			doc.figures++
		}
		if i == 0 {
			doc.Currency = pt.Env.Currency()
			doc.Period = i18n.Date(lang, pt.Env.F.From) + " – " + i18n.Date(lang, pt.Env.F.To)
		}
		doc.Parts = append(doc.Parts, pt)
	}
	doc.ScopeLabel, err = s.scopeLabel(ctx, p.Scope, lang)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// runSaved runs a part's saved query as the recipient, with the part's
// values (the period resolved into from and to).
func (s *Service) runSaved(ctx context.Context, pt *part, name string, p Principal, lang string) error {
	if s.saved == nil {
		return fmt.Errorf("saved query %s: ad hoc SQL is not available here", name)
	}
	values := map[string]string{}
	for k, v := range pt.Values {
		values[k] = strings.Join(v, ",")
	}
	values["from"], values["to"] = pt.Env.F.From.Format(time.DateOnly), pt.Env.F.To.Format(time.DateOnly)
	res, err := s.saved.RunSaved(ctx, name, p.User, values)
	if err != nil {
		return fmt.Errorf("saved query %s as %s: %w", name, p.Key, err)
	}
	pt.Title = res.Title
	pt.Saved = &memTable{Columns: res.Columns, Rows: res.Rows}
	if res.Truncated {
		pt.Note = i18n.T(lang, "report.saved_cut", len(res.Rows))
	}
	return nil
}

// load fetches a chart's data as the dashboards serve it and tabulates it.
func (s *Service) load(e *query.Env, ch *query.Chart, f *figure, lang string) error {
	b, _, err := s.engine.Data(e, ch)
	if err != nil {
		return fmt.Errorf("chart %s: %w", ch.ID, err)
	}
	var d query.ChartData
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("chart %s: %w", ch.ID, err)
	}
	f.Data, f.State, f.Message, f.Format, f.KPIs = &d, d.State, d.Message, d.Format, d.KPIs
	f.Table, err = tabulate(&d, f.Title, lang)
	return err
}

// scopeLabel names a scope for the cover: the whole company, an org unit,
// a rep.
func (s *Service) scopeLabel(ctx context.Context, sc access.Scope, lang string) (string, error) {
	switch {
	case sc.All:
		return i18n.T(lang, "scope.all"), nil
	case sc.Empty():
		return i18n.T(lang, "scope.none"), nil
	}
	e, err := s.engine.Env(ctx, query.Request{Lang: lang, Scope: sc})
	if err != nil {
		return "", err
	}
	res, err := s.engine.Query(e, "reports_scope_label.sql", nil)
	if err != nil {
		return "", err
	}
	if len(res.Rows) == 1 && res.Str(0, "name") != "" {
		return res.Str(0, "name"), nil
	}
	return strings.TrimPrefix(strings.TrimPrefix(sc.Key(), "org:"), "rep:"), nil
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
