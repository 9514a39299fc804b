package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/warehouse"
)

// triscope report …: directly (a loopback server is started for a PDF) and
// through a running server; list prints a header then one report per line,
// name first; run renders as a user into a folder and exits 0; a bad
// definition is refused with its file and line.
func TestReportCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a company (-short)")
	}
	dir := t.TempDir()
	must := func(out string, code int) string {
		t.Helper()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		return out
	}
	must(cli(t, dir, "", "gen", "--size", "small", "--out", "data"))
	must(cli(t, dir, "", "load", "data"))
	must(cli(t, dir, "", "refresh", "contract_execution"))
	must(cli(t, dir, "a-password-for-boss\n", "users", "add", "boss", "--role", "executive", "--password-stdin"))
	defs := filepath.Join(dir, "defs")
	os.MkdirAll(defs, 0o755)
	os.WriteFile(filepath.Join(defs, "due.yaml"), []byte(`
title: {en: Settlements due, zh-CN: 即将到期的回款}
content:
  - rows: collections.due
  - chart: collections.aging
formats: [csv, xlsx]
recipients: [{user: boss}]
channels: [archive]
`), 0o644)
	os.WriteFile(filepath.Join(defs, "after-load.yaml"), []byte(`
title: After every load
content: [{rows: collections.due}]
formats: [csv]
recipients: [{user: boss}]
channels: [archive]
schedule: {after_load: true}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "triscope.yaml"), []byte("reports_dir: "+defs+"\ndelivery:\n  channels:\n    archive:\n      kind: folder\n      folder: {root: "+filepath.Join(dir, "archive")+"}\n"), 0o644)

	out := must(cli(t, dir, "", "report", "list", "--format", "csv"))
	rows, err := csv.NewReader(strings.NewReader(out[strings.Index(out, "name,"):])).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "name" || rows[1][0] != "after-load" || rows[2][0] != "due" || rows[2][1] != "Settlements due" {
		t.Fatalf("report list --format csv:\n%s", out)
	}
	out = must(cli(t, dir, "", "report", "list"))
	if !strings.Contains(out, "directly (no server is running for it)") || !regexp.MustCompile(`(?m)^name\s+title`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^due\s+Settlements due`).MatchString(out) {
		t.Errorf("report list:\n%s", out)
	}
	formats := "csv,xlsx,parquet"
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		formats += ",pdf" // a loopback server prints it
	}
	out = must(cli(t, dir, "", "report", "run", "due", "--as", "boss", "--format", formats, "--out", "out"))
	for _, ext := range strings.Split(formats, ",") {
		if files, _ := filepath.Glob(filepath.Join(dir, "out", "*."+ext)); len(files) == 0 {
			t.Errorf("report run wrote no .%s:\n%s", ext, out)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "archive", "*")); len(files) != 0 {
		t.Errorf("report run delivered something: %v", files)
	}
	if _, code := cli(t, dir, "", "report", "run", "due", "--as", "nobody", "--out", "out"); code == 0 {
		t.Error("report run as an unknown user succeeded")
	}

	// The server, in its own process: the same commands go through it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, os.Args[0], "serve", "--addr", "127.0.0.1:0")
	srv.Dir = dir
	srv.Env = append(os.Environ(), "TRISCOPE_TEST_MAIN=1")
	stdout, _ := srv.StdoutPipe()
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := urlRE.FindString(sc.Text()); m != "" {
				found <- m
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the server did not start:\n%s", stderr.String())
	}
	through := "through the server at " + url
	if out := must(cli(t, dir, "", "report", "list")); !strings.Contains(out, through) {
		t.Errorf("report list while serving:\n%s", out)
	}
	os.RemoveAll(filepath.Join(dir, "out"))
	out = must(cli(t, dir, "", "report", "run", "due", "--as", "boss", "--format", "csv", "--out", "out"))
	if files, _ := filepath.Glob(filepath.Join(dir, "out", "*.csv")); !strings.Contains(out, through) || len(files) != 2 {
		t.Errorf("report run while serving (%d files):\n%s", len(files), out)
	}
	// A load through the server runs the after-load report.
	b, _ := os.ReadFile(filepath.Join(dir, "data", "payments.csv"))
	lines := strings.SplitN(string(b), "\n", 3)
	os.WriteFile(filepath.Join(dir, "more.csv"), []byte(lines[0]+"\n"+strings.Replace(lines[1], strings.Split(lines[1], ",")[0], "LATE-1", 1)+"\n"), 0o644)
	must(cli(t, dir, "", "load", "--entity", "payments", "more.csv"))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if files, _ := filepath.Glob(filepath.Join(dir, "archive", "after-load", "*", "boss", "*.csv")); len(files) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no after-load report after a load through the server")
		}
		time.Sleep(500 * time.Millisecond)
	}
	out = must(cli(t, dir, "", "report", "send", "due"))
	if !strings.Contains(out, "succeeded") || !strings.Contains(out, "boss") || !strings.Contains(out, "archive") {
		t.Errorf("report send:\n%s", out)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "archive", "due", "*", "boss", "*.xlsx")); len(files) != 1 {
		t.Errorf("the archive holds %v", files)
	}
	out = must(cli(t, dir, "", "report", "history", "due"))
	if !strings.Contains(out, "manual  succeeded") || !strings.Contains(out, "sent") {
		t.Errorf("report history:\n%s", out)
	}
	out = must(cli(t, dir, "", "report", "pause", "due"))
	if out = must(cli(t, dir, "", "report", "list")); !regexp.MustCompile(`(?m)^due\s.*\spaused\s`).MatchString(out) {
		t.Errorf("after pause:\n%s", out)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()

	// The after-load report ran once the refresh the load queued had
	// committed, not beside it: an after-load report reads the models too.
	w, err := warehouse.Open(ctx, warehouse.Options{Path: filepath.Join(dir, "triscope.duckdb"), Threads: 2, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var refreshed time.Time
	err = w.DB().QueryRowContext(ctx, "SELECT max(finished_at) FROM model_runs WHERE refresh_id = (SELECT max(refresh_id) FROM model_runs)").Scan(&refreshed)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	store, err := access.Open(ctx, filepath.Join(dir, "triscope.auth.duckdb"), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	var claimed time.Time
	err = store.DB().QueryRowContext(ctx, "SELECT claimed_at FROM report_runs WHERE schedule_id = 'after-load' AND trigger_kind = 'after_load'").Scan(&claimed)
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if claimed.Before(refreshed) {
		t.Errorf("the after-load report was claimed at %s, before the refresh the load queued ended (%s)",
			claimed.Format(time.StampMilli), refreshed.Format(time.StampMilli))
	}

	// A bad definition: the file and the line.
	os.WriteFile(filepath.Join(defs, "bad.yaml"), []byte("title: Bad\ncontent:\n  - chart: telescope.nope\nformats: [csv]\nrecipients: [{user: boss}]\nchannels: [archive]\n"), 0o644)
	out, code := cli(t, dir, "", "report", "validate")
	if code == 0 || !strings.Contains(out, "bad.yaml:3: content[0].chart") {
		t.Errorf("report validate with a bad file: exit %d\n%s", code, out)
	}
}

// `demo --no-serve` leaves the settings its reports need beside the
// warehouse, so that a server started later serves the same reports: the
// three demo reports are listed through that file.
func TestDemoSettingsServeItsReports(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, loads and computes the small demo company (-short)")
	}
	dir := t.TempDir()
	out, code := cli(t, dir, "", "demo", "--size", "small", "--no-serve", "--demo-password", "a-demo-password")
	if code != 0 {
		t.Fatalf("demo: exit %d:\n%s", code, out)
	}
	settings := filepath.Join(dir, "triscope-demo.yaml")
	if !strings.Contains(out, "'triscope serve --config "+settings+"'") {
		t.Errorf("demo does not say how to serve its reports later:\n%s", out)
	}
	out, code = cli(t, t.TempDir(), "", "report", "list", "--format", "csv", "--config", settings)
	if code != 0 {
		t.Fatalf("report list --config %s: exit %d:\n%s", settings, code, out)
	}
	for _, name := range []string{"daily-alert-digest", "month-end-settlements", "weekly-exec-pack"} {
		if !regexp.MustCompile(`(?m)^` + name + `,`).MatchString(out) {
			t.Errorf("report list through the demo's settings lacks %s:\n%s", name, out)
		}
	}
}
