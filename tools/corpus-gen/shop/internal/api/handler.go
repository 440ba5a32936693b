// Package api is the HTTP-ish front of the shop service.
package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"example.com/shop/internal/service"
	"example.com/shop/internal/store"
)

// Request is a transport-neutral request.
type Request struct {
	Path  string
	Query map[string]any
}

// Handler serves order endpoints.
type Handler struct {
	svc *service.OrderService
}

// NewHandler returns a handler.
func NewHandler(svc *service.OrderService) *Handler { return &Handler{svc: svc} }

// GetOrder handles GET /orders/{id}.
func (h *Handler) GetOrder(ctx context.Context, req *Request) (*store.Order, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(req.Path, "/orders/"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad order id: %w", err)
	}
	o, err := h.svc.LoadOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ListOrders handles GET /orders?limit=N.
func (h *Handler) ListOrders(ctx context.Context, req *Request) ([]int64, error) {
	limit := h.limit(req)
	ids := make([]int64, 0, limit)
	for id := int64(40); id < int64(40+limit); id++ {
		ids = append(ids, id)
	}
	return ids, nil
}

func (h *Handler) limit(req *Request) int {
	v, ok := req.Query["limit"]
	if !ok {
		return 10
	}
	return v.(int)
}

// Recover wraps next and re-panics with context (a middleware that loses the
// original stack but keeps the chain).
func (h *Handler) Recover(name string, next func()) {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Errorf("handler %s: %v", name, r))
		}
	}()
	next()
}

// ServeHTTP routes /orders/{id} and /orders/{id}/items/{n}.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) >= 2 && parts[0] == "orders" {
		o, err := h.GetOrder(r.Context(), &Request{Path: "/orders/" + parts[1]})
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if len(parts) == 4 && parts[2] == "items" {
			n, _ := strconv.Atoi(parts[3])
			fmt.Fprintf(w, "%v\n", o.Items[n])
			return
		}
		fmt.Fprintf(w, "order %d customer=%s total=%d\n", o.ID, o.Customer, o.TotalCents)
		return
	}
	http.NotFound(w, r)
}
