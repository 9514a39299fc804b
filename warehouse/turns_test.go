package warehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// Queries waiting for a busy read pool start in the order they asked
// (database/sql alone hands a freed connection to a random waiter). With one
// connection and a commit holding the gate, eight queries queue; once the
// commit is done they must run one after the other in that order.
func TestReadersStartInTheOrderTheyAsked(t *testing.T) {
	ctx := context.Background()
	w, err := Open(ctx, Options{Threads: 1, ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 8
	w.gate.Lock() // a commit being applied
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rows, err := w.Reader().QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			rows.Close() // (hands the one connection on)
		})
		// The first query takes the turn and waits for the gate, the others
		// for the turn: wait until query i is in line before the next asks.
		for deadline := time.Now().Add(10 * time.Second); !w.turns.inLine(i); {
			if time.Now().After(deadline) {
				w.gate.Unlock()
				t.Fatalf("query %d never got in line", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	w.gate.Unlock()
	wg.Wait()
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(order, want) {
		t.Fatalf("the queries ran in the order %v, want the order they asked in %v", order, want)
	}
}

// inLine says whether the one turn is taken and n queries wait for it.
func (t *turns) inLine(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.free == 0 && t.waiting.Len() == n
}

// A query whose context ends while it waits leaves the line, and a turn
// handed to it as it gave up goes on to the next one.
func TestTurnsHonourContext(t *testing.T) {
	tu := newTurns(1)
	if err := tu.take(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tu.take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("take past its deadline: %v", err)
	}
	if q := tu.queued(); q != 0 {
		t.Fatalf("%d waiting after the query gave up, want 0", q)
	}
	got := make(chan error, 1)
	go func() { got <- tu.take(context.Background()) }()
	for tu.queued() == 0 {
		time.Sleep(time.Millisecond)
	}
	tu.give()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	tu.give()
	if err := tu.take(context.Background()); err != nil { // the one turn is free again
		t.Fatal(err)
	}
}
