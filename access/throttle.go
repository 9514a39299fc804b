package access

import (
	"strings"
	"sync"
	"time"
)

// Throttle limits failed logins: after MaxPerPair failures for one username
// from one client address, MaxPerAccount for one username from anywhere, or
// MaxPerIP from one address within Window, further attempts of that kind are
// refused until Lockout has passed since the last failure. The pair limit is
// the tight one: people behind one NAT address do not lock each other out,
// and nobody can lock an account from their own address; the per-account
// and per-IP ceilings are high, for guessing spread over many addresses or
// many accounts. A successful login clears the pair's and the account's
// counts.
type Throttle struct {
	MaxPerPair    int
	MaxPerAccount int
	MaxPerIP      int
	Window        time.Duration
	Lockout       time.Duration
	now           func() time.Time

	mu       sync.Mutex
	pairs    map[string]*failures
	accounts map[string]*failures
	ips      map[string]*failures
}

type failures struct {
	times []time.Time
}

// NewThrottle returns the default policy: in 15 minutes, 5 failures of one
// account from one address, 50 of one account from anywhere or 200 from one
// address lock that pair, account or address for 15 minutes.
func NewThrottle() *Throttle {
	return &Throttle{MaxPerPair: 5, MaxPerAccount: 50, MaxPerIP: 200, Window: 15 * time.Minute, Lockout: 15 * time.Minute,
		now: time.Now, pairs: map[string]*failures{}, accounts: map[string]*failures{}, ips: map[string]*failures{}}
}

func pairKey(username, ip string) string { return strings.ToLower(username) + "\x00" + ip }

func (f *failures) prune(now time.Time, keep time.Duration) {
	i := 0
	for i < len(f.times) && now.Sub(f.times[i]) > keep {
		i++
	}
	f.times = f.times[i:]
}

func (t *Throttle) blocked(m map[string]*failures, key string, max int, now time.Time) (bool, time.Duration) {
	f, ok := m[key]
	if !ok {
		return false, 0
	}
	f.prune(now, t.Window+t.Lockout)
	if len(f.times) == 0 {
		delete(m, key)
		return false, 0
	}
	last := f.times[len(f.times)-1]
	if now.Sub(last) >= t.Lockout {
		return false, 0
	}
	n := 0 // failures in the window that ends at the last failure
	for _, ts := range f.times {
		if last.Sub(ts) <= t.Window {
			n++
		}
	}
	if n >= max {
		return true, t.Lockout - now.Sub(last)
	}
	return false, 0
}

// Allowed reports whether a login attempt for username from ip may proceed,
// and if not, how long to wait.
func (t *Throttle) Allowed(username, ip string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if b, d := t.blocked(t.pairs, pairKey(username, ip), t.MaxPerPair, now); b {
		return false, d
	}
	if b, d := t.blocked(t.accounts, strings.ToLower(username), t.MaxPerAccount, now); b {
		return false, d
	}
	if b, d := t.blocked(t.ips, ip, t.MaxPerIP, now); b {
		return false, d
	}
	return true, 0
}

// Failed records a failed attempt.
func (t *Throttle) Failed(username, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, x := range []struct {
		m   map[string]*failures
		key string
	}{{t.pairs, pairKey(username, ip)}, {t.accounts, strings.ToLower(username)}, {t.ips, ip}} {
		f := x.m[x.key]
		if f == nil {
			f = &failures{}
			x.m[x.key] = f
		}
		f.times = append(f.times, now)
		if len(f.times) > 1000 {
			f.times = f.times[len(f.times)-1000:]
		}
	}
}

// Succeeded clears the failures of the account from that address, and of
// the account.
func (t *Throttle) Succeeded(username, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, pairKey(username, ip))
	delete(t.accounts, strings.ToLower(username))
}
