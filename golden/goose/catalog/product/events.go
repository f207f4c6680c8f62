package product

// Created: the product was added to the catalog.
//
//projgen:event
type Created struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// PriceChanged: the product's price changed.
//
//projgen:event catalog.product.price_changed
type PriceChanged struct {
	Price int64 `json:"price"`
}

// Renamed: the product's new name. The event is the name itself, a string,
// not a struct.
//
//projgen:event
type Renamed string

// Discontinued: the product is no longer sold.
//
//projgen:event
type Discontinued struct{}

// Dimensions is a value type, not an event: it is not marked, and the
// markers take precedence over the structs of events.go.
type Dimensions struct {
	WidthMM, HeightMM int
}
