package reports_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triscope/triscope/reports/schedule"
)

// Conditions are evaluated for each recipient in their own scope: a KPI
// tile compared with a value, a cooldown, and "only new rows" for an alert
// digest to a WeCom group bound to East China.
func TestConditions(t *testing.T) {
	setup(t)
	ctx := context.Background()
	send := func(name string) map[string]string {
		t.Helper()
		time.Sleep(1100 * time.Millisecond) // one manual run per second
		info, err := env.rt.ReportSend(ctx, name, "test")
		if err != nil || info.Status != schedule.StatusSucceeded {
			t.Fatalf("%s: %v %+v", name, err, info)
		}
		out := map[string]string{}
		for _, rc := range info.Recipients {
			out[rc.Key] = rc.Status + " " + rc.Note
		}
		return out
	}
	// Never holds: nothing is rendered or sent, the history says why (in
	// the recipient's language).
	got := send("cond-kpi-never")
	if !strings.HasPrefix(got["east"], "skipped ") || !strings.Contains(got["east"], "不满足 < 0") {
		t.Errorf("cond-kpi-never: %q", got["east"])
	}
	if files, _ := filepath.Glob(filepath.Join(env.dir, "archive", "cond-kpi-never", "*", "*", "*")); len(files) != 0 {
		t.Errorf("a held-back copy was archived: %v", files)
	}
	// Holds for the manager (their region collected money); the cooldown
	// holds the next copy back.
	got = send("cond-kpi-holds")
	if !strings.HasPrefix(got["east"], "delivered") {
		t.Fatalf("cond-kpi-holds, first: %q", got["east"])
	}
	got = send("cond-kpi-holds")
	if !strings.HasPrefix(got["east"], "skipped ") || !strings.Contains(got["east"], "冷却期 24h") {
		t.Errorf("cond-kpi-holds within the cooldown: %q", got["east"])
	}
	// The alert digest: the first run sends the group its alerts; the
	// second has no new one and sends nothing.
	before := len(env.wecom.messages())
	got = send("alert-digest")
	key := "ext:east-china-sales-group"
	if !strings.HasPrefix(got[key], "delivered") {
		t.Fatalf("alert digest, first: %q", got[key])
	}
	msgs := env.wecom.messages()[before:]
	var md string
	var file bool
	for _, m := range msgs {
		switch m["msgtype"] {
		case "markdown":
			md, _ = m["markdown"].(map[string]any)["content"].(string)
		case "file":
			file = true
		}
	}
	if !strings.Contains(md, "每日预警") || !strings.Contains(md, "East China") || !file {
		t.Errorf("WeCom messages %v", msgs)
	}
	got = send("alert-digest")
	if !strings.HasPrefix(got[key], "skipped ") || !strings.Contains(got[key], "没有新增行") {
		t.Errorf("alert digest, second: %q", got[key])
	}
	if n := len(env.wecom.messages()); n != before+len(msgs) {
		t.Errorf("the second digest sent %d messages", n-before-len(msgs))
	}
}

// A delivery that fails for good fails the run, visibly in the history,
// and the report's owner is told by mail.
func TestFailureNotifiesTheOwner(t *testing.T) {
	setup(t)
	before := len(env.smtp.received())
	info, err := env.rt.ReportSend(context.Background(), "unreachable", "test")
	if err == nil || info == nil || info.Status != schedule.StatusFailed || !strings.Contains(info.Error, "no valid email address") {
		t.Fatalf("%v %+v", err, info)
	}
	if rc := info.Recipients; len(rc) != 1 || rc[0].Status != "failed" || len(rc[0].Deliveries) != 1 || rc[0].Deliveries[0].Status != schedule.DeliveryFailed {
		t.Errorf("recipients %+v", rc)
	}
	got := env.smtp.received()[before:]
	if len(got) != 1 || got[0].To[0] != "admin@example.com" {
		t.Fatalf("%d messages %+v", len(got), got)
	}
	if m := parseMail(t, got[0].Data); !strings.Contains(m.Subject, "Report failed: Unreachable") || !strings.Contains(m.Text, "no valid email address") {
		t.Errorf("the owner's notice: %q\n%s", m.Subject, m.Text)
	}
}
