package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func testDocument() *Document {
	var rows [][]any
	for i := range 5 {
		rows = append(rows, []any{"</script><script>alert(1)</script>", "won", 1234567.891 * float64(i+1), int64(i), 0.253, "2024-03-31",
			time.Date(2024, 3, 31, 16, 30, 0, 0, time.UTC), i%2 == 0})
	}
	return &Document{
		Lang:     "zh-CN",
		Title:    "每周经营简报 <b>不是粗体</b>",
		Subtitle: "2024-03-25 – 2024-03-31 · 华东大区",
		Sections: []Section{
			{Heading: "关键指标", KPIs: []KPI{{Label: "签约额", Value: "¥1,234万", Note: "同比 +12%"}, {Label: "回款额", Value: "¥980万"}}},
			{Heading: "趋势", Figure: &Figure{Src: "cid:chart-1@triscope", Alt: "签约趋势图", Caption: "按月"}},
			{Heading: "bad image", Figure: &Figure{Src: "javascript:alert(1)", Alt: "被拒绝的图片"}},
			{Heading: "明细", Table: &Table{Name: "付款明细", Columns: testColumns(), Rows: SliceRows(rows)}, MaxRows: 3},
		},
		Link:   &Link{Text: "打开实时页面", URL: "https://triscope.example/telescope?lang=zh-CN&period=ytd"},
		Footer: "您收到此邮件是因为您订阅了 <周报>。",
	}
}

// TestHTMLIsMailSafe parses the output with an HTML5 parser (x/net/html)
// and checks what a mail client needs: no script, no stylesheet, no event
// handler, no javascript: URL, every element styled inline, data escaped.
func TestHTMLIsMailSafe(t *testing.T) {
	var buf bytes.Buffer
	err := WriteHTML(&buf, testDocument(), Options{Location: shanghai, Translate: func(c Column, v any) (string, bool) {
		if c.Name == "stage" {
			return "赢单", true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	var imgs []string
	var links []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "link", "iframe", "object", "svg":
				t.Errorf("a <%s> element", n.Data)
			case "img":
				for _, a := range n.Attr {
					if a.Key == "src" {
						imgs = append(imgs, a.Val)
					}
				}
			case "a":
				for _, a := range n.Attr {
					if a.Key == "href" {
						links = append(links, a.Val)
					}
				}
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s %s=…>", n.Data, a.Key)
				}
				if strings.Contains(strings.ToLower(a.Val), "javascript:") {
					t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) != "" {
			texts = append(texts, strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"每周经营简报 <b>不是粗体</b>",                 // the title as text
		"</script><script>alert(1)</script>", // data as text
		"赢单",                                 // translated
		"1,234,567.89", "2,469,135.78",       // money for people
		"25.3%", "2024-03-31", "2024-04-01 00:30", "是", "否",
		"另有 2 行未显示。", // 5 rows, 3 shown
		"[被拒绝的图片]",
		"您收到此邮件是因为您订阅了 <周报>。",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the text %q is missing", want)
		}
	}
	if strings.Count(all, "</script><script>alert(1)</script>") != 3 {
		t.Errorf("%d table rows shown, want 3", strings.Count(all, "</script><script>alert(1)</script>"))
	}
	if len(imgs) != 1 || imgs[0] != "cid:chart-1@triscope" {
		t.Errorf("images %q, want the cid: one only", imgs)
	}
	if len(links) != 1 || links[0] != "https://triscope.example/telescope?lang=zh-CN&period=ytd" {
		t.Errorf("links %q", links)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`<html lang="zh-CN">`)) {
		t.Error("no lang attribute")
	}
}
