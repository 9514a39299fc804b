package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the triscope command: run with
// TRISCOPE_TEST_MAIN=1 it is main(), so the tests drive the real CLI in
// separate processes (a server and the commands that reach it) without a
// separate build.
func TestMain(m *testing.M) {
	if os.Getenv("TRISCOPE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	chaosCleanup()
	os.Exit(code)
}

// cli runs `triscope args...` in dir and returns its output and exit code.
func cli(t *testing.T, dir, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TRISCOPE_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("triscope %v: %v", args, err)
	}
	return string(out), code
}

// While `triscope serve` owns the warehouse, the administrative commands
// work through it and say so: users add and list, load, refresh. Without a
// server they open the file directly, and say that instead.
func TestCommandsWorkWhileTheServerRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and several commands (-short)")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "wh.duckdb")
	must := func(out string, code int) string {
		t.Helper()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		return out
	}
	must(cli(t, dir, "", "gen", "--size", "small", "--out", "data"))
	out := must(cli(t, dir, "", "load", "--db", db, "data"))
	if !strings.Contains(out, "directly (no server is running for it)") {
		t.Errorf("a load without a server says it loads the file directly:\n%s", out)
	}
	must(cli(t, dir, "", "refresh", "--db", db, "rfm", "contract_execution"))
	// The warehouse and the application database (users, sessions) are
	// private to the user running triscope, whatever the umask.
	for _, f := range []string{db, filepath.Join(dir, "wh.auth.duckdb")} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, st.Mode().Perm())
		}
	}

	// The server, in its own process.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, os.Args[0], "serve", "--db", db, "--addr", "127.0.0.1:0")
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

	out = must(cli(t, dir, "a-password-for-eve\n", "users", "add", "eve", "--db", db, "--role", "executive", "--password-stdin"))
	if !strings.Contains(out, through) || !strings.Contains(out, "added eve") {
		t.Errorf("users add while serving:\n%s", out)
	}
	out = must(cli(t, dir, "", "users", "list", "--db", db))
	if !strings.Contains(out, through) || !strings.Contains(out, "eve") || !strings.Contains(out, "executive") {
		t.Errorf("users list while serving:\n%s", out)
	}
	// A user for an org unit the warehouse does not hold is refused, with the reason.
	out, code := cli(t, dir, "a-password-for-bob\n", "users", "add", "bob", "--db", db, "--role", "manager", "--org-unit", "ORG-NOPE", "--password-stdin")
	if code == 0 || !strings.Contains(out, "ORG-NOPE") {
		t.Errorf("users add with an unknown org unit: exit %d\n%s", code, out)
	}

	// A load through the server: one new payment of an existing contract.
	var contract, customer string
	if b, err := os.ReadFile(filepath.Join(dir, "data", "payments.csv")); err == nil {
		lines := strings.Split(string(b), "\n")
		header := strings.Split(lines[0], ",")
		first := strings.Split(lines[1], ",")
		for i, h := range header {
			switch h {
			case "contract_id":
				contract = first[i]
			case "customer_id":
				customer = first[i]
			}
		}
	}
	if contract == "" || customer == "" {
		t.Fatal("no contract in the generated payments")
	}
	extra := filepath.Join(dir, "late_payment.csv")
	os.WriteFile(extra, []byte(fmt.Sprintf("payment_id,contract_id,customer_id,paid_on,amount\nCLI-1,%s,%s,2026-10-29,123.45\n", contract, customer)), 0o644)
	out = must(cli(t, dir, "", "load", "--db", db, "--entity", "payments", extra))
	if !strings.Contains(out, "loading into "+db+" "+through) || !strings.Contains(out, "committed") || !strings.Contains(out, "refreshes the models") {
		t.Errorf("load while serving:\n%s", out)
	}
	out = must(cli(t, dir, "", "refresh", "--db", db, "rfm"))
	if !strings.Contains(out, through) || !strings.Contains(out, "refreshed 1 models") {
		t.Errorf("refresh while serving:\n%s", out)
	}
	out = must(cli(t, dir, "", "users", "audit", "--db", db, "--limit", "20"))
	for _, action := range []string{"user_add", "load", "refresh"} {
		if !strings.Contains(out, action) {
			t.Errorf("the audit trail lacks %s:\n%s", action, out)
		}
	}

	// The server file is private and goes away with the server.
	sf := db + ".server.json"
	if st, err := os.Stat(sf); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("server file: %v, mode %v", err, st.Mode().Perm())
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	if _, err := os.Stat(sf); !os.IsNotExist(err) {
		t.Errorf("the server file outlived the server: %v", err)
	}
	out = must(cli(t, dir, "", "users", "list", "--db", db))
	if !strings.Contains(out, "directly (no server is running for it)") {
		t.Errorf("after the server stopped, users list opens the file:\n%s", out)
	}
}
