package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdlog "log"
	"math/rand/v2"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/spf13/cobra"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/reports/deliver"
	"github.com/triscope/triscope/reports/schedule"
	"github.com/triscope/triscope/warehouse"
)

// triscope chaos report: kill -9 a server at random points of a report run
// (issue 18). The run is started the way an administrator starts one ("run
// now": `triscope report send`, through the server's admin API), the
// server is killed, started again, and must close the run with every
// recipient's copy delivered exactly once on every channel: mail to an SMTP
// server on loopback in this process, files to an archive folder.

const (
	chaosReportName = "chaos-burst"
	chaosMailDomain = "triscope.test"
)

// chaosReportDef bursts to five users, each rendered in their own scope,
// in formats that need no Chromium (CI time stays small).
const chaosReportDef = `title: Chaos burst
content:
  - rows: telescope.collections
    limit: 200
  - chart: telescope.bookings
params: {period: ytd}
formats: [csv, xlsx]
recipients: [{user: exec1}, {user: exec2}, {user: exec3}, {user: mgr}, {user: rep1}]
channels: [mail, archive]
`

func newChaosReportCmd() *cobra.Command {
	var runs int
	var seed uint64
	var from, size, work string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "kill -9 a server at random points of a report run: every copy delivered exactly once",
		Long: `Kill a server with SIGKILL at random points of a report run, --runs times. The
warehouse starts as the demo company (seed 1) loaded and computed, or a copy of --db,
with five users and a report that bursts to them (csv and xlsx) over two channels: mail
to an SMTP server on loopback run by this command, and an archive folder.

Each run starts a server ('triscope serve') on a fresh copy, runs the report now
through its admin API (as 'triscope report send' does), kills the server after a delay
drawn over the time of one whole run (measured first, unkilled: 40 % anywhere, 60 %
around its end, where the last copies are delivered and the run is closed), starts it
again and waits until the ledger closes the run. Then: the run succeeded with every
delivery sent; every (recipient, channel) arrived exactly once — mail counted by
Message-ID (it carries the delivery key; a repeat with the same Message-ID is one a
receiver recognises, and counted apart), archive files at their paths, no temporary
file left; the warehouse unchanged and the application database opening.

The kill delays are drawn from --seed (printed; the same seed gives the same delays).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			from = sourceWarehouse(cmd, from)
			return runChaosKills(cmd, work, runs, func(ctx context.Context, e *chaosEnv) (int, error) {
				return chaosReport(ctx, e, runs, chaosSeed(seed), from, size)
			})
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 50, "how many kills")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed of the kill delays (0: from the clock; printed)")
	cmd.Flags().StringVar(&from, "from", "", "start from a copy of this warehouse instead of the demo company (never written; --db FILE says the same)")
	cmd.Flags().StringVar(&size, "size", "small", "size of the demo company: small, default, large")
	cmd.Flags().StringVar(&work, "work", "", "work directory (default: a temporary one, removed unless a check fails)")
	return cmd
}

// reportChaos is what every run of chaos report shares.
type reportChaos struct {
	e        *chaosEnv
	peer     *mailPeer
	before   string   // the starting warehouse, users in its application database
	stBefore *whState // its state (a report run only reads the warehouse)
	archive  string   // the archive channel's root
	files    []string // the archive's files after a whole run, dates as DATE
	pairs    int      // deliveries of a whole run: recipients × channels
}

func chaosReport(ctx context.Context, e *chaosEnv, runs int, seed uint64, from, size string) (int, error) {
	out := e.out
	rc := &reportChaos{e: e, before: e.path("before.duckdb"), archive: e.path("archive")}
	if err := e.prepareCompany(ctx, from, size, rc.before); err != nil {
		return 0, err
	}
	if err := rc.addUsers(ctx); err != nil {
		return 0, fmt.Errorf("adding the report's recipients: %w", err)
	}
	var err error
	if rc.stBefore, err = readWarehouseState(ctx, rc.before); err != nil {
		return 0, err
	}
	if rc.peer, err = startMailPeer(); err != nil {
		return 0, fmt.Errorf("starting the SMTP server on loopback: %w", err)
	}
	defer rc.peer.close()
	if err := rc.writeConfig(); err != nil {
		return 0, err
	}

	// One whole run, unkilled: its time, and what it leaves in the archive.
	run := e.path("run.duckdb")
	measure := rc.once(ctx, run, e.path("run-0.log"), time.Hour)
	if measure.killed || len(measure.problems) > 0 || measure.ran == 0 {
		return 0, fmt.Errorf("the report run, unkilled, did not pass its checks (log %s): %s", e.path("run-0.log"), strings.Join(measure.problems, "; "))
	}
	fmt.Fprintf(out, "the report run takes %.1fs end to end (run now through the server's admin API): %d deliveries, %d archive files\n",
		measure.ran.Seconds(), rc.pairs, len(rc.files))
	rerun := fmt.Sprintf("triscope chaos report --runs %d --seed %d", runs, seed)
	if from != "" {
		rerun += " --from " + from
	} else if size != "small" {
		rerun += " --size " + size
	}
	fmt.Fprintf(out, "%d kills, seed %d (rerun: %s)\n", runs, seed, rerun)

	rng := rand.New(rand.NewPCG(seed, 0x7265_706f_7274))
	counts := map[string]int{}
	bad, killed, repeats := 0, 0, 0
	// As in chaos load: 40 % of the kills anywhere in the run, 60 % around
	// its end, where the last copies go out and the ledger closes the run;
	// the run's time is re-measured as the runs go.
	estimate := measure.ran
	for i := 1; i <= runs; i++ {
		u := rng.Float64()
		if rng.IntN(5) >= 2 {
			u = 0.8 + rng.Float64()*0.5
		}
		delay := time.Duration(u * float64(estimate))
		log := e.path(fmt.Sprintf("run-%d.log", i))
		res := rc.once(ctx, run, log, delay)
		switch {
		case !res.killed && res.ran > 0:
			estimate = res.ran
		case res.killed && strings.HasPrefix(res.outcome, "killed: resumed") && delay > estimate:
			estimate = delay * 11 / 10 // killed later than the estimate, still before its end
		}
		if res.killed && !res.closedFirst {
			killed++
		}
		repeats += res.repeats
		counts[res.outcome]++
		status := "ok"
		if len(res.problems) > 0 {
			bad++
			keep := e.path(fmt.Sprintf("broken-%d", i))
			os.MkdirAll(keep, 0o700)
			copyWarehouse(run, filepath.Join(keep, "run.duckdb"))
			os.Rename(rc.archive, filepath.Join(keep, "archive"))
			status = "BROKEN: " + cutLine(strings.Join(res.problems, "; "), 600) + fmt.Sprintf(" (kept in %s, log %s)", keep, log)
		} else {
			os.Remove(log)
		}
		if res.note != "" {
			status += " (" + res.note + ")"
		}
		fmt.Fprintf(out, "run %2d/%d: kill at %6.3fs (%.2f) → %-44s %s\n", i, runs, delay.Seconds(), u, res.outcome, status)
	}
	fmt.Fprintf(out, "%d runs of the report, seed %d: %d killed during the run, %d finished before the kill, %d broken\n",
		runs, seed, killed, runs-killed, bad)
	if repeats > 0 {
		fmt.Fprintf(out, "(%d mails sent again after a kill with the Message-ID of one accepted before it: a receiver recognises them)\n", repeats)
	}
	return bad, nil
}

// addUsers adds the report's recipients to the starting application
// database: three executives, a manager of a department and a rep, each
// with an address at the SMTP server.
func (rc *reportChaos) addUsers(ctx context.Context) error {
	var dept, rep string
	w, err := warehouse.Open(ctx, warehouse.Options{Path: rc.before, Threads: 2, Logger: discardLogger()})
	if err != nil {
		return err
	}
	err = w.DB().QueryRowContext(ctx, `SELECT (SELECT min(org_unit_id) FROM live.org_units WHERE level = 'department'),
		(SELECT min(rep_id) FROM live.reps)`).Scan(&dept, &rep)
	w.Close()
	if err != nil {
		return fmt.Errorf("choosing a department and a rep: %w", err)
	}
	store, err := access.Open(ctx, authPathOf(rc.before), discardLogger())
	if err != nil {
		return err
	}
	defer store.Close()
	users := []access.User{
		{Username: "exec1", Role: access.RoleExecutive}, {Username: "exec2", Role: access.RoleExecutive},
		{Username: "exec3", Role: access.RoleExecutive}, {Username: "mgr", Role: access.RoleManager, OrgUnit: dept},
		{Username: "rep1", Role: access.RoleRep, RepID: rep},
	}
	for _, u := range users {
		if err := store.PutUser(ctx, u, access.RandomPassword()); err != nil {
			return err
		}
		if err := store.SetProfile(ctx, access.Profile{Username: u.Username, Email: u.Username + "@" + chaosMailDomain, Lang: "en"}); err != nil {
			return err
		}
	}
	return nil
}

// writeConfig replaces the work directory's configuration (which the
// server children read): the report's folder, short scheduler intervals,
// and the two channels.
func (rc *reportChaos) writeConfig() error {
	defs := rc.e.path("report-defs")
	if err := os.MkdirAll(defs, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(defs, chaosReportName+".yaml"), []byte(chaosReportDef), 0o600); err != nil {
		return err
	}
	// The scheduler looks every second (a resumed run starts at once);
	// one attempt per send: the SMTP server here does not fail, and a
	// retry would hide nothing the ledger does.
	cfg := fmt.Sprintf(`# triscope chaos report
reports_dir: %q
reports: {lang: en, burst: 2, interval: 1s, grace: 5s}
delivery:
  channels:
    mail:
      kind: smtp
      smtp: {host: 127.0.0.1, port: %d, security: none, from: "Triscope <reports@%s>", timeout: 20s}
      retry: {attempts: 2, initial: 200ms, max: 1s}
    archive:
      kind: folder
      folder: {root: %q}
      retry: {attempts: 2, initial: 200ms, max: 1s}
`, defs, rc.peer.port, chaosMailDomain, rc.archive)
	return os.WriteFile(rc.e.path("triscope.yaml"), []byte(cfg), 0o600)
}

// reportRunResult is what one run did.
type reportRunResult struct {
	outcome  string
	note     string
	problems []string
	killed   bool
	ran      time.Duration // how long the run took when it was not killed
	repeats  int
	// closedFirst: the ledger had closed the run before the kill (the
	// answer to run now was on its way): it finished before the kill.
	closedFirst bool
}

// once runs the report on a fresh copy of the starting warehouse through a
// server, kills the server after delay unless the run ended first, starts
// it again until the run is closed, and checks what was delivered.
func (rc *reportChaos) once(ctx context.Context, db, log string, delay time.Duration) (res reportRunResult) {
	e := rc.e
	fail := func(format string, a ...any) { res.problems = append(res.problems, fmt.Sprintf(format, a...)) }
	if err := copyWarehouse(rc.before, db); err != nil {
		res.outcome = "not started"
		fail("copying the warehouse: %v", err)
		return res
	}
	os.RemoveAll(rc.archive)
	rc.peer.reset()
	cfg, err := e.config(db)
	if err != nil {
		res.outcome = "not started"
		fail("%v", err)
		return res
	}
	srv, _, stop, err := e.startServer(ctx, db, log)
	if err != nil {
		res.outcome = "server did not start"
		fail("%v", err)
		return res
	}
	adm, err := connectServer(ctx, cfg)
	if err != nil {
		stop()
		res.outcome = "server did not answer"
		fail("%v", err)
		return res
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := adm.ReportSend(ctx, chaosReportName, "chaos")
		done <- err
	}()
	select {
	case err := <-done:
		res.ran = time.Since(start)
		res.outcome = "finished before the kill"
		if err != nil {
			fail("run now failed without a kill: %v", err)
		}
		if err := stop(); err != nil {
			fail("stopping the server: %v", err)
		}
	case <-time.After(delay):
		srv.Process.Signal(syscall.SIGKILL)
		stop() // waits for it; its error is the kill
		<-done // (an error, or the answer of a run that had just closed)
		res.killed = true
		res.outcome = "killed"
		// Second life: the ledger resumes the run, or finds none.
		_, _, stop2, err := e.startServer(ctx, db, log)
		if err != nil {
			res.outcome += ", no restart"
			fail("the server did not start again after the kill: %v", err)
			return res
		}
		if adm2, err := connectServer(ctx, cfg); err != nil {
			fail("%v", err)
		} else if n, err := waitRunsClosed(ctx, adm2, 2*time.Minute); err != nil {
			fail("%v", err)
		} else if n == 0 {
			res.outcome = "killed before the run was claimed"
			res.note = ""
		}
		if err := stop2(); err != nil {
			fail("stopping the restarted server: %v", err)
		}
	}
	rc.check(ctx, db, &res)
	if res.killed && res.outcome == "killed" {
		res.outcome, res.note = "killed: "+res.note, ""
	}
	return res
}

// connectServer is the admin API of the server serving cfg.DB: never the
// warehouse opened by this process (app.Connect would open it when no
// server answers, and run the report here).
func connectServer(ctx context.Context, cfg *app.Config) (app.Admin, error) {
	if _, ok := app.RunningServer(ctx, cfg.DB); !ok {
		return nil, fmt.Errorf("no server answers for %s although it printed its address: see the log", cfg.DB)
	}
	return app.Connect(ctx, cfg, discardLogger())
}

// waitRunsClosed waits until every run of the report has finished, and
// returns how many there are.
func waitRunsClosed(ctx context.Context, adm app.Admin, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		hist, err := adm.ReportHistory(ctx, chaosReportName, 10)
		if err != nil {
			return 0, fmt.Errorf("the report's history through the restarted server: %w", err)
		}
		open := 0
		for _, h := range hist {
			if h.FinishedAt.IsZero() {
				open++
			}
		}
		if open == 0 {
			return len(hist), nil
		}
		if time.Now().After(deadline) {
			return len(hist), fmt.Errorf("the run did not close within %s of the restart (%d runs open)", limit, open)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

var isoDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// check compares what a run left with what a whole run delivers.
func (rc *reportChaos) check(ctx context.Context, db string, res *reportRunResult) {
	fail := func(format string, a ...any) { res.problems = append(res.problems, fmt.Sprintf(format, a...)) }
	// The ledger, read directly once the server stopped.
	store, err := access.Open(ctx, authPathOf(db), discardLogger())
	if err != nil {
		fail("the application database does not open: %v", err)
		return
	}
	ledger := schedule.NewLedger(store.DB())
	runs, err := ledger.History(ctx, chaosReportName, 0)
	var ds []schedule.Delivery
	if err == nil && len(runs) == 1 {
		ds, err = ledger.Deliveries(ctx, runs[0].ID)
	}
	store.Close()
	if err != nil {
		fail("reading the ledger: %v", err)
		return
	}
	mails := rc.peer.messages()
	files, temps, ferr := archiveFiles(rc.archive)
	if ferr != nil {
		fail("reading the archive: %v", ferr)
	}
	if len(temps) > 0 {
		fail("temporary files left in the archive: %s", abbreviate(temps, 4))
	}
	if len(runs) == 0 {
		// Killed before run now was recorded: nothing may have gone out.
		if !res.killed {
			fail("the run finished but the ledger has no run")
		}
		if len(mails) > 0 || len(files) > 0 {
			fail("no run in the ledger, yet %d mails and %d archive files went out", len(mails), len(files))
		}
		res.note = "nothing sent"
	} else {
		if len(runs) > 1 {
			fail("%d runs in the ledger, want 1", len(runs))
		}
		r := runs[0]
		if r.Status != schedule.StatusSucceeded {
			fail("run %s is %s (attempt %d): %s %s", r.ID, r.Status, r.Attempt, r.Note, r.Error)
		}
		switch {
		case r.Attempt > 1:
			res.note = fmt.Sprintf("resumed, attempt %d", r.Attempt)
		case strings.Contains(r.Note, "stopped before starting it"):
			res.note = "started after the restart"
		default:
			res.closedFirst = true
			if res.killed {
				res.note = "closed before the kill"
			}
		}
		if rc.pairs == 0 {
			rc.pairs = len(ds) // the measuring run
		}
		if len(ds) != rc.pairs {
			fail("%d deliveries in the ledger, want %d", len(ds), rc.pairs)
		}
		// Every mail delivery arrived once by its Message-ID; nothing else did.
		want := map[string]string{} // Message-ID → recipient
		for _, d := range ds {
			if d.Status != schedule.DeliverySent {
				fail("delivery to %s via %s is %s: %s", d.Recipient, d.Channel, d.Status, d.Error)
			}
			if d.Channel == "mail" {
				want[deliver.MessageIDFor(d.Key, chaosMailDomain)] = d.Recipient
			}
		}
		got := map[string]int{}
		for _, m := range mails {
			got[m.id]++
		}
		for id, who := range want {
			switch n := got[id]; {
			case n == 0:
				fail("%s's mail never arrived (Message-ID %s)", who, id)
			case n > 1:
				res.repeats += n - 1
			}
		}
		for id, n := range got {
			if _, ok := want[id]; !ok {
				fail("a mail the ledger does not know arrived %d times (Message-ID %q)", n, id)
			}
		}
		if res.repeats > 0 {
			res.note = strings.TrimPrefix(res.note+fmt.Sprintf(", %d mail(s) sent again with the same Message-ID", res.repeats), ", ")
		}
		// Every archive file at its path, whole.
		if rc.files == nil && len(res.problems) == 0 {
			rc.files = normalizedPaths(files) // the measuring run
		}
		if got, want := normalizedPaths(files), rc.files; !slices.Equal(got, want) {
			fail("the archive holds %s, want %s", abbreviate(got, 6), abbreviate(want, 6))
		}
		for _, f := range files {
			if err := wholeFile(filepath.Join(rc.archive, f)); err != nil {
				fail("archive file %s: %v", f, err)
			}
		}
	}
	// A report run only reads the warehouse.
	st, err := readWarehouseState(ctx, db)
	if err != nil {
		fail("the warehouse does not open: %v", err)
	} else if d := diffParts(rc.stBefore, st); len(d) > 0 {
		fail("the report run changed the warehouse: %s", abbreviate(d, 6))
	}
}

// archiveFiles lists the archive's files (relative paths) and, apart, the
// temporary files of a write that did not finish.
func archiveFiles(root string) (files, temps []string, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(d.Name(), ".tmp-") {
			temps = append(temps, rel)
		} else {
			files = append(files, rel)
		}
		return nil
	})
	return files, temps, err
}

// normalizedPaths are paths with their dates as DATE (a run near midnight
// files under the next day), sorted.
func normalizedPaths(paths []string) []string {
	out := []string{}
	for _, p := range paths {
		out = append(out, isoDate.ReplaceAllString(filepath.ToSlash(p), "DATE"))
	}
	slices.Sort(out)
	return out
}

// wholeFile checks an archive file is not empty and, for an xlsx, that it
// is a whole zip archive.
func wholeFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return errors.New("empty")
	}
	if strings.HasSuffix(path, ".xlsx") {
		z, err := zip.OpenReader(path)
		if err != nil {
			return fmt.Errorf("not a whole xlsx: %w", err)
		}
		z.Close()
	}
	return nil
}

// ---- an SMTP server on loopback (emersion/go-smtp) ----

// mailPeer accepts every message and keeps its Message-ID. A message whose
// DATA a killed server never finished is not accepted (go-smtp reads to
// the final dot before calling Data's reader to EOF), so it is not kept.
type mailPeer struct {
	port int
	srv  *smtp.Server
	mu   sync.Mutex
	got  []peerMail
}

type peerMail struct{ id, to string }

func startMailPeer() (*mailPeer, error) {
	p := &mailPeer{}
	p.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &peerSession{p: p}, nil }))
	p.srv.Domain = "localhost"
	p.srv.MaxMessageBytes = 50 << 20
	p.srv.ReadTimeout, p.srv.WriteTimeout = time.Minute, time.Minute
	// A killed server resets its connection: expected here, not news.
	p.srv.ErrorLog = stdlog.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go p.srv.Serve(l)
	p.port = l.Addr().(*net.TCPAddr).Port
	return p, nil
}

func (p *mailPeer) close() { p.srv.Close() }

func (p *mailPeer) reset() {
	p.mu.Lock()
	p.got = nil
	p.mu.Unlock()
}

func (p *mailPeer) messages() []peerMail {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

type peerSession struct {
	p  *mailPeer
	to []string
}

func (s *peerSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *peerSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err // cut off: not accepted
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "not a message: " + err.Error()}
	}
	id := strings.Trim(m.Header.Get("Message-Id"), "<> ")
	s.p.mu.Lock()
	s.p.got = append(s.p.got, peerMail{id: id, to: strings.Join(s.to, ",")})
	s.p.mu.Unlock()
	return nil
}
func (s *peerSession) Reset()        { s.to = nil }
func (s *peerSession) Logout() error { return nil }
