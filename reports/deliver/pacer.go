package deliver

import (
	"context"
	"time"
)

// RateConfig limits how many messages a robot is sent: at most Messages in
// any window of length Per.
type RateConfig struct {
	// Messages is the most messages in one window; 0 means 20 (the limit
	// WeCom and DingTalk document for a group robot).
	Messages int `koanf:"messages" yaml:"messages,omitempty"`
	// Per is the window; 0 means 1m. The pacer adds a second of margin so
	// that network delay cannot put 21 messages into the robot's minute.
	Per time.Duration `koanf:"per" yaml:"per,omitempty"`
}

func (r RateConfig) withDefaults() RateConfig {
	if r.Messages <= 0 {
		r.Messages = 20
	}
	if r.Per <= 0 {
		r.Per = time.Minute
	}
	return r
}

// pacer queues sends so that no window of length per holds more than n of
// them. It is a sliding-window log rather than a token bucket on purpose: a
// bucket of 20 tokens refilled at 20 a minute lets 39 messages through in
// the first minute (20 at once, 19 refilled), which the robots answer by
// blocking the robot for ten minutes. Waiters are served in arrival order.
type pacer struct {
	clock Clock
	n     int
	per   time.Duration
	turn  chan struct{} // holds the one token of whoever may send next
	sent  []time.Time   // ring of the last n send instants
	next  int
}

func newPacer(clock Clock, rate RateConfig) *pacer {
	rate = rate.withDefaults()
	p := &pacer{clock: clock, n: rate.Messages, per: rate.Per + time.Second, turn: make(chan struct{}, 1), sent: make([]time.Time, 0, rate.Messages)}
	p.turn <- struct{}{}
	return p
}

// wait blocks until a message may be sent now, and counts it as sent.
func (p *pacer) wait(ctx context.Context) error {
	select {
	case <-p.turn: // goroutines blocked on a channel are woken first in, first out
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { p.turn <- struct{}{} }()
	if len(p.sent) == p.n {
		oldest := p.sent[p.next]
		if d := oldest.Add(p.per).Sub(p.clock.Now()); d > 0 {
			if err := p.clock.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	now := p.clock.Now()
	if len(p.sent) < p.n {
		p.sent = append(p.sent, now)
		return nil
	}
	p.sent[p.next] = now
	p.next = (p.next + 1) % p.n
	return nil
}
