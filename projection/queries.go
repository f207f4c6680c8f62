package projection

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The generated queries of a read model (Get<Row>, List<Rows>,
// Count<Rows>) share these.

// ErrNotFound is what a generated Get returns, wrapped in a
// *NotFoundError, when no row has the key: errors.Is(err, ErrNotFound).
var ErrNotFound = errors.New("row not found")

// NotFoundError says which row was not found.
type NotFoundError struct {
	// Table is the read model's table.
	Table string
	// Key is the key looked up: one value, or for a key of two columns
	// the values in the table's key order.
	Key []any
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: no row with key %v", e.Table, e.Key)
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrBadCursor is what a generated List returns, wrapped, for an After
// cursor it did not give.
var ErrBadCursor = errors.New("malformed page cursor")

// Page sizes of a generated List.
const (
	// DefaultPageSize is the rows of a page when the options ask for none.
	DefaultPageSize = 50
	// MaxPageSize is the most rows of a page: a larger Limit is cut to it.
	MaxPageSize = 1000
)

// PageSize returns the rows a page of limit holds: DefaultPageSize for
// zero or less, at most MaxPageSize.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// ListPage is one page of a generated List: its rows, in key order, and
// the cursor of the next page, empty on the last.
type ListPage[Row any] struct {
	Rows []Row
	// Next is the After of the next page's options; empty when this page
	// is the last.
	Next string
}

// EncodeCursor returns the cursor that points after the row with the key
// values: opaque to callers, URL-safe.
func EncodeCursor(key ...any) (string, error) {
	data, err := json.Marshal(key)
	if err != nil {
		return "", fmt.Errorf("encode a page cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// DecodeCursor decodes a cursor of EncodeCursor into the key values, in
// order; the error wraps ErrBadCursor.
func DecodeCursor(cursor string, key ...any) error {
	data, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadCursor, err)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil || len(parts) != len(key) {
		return fmt.Errorf("%w: want %d key values", ErrBadCursor, len(key))
	}
	for i, p := range parts {
		if err := json.Unmarshal(p, key[i]); err != nil {
			return fmt.Errorf("%w: key value %d: %v", ErrBadCursor, i+1, err)
		}
	}
	return nil
}

// QueryError returns the error of a generated query: a *NotFoundError for
// pgx.ErrNoRows, with the key looked up, or err with the table and the
// method.
func QueryError(err error, table, method string, key ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return &NotFoundError{Table: table, Key: key}
	}
	return fmt.Errorf("%s: %s: %w", table, method, err)
}

// Where returns the WHERE clause of conditions, joined by AND, with its
// leading space; empty for none.
func Where(conditions []string) string {
	if len(conditions) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conditions, " AND ")
}
