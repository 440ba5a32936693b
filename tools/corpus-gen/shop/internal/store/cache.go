package store

import (
	"context"
	"sync"
)

// Cache is an order cache guarded by a mutex. The mutex is the first field so
// that the *Cache receiver and the *sync.Mutex argument print the same address
// in goroutine dumps.
type Cache struct {
	mu      sync.Mutex
	orders  map[int64]*Order
	loads   int
	loaders chan chan *Order
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{orders: make(map[int64]*Order), loaders: make(chan chan *Order)}
}

// Get returns a cached order.
func (c *Cache) Get(ctx context.Context, id int64) (*Order, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orders[id]
	return o, ok
}

// PutUnsafe stores an order WITHOUT taking the lock (the bug behind
// "concurrent map writes").
func (c *Cache) PutUnsafe(o *Order) {
	c.orders[o.ID] = o
	c.loads++
}

// Put stores an order.
func (c *Cache) Put(o *Order) {
	c.mu.Lock()
	c.orders[o.ID] = o
	c.mu.Unlock()
}

// Invalidate drops an order; the early-return path unlocks twice.
func (c *Cache) Invalidate(id int64) {
	c.mu.Lock()
	if _, ok := c.orders[id]; !ok {
		c.mu.Unlock()
	}
	delete(c.orders, id)
	c.mu.Unlock()
}

// Refresh reloads the whole cache while holding the lock; it waits for a
// loader to hand it a result channel, which never happens when the loader
// pool is stuck.
func (c *Cache) Refresh(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := <-c.loaders
	for o := range res {
		c.orders[o.ID] = o
	}
}
