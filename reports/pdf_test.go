package reports_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/triscope/triscope/app"
)

// The weekly pack printed as the East China manager, in Chinese: a cover
// with the period and the scope, the Telescope page's charts, the rows
// behind the collections chart; read back by poppler (pdfinfo, pdftotext,
// pdffonts) and drawn to PNG by pdftoppm for a look (TRISCOPE_REPORT_PNG=DIR
// keeps the pages).
func TestPDFAsTheRecipient(t *testing.T) {
	setup(t)
	needChromium(t)
	pdfinfo, pdftotext, pdffonts, pdftoppm := needTool(t, "pdfinfo"), needTool(t, "pdftotext"), needTool(t, "pdffonts"), needTool(t, "pdftoppm")
	out := t.TempDir()
	cp, err := env.rt.ReportRun(context.Background(), app.ReportRunRequest{Name: "pdf-pack", As: "east", Formats: []string{"pdf", "html"}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if cp.Scope != "org:"+env.region || len(cp.Files) != 2 {
		t.Fatalf("copy %+v", cp)
	}
	pdf := cp.Files[0].Path
	if !strings.HasSuffix(pdf, "每周经营简报 "+cp.Files[0].Name[len("每周经营简报 "):]) || filepath.Ext(pdf) != ".pdf" {
		t.Fatalf("file %s: not named by the Chinese title", pdf)
	}
	info, _ := exec.Command(pdfinfo, pdf).Output()
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(info)
	pages, _ := strconv.Atoi(string(m[1]))
	if pages < 3 || !strings.Contains(string(info), "A4") {
		t.Fatalf("pdfinfo: %d pages\n%s", pages, info)
	}
	text, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	page1, _ := exec.Command(pdftotext, "-f", "1", "-l", "1", pdf, "-").Output()
	for _, want := range []string{"每周经营简报", "期间", "数据范围", "East China", "望远镜", "签约额", "明细："} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the PDF does not say %q", want)
		}
	}
	if !strings.Contains(string(page1), "2026年1月1日") || !strings.Contains(string(page1), "East manager") {
		t.Errorf("the cover lacks the period or the recipient:\n%s", page1)
	}
	// The list of rows is cut at the part's limit and says so.
	if !regexp.MustCompile(`显示前 40 行，共 \d+ 行`).Match(text) {
		t.Errorf("the rows part does not say it shows the first 40 rows")
	}
	// Page numbers, and no other region's name in the manager's rows.
	if !regexp.MustCompile(`1\s*/\s*` + strconv.Itoa(pages)).Match(text) {
		t.Errorf("no page numbers (1 / %d)", pages)
	}
	fonts, _ := exec.Command(pdffonts, pdf).Output()
	for _, line := range strings.Split(string(fonts), "\n")[2:] {
		if f := strings.Fields(line); len(f) > 4 && !strings.Contains(line, " yes ") {
			t.Errorf("a font is not embedded: %s", line)
		}
	}
	dir := os.Getenv("TRISCOPE_REPORT_PNG")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := exec.Command(pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "3", pdf, filepath.Join(dir, "pdf-pack")).Run(); err != nil {
		t.Fatal(err)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "pdf-pack-*.png"))
	if len(pngs) != 3 {
		t.Errorf("pdftoppm drew %d pages", len(pngs))
	}
	// The HTML copy: mail-safe (no script), the charts as PNG images.
	b, err := os.ReadFile(cp.Files[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	imgs, scripts := 0, 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "img":
				for _, a := range n.Attr {
					if a.Key == "src" && strings.HasPrefix(a.Val, "data:image/png;base64,") {
						imgs++
					}
				}
			case "script":
				scripts++
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if imgs < 4 || scripts != 0 {
		t.Errorf("HTML copy: %d chart images, %d scripts", imgs, scripts)
	}
}

// "Download PDF" of a dashboard page: the page as the user sees it, in
// their scope and language.
func TestPagePDF(t *testing.T) {
	setup(t)
	needChromium(t)
	pdftotext := needTool(t, "pdftotext")
	c := login(t, "east")
	resp, body := c.get("/reports/pdf?from=" + urlQuery("/magnifier?period=ytd&lang=zh-CN"))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("%d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	f := filepath.Join(t.TempDir(), "page.pdf")
	os.WriteFile(f, []byte(body), 0o600)
	text, _ := exec.Command(pdftotext, f, "-").Output()
	if !strings.Contains(string(text), "放大镜") || !strings.Contains(string(text), "East China") {
		t.Errorf("the page PDF lacks its title or the manager's region:\n%.600s", text)
	}
	if dir := os.Getenv("TRISCOPE_REPORT_PNG"); dir != "" {
		exec.Command(needTool(t, "pdftoppm"), "-r", "60", "-png", "-f", "1", "-l", "1", f, filepath.Join(dir, "page-pdf")).Run()
	}
	// Only pages of the dashboards, nothing else, may be printed.
	for _, bad := range []string{"//evil.example/", "https://evil.example/", "/reports/print?r=x", "/api/me"} {
		if resp, _ := c.get("/reports/pdf?from=" + urlQuery(bad)); resp.StatusCode != 400 {
			t.Errorf("from=%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}
