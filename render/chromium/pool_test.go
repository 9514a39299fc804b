package chromium

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triscope/triscope/render"
)

// The pool's tests drive Debian's Chromium and read its PDFs with
// poppler-utils (pdfinfo, pdftotext, pdffonts, pdftoppm). Without them they
// skip, unless TRISCOPE_BROWSER_TESTS=require (CI). TRISCOPE_RENDER_OUT=DIR
// keeps the PDF and the PNG of its first page there, to look at.
func needTools(t *testing.T, tools ...string) string {
	t.Helper()
	bin := os.Getenv("TRISCOPE_CHROMIUM")
	if bin == "" {
		bin = DefaultBin
	}
	missing := []string{}
	if _, err := os.Stat(bin); err != nil {
		missing = append(missing, bin)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("missing %v (Debian: apt-get install chromium fonts-noto-cjk poppler-utils)", missing)
		if os.Getenv("TRISCOPE_BROWSER_TESTS") == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// chartPNG is a small bar chart drawn in Go, as a data: URL.
func chartPNG(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 400, 200))
	for x := range 400 {
		for y := range 200 {
			img.Set(x, y, color.White)
		}
	}
	for i, h := range []int{60, 120, 90, 180, 150} {
		for x := 20 + i*75; x < 70+i*75; x++ {
			for y := 200 - h; y < 200; y++ {
				img.Set(x, y, color.RGBA{47, 111, 222, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func report(t *testing.T) string {
	var rows [][]any
	for i := range 120 {
		rows = append(rows, []any{fmt.Sprintf("上海远景科技有限公司 第%03d号", i+1), "华东大区", 12345.6 * float64(i+1), 0.05 * float64(i%20), "2024-03-31"})
	}
	doc := &render.Document{
		Lang:     "zh-CN",
		Title:    "每周经营简报",
		Subtitle: "2024-03-25 – 2024-03-31 · 华东大区 · 销售经理视角",
		Sections: []render.Section{
			{Heading: "关键指标", KPIs: []render.KPI{{Label: "签约额", Value: "¥1,234.5万", Note: "同比 +12.3%"}, {Label: "回款额", Value: "¥980.2万"}, {Label: "目标完成率", Value: "87.6%"}}},
			{Heading: "签约趋势", Figure: &render.Figure{Src: chartPNG(t), Alt: "签约趋势", Caption: "按周，单位：万元", Width: 400}},
			{Heading: "客户明细", Table: &render.Table{Name: "回款明细", Columns: []render.Column{
				{Name: "customer", Label: "客户"}, {Name: "region", Label: "区域"}, {Name: "amount", Label: "金额", Kind: render.Money},
				{Name: "share", Label: "占比", Kind: render.Percent}, {Name: "signed_on", Label: "签订日期", Kind: render.Date},
			}, Rows: render.SliceRows(rows)}, MaxRows: 200},
		},
		Footer: "此报告由 Triscope 自动生成。",
	}
	var buf bytes.Buffer
	if err := render.WriteHTML(&buf, doc, render.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPool(t *testing.T) {
	bin := needTools(t, "pdfinfo", "pdftotext", "pdffonts", "pdftoppm")
	pool := NewPool(bin, 2)
	defer pool.Close()
	ctx := context.Background()

	t.Run("PDF", func(t *testing.T) {
		pdf, err := pool.PDF(ctx, Source{HTML: report(t)}, PDFOptions{Title: "每周经营简报 · 华东大区 <机密>", Footer: "Triscope"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
		}
		dir := t.TempDir()
		if out := os.Getenv("TRISCOPE_RENDER_OUT"); out != "" {
			dir = out
		}
		path := filepath.Join(dir, "report.pdf")
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		info := run(t, "pdfinfo", path)
		pages := 0
		if m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(info); m != nil {
			pages, _ = strconv.Atoi(m[1])
		}
		if pages < 3 {
			t.Errorf("%d pages; 120 table rows need at least 3\n%s", pages, info)
		}
		if !regexp.MustCompile(`Page size:\s+59[45](\.\d+)? x 84[12](\.\d+)? pts \(A4\)`).MatchString(info) {
			t.Errorf("not A4:\n%s", info)
		}
		text := run(t, "pdftotext", "-layout", path, "-")
		for _, want := range []string{"每周经营简报", "华东大区", "上海远景科技有限公司 第001号", "上海远景科技有限公司 第120号",
			"签约额", "¥1,234.5万", "1,481,472.00", "此报告由 Triscope 自动生成。", "每周经营简报 · 华东大区 <机密>",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("pdftotext finds no %q", want)
			}
		}
		for _, p := range []int{1, pages} { // page numbers in the footer
			if !regexp.MustCompile(fmt.Sprintf(`(?m)Triscope\s+%d\s*/\s*%d$`, p, pages)).MatchString(text) {
				t.Errorf("pdftotext finds no footer \"Triscope … %d / %d\"", p, pages)
			}
		}
		// Every font is embedded, with a map back to Unicode (Skia embeds
		// the CFF outlines of Noto Sans CJK as Type 3 glyphs: the text looks
		// the same on any machine and pdftotext reads it, as checked above).
		fonts := run(t, "pdffonts", path)
		lines := strings.Split(strings.TrimSpace(fonts), "\n")
		if len(lines) < 3 {
			t.Errorf("no fonts:\n%s", fonts)
		}
		for _, line := range lines[min(2, len(lines)):] {
			f := strings.Fields(line) // name type [encoding...] emb sub uni object ID
			if len(f) < 6 || f[len(f)-5] != "yes" || f[len(f)-3] != "yes" {
				t.Errorf("a font not embedded or without Unicode map: %s", line)
			}
		}
		// The first page as a picture (look at it: TRISCOPE_RENDER_OUT).
		run(t, "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", path, filepath.Join(dir, "report-page1"))
		f, err := os.Open(filepath.Join(dir, "report-page1.png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() < 480 || b.Dx() > 500 || b.Dy() < 690 || b.Dy() > 710 {
			t.Errorf("page 1 at 60 dpi is %v, want about 496 × 702 (A4)", b)
		}
		if blue := countColor(img, color.RGBA{47, 111, 222, 255}, 40); blue < 1000 {
			t.Errorf("page 1 shows %d pixels of the chart's blue: the image is missing", blue)
		}
	})

	t.Run("PNGOfAnElement", func(t *testing.T) {
		doc := `<!DOCTYPE html><html><body style="margin:0">
			<p>标题</p><div id="chart" style="width:300px;height:150px;background:rgb(47,111,222)"></div></body></html>`
		b, err := pool.PNG(ctx, Source{HTML: doc}, PNGOptions{Selector: "#chart"})
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != 600 || img.Bounds().Dy() != 300 {
			t.Errorf("element PNG is %v, want 600 × 300 (300 × 150 CSS pixels at scale 2)", img.Bounds())
		}
		if r, g, bl, _ := img.At(300, 150).RGBA(); r>>8 != 47 || g>>8 != 111 || bl>>8 != 222 {
			t.Errorf("the middle pixel is %d,%d,%d, want the element's 47,111,222", r>>8, g>>8, bl>>8)
		}
	})

	t.Run("NoOtherOrigin", func(t *testing.T) {
		var otherHits atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otherHits.Add(1)
		}))
		defer other.Close()
		var sawCookie sync.Map
		var okHits atomic.Int32
		page := fmt.Sprintf(`<!DOCTYPE html><html><head><link rel="stylesheet" href="%[1]s/x.css"><script src="%[1]s/x.js"></script></head>
			<body><img src="/ok.png"><img src="%[1]s/x.png"><iframe src="%[1]s/frame"></iframe>
			<div id="done">x</div><script>fetch(%[1]q + "/fetch").catch(() => {})</script></body></html>`, other.URL)
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := r.Cookie("session"); err == nil {
				sawCookie.Store(r.URL.Path, c.Value)
			}
			if r.URL.Path == "/ok.png" {
				okHits.Add(1)
				w.Header().Set("Content-Type", "image/png")
				w.Write(mustDecode(chartPNG(t)))
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
		}))
		defer site.Close()
		var blocked []string
		var mu sync.Mutex
		src := Source{URL: site.URL + "/page", Settle: 300 * time.Millisecond,
			Cookies: []*http.Cookie{{Name: "session", Value: "recipient-1"}},
			Blocked: func(u string) { mu.Lock(); blocked = append(blocked, u); mu.Unlock() }}
		if _, err := pool.PNG(ctx, src, PNGOptions{Selector: "#done"}); err != nil {
			t.Fatal(err)
		}
		// An HTML document may reach nothing at all.
		if _, err := pool.PDF(ctx, Source{HTML: page, Settle: 300 * time.Millisecond}, PDFOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := otherHits.Load(); n != 0 {
			t.Errorf("the other origin got %d requests", n)
		}
		if okHits.Load() != 1 {
			t.Errorf("the page's own image was requested %d times, want 1", okHits.Load())
		}
		mu.Lock()
		if len(blocked) < 3 {
			t.Errorf("blocked %q; want the stylesheet, script, image, frame and fetch of the other origin", blocked)
		}
		mu.Unlock()
		if v, _ := sawCookie.Load("/page"); v != "recipient-1" {
			t.Errorf("the page saw session %v, want recipient-1", v)
		}
		// The next job is another incognito context: no cookie carries over.
		sawCookie.Clear()
		if _, err := pool.PNG(ctx, Source{URL: site.URL + "/again"}, PNGOptions{Selector: "#done"}); err != nil {
			t.Fatal(err)
		}
		if v, ok := sawCookie.Load("/again"); ok {
			t.Errorf("the next job sent the previous job's cookie %v", v)
		}
	})

	t.Run("BoundedPages", func(t *testing.T) {
		var now, most atomic.Int32
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/favicon.ico" {
				// A page's own second request (the browser asks for it
				// once the page has loaded): not a page; counted, it made
				// "3 requests at once" beside 2 pages (CI, 2026-12-08).
				http.NotFound(w, r)
				return
			}
			n := now.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
			// Done before the answer leaves: counted after it (a deferred
			// decrement), a handler descheduled under load still counted
			// while the browser had its page, closed it and asked for the
			// next one (3 "at once" seen beside a load average of 12).
			now.Add(-1)
			w.Write([]byte(`<!DOCTYPE html><div id="x" style="width:10px;height:10px"></div>`))
		}))
		defer slow.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := pool.PNG(ctx, Source{URL: fmt.Sprintf("%s/%d", slow.URL, i)}, PNGOptions{Selector: "#x"})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		pool.mu.Lock()
		defer pool.mu.Unlock()
		if pool.maxBusy > 2 || most.Load() > 2 {
			t.Errorf("%d pages open at once (%d requests), the pool allows 2", pool.maxBusy, most.Load())
		}
		if pool.launches != 1 {
			t.Errorf("%d browsers started, want 1", pool.launches)
		}
	})

	t.Run("Restart", func(t *testing.T) {
		pool.mu.Lock()
		b := pool.b
		pool.mu.Unlock()
		b.l.Kill() // the browser dies
		time.Sleep(200 * time.Millisecond)
		if _, err := pool.PNG(ctx, Source{HTML: `<div id="x" style="width:5px;height:5px"></div>`}, PNGOptions{Selector: "#x"}); err != nil {
			t.Fatalf("after the browser died: %v", err)
		}
	})
}

func mustDecode(dataURL string) []byte {
	b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, "data:image/png;base64,"))
	return b
}

func countColor(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-int(c.R)) <= tol && abs(int(g>>8)-int(c.G)) <= tol && abs(int(bl>>8)-int(c.B)) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
