package store

import (
	"sync"
	"time"
)

// Catalog holds prices behind a read-write lock that is not its first field,
// so the lock's address differs from the receiver's. Price takes the read
// lock (RLock is inlined, so its frame prints no address); Reload holds the
// write lock while it sleeps, which parks every reader.
type Catalog struct {
	name   string
	mu     sync.RWMutex
	prices map[string]int64
}

// NewCatalog returns a catalog with one price.
func NewCatalog(name string) *Catalog {
	return &Catalog{name: name, prices: map[string]int64{"AB-123": 500}}
}

// Price reads one price under the read lock.
func (c *Catalog) Price(sku string) int64 {
	c.mu.RLock()
	p := c.prices[sku]
	c.mu.RUnlock()
	return p
}

// Reload replaces the prices while holding the write lock; the upstream
// fetch (a sleep here) happens under the lock.
func (c *Catalog) Reload(fetch time.Duration) {
	c.mu.Lock()
	time.Sleep(fetch)
	c.prices = map[string]int64{"AB-123": 525}
	c.mu.Unlock()
}

// Ledger sums entries under the read lock (slowly) and compacts them under
// the write lock, which waits for the readers.
type Ledger struct {
	id      int64
	mu      sync.RWMutex
	entries []int64
}

// NewLedger returns an empty ledger.
func NewLedger(id int64) *Ledger {
	return &Ledger{id: id, entries: []int64{1, 2, 3}}
}

// Sum holds the read lock while it "reads from disk".
func (l *Ledger) Sum(read time.Duration) int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	time.Sleep(read)
	var s int64
	for _, e := range l.entries {
		s += e
	}
	return s
}

// Compact rewrites the entries under the write lock.
func (l *Ledger) Compact() {
	l.mu.Lock()
	l.entries = l.entries[:0]
	l.mu.Unlock()
}
