// Package product is the aggregate of a catalog product. Its events are
// marked for projgen with //projgen:event.
package product

import "github.com/google/uuid"

// Product is the aggregate.
type Product struct {
	ID      uuid.UUID
	Version int64
	SKU     string
	Price   int64
}
