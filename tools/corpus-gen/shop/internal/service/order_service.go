// Package service holds the shop's business logic.
package service

import (
	"context"
	"errors"
	"fmt"

	"example.com/shop/internal/store"
)

// ErrOversold is returned when stock would go negative.
var ErrOversold = errors.New("stock oversold")

// OrderService implements order use cases.
type OrderService struct {
	repo  *store.OrderRepo
	cache *store.Cache
	stock map[string]int64
}

// NewOrderService wires a service.
func NewOrderService(repo *store.OrderRepo, cache *store.Cache) *OrderService {
	return &OrderService{repo: repo, cache: cache, stock: map[string]int64{"AB-123": 2}}
}

// LoadOrder returns an order from the cache or the repo.
func (s *OrderService) LoadOrder(ctx context.Context, id int64) (*store.Order, error) {
	if o, ok := s.cache.Get(ctx, id); ok {
		return o, nil
	}
	o, err := s.repo.FindByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load order: %w", err)
	}
	s.cache.Put(o)
	return o, nil
}

// TopItems returns the n most expensive items (assumes at least n items).
func (s *OrderService) TopItems(o *store.Order, n int) []store.Item {
	top := make([]store.Item, n)
	for i := 0; i < n; i++ {
		top[i] = o.Items[len(o.Items)-1-i]
	}
	return top
}

// AverageItemPrice divides the total by the number of items.
func (s *OrderService) AverageItemPrice(o *store.Order) int64 {
	return o.TotalCents / int64(len(o.Items))
}

// Tag sets a tag on the order (o.Tags may be nil for orders read from the DB).
func (s *OrderService) Tag(o *store.Order, k, v string) {
	o.Tags[k] = v
}

// ApplyDiscount applies o.Discount (which may be nil).
func (s *OrderService) ApplyDiscount(o *store.Order) int64 {
	off := o.TotalCents * o.Discount.Percent / 100
	return o.TotalCents - off
}

// CheckInvariants panics when the order total does not match its items.
func (s *OrderService) CheckInvariants(o *store.Order) {
	var sum int64
	for _, it := range o.Items {
		sum += it.Qty * it.PriceCents
	}
	if sum != o.TotalCents {
		panic(fmt.Sprintf("invariant violated: order %d total=%#x != sum of items %#x (%d items)", o.ID, o.TotalCents, sum, len(o.Items)))
	}
}

// SettlePayment panics with an error value when the payment state is corrupt.
func (s *OrderService) SettlePayment(o *store.Order, state string) {
	if state != "authorized" && state != "captured" {
		panic(errors.New("payment state corrupted: settle called in state \"" + state + "\""))
	}
}

// ReserveStock takes qty of sku out of stock.
func (s *OrderService) ReserveStock(ctx context.Context, orderID int64, sku string, qty int64) error {
	if s.stock[sku] < qty {
		return fmt.Errorf("reserve stock for order %d sku=%s qty=%d: %w", orderID, sku, qty, ErrOversold)
	}
	s.stock[sku] -= qty
	return nil
}

// MustReserve panics when stock cannot be reserved.
func (s *OrderService) MustReserve(ctx context.Context, orderID int64, sku string, qty int64) {
	if err := s.ReserveStock(ctx, orderID, sku, qty); err != nil {
		panic(err)
	}
}

// Transition moves an order to a new state.
func (s *OrderService) Transition(o *store.Order, to string) {
	switch to {
	case "paid", "shipped", "delivered":
		return
	}
	panic(fmt.Sprintf("unknown order state %q for order %d", to, o.ID))
}
