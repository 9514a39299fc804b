package reports_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/reports"
	"github.com/triscope/triscope/reports/schedule"
)

// waitRun waits for a report's newest run to finish and returns it.
func waitRun(t *testing.T, name string, after time.Time) reports.RunInfo {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		h, err := env.svc.History(context.Background(), name, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) == 1 && !h[0].ClaimedAt.Before(after.Add(-time.Second)) && !h[0].FinishedAt.IsZero() {
			return h[0]
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no finished run of %s", name)
	return reports.RunInfo{}
}

var hrefRE = regexp.MustCompile(`href="(/reports/new\?from=[^"]+)"`)

// Subscribe… on a dashboard page: its filters become the report's
// parameters; the subscriber gets the page by mail as a PDF with a body of
// key figures and chart images, and the message offers to unsubscribe.
func TestSubscribeFromAPage(t *testing.T) {
	setup(t)
	needChromium(t)
	c := login(t, "rep")
	_, page := c.get("/telescope?period=qtd&lang=en")
	m := hrefRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the Telescope page has no Subscribe… link")
	}
	for _, want := range []string{"/reports/pdf?from=", "/reports/pdf?inline=1&amp;from="} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no link %s", want)
		}
	}
	link := html.UnescapeString(m[1])
	resp, form := c.get(link)
	if resp.StatusCode != 200 || !strings.Contains(form, `name="from" value="/telescope?period=qtd`) {
		t.Fatalf("form: %d\n%.400s", resp.StatusCode, form)
	}
	from, _ := url.Parse(link)
	resp, body := c.post("/reports", url.Values{"from": {from.Query().Get("from")}, "title": {"My telescope"}, "format_pdf": {"1"},
		"format_html": {"1"}, "channel": {"mail"}, "preset": {"weekly"}, "time": {"07:30"}, "weekday": {"1"}, "timezone": {"Asia/Shanghai"},
		"recipients": {"user:east"}}) // a rep may not name others: ignored
	if resp.StatusCode != 303 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	name := strings.TrimPrefix(strings.SplitN(resp.Header.Get("Location"), "?", 2)[0], "/reports/")
	r, err := env.svc.Report(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner != "rep" || len(r.Recipients) != 1 || r.Recipients[0].User != "rep" || r.Params["period"] != "qtd" ||
		r.Schedule.Cron != "30 7 * * 1" || r.Content[0].Page != "telescope" || r.Source != "ui" {
		t.Fatalf("report %+v", r)
	}
	before := len(env.smtp.received())
	start := time.Now()
	if resp, body := c.post("/reports/"+name+"/run", url.Values{}); resp.StatusCode != 303 {
		t.Fatalf("run now: %d %s", resp.StatusCode, body)
	}
	run := waitRun(t, name, start)
	if run.Status != schedule.StatusSucceeded {
		t.Fatalf("run: %s %s", run.Status, run.Error)
	}
	got := env.smtp.received()[before:]
	if len(got) != 1 || got[0].To[0] != "rep@example.com" {
		t.Fatalf("%d messages: %+v", len(got), got)
	}
	msg := parseMail(t, got[0].Data)
	if !strings.HasPrefix(msg.Subject, "My telescope") {
		t.Errorf("subject %q", msg.Subject)
	}
	if u := msg.Header.Get("List-Unsubscribe"); !strings.Contains(u, "https://bi.example.com/reports/"+name+"/unsubscribe") {
		t.Errorf("List-Unsubscribe %q", u)
	}
	var pdf bool
	for n := range msg.Attachments {
		pdf = pdf || strings.HasSuffix(n, ".pdf")
	}
	if !pdf || len(msg.Inline) < 4 {
		t.Errorf("attachments %v, %d inline images", keysOf(msg.Attachments), len(msg.Inline))
	}
	for cid, png := range msg.Inline {
		if !strings.Contains(msg.HTML, "cid:"+cid) || string(png[1:4]) != "PNG" {
			t.Errorf("inline %s: not referenced by the body or not a PNG", cid)
		}
	}
	if !strings.Contains(msg.HTML, "https://bi.example.com/telescope?period=qtd") || strings.Contains(msg.HTML, "<script") {
		t.Errorf("the body lacks the link back or has a script")
	}
	// Unsubscribing: a confirmation, then the subscription is gone.
	if resp, body := c.get("/reports/" + name + "/unsubscribe"); resp.StatusCode != 200 || !strings.Contains(body, "My telescope") {
		t.Fatalf("unsubscribe page: %d", resp.StatusCode)
	}
	if resp, _ := c.post("/reports/"+name+"/unsubscribe", url.Values{}); resp.StatusCode != 303 {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	if _, err := env.svc.Report(context.Background(), name); err == nil {
		t.Error("the subscription is still there")
	}
}

// Who may send what to whom, and who may read the copies.
func TestPermissions(t *testing.T) {
	setup(t)
	ctx := context.Background()
	east := login(t, "east")
	save := func(c *client, recipients string) (int, string) {
		resp, body := c.post("/reports", url.Values{"from": {"/collections?period=ytd"}, "title": {"Team collections"}, "format_csv": {"1"},
			"channel": {"archive"}, "preset": {"manual"}, "recipients": {recipients}})
		return resp.StatusCode, body
	}
	// A manager sends within their subtree only: another region's rep is refused.
	if code, body := save(east, "user:rep\nuser:other"); code != 422 || !strings.Contains(body, "outside your subtree") {
		t.Errorf("manager naming a rep of another region: %d %.300s", code, body)
	}
	if code, body := save(east, "role:rep"); code != 422 || !strings.Contains(body, "only an administrator") {
		t.Errorf("manager naming a whole role: %d", code)
	}
	if code, body := save(east, "cfo@example.com all"); code != 422 {
		t.Errorf("manager naming an external address with the whole company's scope: %d %.300s", code, body)
	}
	code, body := save(east, fmt.Sprintf("user:rep\norg:%s analyst\ncfo@example.com org:%s", env.branch, env.branch))
	if code != 303 {
		t.Fatalf("manager within the subtree: %d %.500s", code, body)
	}
	all, _ := env.svc.Reports(ctx)
	var name string
	for _, r := range all {
		if r.Owner == "east" && r.Title.EN == "Team collections" {
			name = r.Name
		}
	}
	ps, notes, err := env.svc.Resolve(ctx, mustReport(t, name))
	if err != nil || len(ps) != 3 || len(notes) != 0 {
		t.Fatalf("recipients %+v %v %v", ps, notes, err)
	}
	// The analyst receives it and sees it; the other rep neither.
	if resp, _ := login(t, "analyst").get("/reports/" + name); resp.StatusCode != 200 {
		t.Errorf("a recipient cannot see the report: %d", resp.StatusCode)
	}
	other := login(t, "other")
	if resp, _ := other.get("/reports/" + name); resp.StatusCode != 404 {
		t.Errorf("someone else sees the report: %d", resp.StatusCode)
	}
	if resp, _ := other.post("/reports/"+name+"/run", url.Values{}); resp.StatusCode != 404 {
		t.Errorf("someone else runs the report: %d", resp.StatusCode)
	}
	// Run it; each copy is readable by its recipient and the administrator only.
	info, err := env.rt.ReportSend(ctx, name, "east")
	if err != nil || info.Status != schedule.StatusSucceeded {
		t.Fatalf("send: %v %+v", err, info)
	}
	files := map[string]int64{}
	for _, rc := range info.Recipients {
		if len(rc.Files) == 0 {
			t.Fatalf("no file for %s", rc.Key)
		}
		files[rc.Key] = rc.Files[0].ID
	}
	rep, analyst, admin := login(t, "rep"), login(t, "analyst"), login(t, "admin")
	for _, c := range []struct {
		who  *client
		file string
		code int
	}{{rep, "rep", 200}, {analyst, "rep", 404}, {rep, "analyst", 404}, {east, "rep", 404}, {admin, "rep", 200}, {admin, "ext:cfo@example.com", 200}} {
		if resp, _ := c.who.get(fmt.Sprintf("/reports/files/%d", files[c.file])); resp.StatusCode != c.code {
			t.Errorf("file of %s: %d, want %d", c.file, resp.StatusCode, c.code)
		}
	}
	// The history shows a recipient only their own copy.
	_, h := rep.get("/reports/" + name)
	if strings.Contains(h, "Branch analyst") || !strings.Contains(h, "A rep") {
		t.Errorf("the rep's history shows other copies")
	}
	// Preview as another recipient: the owner may, a recipient may not.
	if resp, _ := rep.get("/reports/" + name + "/preview?format=csv&as=analyst"); resp.StatusCode != 403 {
		t.Errorf("a recipient previews as another: %d", resp.StatusCode)
	}
	if resp, body := east.get("/reports/" + name + "/preview?format=csv&as=rep"); resp.StatusCode != 200 || !strings.HasPrefix(body, "\ufeff") {
		t.Errorf("the owner previews as a recipient: %d", resp.StatusCode)
	}
	// A file report cannot be edited in the UI, nor deleted.
	if resp, _ := admin.post("/reports/burst-scope/delete", url.Values{}); resp.StatusCode != 303 {
		t.Errorf("delete of a file report: %d", resp.StatusCode)
	}
	if _, err := env.svc.Report(ctx, "burst-scope"); err != nil {
		t.Error("a file report was deleted from the UI")
	}
}

func mustReport(t *testing.T, name string) *reports.Report {
	t.Helper()
	r, err := env.svc.Report(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
