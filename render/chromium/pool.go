package chromium

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// ErrClosed is returned by a Pool's methods after Close.
var ErrClosed = errors.New("chromium: pool closed")

// Pool renders PDFs and PNGs with one headless Chromium (started on first
// use, restarted if it dies) and at most N pages at a time; callers beyond
// N wait their turn (or their context). Every job gets a fresh incognito
// context, so no cookie or storage passes from one recipient's job to the
// next, and may reach only the origins its Source allows.
type Pool struct {
	bin string
	sem chan struct{}

	mu       sync.Mutex
	b        *Browser
	closed   bool
	launches int // browsers started (tests)
	busy     int // pages open now
	maxBusy  int // most pages open at once (tests)
}

// NewPool makes a pool over the Chromium at bin (DefaultBin when empty)
// with at most pages pages at once (1 when less).
func NewPool(bin string, pages int) *Pool {
	return &Pool{bin: bin, sem: make(chan struct{}, max(pages, 1))}
}

// Close stops the browser. Jobs under way fail.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.b != nil {
		p.b.Close()
		p.b = nil
	}
}

// Source is what a job renders: a URL or an HTML document.
type Source struct {
	// URL is a page to load, e.g. a dashboard on the loopback server. The
	// page may reach its own origin and the Allow list, nothing else.
	URL string
	// HTML is a whole document, used when URL is empty. It may reach only
	// the Allow list (data: URLs need no network).
	HTML string
	// Allow lists further origins (scheme://host:port) the page may reach.
	Allow []string
	// Cookies are set for the URL before it loads (e.g. the session of the
	// recipient the page is rendered as).
	Cookies []*http.Cookie
	// WaitFor is a CSS selector that must match before rendering (e.g.
	// "body[data-loaded=true]" for a dashboard page).
	WaitFor string
	// Settle is a pause after loading (chart animations).
	Settle time.Duration
	// Blocked, when set, is told each request that was refused.
	Blocked func(url string)
}

// PDFOptions shape a PDF.
type PDFOptions struct {
	Landscape bool
	Title     string  // printed at the top of every page (escaped)
	Footer    string  // printed at the bottom left of every page (escaped)
	Plain     bool    // no header or footer, not even page numbers
	Scale     float64 // 0 = 1
}

// A4 in inches, and the margins that leave room for header and footer.
const (
	a4Width, a4Height = 8.27, 11.69
	marginTopBottom   = 0.6 // 15 mm
	marginSides       = 0.4 // 10 mm
)

// printFont is the font of header and footer: Chromium draws them apart
// from the page, so they name the CJK font themselves.
const printFont = `font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;font-size:8px;color:#667;`

// PDF prints a source as an A4 PDF with its backgrounds, a header with
// Title and a footer with Footer and "page / pages", fonts embedded (the
// Chinese glyphs come from Debian's fonts-noto-cjk).
func (p *Pool) PDF(ctx context.Context, src Source, o PDFOptions) ([]byte, error) {
	var out []byte
	err := p.run(ctx, src, 1200, 900, 1, func(pg *rod.Page) error {
		w, h := a4Width, a4Height
		tb, lr := marginTopBottom, marginSides
		scale := o.Scale
		if scale <= 0 {
			scale = 1
		}
		req := &proto.PagePrintToPDF{
			Landscape: o.Landscape, PrintBackground: true, Scale: &scale,
			PaperWidth: &w, PaperHeight: &h,
			MarginTop: &tb, MarginBottom: &tb, MarginLeft: &lr, MarginRight: &lr,
			DisplayHeaderFooter: !o.Plain,
		}
		if !o.Plain {
			req.HeaderTemplate = `<div style="` + printFont + `width:100%;margin:0 10mm;">` + html.EscapeString(o.Title) + `</div>`
			req.FooterTemplate = `<div style="` + printFont + `width:100%;margin:0 10mm;display:flex;justify-content:space-between;">` +
				`<span>` + html.EscapeString(o.Footer) + `</span>` +
				`<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`
		}
		r, err := pg.PDF(req)
		if err != nil {
			return err
		}
		out, err = io.ReadAll(r)
		return err
	})
	return out, err
}

// PNGOptions shape a PNG.
type PNGOptions struct {
	Selector      string  // the element to capture; "" = the whole page
	Width, Height int     // the viewport in CSS pixels (0 = 1200 × 800)
	Scale         float64 // device pixels per CSS pixel (0 = 2: sharp on high-density screens)
}

// PNG captures an element of a source (a chart for a mail body: mail
// clients render neither SVG nor scripts), or the whole page.
func (p *Pool) PNG(ctx context.Context, src Source, o PNGOptions) ([]byte, error) {
	if o.Width <= 0 {
		o.Width = 1200
	}
	if o.Height <= 0 {
		o.Height = 800
	}
	if o.Scale <= 0 {
		o.Scale = 2
	}
	var out []byte
	err := p.run(ctx, src, o.Width, o.Height, o.Scale, func(pg *rod.Page) error {
		if o.Selector == "" {
			b, err := pg.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
			out = b
			return err
		}
		b, err := captureElement(pg, o.Selector)
		out = b
		return err
	})
	return out, err
}

// PNGs captures several elements of one source, loaded once (the charts of
// a mail body): one PNG per selector, in order.
func (p *Pool) PNGs(ctx context.Context, src Source, selectors []string, o PNGOptions) ([][]byte, error) {
	if o.Width <= 0 {
		o.Width = 1200
	}
	if o.Height <= 0 {
		o.Height = 800
	}
	if o.Scale <= 0 {
		o.Scale = 2
	}
	out := make([][]byte, len(selectors))
	err := p.run(ctx, src, o.Width, o.Height, o.Scale, func(pg *rod.Page) error {
		for i, sel := range selectors {
			b, err := captureElement(pg, sel)
			if err != nil {
				return err
			}
			out[i] = b
		}
		return nil
	})
	return out, err
}

// captureElement is a PNG of one element at the page's device scale.
func captureElement(pg *rod.Page, selector string) ([]byte, error) {
	el, err := pg.Element(selector)
	if err != nil {
		return nil, fmt.Errorf("chromium: no element %s: %w", selector, err)
	}
	// The element's box, in CSS pixels of the page (rod's own element
	// screenshot crops at scale 1 and loses the device scale).
	if err := el.ScrollIntoView(); err != nil {
		return nil, err
	}
	res, err := el.Eval(`() => { const r = this.getBoundingClientRect();
		return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; }`)
	if err != nil {
		return nil, err
	}
	var box [4]float64
	if err := res.Value.Unmarshal(&box); err != nil {
		return nil, err
	}
	if box[2] <= 0 || box[3] <= 0 {
		return nil, fmt.Errorf("chromium: element %s has no size", selector)
	}
	req := &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng, CaptureBeyondViewport: true,
		Clip: &proto.PageViewport{X: box[0], Y: box[1], Width: box[2], Height: box[3], Scale: 1}}
	return pg.Screenshot(false, req)
}

// browser is the running browser, started if need be.
func (p *Pool) browser() (*Browser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.b == nil {
		b, err := Launch(p.bin)
		if err != nil {
			return nil, err
		}
		p.b = b
		p.launches++
	}
	return p.b, nil
}

// forget drops a browser that stopped answering, so the next job starts a
// new one.
func (p *Pool) forget(b *Browser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.b == b {
		p.b = nil
		go b.Close()
	}
}

func (p *Pool) enter(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	p.busy++
	p.maxBusy = max(p.maxBusy, p.busy)
	p.mu.Unlock()
	return nil
}

func (p *Pool) leave() {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
	<-p.sem
}

// run loads a source in a fresh incognito page and calls fn with it.
func (p *Pool) run(ctx context.Context, src Source, width, height int, scale float64, fn func(*rod.Page) error) error {
	if src.URL == "" && src.HTML == "" {
		return errors.New("chromium: a source needs a URL or HTML")
	}
	allowed := map[string]bool{}
	for _, a := range src.Allow {
		u, err := url.Parse(a)
		if err != nil || u.Host == "" {
			return fmt.Errorf("chromium: allowed origin %q is not scheme://host[:port]", a)
		}
		allowed[origin(u)] = true
	}
	if src.URL != "" {
		u, err := url.Parse(src.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("chromium: %q is not an http(s) URL", src.URL)
		}
		allowed[origin(u)] = true
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
	}
	if err := p.enter(ctx); err != nil {
		return err
	}
	defer p.leave()

	b, err := p.browser()
	if err != nil {
		return err
	}
	inc, err := b.Incognito()
	if err != nil { // the browser may have died: one new one
		p.forget(b)
		if b, err = p.browser(); err != nil {
			return err
		}
		if inc, err = b.Incognito(); err != nil {
			return err
		}
	}
	defer proto.TargetDisposeBrowserContext{BrowserContextID: inc.BrowserContextID}.Call(b) //nolint:errcheck
	pg, err := inc.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		return err
	}
	defer pg.Close() //nolint:errcheck
	pg = pg.Context(ctx)
	if err := pg.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: width, Height: height, DeviceScaleFactor: scale}); err != nil {
		return err
	}

	// Every request passes here: allowed origins continue, the rest fail
	// before they leave the browser.
	router := pg.HijackRequests()
	if err := router.Add("*", "", func(h *rod.Hijack) {
		u := h.Request.URL()
		if allowed[origin(u)] {
			h.ContinueRequest(&proto.FetchContinueRequest{})
			return
		}
		if src.Blocked != nil {
			src.Blocked(u.String())
		}
		h.Response.Fail(proto.NetworkErrorReasonBlockedByClient)
	}); err != nil {
		return err
	}
	go router.Run()
	defer router.Stop() //nolint:errcheck

	if src.URL != "" {
		var cookies []*proto.NetworkCookieParam
		for _, c := range src.Cookies {
			cookies = append(cookies, &proto.NetworkCookieParam{Name: c.Name, Value: c.Value, URL: src.URL,
				Path: c.Path, HTTPOnly: c.HttpOnly, Secure: c.Secure})
		}
		if len(cookies) > 0 {
			if err := pg.SetCookies(cookies); err != nil {
				return err
			}
		}
		if err := pg.Navigate(src.URL); err != nil {
			return fmt.Errorf("chromium: loading %s: %w", src.URL, err)
		}
		if err := pg.WaitLoad(); err != nil {
			return err
		}
	} else if err := pg.SetDocumentContent(src.HTML); err != nil {
		return err
	}
	// Fonts and images first: a PDF printed before a font has loaded falls
	// back to another face.
	if _, err := pg.Eval(`() => Promise.all([document.fonts.ready].concat(Array.from(document.images).map(
		i => i.complete ? null : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }))))`); err != nil {
		return err
	}
	if src.WaitFor != "" {
		if _, err := pg.Element(src.WaitFor); err != nil {
			return fmt.Errorf("chromium: waiting for %s: %w", src.WaitFor, err)
		}
	}
	if src.Settle > 0 {
		select {
		case <-time.After(src.Settle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fn(pg)
}

// origin is scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}
