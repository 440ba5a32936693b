// Package store is the data-access layer of the shop service.
package store

import (
	"context"
	"fmt"

	"github.com/acme/orm"
)

// Order is a customer order.
type Order struct {
	ID         int64
	Customer   string
	TotalCents int64
	SKUs       []byte
	Items      []Item
	Tags       map[string]string
	Discount   *Discount
}

// Item is one order line.
type Item struct {
	SKU        string
	Qty        int64
	PriceCents int64
}

// Discount is an optional order discount.
type Discount struct {
	Code    string
	Percent int64
}

// OrderRepo loads orders from the database.
type OrderRepo struct {
	db     *orm.DB
	shards []string
}

// NewOrderRepo returns a repo over db with four shards.
func NewOrderRepo(db *orm.DB) *OrderRepo {
	return &OrderRepo{db: db, shards: []string{"orders_0", "orders_1", "orders_2", "orders_3"}}
}

// Seed inserts a few orders.
func (r *OrderRepo) Seed() {
	for id := int64(40); id < 48; id++ {
		r.db.Insert(r.shardFor(id), id, id, fmt.Sprintf("customer-%d", id), id*125, []byte("AB-12345CD-678"))
	}
}

func (r *OrderRepo) shardFor(id int64) string {
	return r.shards[id/1000]
}

// FindByID loads one order.
func (r *OrderRepo) FindByID(ctx context.Context, id int64) (*Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var o Order
	shard := r.shards[id/1000]
	row := r.db.QueryRow(shard, id)
	if err := row.Scan(&o.ID, &o.Customer, &o.TotalCents, &o.SKUs); err != nil {
		return nil, fmt.Errorf("find order %d: %w", id, err)
	}
	return &o, nil
}

// ListSKUs decodes the 8-byte SKU prefix of every order in a shard.
func (r *OrderRepo) ListSKUs(ctx context.Context, shard int) ([]string, error) {
	var out []string
	err := r.db.Each(r.shards[shard], func(id int64, vals []any) error {
		raw := vals[3].([]byte)
		out = append(out, decodeSKU(raw[:5:5]))
		return nil
	})
	return out, err
}

//go:noinline
func decodeSKU(b []byte) string {
	return string(b[:8])
}

// ExportAll materialises every shard in 256 MiB chunks (and never stops).
func (r *OrderRepo) ExportAll(ctx context.Context) [][]byte {
	var chunks [][]byte
	for {
		chunks = append(chunks, make([]byte, 256<<20))
	}
}
