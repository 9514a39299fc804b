package engine

import "sync"

// cache holds rendered chart responses (JSON) for the current data version.
// The whole cache is dropped when the version changes (a load, a refresh, or
// Invalidate); within a version, entries are evicted oldest-first beyond max.
type cache struct {
	mu    sync.Mutex
	max   int
	items map[string][]byte
	order []string
}

func newCache(max int) *cache { return &cache{max: max, items: map[string][]byte{}} }

func (c *cache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.items[key]
	return b, ok
}

func (c *cache) put(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		c.items[key] = b
		return
	}
	for len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[key] = b
	c.order = append(c.order, key)
}

func (c *cache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[string][]byte{}
	c.order = nil
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// resultCache holds query results (read-only once stored) for the current data
// version, oldest evicted first; reset with the chart cache.
type resultCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*Result
	order []string
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, items: map[string]*Result{}}
}

func (c *resultCache) get(key string) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.items[key]
	return r, ok
}

func (c *resultCache) put(key string, r *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	for len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[key] = r
	c.order = append(c.order, key)
}

func (c *resultCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[string]*Result{}
	c.order = nil
}
