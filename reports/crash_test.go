package reports_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/reports/schedule"
	"github.com/triscope/triscope/warehouse"
)

// helperServe is the crash test's server process (this test binary run
// again): the runtime serving a warehouse as `triscope serve` does, with
// the scheduler of two every-minute reports, until it is killed.
func helperServe() {
	port, _ := strconv.Atoi(os.Getenv("TRISCOPE_HELPER_SMTP"))
	dir := os.Getenv("TRISCOPE_HELPER_DIR")
	cfg := &app.Config{DB: filepath.Join(dir, "wh.duckdb"), BaseCurrency: "CNY", TimeZone: warehouse.DefaultTimeZone, MaxReject: 0.05,
		RefreshAfterLoad: "off", Benchmarks: access.DefaultBenchmarks, Addr: "127.0.0.1:0", ReportsDir: filepath.Join(dir, "defs"),
		Reports: app.ReportsConfig{Lang: "en", RetentionDays: 90, Grace: 5 * time.Second, Interval: time.Second, Burst: 1},
		Delivery: deliver.Config{Channels: map[string]deliver.ChannelConfig{
			"mail":    {Kind: "smtp", SMTP: &deliver.SMTPConfig{Host: "127.0.0.1", Port: port, Security: "none", From: "Triscope <reports@triscope.test>"}, Retry: deliver.RetryConfig{Attempts: 1}},
			"archive": {Kind: "folder", Folder: &deliver.FolderConfig{Root: filepath.Join(dir, "archive")}},
		}}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	rt, err := app.Open(ctx, cfg, quiet())
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	defer rt.Close()
	err = rt.Serve(ctx, app.ServeOptions{Addr: "127.0.0.1:0", NoWarmUp: true, Ready: func(u string) { fmt.Println("READY", u) }})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
}

const crashReports = `
title: Exactly once
content: [{chart: telescope.kpis}]
formats: [csv]
recipients: [{user: a1}, {user: a2}, {user: a3}]
channels: [mail]
schedule: {cron: "* * * * *", missed: latest}
`

const skipReports = `
title: Skip what was missed
content: [{chart: telescope.kpis}]
formats: [csv]
recipients: [{user: a1}]
channels: [archive]
schedule: {cron: "* * * * *", missed: skip}
`

// The server is killed (SIGKILL) while a scheduled run is delivering —
// one recipient's mail sent, the next one's in the middle of its DATA —
// and started again after two more fire times have passed: the
// interrupted (schedule, fire time) resumes and sends only what the
// ledger has not as sent, so every recipient gets each run exactly once;
// the two fire times missed while it was down follow each report's policy
// (latest: the last one runs late, the other is skipped; skip: both
// skipped), as the history says.
func TestExactlyOnceAcrossAKill(t *testing.T) {
	setup(t)
	if os.Getenv("TRISCOPE_CRASH_TEST") == "skip" {
		t.Skip("TRISCOPE_CRASH_TEST=skip")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if err := copyFile(env.template, filepath.Join(dir, "wh.duckdb")); err != nil {
		t.Fatal(err)
	}
	defs := filepath.Join(dir, "defs")
	os.MkdirAll(defs, 0o755)
	os.WriteFile(filepath.Join(defs, "exactly-once.yaml"), []byte(crashReports), 0o644)
	os.WriteFile(filepath.Join(defs, "skipper.yaml"), []byte(skipReports), 0o644)
	store, err := access.Open(ctx, filepath.Join(dir, "wh.auth.duckdb"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"a1", "a2", "a3"} {
		if err := store.PutUser(ctx, access.User{Username: u, Role: access.RoleExecutive}, "password-1"); err != nil {
			t.Fatal(err)
		}
		store.SetProfile(ctx, access.Profile{Username: u, Email: u + "@example.com"})
	}
	store.Close()
	peer := startSMTP()
	defer peer.srv.Close()
	release := make(chan struct{})
	peer.mu.Lock()
	peer.hold["a2@example.com"] = release
	peer.mu.Unlock()

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TRISCOPE_REPORTS_HELPER=1", "TRISCOPE_HELPER_DIR="+dir, fmt.Sprintf("TRISCOPE_HELPER_SMTP=%d", peer.port))
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "READY ") || strings.HasPrefix(sc.Text(), "ERROR ") {
					ready <- sc.Text()
				}
			}
		}()
		select {
		case line := <-ready:
			if !strings.HasPrefix(line, "READY") {
				t.Fatal(line)
			}
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatal("the server did not start")
		}
		return cmd
	}

	// First life: the first fire time delivers a1, then holds in a2's DATA.
	srv := start()
	select {
	case who := <-peer.held:
		if who != "a2@example.com" {
			t.Fatalf("held %s", who)
		}
	case <-time.After(3 * time.Minute):
		srv.Process.Kill()
		t.Fatal("no scheduled run reached the second recipient")
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	killed := time.Now()
	peer.mu.Lock()
	delete(peer.hold, "a2@example.com")
	peer.mu.Unlock()
	close(release) // the dead server's DATA ends without being accepted
	if n := len(peer.received()); n != 1 {
		t.Fatalf("%d messages accepted before the kill, want 1 (a1's)", n)
	}
	// Down for two more fire times, past the grace of 5 s.
	interrupted := killed.Truncate(time.Minute)
	wait := time.Until(interrupted.Add(2*time.Minute + 8*time.Second))
	t.Logf("killed at %s during the run of %s; down for %s", killed.Format(time.TimeOnly), interrupted.Format(time.TimeOnly), wait.Round(time.Second))
	time.Sleep(wait)

	// Second life: the interrupted run resumes, the missed fire times follow their policy.
	srv = start()
	deadline := time.Now().Add(3 * time.Minute)
	for len(peer.received()) < 6 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything sent twice would arrive now
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()

	// The ledger, read directly.
	store, err = access.Open(ctx, filepath.Join(dir, "wh.auth.duckdb"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ledger := schedule.NewLedger(store.DB())
	runs, err := ledger.History(ctx, "exactly-once", 0)
	if err != nil {
		t.Fatal(err)
	}
	byFire := map[time.Time]schedule.Run{}
	for _, r := range runs {
		byFire[r.FireTime.UTC()] = r
		t.Logf("exactly-once %s %s %s attempt %d: %s %s", r.FireTime.Format(time.TimeOnly), r.Trigger, r.Status, r.Attempt, r.Note, r.Error)
	}
	f1, f2, f3 := interrupted.UTC(), interrupted.Add(time.Minute).UTC(), interrupted.Add(2*time.Minute).UTC()
	if r := byFire[f1]; r.Status != schedule.StatusSucceeded || r.Attempt != 2 || !strings.Contains(r.Note, "resumed") {
		t.Errorf("the interrupted run: %+v", r)
	}
	if r := byFire[f2]; r.Status != schedule.StatusSkipped || !strings.Contains(r.Note, "superseded") {
		t.Errorf("the first missed fire time (missed: latest): %+v", r)
	}
	if r := byFire[f3]; r.Status != schedule.StatusSucceeded || !strings.Contains(r.Note, "run late") {
		t.Errorf("the last missed fire time (missed: latest): %+v", r)
	}
	skips, _ := ledger.History(ctx, "skipper", 0)
	skipped := map[time.Time]string{}
	for _, r := range skips {
		skipped[r.FireTime.UTC()] = r.Status + ": " + r.Note
	}
	for _, f := range []time.Time{f2, f3} {
		if !strings.HasPrefix(skipped[f], "skipped") || !strings.Contains(skipped[f], "missed: skip") {
			t.Errorf("skipper at %s (missed: skip): %q", f.Format(time.TimeOnly), skipped[f])
		}
	}
	// Every accepted message is a distinct (run, recipient): nothing twice,
	// nothing missing.
	keyOf := map[string]string{} // delivery key → run/recipient
	for _, f := range []time.Time{f1, f3} {
		ds, _ := ledger.Deliveries(ctx, schedule.RunID("exactly-once", f))
		for _, d := range ds {
			keyOf[d.Key] = f.Format(time.TimeOnly) + "/" + d.Recipient
			if d.Status != schedule.DeliverySent {
				t.Errorf("delivery %s → %s: %s %s", d.RunID, d.Recipient, d.Status, d.Error)
			}
		}
	}
	seen := map[string]int{}
	for _, r := range peer.received() {
		mid := parseMail(t, r.Data).Header.Get("Message-Id")
		who := "?"
		for k, v := range keyOf {
			if strings.Contains(mid, k) {
				who = v
			}
		}
		seen[who]++
	}
	for _, f := range []time.Time{f1, f3} {
		for _, u := range []string{"a1", "a2", "a3"} {
			k := f.Format(time.TimeOnly) + "/" + u
			if seen[k] != 1 {
				t.Errorf("%s received %d times, want once", k, seen[k])
			}
			delete(seen, k)
		}
	}
	for k, n := range seen {
		if !strings.HasPrefix(k, interrupted.Add(3*time.Minute).Format(time.TimeOnly)) { // a normal later run may have begun
			t.Errorf("unexpected message %s ×%d", k, n)
		}
	}
}
