package deliver

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// RetryConfig bounds the retries of one send.
type RetryConfig struct {
	// Attempts is the most tries of one message (first included); 0 means 5.
	Attempts int `koanf:"attempts" yaml:"attempts,omitempty"`
	// Initial is the wait after the first failure; 0 means 2s. Each later
	// wait doubles, up to Max, and is drawn uniformly from [d/2, d] (jitter).
	Initial time.Duration `koanf:"initial" yaml:"initial,omitempty"`
	// Max caps one wait; 0 means 1m.
	Max time.Duration `koanf:"max" yaml:"max,omitempty"`
}

func (r RetryConfig) withDefaults() RetryConfig {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Initial <= 0 {
		r.Initial = 2 * time.Second
	}
	if r.Max <= 0 {
		r.Max = time.Minute
	}
	if r.Max < r.Initial {
		r.Max = r.Initial
	}
	return r
}

// backoff is the wait before attempt n+1 (n ≥ 1 failed attempts so far).
func (r RetryConfig) backoff(n int, jitter func() float64) time.Duration {
	d := r.Initial
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	// Equal jitter: half fixed, half random, so waits never collapse to 0
	// and robots hit by one outage do not retry in lockstep.
	return d/2 + time.Duration(jitter()*float64(d/2))
}

// attemptFunc is one try of a channel; it returns the receipt id and an
// error classified by the channel (an *Error, or a plain error that
// classify decides about).
type attemptFunc func(ctx context.Context, msg Message) (id string, notes []string, err error)

// retrier runs attempts of one channel with backoff.
type retrier struct {
	name, kind string
	policy     RetryConfig
	clock      Clock
	jitter     func() float64
	// retryAfter is the least wait after a rate-limit refusal (a robot's
	// "too fast" code): the pacer's window.
	retryAfter time.Duration
}

func (r *retrier) run(ctx context.Context, msg Message, try attemptFunc) (Receipt, error) {
	if msg.Key == "" {
		return Receipt{}, r.errorf("prepare", true, 0, "the caller must set Message.Key (stable per run, recipient and channel)", errors.New("message has no idempotency key"))
	}
	var last error
	for n := 1; ; n++ {
		id, notes, err := try(ctx, msg)
		if err == nil {
			return Receipt{Channel: r.name, Kind: r.kind, ID: id, Attempts: n, At: r.clock.Now(), Notes: notes}, nil
		}
		last = r.wrap(err, "send")
		if IsPermanent(last) || ctx.Err() != nil {
			return Receipt{Attempts: n}, last
		}
		if n >= r.policy.Attempts {
			var de *Error
			errors.As(last, &de)
			de.Hint = joinHint(de.Hint, "gave up after "+strconv.Itoa(n)+" attempts")
			return Receipt{Attempts: n}, last
		}
		wait := r.policy.backoff(n, r.jitter)
		var de *Error
		if errors.As(last, &de) && de.Status == statusRateLimited && wait < r.retryAfter {
			wait = r.retryAfter
		}
		if err := r.clock.Sleep(ctx, wait); err != nil {
			return Receipt{Attempts: n}, last
		}
	}
}

// statusRateLimited marks a robot's "too fast" refusal in Error.Status.
const statusRateLimited = 429

// wrap makes err an *Error of this channel, classifying plain errors:
// network errors and timeouts are transient, anything else permanent.
func (r *retrier) wrap(err error, op string) error {
	var de *Error
	if errors.As(err, &de) {
		if de.Channel == "" {
			de.Channel, de.Kind = r.name, r.kind
		}
		if de.Op == "" {
			de.Op = op
		}
		return de
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Channel: r.name, Kind: r.kind, Op: op, Permanent: true, Err: err, Hint: "the run was cancelled or timed out"}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return &Error{Channel: r.name, Kind: r.kind, Op: op, Err: err, Hint: "network error: check that the host is reachable from this server"}
	}
	return &Error{Channel: r.name, Kind: r.kind, Op: op, Permanent: true, Err: err}
}

func (r *retrier) errorf(op string, permanent bool, status int, hint string, err error) *Error {
	return &Error{Channel: r.name, Kind: r.kind, Op: op, Permanent: permanent, Status: status, Hint: hint, Err: err}
}

func joinHint(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func defaultJitter() float64 { return rand.Float64() }

// String describes the channel without its configuration: printing a
// channel (%v, %+v, %#v) never shows a key, token or password.
func (r retrier) String() string {
	return "deliver channel " + strconv.Quote(r.name) + " (" + r.kind + ")"
}

// GoString is String, for %#v.
func (r retrier) GoString() string { return r.String() }
