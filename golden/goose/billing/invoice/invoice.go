// Package invoice is the aggregate of an invoice. Its events carry a field
// of every type projgen maps to a column, and name their type with GetType.
// Invoice IDs are strings, not UUIDs.
package invoice

import "github.com/google/uuid"

// Invoice is the aggregate.
type Invoice struct {
	ID      string
	Version int64
	Status  Status
}

// Status is an invoice's state.
type Status string

// Cents is an amount of money in cents.
type Cents int64

// CustomerID identifies a customer; it is a UUID underneath.
type CustomerID [16]byte

// Region is an alias, as some codebases declare IDs.
type Region = string

// ExternalID is an alias of uuid.UUID: it maps as uuid.UUID does.
type ExternalID = uuid.UUID

// Address is a postal address, stored as JSON.
type Address struct {
	Street string `json:"street"`
	City   string `json:"city"`
}

// Item is one invoice line, stored as JSON.
type Item struct {
	Description string `json:"description"`
	Cents       Cents  `json:"cents"`
}
