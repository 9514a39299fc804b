package schedule

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DBTX is what the ledger needs of a *sql.DB, *sql.Tx or *sql.Conn.
type DBTX interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Ledger reads and writes the run ledger (Schema) in the application
// database. It holds no state of its own: one Ledger per database, or one
// per transaction through WithTx.
type Ledger struct {
	db   DBTX
	inTx bool
	now  func() time.Time
}

// NewLedger returns a ledger over db (the application database, a DuckDB
// file opened with database/sql; Migrate must have run).
func NewLedger(db DBTX) *Ledger { return &Ledger{db: db, now: time.Now} }

// WithTx returns the same ledger working inside tx (the caller commits).
func (l *Ledger) WithTx(tx *sql.Tx) *Ledger { return &Ledger{db: tx, inTx: true, now: l.now} }

// WithClock returns the same ledger stamping deliveries with now.
func (l *Ledger) WithClock(now func() time.Time) *Ledger {
	return &Ledger{db: l.db, inTx: l.inTx, now: now}
}

// Run statuses.
const (
	StatusQueued    = "queued"    // claimed, not started yet
	StatusRunning   = "running"   // handed to the runner
	StatusSucceeded = "succeeded" // the runner returned nil
	StatusFailed    = "failed"    // the runner failed, or a crashed run was not resumed
	StatusSkipped   = "skipped"   // a missed fire time not run (the note says why)
)

// Triggers: what made a run.
const (
	TriggerCron      = "cron"
	TriggerAfterLoad = "after_load"
	TriggerOnce      = "once"
	TriggerManual    = "manual"
)

// Delivery statuses.
const (
	DeliveryPending = "pending" // recorded before sending: unknown whether it arrived
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// ErrClaimed is returned by Claim when the (schedule, fire time) already
// has a run: another claim won.
var ErrClaimed = errors.New("schedule: fire time already claimed")

// ErrNotFound is returned for an unknown run.
var ErrNotFound = errors.New("schedule: no such run")

// Run is one row of report_runs.
type Run struct {
	ID         string
	ScheduleID string
	FireTime   time.Time
	Trigger    string
	Status     string
	// Attempt is 1 for a fresh run, 2 and more when a run is resumed
	// after the process stopped during it.
	Attempt    int
	Owner      string
	Note       string
	Error      string
	ClaimedAt  time.Time
	StartedAt  time.Time // zero until started
	FinishedAt time.Time // zero until finished
}

// Resumed reports whether the run was interrupted before: some of its
// deliveries may be recorded as sent already (Ledger.Deliver skips them).
func (r Run) Resumed() bool { return r.Attempt > 1 }

// RunID is the run id of a (schedule, fire time): readable and stable.
func RunID(scheduleID string, fire time.Time) string {
	return scheduleID + "@" + fire.UTC().Format("20060102T150405.999999Z")
}

// DeliveryKey is the idempotency key of one delivery: 26 lowercase
// base32 characters of SHA-256(run, recipient, channel), stable across
// resumptions and usable as a Message-ID's local part.
func DeliveryKey(runID, recipient, channel string) string {
	h := sha256.Sum256([]byte(runID + "\x00" + recipient + "\x00" + channel))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])[:26])
}

// ScheduleState is one row of report_schedule_state.
type ScheduleState struct {
	ScheduleID string
	Since      time.Time
	Paused     bool
	ChangedAt  time.Time
	ChangedBy  string
}

// norm is the instant as the ledger stores it: UTC, microseconds.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// EnsureSchedule records a schedule seen for the first time at now (its
// fire times from now on are due) and returns its state.
func (l *Ledger) EnsureSchedule(ctx context.Context, id string, now time.Time) (ScheduleState, error) {
	err := l.retry(ctx, func() error {
		_, err := l.db.ExecContext(ctx, `INSERT INTO report_schedule_state (schedule_id, since, paused, changed_at, changed_by)
			VALUES (?, ?, false, ?, 'scheduler') ON CONFLICT DO NOTHING`, id, norm(now), norm(now))
		return err
	})
	if err != nil {
		return ScheduleState{}, fmt.Errorf("schedule: record schedule %s: %w", id, err)
	}
	return l.State(ctx, id)
}

// State returns a schedule's state (sql.ErrNoRows wrapped if unknown).
func (l *Ledger) State(ctx context.Context, id string) (ScheduleState, error) {
	var s ScheduleState
	var by sql.NullString
	err := l.db.QueryRowContext(ctx, `SELECT schedule_id, since, paused, changed_at, changed_by FROM report_schedule_state WHERE schedule_id = ?`, id).
		Scan(&s.ScheduleID, &s.Since, &s.Paused, &s.ChangedAt, &by)
	if err != nil {
		return s, fmt.Errorf("schedule: state of %s: %w", id, err)
	}
	s.ChangedBy = by.String
	return s, nil
}

// States returns every schedule's state, by id.
func (l *Ledger) States(ctx context.Context) (map[string]ScheduleState, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT schedule_id, since, paused, changed_at, changed_by FROM report_schedule_state`)
	if err != nil {
		return nil, fmt.Errorf("schedule: schedule states: %w", err)
	}
	defer rows.Close()
	out := map[string]ScheduleState{}
	for rows.Next() {
		var s ScheduleState
		var by sql.NullString
		if err := rows.Scan(&s.ScheduleID, &s.Since, &s.Paused, &s.ChangedAt, &by); err != nil {
			return nil, err
		}
		s.ChangedBy = by.String
		out[s.ScheduleID] = s
	}
	return out, rows.Err()
}

// SetPaused pauses or resumes a schedule. Resuming moves since to at:
// the fire times that passed while it was paused are not due.
func (l *Ledger) SetPaused(ctx context.Context, id string, paused bool, at time.Time, by string) error {
	q := `INSERT INTO report_schedule_state (schedule_id, since, paused, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (schedule_id) DO UPDATE SET paused = excluded.paused, changed_at = excluded.changed_at, changed_by = excluded.changed_by`
	if !paused {
		q += `, since = excluded.since`
	}
	if _, err := l.db.ExecContext(ctx, q, id, norm(at), paused, norm(at), by); err != nil {
		return fmt.Errorf("schedule: pause %s: %w", id, err)
	}
	return nil
}

// LastFire is the latest fire time of a schedule's runs of one trigger,
// skipped ones included.
func (l *Ledger) LastFire(ctx context.Context, scheduleID, trigger string) (time.Time, bool, error) {
	var t sql.NullTime
	err := l.db.QueryRowContext(ctx, `SELECT max(fire_time) FROM report_runs WHERE schedule_id = ? AND trigger_kind = ?`, scheduleID, trigger).Scan(&t)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("schedule: last fire time of %s: %w", scheduleID, err)
	}
	return t.Time, t.Valid, nil
}

// Claim is a claim on one fire time.
type Claim struct {
	ScheduleID string
	FireTime   time.Time
	Trigger    string
	Owner      string
	Note       string
	At         time.Time // when the claim is made
}

// Claim inserts the run of (schedule, fire time) as queued before any
// work. It returns ErrClaimed if that fire time has a run already, also
// when two claims race (the primary key lets one in).
func (l *Ledger) Claim(ctx context.Context, c Claim) (Run, error) {
	return l.insertRun(ctx, c, StatusQueued)
}

// Skip records a fire time that will not run, with the reason in note.
// It returns ErrClaimed if the fire time has a run already.
func (l *Ledger) Skip(ctx context.Context, c Claim) (Run, error) {
	return l.insertRun(ctx, c, StatusSkipped)
}

func (l *Ledger) insertRun(ctx context.Context, c Claim, status string) (Run, error) {
	fire := norm(c.FireTime)
	id := RunID(c.ScheduleID, fire)
	var finished any
	if status == StatusSkipped {
		finished = norm(c.At)
	}
	err := l.retry(ctx, func() error {
		var got string
		return l.db.QueryRowContext(ctx, `INSERT INTO report_runs (schedule_id, fire_time, run_id, trigger_kind, status, attempt, owner, note, claimed_at, finished_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING run_id`,
			c.ScheduleID, fire, id, c.Trigger, status, c.Owner, nullString(c.Note), norm(c.At), finished).Scan(&got)
	})
	switch {
	case err == nil:
		return l.Run(ctx, id)
	case errors.Is(err, sql.ErrNoRows):
		return Run{}, fmt.Errorf("%w: %s", ErrClaimed, id)
	default:
		return Run{}, fmt.Errorf("schedule: claim %s: %w", id, err)
	}
}

// retry runs an INSERT … ON CONFLICT DO NOTHING again when it fails. Two
// connections inserting the same key at once: DuckDB fails one with a
// constraint or commit conflict instead of waiting; on the next try the
// loser sees the winner's row and does nothing. Inside a caller's
// transaction the error is returned (the transaction is spoiled).
func (l *Ledger) retry(ctx context.Context, insert func() error) error {
	for try := 0; ; try++ {
		err := insert()
		if err == nil || errors.Is(err, sql.ErrNoRows) || l.inTx || try >= 20 || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(try+1) * time.Millisecond)
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const runColumns = `run_id, schedule_id, fire_time, trigger_kind, status, attempt, owner, note, error, claimed_at, started_at, finished_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var note, errText sql.NullString
	var started, finished sql.NullTime
	if err := sc.Scan(&r.ID, &r.ScheduleID, &r.FireTime, &r.Trigger, &r.Status, &r.Attempt, &r.Owner, &note, &errText, &r.ClaimedAt, &started, &finished); err != nil {
		return r, err
	}
	r.Note, r.Error, r.StartedAt, r.FinishedAt = note.String, errText.String, started.Time, finished.Time
	return r, nil
}

// Run returns one run.
func (l *Ledger) Run(ctx context.Context, runID string) (Run, error) {
	r, err := scanRun(l.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM report_runs WHERE run_id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: %s", ErrNotFound, runID)
	}
	if err != nil {
		return r, fmt.Errorf("schedule: run %s: %w", runID, err)
	}
	return r, nil
}

func (l *Ledger) queryRuns(ctx context.Context, where string, args ...any) ([]Run, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+runColumns+` FROM report_runs WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("schedule: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// History lists a schedule's runs, newest fire time first, at most limit
// (≤ 0: all).
func (l *Ledger) History(ctx context.Context, scheduleID string, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	return l.queryRuns(ctx, `schedule_id = ? ORDER BY fire_time DESC LIMIT ?`, scheduleID, limit)
}

// Unfinished lists the runs left queued or running, oldest claim first:
// on start, those a stopped process left behind.
func (l *Ledger) Unfinished(ctx context.Context) ([]Run, error) {
	return l.queryRuns(ctx, `status IN ('queued', 'running') ORDER BY claimed_at, run_id`)
}

// Start marks a run running.
func (l *Ledger) Start(ctx context.Context, runID string, at time.Time) error {
	return l.update(ctx, runID, `status = 'running', started_at = ?`, norm(at))
}

// Finish records a run's outcome: succeeded when runErr is nil, failed
// with its text otherwise.
func (l *Ledger) Finish(ctx context.Context, runID string, runErr error, at time.Time) error {
	if runErr == nil {
		return l.update(ctx, runID, `status = 'succeeded', finished_at = ?`, norm(at))
	}
	return l.update(ctx, runID, `status = 'failed', error = ?, finished_at = ?`, runErr.Error(), norm(at))
}

// Resume hands an interrupted run to a new owner: attempt + 1, queued,
// note extended.
func (l *Ledger) Resume(ctx context.Context, runID, owner, note string) (Run, error) {
	if err := l.update(ctx, runID, `status = 'queued', attempt = attempt + 1, owner = ?, note = concat_ws('; ', note, ?), started_at = NULL`, owner, note); err != nil {
		return Run{}, err
	}
	return l.Run(ctx, runID)
}

// Requeue hands a run that was claimed but never started to a new owner
// (same attempt: nothing was done).
func (l *Ledger) Requeue(ctx context.Context, runID, owner, note string) (Run, error) {
	if err := l.update(ctx, runID, `status = 'queued', owner = ?, note = concat_ws('; ', note, ?)`, owner, note); err != nil {
		return Run{}, err
	}
	return l.Run(ctx, runID)
}

// Fail marks a run failed with a reason (an interrupted run that its
// schedule's policy does not resume).
func (l *Ledger) Fail(ctx context.Context, runID, reason string, at time.Time) error {
	return l.update(ctx, runID, `status = 'failed', error = ?, finished_at = ?`, reason, norm(at))
}

// AddNote appends to a run's note.
func (l *Ledger) AddNote(ctx context.Context, runID, note string) error {
	return l.update(ctx, runID, `note = concat_ws('; ', note, ?)`, note)
}

func (l *Ledger) update(ctx context.Context, runID, set string, args ...any) error {
	res, err := l.db.ExecContext(ctx, `UPDATE report_runs SET `+set+` WHERE run_id = ?`, append(args, runID)...)
	if err != nil {
		return fmt.Errorf("schedule: update run %s: %w", runID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, runID)
	}
	return nil
}

// Delivery is one row of report_deliveries.
type Delivery struct {
	RunID     string
	Recipient string
	Channel   string
	Key       string
	Status    string
	Attempts  int
	Receipt   string
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// AlreadySent is set by Deliver when the ledger had it as sent and
	// nothing was sent now.
	AlreadySent bool
}

// SendFunc sends one delivery with its idempotency key and returns what
// the channel knows it by and how many tries it took.
type SendFunc func(ctx context.Context, key string) (receipt string, attempts int, err error)

// Deliver sends one (run, recipient, channel) at most once as far as the
// ledger knows: it records the delivery as pending before calling send
// and as sent or failed after. One recorded as sent is not sent again
// (AlreadySent); one left pending by a crash, or failed, is sent again
// with the same key, so the receiver can recognise a repeat (the email
// Message-ID, the webhook Idempotency-Key). The error is send's.
func (l *Ledger) Deliver(ctx context.Context, runID, recipient, channel string, send SendFunc) (Delivery, error) {
	now := l.now
	key := DeliveryKey(runID, recipient, channel)
	if _, err := l.db.ExecContext(ctx, `INSERT INTO report_deliveries (run_id, recipient, channel, delivery_key, status, attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING`, runID, recipient, channel, key, norm(now()), norm(now())); err != nil {
		return Delivery{}, fmt.Errorf("schedule: record delivery %s → %s via %s: %w", runID, recipient, channel, err)
	}
	d, err := l.delivery(ctx, runID, recipient, channel)
	if err != nil {
		return d, err
	}
	if d.Status == DeliverySent {
		d.AlreadySent = true
		return d, nil
	}
	if d.Status != DeliveryPending {
		if _, err := l.db.ExecContext(ctx, `UPDATE report_deliveries SET status = 'pending', updated_at = ? WHERE run_id = ? AND recipient = ? AND channel = ?`,
			norm(now()), runID, recipient, channel); err != nil {
			return d, fmt.Errorf("schedule: record delivery %s → %s: %w", runID, recipient, err)
		}
	}
	receipt, attempts, sendErr := send(ctx, d.Key)
	// Record the outcome even if ctx ended meanwhile: a send that went
	// out must not stay pending when it need not.
	rctx := context.WithoutCancel(ctx)
	if sendErr == nil {
		_, err = l.db.ExecContext(rctx, `UPDATE report_deliveries SET status = 'sent', attempts = attempts + ?, receipt = ?, error = NULL, updated_at = ? WHERE run_id = ? AND recipient = ? AND channel = ?`,
			attempts, receipt, norm(now()), runID, recipient, channel)
	} else {
		_, err = l.db.ExecContext(rctx, `UPDATE report_deliveries SET status = 'failed', attempts = attempts + ?, error = ?, updated_at = ? WHERE run_id = ? AND recipient = ? AND channel = ?`,
			attempts, sendErr.Error(), norm(now()), runID, recipient, channel)
	}
	if err != nil {
		return d, errors.Join(sendErr, fmt.Errorf("schedule: record delivery %s → %s: %w", runID, recipient, err))
	}
	d, err = l.delivery(rctx, runID, recipient, channel)
	if err != nil {
		return d, errors.Join(sendErr, err)
	}
	return d, sendErr
}

func (l *Ledger) delivery(ctx context.Context, runID, recipient, channel string) (Delivery, error) {
	rows, err := l.queryDeliveries(ctx, `run_id = ? AND recipient = ? AND channel = ?`, runID, recipient, channel)
	if err != nil {
		return Delivery{}, err
	}
	if len(rows) != 1 {
		return Delivery{}, fmt.Errorf("schedule: delivery %s → %s via %s not found", runID, recipient, channel)
	}
	return rows[0], nil
}

// Deliveries lists a run's deliveries by recipient and channel.
func (l *Ledger) Deliveries(ctx context.Context, runID string) ([]Delivery, error) {
	return l.queryDeliveries(ctx, `run_id = ? ORDER BY recipient, channel`, runID)
}

func (l *Ledger) queryDeliveries(ctx context.Context, where string, args ...any) ([]Delivery, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT run_id, recipient, channel, delivery_key, status, attempts, receipt, error, created_at, updated_at
		FROM report_deliveries WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("schedule: deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var receipt, errText sql.NullString
		if err := rows.Scan(&d.RunID, &d.Recipient, &d.Channel, &d.Key, &d.Status, &d.Attempts, &receipt, &errText, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, err
		}
		d.Receipt, d.Error = receipt.String, errText.String
		out = append(out, d)
	}
	return out, rows.Err()
}
