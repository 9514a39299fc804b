package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/triscope/triscope/app"
	"github.com/triscope/triscope/models"
)

// triscope chaos: the fault tests a trusted system runs (issue 18), as
// commands, so that the long versions can be run on a real machine and the
// short ones by the tests (chaos_test.go):
//
//	chaos load|refresh   kill -9 at random points of a load or a refresh; the
//	                     warehouse must open and hold the state before or
//	                     after the operation, never a mix (chaos.go)
//	chaos reads          clients read the dashboards through a real server
//	                     while loads run through its admin API: no error, no
//	                     partial read, latency (chaos_reads.go)
//	chaos disk-full      a load and a refresh on a full filesystem: a clear
//	                     error, the previous data intact, the server still
//	                     serving (chaos_disk.go)
//	chaos report         kill -9 a server at random points of a report run:
//	                     the restarted server closes the run, every copy
//	                     delivered exactly once (chaos_report.go)
//
// Every operation runs in a child process: this binary again (the tests'
// binary re-executes as main(), see cli_test.go).
func newChaosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "chaos",
		Hidden: true,
		Short:  "Fault tests: kill -9 during a load, a refresh or a report run, reads during loads, a full disk",
		Long: `Fault tests of a warehouse and a server, each in child processes of this binary:

  chaos load      kill -9 at random points of a load (--runs, default 50)
  chaos refresh   kill -9 at random points of a refresh (--runs, default 50)
  chaos reads     concurrent dashboard reads through a server while loads run
  chaos disk-full a load and a refresh on a full filesystem
  chaos report    kill -9 a server at random points of a report run (--runs, default 50)

They work on copies in a work directory (--work, default a temporary one,
kept when a check fails) and never write to the warehouse given with --db.`,
	}
	cmd.AddCommand(newChaosKillCmd("load"), newChaosKillCmd("refresh"), newChaosReadsCmd(), newChaosDiskCmd(), newChaosReportCmd(), newChaosStateCmd())
	return cmd
}

// chaosEnv is the work directory of a chaos command and how it starts
// children.
type chaosEnv struct {
	dir  string
	exe  string
	out  io.Writer
	keep bool // keep the work directory (a check failed, or --work was given)
}

func newChaosEnv(work string, out io.Writer) (*chaosEnv, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	e := &chaosEnv{exe: exe, out: out, keep: work != ""}
	if work == "" {
		if e.dir, err = os.MkdirTemp("", "triscope-chaos-"); err != nil {
			return nil, err
		}
	} else {
		if e.dir, err = filepath.Abs(work); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(e.dir, 0o700); err != nil {
			return nil, err
		}
	}
	// The children run in the work directory with this configuration file
	// (defaults, then TRISCOPE_* variables): never with a triscope.yaml of
	// the directory the command was started in, whose auth_db or db they
	// would write to.
	if err := os.WriteFile(e.path("triscope.yaml"), []byte("# triscope chaos: the defaults (and TRISCOPE_* variables)\n{}\n"), 0o600); err != nil {
		return nil, err
	}
	return e, nil
}

// config is the configuration the children use, for the warehouse db.
func (e *chaosEnv) config(db string) (*app.Config, error) {
	cfg := &app.Config{}
	if err := cfg.Load(e.path("triscope.yaml"), pflag.NewFlagSet("chaos", pflag.ContinueOnError)); err != nil {
		return nil, err
	}
	cfg.DB, cfg.AuthDB = db, ""
	return cfg, nil
}

func (e *chaosEnv) close() {
	if e.keep {
		fmt.Fprintf(e.out, "work directory kept: %s\n", e.dir)
		return
	}
	os.RemoveAll(e.dir)
}

func (e *chaosEnv) path(name string) string { return filepath.Join(e.dir, name) }

// command is `triscope args...` as a child process in the work directory,
// its output appended to log.
func (e *chaosEnv) command(ctx context.Context, log string, args ...string) (*exec.Cmd, *os.File, error) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(f, "$ triscope %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, e.exe, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "TRISCOPE_AUTH_DB=")
	cmd.Stdout, cmd.Stderr = f, f
	return cmd, f, nil
}

// run runs `triscope args...` to the end; a failure carries the end of its log.
func (e *chaosEnv) run(ctx context.Context, args ...string) (time.Duration, error) {
	log := e.path("setup.log")
	cmd, f, err := e.command(ctx, log, args...)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("triscope %s: %w\n%s", strings.Join(args, " "), err, tail(log, 2000))
	}
	return d, nil
}

// tail is the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// copyWarehouse copies a warehouse file (with its write-ahead log, and the
// application database beside it when there is one) to dst, replacing what
// was there.
//
// An empty src removes dst (and its write-ahead log and application database).
func copyWarehouse(src, dst string) error {
	if src == "" {
		for _, f := range []string{dst, dst + ".wal", authPathOf(dst), authPathOf(dst) + ".wal"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	for _, suffix := range []string{"", ".wal"} {
		os.Remove(dst + suffix)
		if err := copyFile(src+suffix, dst+suffix); err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return err
		}
	}
	sa, da := authPathOf(src), authPathOf(dst)
	for _, suffix := range []string{"", ".wal"} {
		os.Remove(da + suffix)
		if err := copyFile(sa+suffix, da+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func authPathOf(db string) string { return (&app.Config{DB: db}).AuthPath() }

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// prepareCompany makes the starting warehouse of a chaos command at dst: a
// copy of from when given, else the demo company of the given size (seed 1)
// loaded and computed. It returns the as-of date of its models.
func (e *chaosEnv) prepareCompany(ctx context.Context, from, size, dst string) error {
	if from != "" {
		fmt.Fprintf(e.out, "starting from a copy of %s\n", from)
		if err := copyWarehouse(from, dst); err != nil {
			return err
		}
		st, err := readWarehouseState(ctx, dst)
		if err != nil {
			return err
		}
		if st.LastRefresh > 0 {
			return nil
		}
		_, err = e.run(ctx, "refresh", "--db", dst)
		return err
	}
	fmt.Fprintf(e.out, "generating the %s demo company (seed 1), loading and computing it\n", size)
	if _, err := e.run(ctx, "gen", "--size", size, "--seed", "1", "--out", e.path("company1")); err != nil {
		return err
	}
	if _, err := e.run(ctx, "load", "--db", dst, e.path("company1")); err != nil {
		return err
	}
	_, err := e.run(ctx, "refresh", "--db", dst)
	return err
}

// chaosSeed is the seed given, or one from the clock.
func chaosSeed(seed uint64) uint64 {
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	return seed
}

func newChaosKillCmd(op string) *cobra.Command {
	var runs int
	var seed uint64
	var from, size, work string
	var first bool
	long := map[string]string{
		"load": `Kill a load with SIGKILL at random points, --runs times. The warehouse starts as
the demo company (seed 1) loaded and computed, or a copy of --db; the load is a
second company file set (seed 2) over it: updates and new rows in every entity.
The states before and after the load are computed first (the load run once to the
end); after every kill the warehouse must open and hold exactly one of them: base
tables, load_runs and load_files, facts (facts.state.load_id the last committed
load), schemas live and scoped — never a mix.`,
		"refresh": `Kill a refresh with SIGKILL at random points, --runs times. The warehouse starts
as the demo company (seed 1) loaded and computed as of its latest date, or a copy of
--db; the refresh computes every model as of a month earlier, so that the two states
differ in every mart. After every kill the warehouse must open and hold the marts,
model_fits and model_runs of one refresh: exactly the state before or after, every
mart's as_of equal, the model_runs of the last refresh complete.`,
	}
	cmd := &cobra.Command{
		Use:   op,
		Short: "kill -9 at random points of a " + op + ": the warehouse holds the state before or after, never a mix",
		Long:  long[op] + "\n\nThe kill delays are drawn from --seed (printed; the same seed gives the same delays).",
		RunE: func(cmd *cobra.Command, args []string) error {
			from = sourceWarehouse(cmd, from)
			return runChaosKills(cmd, work, runs, func(ctx context.Context, e *chaosEnv) (int, error) {
				return chaosKill(ctx, e, op, runs, chaosSeed(seed), from, size, first)
			})
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 50, "how many kills")
	if op == "load" {
		cmd.Flags().BoolVar(&first, "first", false, "kill the first load into a new warehouse (which the load creates) instead")
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed of the kill delays (0: from the clock; printed)")
	cmd.Flags().StringVar(&from, "from", "", "start from a copy of this warehouse instead of the demo company (never written; --db FILE says the same)")
	cmd.Flags().StringVar(&size, "size", "small", "size of the demo company: small, default, large")
	cmd.Flags().StringVar(&work, "work", "", "work directory (default: a temporary one, removed unless a check fails)")
	return cmd
}

// runChaosKills runs kills (which returns how many of runs broke a
// promise) in a chaos work directory, kept when anything failed.
func runChaosKills(cmd *cobra.Command, work string, runs int, kills func(ctx context.Context, e *chaosEnv) (int, error)) error {
	e, err := newChaosEnv(work, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	defer e.close()
	bad, err := kills(cmd.Context(), e)
	if err != nil {
		e.keep = true
		return err
	}
	if bad > 0 {
		e.keep = true
		return fmt.Errorf("%d of %d runs broke a promise: see the BROKEN lines and the logs in the work directory", bad, runs)
	}
	return nil
}

// chaosKill runs the kill test of op and returns how many runs broke a promise.
//
// With first (a load only), the warehouse does not exist before the load:
// the load creates it, migrates it and loads the demo company into it; the
// state before is then any state of a warehouse that holds no row yet (no
// file, or a new one at any point of its setup).
func chaosKill(ctx context.Context, e *chaosEnv, op string, runs int, seed uint64, from, size string, first bool) (int, error) {
	out := e.out
	before := e.path("before.duckdb")
	var stBefore *whState
	var err error
	var opArgs func(db string) []string
	if first {
		if op != "load" || from != "" {
			return 0, errors.New("--first is a load into a new warehouse: not with --from, not for a refresh")
		}
		fmt.Fprintf(out, "generating the %s demo company (seed 1): the first load into a new warehouse\n", size)
		if _, err := e.run(ctx, "gen", "--size", size, "--seed", "1", "--out", e.path("company1")); err != nil {
			return 0, err
		}
		// A new warehouse as the runtime leaves it, for the record.
		cfg, err := e.config(before)
		if err != nil {
			return 0, err
		}
		r, err := app.Open(ctx, cfg, discardLogger())
		if err != nil {
			return 0, err
		}
		r.Close()
		if stBefore, err = readWarehouseState(ctx, before); err != nil {
			return 0, err
		}
		opArgs = func(db string) []string { return []string{"load", "--db", db, e.path("company1")} }
		before = "" // each run starts without a warehouse
	} else {
		if err := e.prepareCompany(ctx, from, size, before); err != nil {
			return 0, err
		}
		if stBefore, err = readWarehouseState(ctx, before); err != nil {
			return 0, err
		}
	}
	switch {
	case opArgs != nil:
	case op == "load":
		if _, err := e.run(ctx, "gen", "--size", size, "--seed", "2", "--out", e.path("company2")); err != nil {
			return 0, err
		}
		opArgs = func(db string) []string { return []string{"load", "--db", db, e.path("company2")} }
	case op == "refresh":
		if len(stBefore.MartAsOf) != 1 {
			return 0, fmt.Errorf("the starting warehouse's marts have as_of %v, want one date", stBefore.MartAsOf)
		}
		a, err := time.Parse(time.DateOnly, stBefore.MartAsOf[0])
		if err != nil {
			return 0, err
		}
		asOf := a.AddDate(0, -1, 0).Format(time.DateOnly)
		opArgs = func(db string) []string { return []string{"refresh", "--db", db, "--as-of", asOf} }
	}
	// The state after: the operation run once to the end (timed: the kills
	// are spread over that time).
	after := e.path("after.duckdb")
	if err := copyWarehouse(before, after); err != nil {
		return 0, err
	}
	isBefore := func(st *whState) bool { return len(diffParts(st, stBefore)) == 0 }
	if first {
		isBefore = (*whState).neverLoaded
	}
	full, err := e.run(ctx, opArgs(after)...)
	if err != nil {
		return 0, err
	}
	stAfter, err := readWarehouseState(ctx, after)
	if err != nil {
		return 0, err
	}
	nModels := len(models.Names())
	for name, st := range map[string]*whState{"before": stBefore, "after": stAfter} {
		if bad := st.invariants(nModels); len(bad) > 0 {
			return 0, fmt.Errorf("the state %s the %s breaks an invariant already: %s", name, op, strings.Join(bad, "; "))
		}
	}
	changed := diffParts(stBefore, stAfter)
	if len(changed) == 0 {
		return 0, fmt.Errorf("the %s changes nothing: the test would prove nothing", op)
	}
	fmt.Fprintf(out, "the %s takes %.1fs end to end (a child process) and changes %d parts of the warehouse: %s\n",
		op, full.Seconds(), len(changed), abbreviate(changed, 8))
	rerun := fmt.Sprintf("triscope chaos %s --runs %d --seed %d", op, runs, seed)
	if first {
		rerun += " --first"
	}
	if from != "" {
		rerun += " --from " + from
	} else if size != "small" {
		rerun += " --size " + size
	}
	fmt.Fprintf(out, "%d kills, seed %d (rerun: %s)\n", runs, seed, rerun)

	rng := rand.New(rand.NewPCG(seed, 0x7269_7363_6f70_65))
	run := e.path("run.duckdb")
	counts := map[string]int{}
	bad := 0
	// The kill points are fractions of the operation's time drawn from the
	// seed: 40 % anywhere in it, 60 % around its end, where it commits. The
	// time itself is re-measured as the runs go (a busy machine stretches
	// it): the last run that finished on its own, or a kill later than the
	// estimate that still found the state before.
	estimate := full
	for i := 1; i <= runs; i++ {
		if err := copyWarehouse(before, run); err != nil {
			return bad, err
		}
		u := rng.Float64()
		if rng.IntN(5) >= 2 {
			u = 0.8 + rng.Float64()*0.5
		}
		delay := time.Duration(u * float64(estimate))
		log := e.path(fmt.Sprintf("run-%d.log", i))
		res := killOnce(ctx, e, run, opArgs(run), delay, log, isBefore, stAfter, nModels)
		switch {
		case !res.killed && res.ran > 0:
			estimate = res.ran
		case res.killed && res.outcome == "killed: state before" && delay > estimate:
			estimate = delay * 11 / 10
		}
		counts[res.outcome]++
		status := "ok"
		if len(res.problems) > 0 {
			bad++
			status = "BROKEN: " + cutLine(strings.Join(res.problems, "; "), 600)
			keep := e.path(fmt.Sprintf("broken-%d.duckdb", i))
			copyWarehouse(run, keep)
			status += fmt.Sprintf(" (kept as %s, log %s)", keep, log)
		} else {
			os.Remove(log)
		}
		if res.note != "" {
			status += " (" + res.note + ")"
		}
		fmt.Fprintf(out, "run %2d/%d: kill at %6.3fs (%.2f) → %-38s %s\n", i, runs, delay.Seconds(), u, res.outcome, status)
	}
	fmt.Fprintf(out, "%d runs of the %s, seed %d: %d killed before its commit (state before), %d killed after it (state after), %d finished before the kill, %d broken\n",
		runs, op, seed, counts["killed: state before"], counts["killed: state after"], counts["finished before the kill: state after"], bad)
	return bad, nil
}

// killResult is what one kill did.
type killResult struct {
	outcome  string        // "killed: state before", …
	note     string        // staged tables left
	problems []string      // promises broken
	killed   bool          // false: the operation ended before the signal
	ran      time.Duration // how long it ran when it ended on its own
}

// killOnce starts the operation, kills it after delay (unless it ended
// first), and checks the warehouse it leaves.
func killOnce(ctx context.Context, e *chaosEnv, db string, args []string, delay time.Duration, log string,
	isBefore func(*whState) bool, after *whState, nModels int) (res killResult) {
	cmd, f, err := e.command(ctx, log, args...)
	if err != nil {
		res.outcome, res.problems = "not started", []string{err.Error()}
		return res
	}
	defer f.Close()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		res.outcome, res.problems = "not started", []string{err.Error()}
		return res
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
		res.ran = time.Since(start)
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		waitErr = <-done
		var ee *exec.ExitError
		// (not killed: it ended on its own just before the signal)
		res.killed = errors.As(waitErr, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()
	}
	if !res.killed && waitErr != nil {
		res.problems = append(res.problems, fmt.Sprintf("the operation failed on its own: %v", waitErr))
	}
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		// Killed before it created the warehouse: nothing to check.
		res.outcome = "killed: state before"
		res.note = "no warehouse yet"
		return res
	}
	st, err := readWarehouseState(ctx, db)
	if err != nil {
		res.outcome = "does not open"
		res.problems = append(res.problems, err.Error())
		return res
	}
	switch {
	case isBefore(st):
		res.outcome = "state before"
	case len(diffParts(st, after)) == 0:
		res.outcome = "state after"
	default:
		res.outcome = "A MIX"
		res.problems = append(res.problems, fmt.Sprintf("neither the state before nor after (differs from it in %s)",
			abbreviate(diffParts(st, after), 6)))
	}
	res.problems = append(res.problems, st.invariants(nModels)...)
	if res.killed {
		res.outcome = "killed: " + res.outcome
	} else {
		res.outcome = "finished before the kill: " + res.outcome
		if res.outcome != "finished before the kill: state after" {
			res.problems = append(res.problems, "the operation finished but its result is not the state after it")
		}
	}
	if st.StageLeft > 0 {
		res.note = fmt.Sprintf("%d staged tables left", st.StageLeft)
	}
	// The runtime opens it too (and rebuilds nothing that is current), and
	// leaves nothing of an unfinished refresh behind.
	if cfg, err := e.config(db); err != nil {
		res.problems = append(res.problems, err.Error())
	} else if r, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(f, nil))); err != nil {
		res.problems = append(res.problems, "the runtime does not open: "+err.Error())
	} else {
		r.Close()
		if st2, err := readWarehouseState(ctx, db); err != nil {
			res.problems = append(res.problems, "after the runtime opened it: "+err.Error())
		} else {
			if st2.StageLeft > 0 {
				res.problems = append(res.problems, fmt.Sprintf("the runtime opened it and left %d staged tables of a killed refresh", st2.StageLeft))
			}
			d := diffParts(st, st2)
			if st.FactsLoadID < 0 {
				// A first load killed before the warehouse had facts (its own
				// runtime builds them and the scoped relations over them when
				// it opens the new file, before the load): building what is
				// missing is the runtime's job.
				d = slices.DeleteFunc(d, func(part string) bool { return strings.HasPrefix(part, "facts.") || part == "schema scoped" })
			}
			if len(d) > 0 {
				res.problems = append(res.problems, "opening the runtime changed "+abbreviate(d, 6))
			}
		}
	}
	return res
}

func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(" … (%d in all)", len(s))
}

func newChaosStateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "state FILE",
		Short: "Print the state of a warehouse file as the chaos commands compare it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := readWarehouseState(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, k := range sortedKeys(st.Parts) {
				fmt.Fprintf(out, "%-36s %s\n", k, st.Parts[k])
			}
			fmt.Fprintf(out, "last committed load %d, facts.state.load_id %d, %d scoped relations, marts as of %v, last refresh %d (%d models, as of %v), %d staged tables left\n",
				st.LastCommitted, st.FactsLoadID, st.Scoped, st.MartAsOf, st.LastRefresh, len(st.RefreshModels), st.RefreshAsOf, st.StageLeft)
			if bad := st.invariants(len(models.Names())); len(bad) > 0 {
				return errors.New(strings.Join(bad, "; "))
			}
			return nil
		},
	}
}

// cutLine is s on one line, cut to n bytes.
func cutLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// sourceWarehouse is the warehouse a chaos command starts from: --from, or
// --db when given on the command line (a chaos command never writes to it:
// it works on copies).
func sourceWarehouse(cmd *cobra.Command, from string) string {
	if from == "" && cmd.Flags().Changed("db") {
		from, _ = cmd.Flags().GetString("db")
	}
	return from
}
