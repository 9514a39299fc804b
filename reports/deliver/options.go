package deliver

import (
	"net"
	"strings"
)

// Option adjusts a channel built by New* or by a Registry.
type Option func(*settings)

type settings struct {
	clock  Clock
	jitter func() float64
	retry  RetryConfig
}

// WithClock sets the clock of retries and pacing (tests use a fake one).
func WithClock(c Clock) Option { return func(s *settings) { s.clock = c } }

// WithRetry sets the retry policy (zero fields take their defaults).
func WithRetry(r RetryConfig) Option { return func(s *settings) { s.retry = r } }

// WithJitter replaces the random source of backoff jitter: f returns a
// number in [0, 1).
func WithJitter(f func() float64) Option { return func(s *settings) { s.jitter = f } }

func options(opts []Option) settings {
	s := settings{clock: RealClock, jitter: defaultJitter}
	for _, o := range opts {
		o(&s)
	}
	s.retry = s.retry.withDefaults()
	return s
}

func (s settings) retrier(name, kind string, rate RateConfig) retrier {
	return retrier{name: name, kind: kind, policy: s.retry, clock: s.clock, jitter: s.jitter, retryAfter: rate.withDefaults().Per}
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
