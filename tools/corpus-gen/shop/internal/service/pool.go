package service

import (
	"context"
	"sync"
	"time"
)

// Pool is a fixed set of idle workers waiting for jobs.
type Pool struct {
	jobs chan func()
}

// NewPool starts n workers.
func NewPool(n int) *Pool {
	p := &Pool{jobs: make(chan func())}
	for i := 0; i < n; i++ {
		go p.worker(i)
	}
	return p
}

func (p *Pool) worker(i int) {
	for job := range p.jobs {
		job()
	}
}

// Janitor runs a periodic cleanup loop until ctx is done.
func Janitor(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// Retrier retries with a (very long) backoff.
type Retrier struct {
	Backoff time.Duration
}

// Do calls fn until it succeeds, sleeping between attempts.
func (r *Retrier) Do(fn func() error) {
	for fn() != nil {
		r.backoff()
	}
}

//go:noinline
func (r *Retrier) backoff() {
	time.Sleep(r.Backoff)
}

// Queue is a blocking queue built on sync.Cond.
type Queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []int64
}

// NewQueue returns an empty queue.
func NewQueue() *Queue {
	q := &Queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Pop blocks until an item is available.
func (q *Queue) Pop() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.cond.Wait()
	}
	it := q.items[0]
	q.items = q.items[1:]
	return it
}
