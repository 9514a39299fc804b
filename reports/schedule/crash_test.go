package schedule

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/triscope/triscope/reports/deliver"
)

// The crash test runs this test binary again as a helper process (the
// "server"), which schedules two reports, delivers them to a webhook
// receiver in the test process, and is killed with SIGKILL mid-run.
const (
	helperEnv    = "TRISCOPE_SCHEDULE_CRASH_HELPER"
	helperDB     = "TRISCOPE_SCHEDULE_CRASH_DB"
	helperURL    = "TRISCOPE_SCHEDULE_CRASH_URL"
	helperBase   = "TRISCOPE_SCHEDULE_CRASH_BASE"
	helperSecret = "crash-test-secret"
)

var crashRecipients = []string{"r1", "r2", "r3"}

var crashSchedules = []Schedule{
	{ID: "resume-pack", Cron: "0 8 * * *", OnCrash: CrashResume},
	{ID: "fail-pack", Cron: "0 8 * * *", OnCrash: CrashFail},
}

// offsetClock runs from a chosen instant at the wall clock's pace.
type offsetClock struct {
	base, start time.Time
}

func (c offsetClock) Now() time.Time                         { return c.base.Add(time.Since(c.start)) }
func (c offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestCrashHelper is the helper process; it does nothing in a normal run.
func TestCrashHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("the helper process of TestKilledRunIsDeliveredOnce")
	}
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "helper: "+format+"\n", a...)
		os.Exit(3)
	}
	base, err := time.Parse(time.RFC3339, os.Getenv(helperBase))
	if err != nil {
		fail("base: %v", err)
	}
	db, err := sql.Open("duckdb", os.Getenv(helperDB))
	if err != nil {
		fail("open: %v", err)
	}
	ctx := context.Background()
	if err := Migrate(ctx, db); err != nil {
		fail("migrate: %v", err)
	}
	ch, err := deliver.NewWebhook("feed", deliver.WebhookConfig{URL: os.Getenv(helperURL), Secret: helperSecret},
		deliver.WithRetry(deliver.RetryConfig{Attempts: 2, Initial: 10 * time.Millisecond}))
	if err != nil {
		fail("webhook: %v", err)
	}
	clock := offsetClock{base: base, start: time.Now()}
	var s *Scheduler
	runner := func(ctx context.Context, run Run) error {
		for _, rcpt := range crashRecipients {
			_, err := s.Ledger().Deliver(ctx, run.ID, rcpt, ch.Name(), func(ctx context.Context, key string) (string, int, error) {
				rc, err := ch.Send(ctx, deliver.Message{Report: run.ScheduleID, RunID: run.ID, Key: key, Date: run.FireTime,
					Recipient: deliver.Recipient{ID: rcpt}, Subject: "pack " + run.ScheduleID, Text: "figures for " + rcpt})
				return rc.ID, rc.Attempts, err
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	s, err = New(Config{Ledger: NewLedger(db), Run: runner, Clock: clock, Interval: 50 * time.Millisecond, Owner: fmt.Sprintf("helper:%d", os.Getpid())})
	if err != nil {
		fail("new: %v", err)
	}
	if err := s.Set(crashSchedules); err != nil {
		fail("set: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		fail("start: %v", err)
	}
	// Run until every schedule has its 08:00 run finished (the first
	// helper is killed long before), then stop cleanly.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		open, err := s.Ledger().Unfinished(ctx)
		if err != nil {
			fail("unfinished: %v", err)
		}
		done := len(open) == 0
		for _, sc := range crashSchedules {
			h, err := s.Ledger().History(ctx, sc.ID, 1)
			if err != nil {
				fail("history: %v", err)
			}
			done = done && len(h) == 1
		}
		if done {
			s.Stop(ctx)
			db.Close()
			os.Exit(0)
		}
	}
	fail("runs did not finish")
}

// crashPeer is the webhook receiver: it checks each request's signature,
// keeps one delivery per Idempotency-Key, and in the first phase holds
// two requests open until the helper is killed.
type crashPeer struct {
	t        *testing.T
	mu       sync.Mutex
	phase    int
	requests map[string][]string // report/recipient → the keys of its requests, in order
	accepted map[string]string   // key → report/recipient
	held     chan string
}

func (p *crashPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(deliver.HeaderTimestamp)
	mac := hmac.New(sha256.New, []byte(helperSecret))
	mac.Write([]byte(ts + "." + string(body)))
	if r.Header.Get(deliver.HeaderSignature) != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var pl deliver.WebhookPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get(deliver.HeaderIdempotencyKey)
	who := pl.Report + "/" + pl.Recipient.ID
	p.mu.Lock()
	p.requests[who] = append(p.requests[who], key)
	phase := p.phase
	hold := ""
	switch {
	case phase == 1 && who == "resume-pack/r2":
		// Received and kept, but the helper dies before hearing so:
		// its ledger still says pending.
		p.accepted[key] = who
		hold = who
	case phase == 1 && who == "fail-pack/r1":
		// Never completed: the helper dies while it is in flight.
		hold = who
	default:
		if _, dup := p.accepted[key]; !dup {
			p.accepted[key] = who
		}
	}
	p.mu.Unlock()
	if hold != "" {
		p.held <- hold
		<-r.Context().Done() // until the helper is killed
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func runHelper(t *testing.T, dbPath, url string, base time.Time) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDB+"="+dbPath, helperURL+"="+url, helperBase+"="+base.Format(time.RFC3339))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// TestKilledRunIsDeliveredOnce: a server process is killed with SIGKILL
// in the middle of two scheduled runs and started again on the same
// ledger file. The run whose schedule says resume finishes, sending only
// what was not recorded as sent, with the same idempotency keys: the
// receiver gets each (schedule, fire time, recipient) once. The run whose
// schedule says fail is marked failed with the reason, and nothing of it
// is sent again.
func TestKilledRunIsDeliveredOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	dbPath := filepath.Join(t.TempDir(), "app.duckdb")
	peer := &crashPeer{t: t, phase: 1, requests: map[string][]string{}, accepted: map[string]string{}, held: make(chan string, 2)}
	srv := httptest.NewServer(peer)
	defer srv.Close()

	// Phase 1: 08:00 Shanghai comes a second after the helper starts.
	base := time.Date(2026, 3, 2, 7, 59, 59, 0, shanghai)
	cmd, out := runHelper(t, dbPath, srv.URL, base)
	held := map[string]bool{}
	timeout := time.After(60 * time.Second)
	for len(held) < 2 {
		select {
		case who := <-peer.held:
			held[who] = true
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the helper never reached the point to kill it; output:\n%s", out)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die by SIGKILL: %v\n%s", err, out)
	}

	// Phase 2: the server starts again 30 seconds after the fire time.
	peer.mu.Lock()
	peer.phase = 2
	peer.mu.Unlock()
	cmd, out = runHelper(t, dbPath, srv.URL, time.Date(2026, 3, 2, 8, 0, 30, 0, shanghai))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("second helper: %v\n%s", err, out)
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("second helper did not finish:\n%s", out)
	}

	_, l := openLedger(t, dbPath)
	ctx := context.Background()
	fire := time.Date(2026, 3, 2, 8, 0, 0, 0, shanghai)
	resumeID, failID := RunID("resume-pack", fire), RunID("fail-pack", fire)
	for _, id := range []string{"resume-pack", "fail-pack"} {
		if h, _ := l.History(ctx, id, 0); len(h) != 1 {
			t.Errorf("%s has %d runs, want 1 (one per fire time)", id, len(h))
		}
	}

	// resume-pack: resumed as attempt 2 and finished.
	r, err := l.Run(ctx, resumeID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusSucceeded || r.Attempt != 2 || !strings.Contains(r.Note, "(on_crash: resume)") {
		t.Errorf("resume-pack run %+v", r)
	}
	ds, _ := l.Deliveries(ctx, resumeID)
	if len(ds) != 3 {
		t.Fatalf("resume-pack deliveries %+v", ds)
	}
	peer.mu.Lock()
	defer peer.mu.Unlock()
	for _, d := range ds {
		who := "resume-pack/" + d.Recipient
		if d.Status != DeliverySent {
			t.Errorf("%s: %s", who, d.Status)
		}
		if d.Key != DeliveryKey(resumeID, d.Recipient, "feed") {
			t.Errorf("%s: key %s", who, d.Key)
		}
		// Each recipient is accepted once, under its key.
		if peer.accepted[d.Key] != who {
			t.Errorf("%s: receiver has %q under its key", who, peer.accepted[d.Key])
		}
		reqs := peer.requests[who]
		switch d.Recipient {
		case "r1", "r3":
			// r1 was recorded sent before the kill: not sent again.
			if len(reqs) != 1 {
				t.Errorf("%s sent %d times", who, len(reqs))
			}
		case "r2":
			// Received but still pending in the ledger at the kill:
			// sent again, with the same key, so the receiver drops it.
			if len(reqs) != 2 || reqs[0] != reqs[1] || reqs[0] != d.Key {
				t.Errorf("%s requests %q", who, reqs)
			}
		}
	}

	// fail-pack: failed visibly, nothing sent again.
	r, err = l.Run(ctx, failID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusFailed || r.Attempt != 1 || !strings.Contains(r.Error, "not resumed (on_crash: fail)") {
		t.Errorf("fail-pack run %+v", r)
	}
	ds, _ = l.Deliveries(ctx, failID)
	if len(ds) != 1 || ds[0].Recipient != "r1" || ds[0].Status != DeliveryPending {
		t.Errorf("fail-pack deliveries %+v", ds)
	}
	if n := len(peer.requests["fail-pack/r1"]) + len(peer.requests["fail-pack/r2"]) + len(peer.requests["fail-pack/r3"]); n != 1 {
		t.Errorf("fail-pack: %d requests, want the 1 in flight at the kill", n)
	}
	for _, who := range peer.accepted {
		if strings.HasPrefix(who, "fail-pack/") {
			t.Errorf("receiver accepted %s", who)
		}
	}
	if len(peer.accepted) != 3 {
		t.Errorf("receiver accepted %d deliveries, want 3: %v", len(peer.accepted), peer.accepted)
	}
}
