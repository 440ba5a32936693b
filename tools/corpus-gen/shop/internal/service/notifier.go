package service

import "sync"

// Event is an order event.
type Event struct {
	OrderID int64
	Kind    string
}

// Notifier fans events out to subscribers.
type Notifier struct {
	mu     sync.Mutex
	events chan Event
	subs   []chan Event
	closed bool
}

// NewNotifier returns a notifier with a small buffer.
func NewNotifier() *Notifier {
	return &Notifier{events: make(chan Event, 1)}
}

// Subscribe registers fn and starts a goroutine that delivers events to it.
// The goroutine only exits when the subscription channel is closed, which
// nothing ever does: every call leaks one goroutine.
func (n *Notifier) Subscribe(fn func(Event)) {
	ch := make(chan Event)
	n.mu.Lock()
	n.subs = append(n.subs, ch)
	n.mu.Unlock()
	go func() {
		for ev := range ch {
			fn(ev)
		}
	}()
}

// Publish queues an event.
func (n *Notifier) Publish(ev Event) {
	n.events <- ev
}

// Close closes the event queue (not idempotent).
func (n *Notifier) Close() {
	close(n.events)
}

// Subscribers returns the number of subscriptions.
func (n *Notifier) Subscribers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}
