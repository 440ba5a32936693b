// Package orm is a tiny stand-in for a third-party ORM. It is vendored into
// example.com/shop so that crashes can happen inside library code while the
// service's own frames sit deeper in the stack.
package orm

import (
	"fmt"
	"sort"
	"sync"
)

// DB is an in-memory "database" of tables keyed by int64 ids.
type DB struct {
	mu     sync.RWMutex
	dsn    string
	tables map[string]*table
}

type table struct {
	name string
	rows map[int64][]any
}

// Row is the result of QueryRow.
type Row struct {
	query string
	vals  []any
	err   error
}

// Open returns an empty database.
func Open(dsn string) (*DB, error) {
	return &DB{dsn: dsn, tables: make(map[string]*table)}, nil
}

// Insert stores a row.
func (db *DB) Insert(tbl string, id int64, vals ...any) {
	db.mu.Lock()
	defer db.mu.Unlock()
	t := db.tables[tbl]
	if t == nil {
		t = &table{name: tbl, rows: make(map[int64][]any)}
		db.tables[tbl] = t
	}
	t.rows[id] = vals
}

// QueryRow returns the row with the given id. It returns nil when no row
// matches (a long-standing quirk of this library that callers must check).
func (db *DB) QueryRow(tbl string, id int64) *Row {
	db.mu.RLock()
	defer db.mu.RUnlock()
	t := db.tables[tbl]
	if t == nil {
		return &Row{err: fmt.Errorf("orm: no such table %q", tbl)}
	}
	vals, ok := t.rows[id]
	if !ok {
		return nil
	}
	return &Row{query: fmt.Sprintf("SELECT * FROM %s WHERE id = %d", tbl, id), vals: vals}
}

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if len(dest) > len(r.vals) {
		return fmt.Errorf("orm: %d destinations for %d columns", len(dest), len(r.vals))
	}
	for i, d := range dest {
		switch p := d.(type) {
		case *int64:
			*p = r.vals[i].(int64)
		case *string:
			*p = r.vals[i].(string)
		case *[]byte:
			*p = r.vals[i].([]byte)
		default:
			return fmt.Errorf("orm: unsupported destination %T", d)
		}
	}
	return nil
}

// Each calls fn for every row of tbl in id order.
func (db *DB) Each(tbl string, fn func(id int64, vals []any) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	t := db.tables[tbl]
	if t == nil {
		return fmt.Errorf("orm: no such table %q", tbl)
	}
	ids := make([]int64, 0, len(t.rows))
	for id := range t.rows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := fn(id, t.rows[id]); err != nil {
			return err
		}
	}
	return nil
}
