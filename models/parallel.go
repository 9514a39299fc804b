package models

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// returnFreedMemory hands what the Go side of a model has freed back to the
// operating system now. Go's scavenger returns it over minutes, and
// meanwhile DuckDB's next statements allocate on top of it: the large demo
// company's full refresh with memory_limit 5GB peaked at 8.7 GB while the
// deals were matched, the name index's freed gigabytes still held.
func returnFreedMemory() { debug.FreeOSMemory() }

// Go-side work a refresh waits for (the collision model's name index) runs
// on every CPU: DuckDB's threads are idle meanwhile.

// parallelMinItems is the fewest items parallelRanges splits (tests lower it
// to run the parallel paths on small fixtures).
var parallelMinItems = 1024

// parallelRanges splits [0, n) into consecutive ranges, one per CPU, of
// about equal total weight (nil: each item weighs 1); a single range when n
// is too small to be worth the goroutines.
func parallelRanges(n int, weight func(i int) int) [][2]int {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelMinItems || workers == 1 {
		return [][2]int{{0, n}}
	}
	if weight == nil {
		weight = func(int) int { return 1 }
	}
	total := 0
	for i := range n {
		total += weight(i)
	}
	var ranges [][2]int
	lo, acc := 0, 0
	for w := 1; w <= workers && lo < n; w++ {
		hi := lo
		for hi < n && (w == workers || acc < total*w/workers) {
			acc += weight(hi)
			hi++
		}
		ranges = append(ranges, [2]int{lo, hi})
		lo = hi
	}
	return ranges
}

// inParallel calls fn(part, lo, hi) for each range at once and waits.
func inParallel(ranges [][2]int, fn func(part, lo, hi int)) {
	var wg sync.WaitGroup
	for part, r := range ranges {
		wg.Go(func() { fn(part, r[0], r[1]) })
	}
	wg.Wait()
}
