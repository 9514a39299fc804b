package reports

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/triscope/triscope/query"
	"github.com/triscope/triscope/query/i18n"
	"github.com/triscope/triscope/render"
	"github.com/triscope/triscope/render/chromium"
	"github.com/triscope/triscope/reports/deliver"
)

// File is one rendered file of a copy.
type File struct {
	Name        string `json:"name"` // as the recipient sees it (may be Chinese)
	Path        string `json:"path"`
	Format      string `json:"format"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

var contentTypes = map[string]string{
	"pdf":     "application/pdf",
	"xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"csv":     "text/csv; charset=utf-8",
	"parquet": "application/vnd.apache.parquet",
	"html":    "text/html; charset=utf-8",
}

// tableOut is one table of a document for the tabular formats: a chart's
// numbers, or the rows behind a chart (opened for each writer: a cursor is
// read once).
type tableOut struct {
	Name  string
	mem   *memTable
	rows  *rowsPart
	env   *query.Env
	lang  string
	count int64 // rows written (rows parts)
}

func (d *document) tables() []*tableOut {
	var out []*tableOut
	for _, pt := range d.Parts {
		if pt.Rows != nil {
			out = append(out, &tableOut{Name: pt.Title, rows: pt.Rows, env: pt.Env, lang: d.Lang})
			continue
		}
		if pt.Saved != nil {
			out = append(out, &tableOut{Name: pt.Title, mem: pt.Saved, lang: d.Lang})
			continue
		}
		for _, f := range pt.Figures {
			if f.Table != nil {
				out = append(out, &tableOut{Name: f.Title, mem: f.Table, lang: d.Lang})
			}
		}
	}
	return out
}

// open returns the table for a writer and a function to release it.
func (t *tableOut) open(s *Service, limit int64) (*render.Table, func(), error) {
	if t.mem != nil {
		return t.mem.table(t.Name), func() {}, nil
	}
	cur, err := s.engine.OpenRows(t.env, t.rows.Chart, t.rows.Point, 0, false, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("rows of %s: %w", t.rows.Chart.ID, err)
	}
	tb := forPeople(t.Name, t.lang, cur)
	tb.Rows = &countingRows{Rows: tb.Rows, n: &t.count}
	return tb, func() { cur.Close() }, nil
}

// forPeople is render.ForPeople streamed: the rows' code values (statuses,
// stages, channels …) in the reader's language as the UI shows them, and
// after the columns, one column of the codes themselves per column of
// codes. A column holds codes when the catalogue has labels for its kind
// (a stream cannot be looked through first).
func forPeople(name, lang string, cur *query.Cursor) *render.Table {
	codes := make([]bool, len(cur.Columns))
	for i, c := range cur.Columns {
		codes[i] = c.Type == "text" && hasCodes(lang, c.Name)
	}
	return render.PeopleTable(name, lang, cur.Columns, codes, func() ([]any, error) {
		if !cur.Next() {
			if err := cur.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		return cur.Values(), nil
	})
}

// hasCodes reports whether the catalogue labels code values of a column
// (val.<kind>.*, with query.CodeLabel's kinds).
func hasCodes(lang, col string) bool {
	kinds := []string{col}
	switch col {
	case "status":
		kinds = []string{"status", "stage", "method"}
	case "previous_segment":
		kinds = []string{"segment"}
	}
	for _, k := range kinds {
		prefix := "val." + k + "."
		for key := range i18n.Catalogue(lang) {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		}
	}
	return false
}

type countingRows struct {
	render.Rows
	n *int64
}

func (c *countingRows) Next() bool {
	ok := c.Rows.Next()
	if ok {
		*c.n++
	}
	return ok
}

// baseName is the files' name: the title and the day.
func (d *document) baseName(day string) string {
	return deliver.SafeName(d.Title+" "+day, "report")
}

// write renders one format of a document into dir.
func (s *Service) write(ctx context.Context, d *document, p Principal, format, dir, day string) ([]File, error) {
	base := d.baseName(day)
	opts := render.Options{Location: s.engine.Location()}
	create := func(name string, fn func(w io.Writer) error) (File, error) {
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return File{}, err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		err = fn(bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return File{}, fmt.Errorf("%s: %w", format, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return File{}, err
		}
		return File{Name: name, Path: path, Format: format, ContentType: contentTypes[format], Size: st.Size()}, nil
	}
	switch format {
	case "xlsx":
		tables := d.tables()
		if len(tables) == 0 {
			return nil, nil
		}
		f, err := create(base+".xlsx", func(w io.Writer) error {
			var list []*render.Table
			for _, t := range tables {
				tb, done, err := t.open(s, s.cfg.MaxRows)
				if err != nil {
					return err
				}
				defer done()
				list = append(list, tb)
			}
			_, err := render.WriteXLSX(w, list, render.XLSXOptions{Options: opts, TmpDir: dir})
			return err
		})
		return []File{f}, err
	case "csv", "parquet":
		var out []File
		tables := d.tables()
		for _, t := range tables {
			name := base + "." + format
			if len(tables) > 1 {
				name = deliver.SafeName(base+" - "+t.Name, "table") + "." + format
			}
			f, err := create(uniqueName(out, name), func(w io.Writer) error {
				tb, done, err := t.open(s, s.cfg.MaxRows)
				if err != nil {
					return err
				}
				defer done()
				if format == "csv" {
					_, err = render.WriteCSV(w, tb, opts)
				} else {
					_, err = render.WriteParquet(w, tb, opts)
				}
				return err
			})
			if err != nil {
				return out, err
			}
			out = append(out, f)
		}
		return out, nil
	case "html":
		imgs, _ := s.chartImages(ctx, d, p)
		srcs := map[int]string{}
		for i, img := range imgs {
			if img != nil {
				srcs[i] = "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
			}
		}
		f, err := create(base+".html", func(w io.Writer) error {
			doc, done, err := s.htmlDocument(d, srcs, 200)
			if err != nil {
				return err
			}
			defer done()
			return render.WriteHTML(w, doc, opts)
		})
		return []File{f}, err
	case "pdf":
		b, err := s.pdf(ctx, d, p)
		if err != nil {
			return nil, err
		}
		f, err := create(base+".pdf", func(w io.Writer) error { _, err := w.Write(b); return err })
		return []File{f}, err
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

func uniqueName(have []File, name string) string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	cand := name
	for i := 2; ; i++ {
		clash := false
		for _, f := range have {
			if f.Name == cand {
				clash = true
			}
		}
		if !clash {
			return cand
		}
		cand = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
}

// sessionCookie is the dashboards' session cookie (dashboards/middleware.go):
// the browser that prints a report carries the recipient's session in it.
const sessionCookie = "triscope_session"

// asRecipient opens a short-lived session of the recipient in the access
// store, for Chromium to load the print page as them; the returned
// function ends it.
func (s *Service) asRecipient(ctx context.Context, p Principal) ([]*http.Cookie, func(), error) {
	token, _, err := s.access.CreateSession(ctx, p.User, "127.0.0.1", "triscope-reports")
	if err != nil {
		return nil, nil, fmt.Errorf("a render session for %s: %w", p.Key, err)
	}
	end := func() {
		if err := s.access.DeleteSession(context.WithoutCancel(ctx), token); err != nil {
			s.log.Warn("reports: ending a render session", "recipient", p.Key, "err", err)
		}
	}
	return []*http.Cookie{{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true}}, end, nil
}

// printURL is the print page of a report for a recipient's language.
func (s *Service) printURL(d *document, mail bool) (string, error) {
	base := s.BaseURL()
	if base == "" {
		return "", errors.New("reports: no HTTP server to print from (PDF and chart images need the running server)")
	}
	q := url.Values{"r": {d.Report.Name}, "lang": {d.Lang}}
	if mail {
		q.Set("mail", "1")
	}
	return base + "/reports/print?" + q.Encode(), nil
}

// pdf prints a document: the print page of the report, loaded by
// Chromium as the recipient.
func (s *Service) pdf(ctx context.Context, d *document, p Principal) ([]byte, error) {
	u, err := s.printURL(d, false)
	if err != nil {
		return nil, err
	}
	cookies, end, err := s.asRecipient(ctx, p)
	if err != nil {
		return nil, err
	}
	defer end()
	o := chromium.PDFOptions{Landscape: !d.Report.Portrait, Scale: printScale(!d.Report.Portrait),
		Title: d.Title, Footer: "Triscope · " + d.ScopeLabel + " · " + d.Generated}
	return s.browser().PDF(ctx, chromium.Source{URL: u, Cookies: cookies, WaitFor: "body[data-loaded=true]", Settle: 700 * time.Millisecond}, o)
}

// The print page is laid out at the browser's width (1200 CSS pixels, the
// dashboards' width) and printed at the scale that fits it on A4: the
// printable width is 10.89 in (landscape) or 7.47 in (portrait) at 96 px.
func printScale(landscape bool) float64 {
	if landscape {
		return 10.89 * 96 / 1200
	}
	return 7.47 * 96 / 1200
}

// chartImages captures each chart of a document as a PNG (for mail bodies:
// mail clients render neither SVG nor scripts), from the print page in
// its mail layout; nil where a figure is a KPI strip or a table. An error
// leaves the images out (the mail carries the numbers anyway).
func (s *Service) chartImages(ctx context.Context, d *document, p Principal) (map[int][]byte, error) {
	var sels []string
	var idx []int
	n := 0
	for _, pt := range d.Parts {
		for _, f := range pt.Figures {
			if f.Kind == query.KindECharts && f.State == "ok" && len(idx) < s.cfg.MaxImages {
				sels = append(sels, fmt.Sprintf(`[data-fig="%d"] .chart`, n))
				idx = append(idx, n)
			}
			n++
		}
	}
	if len(sels) == 0 {
		return nil, nil
	}
	u, err := s.printURL(d, true)
	if err != nil {
		return nil, err
	}
	cookies, end, err := s.asRecipient(ctx, p)
	if err != nil {
		return nil, err
	}
	defer end()
	pngs, err := s.browser().PNGs(ctx, chromium.Source{URL: u, Cookies: cookies, WaitFor: "body[data-loaded=true]", Settle: 700 * time.Millisecond},
		sels, chromium.PNGOptions{Width: 680, Height: 900, Scale: 2})
	if err != nil {
		s.log.Warn("reports: chart images left out", "report", d.Report.Name, "recipient", p.Key, "err", err)
		return nil, err
	}
	out := map[int][]byte{}
	for i, b := range pngs {
		out[idx[i]] = b
	}
	return out, nil
}

// htmlDocument is the mail-safe document of a report: key figures as text,
// charts as images (srcs by figure index: cid: in a mail, data: in a file),
// tables and rows capped at maxRows (the rest counted, up to htmlRowScan).
// done releases the rows' cursors once the document is written.
func (s *Service) htmlDocument(d *document, srcs map[int]string, maxRows int) (doc *render.Document, done func(), err error) {
	doc = &render.Document{Lang: d.Lang, Title: d.Title, Subtitle: d.Period + " · " + d.ScopeLabel}
	var closers []func()
	done = func() {
		for _, c := range closers {
			c()
		}
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	n := 0
	for _, pt := range d.Parts {
		doc.Sections = append(doc.Sections, render.Section{Heading: pt.Title, Text: strings.TrimSpace(pt.Help + " " + pt.Note)})
		if pt.Saved != nil {
			doc.Sections = append(doc.Sections, render.Section{Table: pt.Saved.table(pt.Title), MaxRows: maxRows})
			continue
		}
		if pt.Rows != nil {
			tb, closeRows, err := (&tableOut{Name: pt.Title, rows: pt.Rows, env: pt.Env, lang: d.Lang}).open(s, htmlRowScan)
			if err != nil {
				return nil, done, err
			}
			closers = append(closers, closeRows)
			doc.Sections = append(doc.Sections, render.Section{Table: tb, MaxRows: maxRows})
			continue
		}
		for _, f := range pt.Figures {
			sec := render.Section{Heading: f.Title}
			if len(pt.Figures) == 1 {
				sec.Heading = ""
			}
			switch {
			case f.State != "ok":
				sec.Text = f.Message
			case f.Kind == query.KindKPI:
				for _, k := range f.KPIs {
					sec.KPIs = append(sec.KPIs, render.KPI{Label: k.Label, Value: show(d.Lang, d.Currency, k.Format, ptrVal(k.Value)), Note: k.Sub})
				}
			case f.Kind == query.KindTable && f.Table != nil:
				sec.Table, sec.MaxRows = f.Table.table(""), maxRows
			default:
				if src, ok := srcs[n]; ok {
					sec.Figure = &render.Figure{Src: src, Alt: f.Title, Width: 640}
				} else if f.Table != nil {
					sec.Table, sec.MaxRows = f.Table.table(""), maxRows
				}
			}
			doc.Sections = append(doc.Sections, sec)
			n++
		}
	}
	if link := s.liveLink(d); link != "" {
		doc.Link = &render.Link{Text: i18n.T(d.Lang, "report.open_live"), URL: link}
	}
	doc.Footer = i18n.T(d.Lang, "report.footer", d.Recipient, d.ScopeLabel, d.AsOf)
	return doc, done, nil
}

// htmlRowScan bounds the rows an HTML body reads to count those it does
// not show.
const htmlRowScan = 100_000

// liveLink is the live page of a report's first part on the public URL.
func (s *Service) liveLink(d *document) string {
	if s.cfg.PublicURL == "" || len(d.Parts) == 0 {
		return ""
	}
	pt := d.Parts[0]
	path := "/reports/" + d.Report.Name
	if pt.Page != nil && !strings.Contains(pt.Page.Path, ":") {
		path = pt.Page.Path
		if q := pt.Values.Encode(); q != "" {
			path += "?" + q
		}
	}
	return strings.TrimRight(s.cfg.PublicURL, "/") + path
}
