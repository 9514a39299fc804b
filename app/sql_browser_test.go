package app_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"

	shots "github.com/triscope/triscope/render/chromium"
)

// TestSQLConsoleBrowser drives the console in Debian's Chromium (skipped
// without it unless TRISCOPE_BROWSER_TESTS=require): type a query, run it,
// see the grid with its row count and time, export it (CSV and XLSX), save
// it, open it again from the saved list, run it again; the schema browser
// lists only the analyst's relations; no console error anywhere.
func TestSQLConsoleBrowser(t *testing.T) {
	bin := os.Getenv("TRISCOPE_CHROMIUM")
	if bin == "" {
		bin = shots.DefaultBin
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("TRISCOPE_BROWSER_TESTS") == "require" {
			t.Fatalf("chromium not found at %s", bin)
		}
		t.Skipf("chromium not found at %s", bin)
	}
	setupSQL(t)
	b, err := shots.Launch(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := b.NewPage(1440, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Login(sqlEnv.base, "analyst", sqlEnv.password); err != nil {
		t.Fatal(err)
	}
	if err := p.Open(sqlEnv.base + "/sql?lang=en"); err != nil {
		t.Fatal(err)
	}
	pg := p.Timeout(30 * time.Second)
	eval := func(js string) string {
		t.Helper()
		res, err := pg.Eval(js)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return res.Value.String()
	}
	waitFor := func(js, what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for eval(js) != "true" {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; status %q, error %q", what, eval(`() => document.getElementById("sqlc-status").textContent`),
					eval(`() => document.getElementById("sqlc-error").textContent`))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The schema browser: the analyst's relations, no helpers. The console
	// marks its body loaded once the schema has arrived (Open does not wait
	// for it: the console has no charts); under load it comes after Open.
	waitFor(`() => document.body.dataset.loaded === "true"`, "the schema")
	if got := eval(`() => [...document.querySelectorAll("#sqlc-schema [data-relation]")].map(e => e.dataset.relation).join(",")`); !strings.Contains(got, "customers") || strings.Contains(got, "_facts") {
		t.Fatalf("schema browser: %s", got)
	}

	// Type a query into the editor.
	const q = "SELECT industry, count(*) AS customers FROM customers GROUP BY ALL ORDER BY customers DESC, industry"
	ed, err := pg.Element(".cm-content")
	if err != nil {
		t.Fatal(err)
	}
	if err := ed.Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
	pg.KeyActions().Press(input.ControlLeft).Type(input.KeyA).MustDo()
	pg.Keyboard.Type(input.Backspace)
	if err := pg.InsertText(q); err != nil {
		t.Fatal(err)
	}
	if got := eval(`() => document.querySelector(".cm-content").innerText.trim()`); got != q {
		t.Fatalf("the editor holds %q", got)
	}

	// Run it: the grid, the count, the time.
	pg.MustElement("#sqlc-run").MustClick()
	waitFor(`() => !!document.querySelector("#sqlc-table tbody tr")`, "the grid")
	rows := eval(`() => String(document.querySelectorAll("#sqlc-table tbody tr").length)`)
	status := eval(`() => document.getElementById("sqlc-status").textContent`)
	if rows == "0" || !strings.Contains(status, "rows") || !strings.Contains(status, "ms") {
		t.Errorf("grid rows %s, status %q", rows, status)
	}
	want := viaAPI(t, "analyst", q, 10*time.Second)
	if rows != strconv.Itoa(len(want.rows)) {
		t.Errorf("the grid shows %s rows, the API %d", rows, len(want.rows))
	}
	if hdr := eval(`() => [...document.querySelectorAll("#sqlc-table th")].map(e => e.firstChild.textContent).join(",")`); hdr != "industry,customers" {
		t.Errorf("header %q", hdr)
	}

	// The quick chart.
	pg.MustElement(`[data-tab=chart]`).MustClick()
	waitFor(`() => !!document.querySelector("#sqlc-chart canvas")`, "the chart")
	pg.MustElement(`[data-tab=grid]`).MustClick()

	// Export: CSV and XLSX come back as files.
	for _, f := range []string{"csv", "xlsx"} {
		pg.MustElement(`[data-export=` + f + `]`).MustClick()
		waitFor(`() => document.getElementById("sqlc-status").getAttribute("data-exported") === "`+f+`"`, "the "+f+" export")
	}

	// Save it, with a name and a description, shared with managers.
	pg.MustElement("#sqlc-save").MustClick()
	pg.MustElement(`#sqlc-saveform input[name=name]`).MustInput("Industries of my branch")
	pg.MustElement(`#sqlc-saveform input[name=description]`).MustInput("customers per industry")
	pg.MustElement(`#sqlc-saveform select[name=shared_role]`).MustSelect("Manager")
	pg.MustElement(`#sqlc-saveform button[type=submit]`).MustClick()
	waitFor(`() => [...document.querySelectorAll("#sqlc-saved [data-saved] button")].some(b => b.textContent === "Industries of my branch")`, "the saved query")

	// Reload, replace the editor's text, reopen the saved query, run it.
	if err := p.Open(sqlEnv.base + "/sql?lang=en"); err != nil {
		t.Fatal(err)
	}
	pg = p.Timeout(30 * time.Second)
	pg.MustElement(".cm-content").MustClick()
	pg.KeyActions().Press(input.ControlLeft).Type(input.KeyA).MustDo()
	pg.Keyboard.Type(input.Backspace)
	pg.InsertText("SELECT 1")
	waitFor(`() => [...document.querySelectorAll("#sqlc-saved [data-saved] button")].some(b => b.textContent === "Industries of my branch")`, "the saved list")
	eval(`() => { [...document.querySelectorAll("#sqlc-saved [data-saved] button")].find(b => b.textContent === "Industries of my branch").click(); return "" }`)
	waitFor(`() => document.querySelector(".cm-content").innerText.trim() === `+jsString(q), "the saved SQL in the editor")
	if cur := eval(`() => document.getElementById("sqlc-current").textContent`); !strings.Contains(cur, "Industries of my branch") {
		t.Errorf("current query: %q", cur)
	}
	pg.MustElement("#sqlc-run").MustClick()
	waitFor(`() => document.querySelectorAll("#sqlc-table tbody tr").length === `+strconv.Itoa(len(want.rows)), "the grid again")

	// The history lists it; the manager of the branch sees the shared query.
	waitFor(`() => [...document.querySelectorAll("#sqlc-history button")].some(b => b.title === `+jsString(q)+`)`, "the history")
	br := signIn(t, "manager")
	resp := br.do(t, "GET", "/api/sql/saved", "")
	var saved struct {
		Saved []struct{ Name, Owner string } `json:"saved"`
	}
	jsonDecode(resp, &saved)
	resp.Body.Close()
	shared := false
	for _, q := range saved.Saved {
		shared = shared || q.Name == "Industries of my branch" && q.Owner == "analyst"
	}
	if !shared {
		t.Errorf("the manager's saved queries lack the analyst's shared one: %+v", saved)
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	if os.Getenv("TRISCOPE_SQL_SHOT") != "" {
		p.Shot(os.Getenv("TRISCOPE_SQL_SHOT"))
	}
}

func jsString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
