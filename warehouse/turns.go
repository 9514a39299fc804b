package warehouse

import (
	"container/list"
	"context"
	"sync"
)

// turns lets the read pool's queries start in the order they asked. With
// every connection busy, database/sql hands a freed connection to a random
// waiter, so under load a query could wait behind any number of queries that
// came after it: on the large demo company, 16 clients on two cores waited up
// to seconds past their turn (cmd/triscope bench-serve; a model of the queue
// put the p95 of random order 1.5× that of first come, first served, with the
// same throughput). A query takes a turn before it takes a connection and
// gives it back once DuckDB has run it (its result is materialised then).
type turns struct {
	mu      sync.Mutex
	free    int
	waiting list.List // of chan struct{}, closed when the turn is handed over
}

func newTurns(n int) *turns { return &turns{free: n} }

// take waits for a turn, first come first served, or for ctx to end.
func (t *turns) take(ctx context.Context) error {
	t.mu.Lock()
	if t.free > 0 && t.waiting.Len() == 0 {
		t.free--
		t.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	e := t.waiting.PushBack(ready)
	t.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		select {
		case <-ready: // handed over meanwhile: pass it on
			t.mu.Unlock()
			t.give()
		default:
			t.waiting.Remove(e)
			t.mu.Unlock()
		}
		return ctx.Err()
	}
}

// give returns a turn: to the longest waiting query, else to the free ones.
func (t *turns) give() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.waiting.Front(); e != nil {
		t.waiting.Remove(e)
		close(e.Value.(chan struct{}))
		return
	}
	t.free++
}

// queued is the number of queries waiting for a turn.
func (t *turns) queued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waiting.Len()
}
