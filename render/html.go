package render

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Document is a small report for mail bodies and print (PDF through
// render/chromium): a title, sections of key figures, figures (chart images)
// and tables, and a link back to the live page.
type Document struct {
	Lang     string // "zh-CN" or "en": the html lang attribute and the writer's own words
	Title    string
	Subtitle string // e.g. the period and the scope
	Sections []Section
	Link     *Link  // back to the live page
	Footer   string // e.g. why the recipient gets this message
}

// Section is one part of a Document; every field is optional.
type Section struct {
	Heading string
	Text    string
	KPIs    []KPI
	Figure  *Figure
	Table   *Table
	MaxRows int // rows of Table shown (0 = 100); the rest are counted, not shown
}

// KPI is a key figure, already formatted by the caller.
type KPI struct {
	Label, Value, Note string
}

// Figure is an image: a chart as PNG (mail clients render neither SVG nor
// scripts). Src is cid:… (an inline attachment), data:image/png;base64,… or
// an http(s) URL; anything else is dropped and Alt shown instead.
type Figure struct {
	Src, Alt, Caption string
	Width             int // CSS pixels (0 = 640)
}

// Link is a hyperlink (http or https).
type Link struct {
	Text, URL string
}

// The fonts of every document: Chinese first where the text is Chinese
// (Noto CJK is what Debian's fonts-noto-cjk installs, and what a PDF
// embeds), then the usual mail-client fallbacks.
const fontStack = `'Noto Sans CJK SC','Noto Sans SC','PingFang SC','Microsoft YaHei','Helvetica Neue',Arial,sans-serif`

var (
	cidSrc  = regexp.MustCompile(`^cid:[A-Za-z0-9._@-]+$`)
	dataSrc = regexp.MustCompile(`^data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/]+=*$`)
)

// imageSrc is the figure's source if it is one a mail client may load.
func imageSrc(s string) (any, bool) {
	switch {
	case cidSrc.MatchString(s), dataSrc.MatchString(s):
		return template.URL(s), true // html/template would refuse these schemes
	case strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://"):
		return s, true // html/template checks and escapes it
	}
	return nil, false
}

var words = map[string]map[string]string{
	"en":    {"more": "%d more rows are not shown.", "true": "Yes", "false": "No"},
	"zh-CN": {"more": "另有 %d 行未显示。", "true": "是", "false": "否"},
}

func word(lang, key string) string {
	if m, ok := words[lang]; ok {
		return m[key]
	}
	return words["en"][key]
}

type htmlCell struct {
	Text  string
	Right bool
}

type htmlTable struct {
	Caption string
	Head    []htmlCell
	Rows    [][]htmlCell
	More    string
}

type htmlSection struct {
	Heading string
	Text    string
	KPIs    []KPI
	Figure  *htmlFigure
	Table   *htmlTable
}

type htmlFigure struct {
	Src          any
	Alt, Caption string
	Width        int
}

var htmlTemplate = template.Must(template.New("doc").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body style="margin:0;padding:0;background:#ffffff;color:#1f2d3d;font-family:{{.Font}};font-size:14px;line-height:1.5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
<tr><td style="padding:24px 16px;">
<h1 style="margin:0 0 4px 0;font-size:22px;font-weight:bold;color:#1f2d3d;">{{.Title}}</h1>
{{- if .Subtitle}}
<p style="margin:0 0 16px 0;font-size:13px;color:#5b6b7f;">{{.Subtitle}}</p>
{{- end}}
{{- range .Sections}}
<div style="margin:20px 0 0 0;">
{{- if .Heading}}
<h2 style="margin:0 0 8px 0;font-size:17px;font-weight:bold;color:#1f2d3d;border-bottom:2px solid #2f6fde;padding-bottom:4px;page-break-after:avoid;">{{.Heading}}</h2>
{{- end}}
{{- if .Text}}
<p style="margin:0 0 8px 0;">{{.Text}}</p>
{{- end}}
{{- if .KPIs}}
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="border-collapse:separate;border-spacing:8px 0;margin:0 -8px 8px -8px;"><tr>
{{- range .KPIs}}
<td style="padding:10px 14px;background:#f2f5fa;border:1px solid #dbe2ec;vertical-align:top;">
<div style="font-size:12px;color:#5b6b7f;">{{.Label}}</div>
<div style="font-size:20px;font-weight:bold;color:#1f2d3d;white-space:nowrap;">{{.Value}}</div>
{{- if .Note}}<div style="font-size:12px;color:#5b6b7f;">{{.Note}}</div>{{end}}
</td>
{{- end}}
</tr></table>
{{- end}}
{{- with .Figure}}
<div style="margin:8px 0;page-break-inside:avoid;">
{{- if .Src}}
<img src="{{.Src}}" alt="{{.Alt}}" width="{{.Width}}" style="display:block;max-width:100%;height:auto;border:0;">
{{- else}}
<p style="margin:0;color:#5b6b7f;">[{{.Alt}}]</p>
{{- end}}
{{- if .Caption}}
<p style="margin:4px 0 0 0;font-size:12px;color:#5b6b7f;">{{.Caption}}</p>
{{- end}}
</div>
{{- end}}
{{- with .Table}}
<table cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%;font-size:13px;margin:8px 0;">
{{- if .Caption}}
<caption style="text-align:left;font-weight:bold;padding:0 0 4px 0;">{{.Caption}}</caption>
{{- end}}
<thead><tr>
{{- range .Head}}
<th style="padding:6px 8px;background:#e8edf3;border-bottom:1px solid #8a99ad;text-align:{{if .Right}}right{{else}}left{{end}};font-weight:bold;">{{.Text}}</th>
{{- end}}
</tr></thead>
<tbody>
{{- range .Rows}}
<tr style="page-break-inside:avoid;">
{{- range .}}
<td style="padding:5px 8px;border-bottom:1px solid #e3e8ef;text-align:{{if .Right}}right{{else}}left{{end}};{{if .Right}}white-space:nowrap;{{end}}">{{.Text}}</td>
{{- end}}
</tr>
{{- end}}
</tbody>
</table>
{{- if .More}}
<p style="margin:0;font-size:12px;color:#5b6b7f;">{{.More}}</p>
{{- end}}
{{- end}}
</div>
{{- end}}
{{- with .Link}}
<p style="margin:24px 0 0 0;"><a href="{{.URL}}" style="color:#2f6fde;">{{.Text}}</a></p>
{{- end}}
{{- if .Footer}}
<p style="margin:24px 0 0 0;font-size:12px;color:#8a99ad;">{{.Footer}}</p>
{{- end}}
</td></tr>
</table>
</body>
</html>
`))

// WriteHTML writes a document as one HTML page made for mail clients and
// print: inline styles only, no script, no stylesheet, layout tables, every
// text escaped (html/template). Tables show at most Section.MaxRows rows
// (the iterator is still read to the end, to count the rest); values are
// formatted by Options.Translate where it answers, otherwise for people:
// thousands separators, money with two decimals, percents with one, dates
// and instants (in Options.Location) without seconds.
func WriteHTML(w io.Writer, d *Document, o Options) error {
	lang := d.Lang
	if lang == "" {
		lang = "en"
	}
	data := struct {
		Lang, Title, Subtitle, Footer, Font string
		Sections                            []htmlSection
		Link                                *Link
	}{Lang: lang, Title: d.Title, Subtitle: d.Subtitle, Footer: d.Footer, Font: fontStack, Link: d.Link}
	if d.Link != nil && !strings.HasPrefix(d.Link.URL, "https://") && !strings.HasPrefix(d.Link.URL, "http://") {
		data.Link = nil
	}
	for _, s := range d.Sections {
		hs := htmlSection{Heading: s.Heading, Text: s.Text, KPIs: s.KPIs}
		if f := s.Figure; f != nil {
			src, _ := imageSrc(f.Src)
			wd := f.Width
			if wd <= 0 {
				wd = 640
			}
			hs.Figure = &htmlFigure{Src: src, Alt: f.Alt, Caption: f.Caption, Width: wd}
		}
		if s.Table != nil {
			t, err := htmlRows(s.Table, s.MaxRows, lang, o)
			if err != nil {
				return err
			}
			hs.Table = t
		}
		data.Sections = append(data.Sections, hs)
	}
	return htmlTemplate.Execute(w, data)
}

func htmlRows(t *Table, maxRows int, lang string, o Options) (*htmlTable, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if maxRows <= 0 {
		maxRows = 100
	}
	ht := &htmlTable{Caption: t.Name}
	for _, c := range t.Columns {
		ht.Head = append(ht.Head, htmlCell{Text: c.header(), Right: c.kind().numeric()})
	}
	var n int64
	for t.Rows.Next() {
		n++
		if n > int64(maxRows) {
			continue // counted, not shown
		}
		vals := t.Rows.Values()
		if len(vals) != len(t.Columns) {
			return nil, rowError(t, n, 0, errWidth(len(vals), len(t.Columns)))
		}
		row := make([]htmlCell, len(vals))
		for i, v := range vals {
			c := t.Columns[i]
			s, ok := "", false
			if o.Translate != nil {
				s, ok = o.Translate(c, v)
			}
			if !ok {
				s = display(c.kind(), v, lang, o)
			}
			row[i] = htmlCell{Text: s, Right: c.kind().numeric()}
		}
		ht.Rows = append(ht.Rows, row)
	}
	if err := t.Rows.Err(); err != nil {
		return nil, err
	}
	if n > int64(maxRows) {
		ht.More = fmt.Sprintf(word(lang, "more"), n-int64(maxRows))
	}
	return ht, nil
}

// display is a value formatted for people.
func display(k Kind, v any, lang string, o Options) string {
	if blank(v) {
		return ""
	}
	switch k {
	case Number, Integer, Money, Percent:
		n, ok := toNum(v)
		if !ok {
			break
		}
		switch k {
		case Money:
			return group(strconv.FormatFloat(n.f, 'f', 2, 64))
		case Percent:
			return strconv.FormatFloat(n.f*100, 'f', 1, 64) + "%"
		case Integer:
			return group(strconv.FormatFloat(math.Round(n.f), 'f', 0, 64))
		}
		if n.isInt {
			return group(strconv.FormatInt(n.i, 10))
		}
		s := strconv.FormatFloat(n.f, 'f', 2, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		return group(s)
	case Date:
		if d, ok := toDate(v); ok {
			return d.Format("2006-01-02")
		}
	case Time:
		if t, ok := toInstant(v); ok {
			return t.In(o.loc()).Format("2006-01-02 15:04")
		}
	case Bool:
		if b, ok := toBool(v); ok {
			return word(lang, strconv.FormatBool(b))
		}
	}
	return toText(v)
}

// group puts thousands separators into a plain decimal ("-1234567.5" →
// "-1,234,567.5").
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}
