// Package orders is the service code whose failures the structured loggers record.
package orders

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
)

// ErrDeclined is returned when the payment provider refuses a charge.
var ErrDeclined = errors.New("card expired")

// Order is a minimal order.
type Order struct {
	ID    int64
	Items []int64
	Tags  map[string]string
}

// Service logs through zap (checkout) and logrus (sync jobs), as services mixing libraries do.
type Service struct {
	Z *zap.Logger
	L *logrus.Entry
}

// Checkout logs a declined charge at Error level: zap attaches its "stacktrace" (no goroutine header).
func (s *Service) Checkout(o *Order) {
	if err := charge(o); err != nil {
		s.Z.Error("payment failed", zap.Int64("order_id", o.ID), zap.Error(err))
	}
}

// TagSafely recovers the nil-map panic of tag and logs it with zap.Stack("stack") too.
func (s *Service) TagSafely(o *Order) {
	defer func() {
		if r := recover(); r != nil {
			s.Z.Error("recovered panic", zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	tag(o, "source", "api")
}

// SyncItems recovers an index panic and logs debug.Stack() in logrus's "stack" field.
func (s *Service) SyncItems(o *Order) {
	defer func() {
		if r := recover(); r != nil {
			s.L.WithError(fmt.Errorf("%v", r)).WithField("stack", string(debug.Stack())).Error("order sync failed")
		}
	}()
	item(o, 5)
}

// RunWorker recovers a nil dereference and prints debug.Stack() inside the message itself.
func (s *Service) RunWorker(o *Order) {
	defer func() {
		if r := recover(); r != nil {
			s.L.Errorf("worker crashed: %v\n%s", r, debug.Stack())
		}
	}()
	total(o)
}

func charge(o *Order) error {
	return fmt.Errorf("charge declined for order %d: %w", o.ID, ErrDeclined)
}

func tag(o *Order, k, v string) {
	o.Tags[k] = v
}

func item(o *Order, i int) int64 {
	return o.Items[i]
}

func total(o *Order) int64 {
	return int64(len(o.Items)) * o.ID
}
