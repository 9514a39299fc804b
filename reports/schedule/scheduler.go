package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

// Clock is the scheduler's time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After fires once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RunFunc runs one claimed run: it renders the report and delivers it,
// recording each delivery with Ledger.Deliver. An error fails the run
// (the history shows it); when ctx is cancelled because the server is
// stopping, the run is left for the next start to resume.
type RunFunc func(ctx context.Context, run Run) error

// Config configures a Scheduler.
type Config struct {
	// Ledger is the run ledger (required).
	Ledger *Ledger
	// Run is called for each claimed run (required).
	Run RunFunc
	// Clock defaults to the wall clock.
	Clock Clock
	// Interval is the time between two looks for due fire times; 0 means
	// 5s (fire times are whole minutes; a run starts within Interval).
	Interval time.Duration
	// Concurrency bounds the runs in progress; 0 means 2.
	Concurrency int
	// Grace: a fire time earlier than the scheduler's start minus Grace
	// was missed while the server was down (its schedule's Missed policy
	// applies); later ones run normally. 0 means 5m.
	Grace time.Duration
	// Owner names this process in the ledger; "" means host:pid.
	Owner string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Scheduler finds due fire times, claims them in the ledger and hands
// them to the runner, at most Concurrency at a time.
type Scheduler struct {
	cfg     Config
	ledger  *Ledger
	clock   Clock
	log     *slog.Logger
	started time.Time

	tickMu sync.Mutex // one look at a time

	mu        sync.Mutex
	plans     map[string]plan
	marks     map[markKey]time.Time // latest fire time recorded, per schedule and trigger
	loadedAt  time.Time
	queue     []Run
	inFlight  int
	stopping  bool
	wake      chan struct{}
	cancelRun context.CancelFunc
	runCtx    context.Context
	loopDone  chan struct{}
	workers   sync.WaitGroup
	cond      *sync.Cond // queue, inFlight and stopping changed
}

type markKey struct{ schedule, trigger string }

// New returns a scheduler; Start begins its work.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Ledger == nil || cfg.Run == nil {
		return nil, errors.New("schedule: Config.Ledger and Config.Run are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Minute
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Scheduler{cfg: cfg, ledger: cfg.Ledger.WithClock(cfg.Clock.Now), clock: cfg.Clock, log: cfg.Logger,
		plans: map[string]plan{}, marks: map[markKey]time.Time{}, wake: make(chan struct{}, 1)}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// Ledger is the scheduler's ledger, stamping with its clock.
func (s *Scheduler) Ledger() *Ledger { return s.ledger }

// Set replaces the schedules (all validated first: on an error nothing
// changes). A schedule seen for the first time is due from now on.
func (s *Scheduler) Set(schedules []Schedule) error {
	plans := map[string]plan{}
	var errs []error
	for _, sc := range schedules {
		p, err := compile(sc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := plans[p.ID]; dup {
			errs = append(errs, fmt.Errorf("schedule: id %q is used twice", p.ID))
			continue
		}
		plans[p.ID] = p
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.mu.Lock()
	s.plans = plans
	s.mu.Unlock()
	s.poke()
	return nil
}

// Start recovers the runs a stopped process left behind, then looks for
// due fire times every Interval until Stop.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.loopDone != nil {
		s.mu.Unlock()
		return errors.New("schedule: already started")
	}
	s.started = s.clock.Now()
	s.runCtx, s.cancelRun = context.WithCancel(context.WithoutCancel(ctx))
	s.loopDone = make(chan struct{})
	s.mu.Unlock()
	if err := s.recover(ctx); err != nil {
		return err
	}
	for range s.cfg.Concurrency {
		s.workers.Add(1)
		go s.worker()
	}
	go s.loop()
	return nil
}

func (s *Scheduler) loop() {
	defer close(s.loopDone)
	for {
		if err := s.Tick(s.runCtx); err != nil && s.runCtx.Err() == nil {
			s.log.Error("schedule: tick", "err", err)
		}
		select {
		case <-s.runCtx.Done():
			return
		case <-s.wake:
		case <-s.clock.After(s.cfg.Interval):
		}
		s.mu.Lock()
		stop := s.stopping
		s.mu.Unlock()
		if stop {
			return
		}
	}
}

// poke makes the loop look now.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stop stops looking for fire times and waits for the runs in progress
// until ctx ends; then it cancels them (they stay running in the ledger,
// noted, and the next start applies their schedule's crash policy). Runs
// claimed but not started stay queued and start on the next Start.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.loopDone == nil || s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.poke()
	done := make(chan struct{})
	go func() {
		<-s.loopDone
		s.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelRun()
		return nil
	case <-ctx.Done():
		s.cancelRun()
		<-done
		return ctx.Err()
	}
}

// Loaded tells the scheduler that data was loaded at at: schedules with
// AfterLoad run once for the latest load they have not run for. Call it
// after every load, and once at start with the time of the last load (a
// load that committed just before a crash then still triggers its runs).
func (s *Scheduler) Loaded(at time.Time) {
	s.mu.Lock()
	if at.After(s.loadedAt) {
		s.loadedAt = norm(at)
	}
	s.mu.Unlock()
	s.poke()
}

// RunNow claims a run of the schedule for now (trigger manual), paused
// or not. Two calls within one second claim once (ErrClaimed).
func (s *Scheduler) RunNow(ctx context.Context, scheduleID, by string) (Run, error) {
	s.mu.Lock()
	_, ok := s.plans[scheduleID]
	s.mu.Unlock()
	if !ok {
		return Run{}, fmt.Errorf("schedule: no schedule %q", scheduleID)
	}
	note := "run now"
	if by != "" {
		note += " by " + by
	}
	now := s.clock.Now()
	run, err := s.ledger.Claim(ctx, Claim{ScheduleID: scheduleID, FireTime: now.Truncate(time.Second), Trigger: TriggerManual, Owner: s.cfg.Owner, Note: note, At: now})
	if err != nil {
		return run, err
	}
	s.enqueue(run)
	return run, nil
}

// Pause stops a schedule's fire times from running until Resume. A tick
// in progress ends first: none claims the schedule's fire times after
// Pause returns.
func (s *Scheduler) Pause(ctx context.Context, scheduleID, by string) error {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	return s.ledger.SetPaused(ctx, scheduleID, true, s.clock.Now(), by)
}

// Resume runs a schedule's fire times again, from now on: those that
// passed while it was paused are not due. No tick runs meanwhile: one that
// read the resumed state with the mark cached before the pause would claim
// every fire time of the pause.
func (s *Scheduler) Resume(ctx context.Context, scheduleID, by string) error {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	if err := s.ledger.SetPaused(ctx, scheduleID, false, s.clock.Now(), by); err != nil {
		return err
	}
	s.mu.Lock()
	for k := range s.marks {
		if k.schedule == scheduleID {
			delete(s.marks, k)
		}
	}
	s.mu.Unlock()
	s.poke()
	return nil
}

// recover handles the runs a stopped process left unfinished.
func (s *Scheduler) recover(ctx context.Context) error {
	runs, err := s.ledger.Unfinished(ctx)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	for _, r := range runs {
		s.mu.Lock()
		p, known := s.plans[r.ScheduleID]
		s.mu.Unlock()
		switch {
		case r.Status == StatusQueued:
			// Claimed, never started: nothing was done, start it now.
			r, err = s.ledger.Requeue(ctx, r.ID, s.cfg.Owner, fmt.Sprintf("claimed by %s, which stopped before starting it; started at %s", r.Owner, now.UTC().Format(time.RFC3339)))
			if err != nil {
				return err
			}
			s.enqueue(r)
		case !known:
			if err := s.ledger.Fail(ctx, r.ID, fmt.Sprintf("interrupted: %s stopped during attempt %d, and the schedule no longer exists", r.Owner, r.Attempt), now); err != nil {
				return err
			}
			s.log.Warn("schedule: interrupted run of a removed schedule marked failed", "run", r.ID)
		case p.OnCrash == CrashFail:
			if err := s.ledger.Fail(ctx, r.ID, fmt.Sprintf("interrupted: %s stopped during attempt %d; not resumed (on_crash: fail); deliveries recorded as sent went out, the others did not", r.Owner, r.Attempt), now); err != nil {
				return err
			}
			s.log.Warn("schedule: interrupted run marked failed", "run", r.ID, "policy", "fail")
		default:
			r, err = s.ledger.Resume(ctx, r.ID, s.cfg.Owner, fmt.Sprintf("resumed at %s after %s stopped during attempt %d (on_crash: resume)", now.UTC().Format(time.RFC3339), r.Owner, r.Attempt))
			if err != nil {
				return err
			}
			s.log.Info("schedule: resuming interrupted run", "run", r.ID, "attempt", r.Attempt)
			s.enqueue(r)
		}
	}
	return nil
}

// Tick looks for due fire times once: it records the schedules it sees
// for the first time, claims every due fire time (or records it as
// skipped, per the missed policy) and queues the claimed runs.
func (s *Scheduler) Tick(ctx context.Context) error {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	now := s.clock.Now()
	s.mu.Lock()
	plans := make([]plan, 0, len(s.plans))
	for _, p := range s.plans {
		plans = append(plans, p)
	}
	loadedAt := s.loadedAt
	started := s.started
	s.mu.Unlock()
	if started.IsZero() {
		started = now
	}
	sort.Slice(plans, func(i, j int) bool { return plans[i].ID < plans[j].ID })
	states, err := s.ledger.States(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range plans {
		st, ok := states[p.ID]
		if !ok {
			if st, err = s.ledger.EnsureSchedule(ctx, p.ID, now); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if st.Paused {
			continue
		}
		if err := s.tickSchedule(ctx, p, st, now, started, loadedAt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mark is the latest fire time recorded for a schedule and trigger, or
// the schedule's since.
func (s *Scheduler) mark(ctx context.Context, p plan, st ScheduleState, trigger string) (time.Time, error) {
	k := markKey{p.ID, trigger}
	s.mu.Lock()
	m, ok := s.marks[k]
	s.mu.Unlock()
	if ok {
		return m, nil
	}
	last, found, err := s.ledger.LastFire(ctx, p.ID, trigger)
	if err != nil {
		return time.Time{}, err
	}
	m = st.Since
	if found && last.After(m) {
		m = last
	}
	s.setMark(p.ID, trigger, m)
	return m, nil
}

func (s *Scheduler) setMark(id, trigger string, t time.Time) {
	s.mu.Lock()
	if t.After(s.marks[markKey{id, trigger}]) {
		s.marks[markKey{id, trigger}] = t
	}
	s.mu.Unlock()
}

func (s *Scheduler) tickSchedule(ctx context.Context, p plan, st ScheduleState, now, started, loadedAt time.Time) error {
	missedBefore := started.Add(-s.cfg.Grace)
	if p.cron != nil {
		m, err := s.mark(ctx, p, st, TriggerCron)
		if err != nil {
			return err
		}
		// Enumerate in chunks so a long outage of a frequent schedule
		// does not hold every fire time in memory: every chunk but the
		// last is missed and superseded.
		for {
			fires := p.cron.Between(m, now, 1000)
			if len(fires) == 0 {
				break
			}
			more := len(fires) == 1000 && !p.cron.Next(fires[len(fires)-1]).After(now)
			if err := s.fire(ctx, p, TriggerCron, fires, more, missedBefore, now); err != nil {
				return err
			}
			m = fires[len(fires)-1]
			if !more {
				break
			}
		}
	}
	if !p.Once.IsZero() {
		m, err := s.mark(ctx, p, st, TriggerOnce)
		if err != nil {
			return err
		}
		if once := norm(p.Once); once.After(m) && !once.After(now) {
			if err := s.fire(ctx, p, TriggerOnce, []time.Time{once}, false, missedBefore, now); err != nil {
				return err
			}
		}
	}
	if p.AfterLoad && !loadedAt.IsZero() {
		m, err := s.mark(ctx, p, st, TriggerAfterLoad)
		if err != nil {
			return err
		}
		if loadedAt.After(m) {
			if err := s.claim(ctx, p.ID, TriggerAfterLoad, loadedAt, "after the load at "+loadedAt.UTC().Format(time.RFC3339), now); err != nil {
				return err
			}
		}
	}
	return nil
}

// fire claims or skips due fire times (ascending) of one trigger. more
// says later fire times follow in another chunk.
func (s *Scheduler) fire(ctx context.Context, p plan, trigger string, fires []time.Time, more bool, missedBefore, now time.Time) error {
	var missed, due []time.Time
	for _, f := range fires {
		if f.Before(missedBefore) {
			missed = append(missed, f)
		} else {
			due = append(due, f)
		}
	}
	runLate := time.Time{}
	if p.Missed == MissedLatest && len(due) == 0 && !more && len(missed) > 0 {
		runLate = missed[len(missed)-1]
	}
	for _, f := range missed {
		if f.Equal(runLate) {
			note := fmt.Sprintf("missed while the server was down; run late at %s (missed: latest)", now.UTC().Format(time.RFC3339))
			if n := len(missed) - 1; n > 0 {
				note += fmt.Sprintf("; %d earlier missed fire time(s) skipped", n)
			}
			if err := s.claim(ctx, p.ID, trigger, f, note, now); err != nil {
				return err
			}
			continue
		}
		note := "missed while the server was down; not run (missed: skip)"
		if p.Missed == MissedLatest {
			note = "missed while the server was down; superseded by a later fire time (missed: latest)"
		}
		if _, err := s.ledger.Skip(ctx, Claim{ScheduleID: p.ID, FireTime: f, Trigger: trigger, Owner: s.cfg.Owner, Note: note, At: now}); err != nil && !errors.Is(err, ErrClaimed) {
			return err
		}
		s.setMark(p.ID, trigger, f)
	}
	for _, f := range due {
		if err := s.claim(ctx, p.ID, trigger, f, "", now); err != nil {
			return err
		}
	}
	return nil
}

// claim claims one fire time and queues its run; a fire time claimed
// already (by an earlier tick, RunNow, or a racing claim) is passed over.
func (s *Scheduler) claim(ctx context.Context, id, trigger string, fire time.Time, note string, now time.Time) error {
	run, err := s.ledger.Claim(ctx, Claim{ScheduleID: id, FireTime: fire, Trigger: trigger, Owner: s.cfg.Owner, Note: note, At: now})
	s.setMark(id, trigger, norm(fire))
	if errors.Is(err, ErrClaimed) {
		return nil
	}
	if err != nil {
		return err
	}
	s.enqueue(run)
	return nil
}

func (s *Scheduler) enqueue(r Run) {
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.cond.Broadcast()
	s.mu.Unlock()
}

// worker runs queued runs until Stop.
func (s *Scheduler) worker() {
	defer s.workers.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.stopping {
			s.cond.Wait()
		}
		if s.stopping {
			s.mu.Unlock()
			return
		}
		r := s.queue[0]
		s.queue = s.queue[1:]
		s.inFlight++
		s.mu.Unlock()

		s.execute(r)

		s.mu.Lock()
		s.inFlight--
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// execute runs one claimed run and records its outcome.
func (s *Scheduler) execute(r Run) {
	ctx := s.runCtx
	if err := s.ledger.Start(ctx, r.ID, s.clock.Now()); err != nil {
		s.log.Error("schedule: start run", "run", r.ID, "err", err)
		return
	}
	r.Status = StatusRunning
	err := s.call(ctx, r)
	rctx := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() != nil {
		// Stopped while running: leave it running for the next start's
		// crash policy, and say so.
		if nerr := s.ledger.AddNote(rctx, r.ID, "interrupted by shutdown at "+s.clock.Now().UTC().Format(time.RFC3339)); nerr != nil {
			s.log.Error("schedule: note run", "run", r.ID, "err", nerr)
		}
		return
	}
	if ferr := s.ledger.Finish(rctx, r.ID, err, s.clock.Now()); ferr != nil {
		s.log.Error("schedule: finish run", "run", r.ID, "err", ferr)
	}
	if err != nil {
		s.log.Warn("schedule: run failed", "run", r.ID, "err", err)
	}
}

// call runs the runner, turning a panic into an error.
func (s *Scheduler) call(ctx context.Context, r Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the report runner panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return s.cfg.Run(ctx, r)
}

// waitIdle blocks until no run is queued or running (tests).
func (s *Scheduler) waitIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for (len(s.queue) > 0 || s.inFlight > 0) && !s.stopping {
		s.cond.Wait()
	}
}
