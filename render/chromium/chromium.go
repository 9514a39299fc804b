// Package chromium drives Debian's Chromium (never a downloaded browser),
// offline: a Pool renders PDFs (reports, "Download PDF") and PNG chart
// images (mail bodies) with one browser and a bounded number of pages; the
// dashboards' browser tests and `triscope screenshots` (a PNG of every page
// in both languages) use Launch and Page directly.
//
// The browser never reaches the network: it starts without background
// networking, component updates, sync or first-run requests, with every
// proxied (that is, every non-loopback) request sent to a closed port on
// loopback; and a Pool's pages may reach only the origins their Source
// allows (requests to any other fail before they leave the browser).
package chromium

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
)

// DefaultBin is Debian's Chromium.
const DefaultBin = "/usr/bin/chromium"

// Browser is a headless Chromium with a fresh profile.
type Browser struct {
	*rod.Browser
	l   *launcher.Launcher
	dir string
}

// deadProxy is where Chromium sends every request that is not to loopback
// (loopback is never proxied): a closed port, so nothing leaves the machine
// and no name is looked up.
const deadProxy = "127.0.0.1:9"

// Launch starts Chromium at bin (DefaultBin when empty) headless, with no
// sandbox, GPU, QUIC, first-run, background networking, component updates or
// sync, in a fresh user-data-dir, with non-loopback traffic sent to a dead
// proxy. It never downloads a browser.
func Launch(bin string) (*Browser, error) {
	if bin == "" {
		bin = DefaultBin
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("chromium not found at %s (Debian: apt-get install chromium fonts-noto-cjk): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "triscope-chromium-")
	if err != nil {
		return nil, err
	}
	l := launcher.New().Bin(bin).Headless(true).NoSandbox(true).Leakless(false).UserDataDir(dir).
		Set("disable-gpu").Set("disable-quic").Set("no-first-run").Set("disable-background-networking").
		Set("disable-component-update").Set("disable-sync").Set("disable-default-apps").
		Set("hide-scrollbars").Set("force-color-profile", "srgb").Set("lang", "en-US").
		Proxy(deadProxy)
	u, err := l.Launch()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("launching %s: %w", bin, err)
	}
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		l.Kill()
		os.RemoveAll(dir)
		return nil, err
	}
	return &Browser{Browser: b, l: l, dir: dir}, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	b.Browser.Close()
	b.l.Kill()
	b.l.Cleanup()
	os.RemoveAll(b.dir)
}

// Page is a browser tab that records console errors, uncaught exceptions,
// failed requests and JavaScript dialogs (alert, confirm, prompt).
type Page struct {
	*rod.Page
	mu      sync.Mutex
	errors  []string
	dialogs []string
}

// NewPage opens a tab of width×height CSS pixels (a fresh incognito context:
// no cookies shared with other pages).
func (b *Browser) NewPage(width, height int) (*Page, error) {
	inc, err := b.Browser.Incognito()
	if err != nil {
		return nil, err
	}
	rp, err := inc.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		return nil, err
	}
	if err := rp.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: width, Height: height, DeviceScaleFactor: 1}); err != nil {
		return nil, err
	}
	p := &Page{Page: rp}
	proto.LogEnable{}.Call(rp)
	proto.RuntimeEnable{}.Call(rp)
	go rp.EachEvent(
		func(e *proto.RuntimeConsoleAPICalled) {
			if e.Type == proto.RuntimeConsoleAPICalledTypeError || e.Type == proto.RuntimeConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, a.Value.String()+a.Description)
				}
				p.addError("console.error: " + strings.Join(parts, " "))
			}
		},
		func(e *proto.RuntimeExceptionThrown) {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			p.addError("exception: " + msg)
		},
		func(e *proto.LogEntryAdded) {
			if e.Entry.Level == proto.LogLogEntryLevelError {
				p.addError("log: " + e.Entry.Text + " " + e.Entry.URL)
			}
		},
		func(e *proto.PageJavascriptDialogOpening) {
			p.mu.Lock()
			p.dialogs = append(p.dialogs, string(e.Type)+": "+e.Message)
			p.mu.Unlock()
			go proto.PageHandleJavaScriptDialog{Accept: false}.Call(rp)
		},
	)()
	return p, nil
}

func (p *Page) addError(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, s)
}

// Errors returns (and clears) the console errors seen so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.errors
	p.errors = nil
	return out
}

// Dialogs returns the JavaScript dialogs that were opened.
func (p *Page) Dialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// Login signs in through the login form.
func (p *Page) Login(base, user, password string) error {
	if err := p.Navigate(base + "/login"); err != nil {
		return err
	}
	if err := p.WaitLoad(); err != nil {
		return err
	}
	pg := p.Timeout(15 * time.Second)
	u, err := pg.Element("input[name=username]")
	if err != nil {
		return err
	}
	if err := u.Input(user); err != nil {
		return err
	}
	pw, err := pg.Element("input[name=password]")
	if err != nil {
		return err
	}
	if err := pw.Input(password); err != nil {
		return err
	}
	btn, err := pg.Element("button[type=submit]")
	if err != nil {
		return err
	}
	wait := pg.WaitNavigation(proto.PageLifecycleEventNameLoad)
	if err := btn.Click(proto.InputMouseButtonLeft, 1); err != nil {
		return err
	}
	wait()
	info, err := pg.Info()
	if err != nil {
		return err
	}
	if strings.Contains(info.URL, "/login") {
		return fmt.Errorf("login as %s failed (still on %s)", user, info.URL)
	}
	return nil
}

// Open navigates to a dashboard URL and waits until every chart has loaded
// (body[data-loaded]; at once for pages without charts) and animations have
// settled.
func (p *Page) Open(u string) error {
	pg := p.Timeout(60 * time.Second)
	if err := pg.Navigate(u); err != nil {
		return err
	}
	if err := pg.WaitLoad(); err != nil {
		return err
	}
	// Pages of the other faces (shell.html: reports, settings, the SQL
	// console) are complete when loaded: they have no data-page.
	if _, err := pg.Element("body[data-loaded=true], body.login-page, body:not([data-page])"); err != nil {
		return fmt.Errorf("%s: charts did not finish loading: %w", u, err)
	}
	time.Sleep(700 * time.Millisecond) // ECharts animations (400 ms)
	return nil
}

// Shot saves a full-page PNG.
func (p *Page) Shot(path string) error {
	b, err := p.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// CaptureOptions choose what Capture saves.
type CaptureOptions struct {
	Base     string   // server URL, e.g. http://127.0.0.1:8080
	User     string   // account to sign in with
	Password string   // its password
	Out      string   // directory for the PNGs
	Paths    []string // pages, e.g. /telescope (with optional query)
	Langs    []string // zh-CN, en
	Bin      string   // chromium binary ("" = DefaultBin)
	Width    int      // viewport width (default 1440)
}

// Capture saves <Out>/<lang>/<NN>-<page>.png for every page and language,
// plus the login page, and returns the files written and the console errors seen.
func Capture(ctx context.Context, o CaptureOptions) ([]string, []string, error) {
	if o.Width == 0 {
		o.Width = 1440
	}
	b, err := Launch(o.Bin)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	var files, problems []string
	for _, lang := range o.Langs {
		p, err := b.NewPage(o.Width, 900)
		if err != nil {
			return files, problems, err
		}
		p.Page = p.Context(ctx)
		login := filepath.Join(o.Out, lang, "00-login.png")
		if err := p.Open(o.Base + "/login?lang=" + url.QueryEscape(lang)); err != nil {
			return files, problems, err
		}
		if err := p.Shot(login); err != nil {
			return files, problems, err
		}
		files = append(files, login)
		if err := p.Login(o.Base, o.User, o.Password); err != nil {
			return files, problems, err
		}
		for i, path := range o.Paths {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			if err := p.Open(o.Base + path + sep + "lang=" + url.QueryEscape(lang)); err != nil {
				return files, problems, err
			}
			name := strings.Trim(strings.NewReplacer("/", "-", "?", "-", "&", "-", "=", "-").Replace(path), "-")
			file := filepath.Join(o.Out, lang, fmt.Sprintf("%02d-%s.png", i+1, name))
			if err := p.Shot(file); err != nil {
				return files, problems, err
			}
			files = append(files, file)
			if i == 0 {
				// The first page's drill-through and SQL dialogs too.
				more, err := p.dialogShots(strings.TrimSuffix(file, ".png"))
				if err != nil {
					return files, problems, err
				}
				files = append(files, more...)
			}
			for _, e := range p.Errors() {
				problems = append(problems, path+" ("+lang+"): "+e)
			}
		}
		p.Close()
	}
	if len(files) == 0 {
		return nil, problems, errors.New("nothing captured")
	}
	return files, problems, nil
}

// dialogShots opens the first chart's drill-through and SQL dialogs and saves
// what the viewport shows.
func (p *Page) dialogShots(prefix string) ([]string, error) {
	var files []string
	for _, d := range []struct{ button, dialog, name string }{
		{".btn-rows", "dialog#drill[open][data-loaded=true]", "-rows.png"},
		{".btn-sql", "dialog#sql[open][data-loaded=true]", "-sql.png"},
	} {
		pg := p.Timeout(30 * time.Second)
		btn, err := pg.Element("[data-chart] " + d.button)
		if err != nil {
			continue
		}
		if err := btn.Click(proto.InputMouseButtonLeft, 1); err != nil {
			return files, err
		}
		if _, err := pg.Element(d.dialog); err != nil {
			return files, fmt.Errorf("dialog %s did not open: %w", d.dialog, err)
		}
		time.Sleep(300 * time.Millisecond)
		b, err := p.Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
		if err != nil {
			return files, err
		}
		if err := os.WriteFile(prefix+d.name, b, 0o644); err != nil {
			return files, err
		}
		files = append(files, prefix+d.name)
		if _, err := p.Eval(`() => document.querySelectorAll("dialog[open]").forEach(d => d.close())`); err != nil {
			return files, err
		}
	}
	return files, nil
}
