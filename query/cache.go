package query

import "sync"

// cache holds values for the current data version: rendered chart responses
// (JSON) and query results (read-only once stored, shared across languages).
// The whole cache is dropped when the version changes (a load, a refresh, or
// Invalidate); within a version, entries are evicted oldest-first beyond max.
type cache[V any] struct {
	mu    sync.Mutex
	max   int
	items map[string]V
	order []string
}

func newCache[V any](max int) *cache[V] { return &cache[V]{max: max, items: map[string]V{}} }

func (c *cache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[key]
	return v, ok
}

func (c *cache[V]) put(key string, v V) {
	if c.max <= 0 {
		return // caching off (Options.CacheEntries < 0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		c.items[key] = v
		return
	}
	for len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[key] = v
	c.order = append(c.order, key)
}

func (c *cache[V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[string]V{}
	c.order = nil
}

func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
