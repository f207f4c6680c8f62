package invoice

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Issued: the invoice was issued. It has a field of each mapped type.
type Issued struct {
	InvoiceID  uuid.UUID
	ExternalID ExternalID
	Number     string
	Status     Status
	Region     Region
	Final      bool
	Lines      int
	Amount     int64
	Quantity   uint32
	Priority   int16
	Retries    uint8
	Total      uint64
	TaxRate    float64
	Discount   float32
	IssuedAt   time.Time
	Terms      time.Duration
	CustomerID CustomerID
	Attachment []byte
	Tags       []string
	LineIDs    []int64
	Note       *string
	DueAt      *time.Time
	Address    Address
	Metadata   map[string]string
	Items      []Item
	Reference  string `json:"ref"`
	Balance    Cents
	Checksum   [32]byte
	Ignored    string `json:"-"`
}

// GetType names the event for the event store.
func (Issued) GetType() string { return "invoice.issued" }

// Paid: the customer paid.
type Paid struct {
	PaidAt     time.Time
	AmountPaid uint64
}

// GetType names the event for the event store, as package.Type.
func (e Paid) GetType() string { return fmt.Sprintf("%T", e) }

// Voided: the invoice was cancelled.
type Voided struct {
	Reason *string
}

// GetType names the event for the event store.
func (*Voided) GetType() string { return "invoice.voided" }
