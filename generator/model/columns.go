package model

import (
	"fmt"

	"github.com/projgen/projgen/generator/load"
)

// Well-known packages and types.
const (
	uuidPath = "github.com/google/uuid"
	timePath = "time"
	jsonPath = "encoding/json"
	sqlPath  = "database/sql"
)

// ColumnType is the column a Go type maps to.
type ColumnType struct {
	// SQL is the PostgreSQL type.
	SQL string
	// Nullable is true when the Go value can be nil (pointers, slices,
	// maps, interfaces, sql.Null types), so the column must allow NULL.
	Nullable bool
	// Conv says how the value is passed to pgx.
	Conv Conversion
}

// MapType returns the column for a Go type, following the type table in
// DESIGN.md: strings are text, integers bigint or integer, uint64 numeric(20),
// time.Time timestamptz, time.Duration bigint nanoseconds, uuid.UUID (and
// any named [16]byte) uuid, []byte bytea, slices of scalars arrays, pointers
// nullable, and structs, maps and everything else jsonb. Types that hold no
// data (channels, functions, complex numbers) are an error.
func MapType(t *load.Type) (ColumnType, error) {
	if t == nil {
		return ColumnType{}, fmt.Errorf("no type")
	}
	if t.Name == nil && t.Kind == load.Pointer {
		ct, err := MapType(t.Elem)
		ct.Nullable = true
		return ct, err
	}
	if ct, ok := wellKnown(t); ok {
		return ct, nil
	}
	if sql, ok := scalar(t); ok {
		return ColumnType{SQL: sql}, nil
	}
	switch t.Kind {
	case load.Slice:
		if t.Elem.Kind == load.Uint8 && t.Elem.Name == nil {
			return ColumnType{SQL: "bytea", Nullable: true}, nil
		}
		if elem, err := MapType(t.Elem); err == nil && isArrayElem(t.Elem, elem) {
			return ColumnType{SQL: elem.SQL + "[]", Nullable: true}, nil
		}
		return ColumnType{SQL: "jsonb", Nullable: true}, nil
	case load.Array:
		if t.Elem.Kind == load.Uint8 && t.Elem.Name == nil {
			return ColumnType{SQL: "bytea", Conv: ByteSlice}, nil
		}
		return ColumnType{SQL: "jsonb"}, nil
	case load.Map:
		return ColumnType{SQL: "jsonb", Nullable: true}, nil
	case load.Interface:
		return ColumnType{SQL: "jsonb", Nullable: true, Conv: AsJSON}, nil
	case load.Struct:
		return ColumnType{SQL: "jsonb"}, nil
	case load.Chan, load.Func, load.UnsafePointer, load.Complex64, load.Complex128, load.Uintptr:
		return ColumnType{}, fmt.Errorf("%s cannot be stored in a column", withArticle(kindNoun(t)))
	case load.Pointer:
		// A named pointer type: store what it points to.
		ct, err := MapType(t.Elem)
		ct.Nullable = true
		return ct, err
	}
	return ColumnType{}, fmt.Errorf("type %s has no column mapping", t)
}

func kindNoun(t *load.Type) string {
	switch t.Kind {
	case load.Chan:
		return "channel"
	case load.Func:
		return "function"
	case load.UnsafePointer:
		return "unsafe.Pointer"
	case load.Uintptr:
		return "uintptr"
	}
	return "complex number"
}

// wellKnown maps named types of the standard library and google/uuid.
func wellKnown(t *load.Type) (ColumnType, bool) {
	switch {
	case t.Is(timePath, "Time"):
		return ColumnType{SQL: "timestamptz"}, true
	case t.Is(timePath, "Duration"):
		return ColumnType{SQL: "bigint"}, true
	case t.Is(uuidPath, "UUID"), t.Name != nil && t.Kind == load.Array && t.Len == 16 && t.Elem.Kind == load.Uint8:
		return ColumnType{SQL: "uuid"}, true
	case t.Is(uuidPath, "NullUUID"):
		return ColumnType{SQL: "uuid", Nullable: true}, true
	case t.Is(jsonPath, "RawMessage"):
		return ColumnType{SQL: "jsonb", Nullable: true}, true
	case t.Is("net/netip", "Addr"), t.Is("net", "IP"):
		return ColumnType{SQL: "inet", Nullable: t.Kind == load.Slice}, true
	case t.Is("net/netip", "Prefix"), t.Is("net", "IPNet"):
		return ColumnType{SQL: "cidr", Nullable: false}, true
	}
	if t.Name != nil && t.Name.Path == sqlPath {
		switch t.Name.Name {
		case "NullString":
			return ColumnType{SQL: "text", Nullable: true}, true
		case "NullBool":
			return ColumnType{SQL: "boolean", Nullable: true}, true
		case "NullInt64":
			return ColumnType{SQL: "bigint", Nullable: true}, true
		case "NullInt32", "NullInt16", "NullByte":
			return ColumnType{SQL: "integer", Nullable: true}, true
		case "NullFloat64":
			return ColumnType{SQL: "double precision", Nullable: true}, true
		case "NullTime":
			return ColumnType{SQL: "timestamptz", Nullable: true}, true
		case "Null":
			if len(t.TypeArgs) == 1 {
				if ct, err := MapType(t.TypeArgs[0]); err == nil {
					ct.Nullable = true
					return ct, true
				}
			}
		}
	}
	return ColumnType{}, false
}

// scalar maps boolean, numeric and string kinds, named or not.
func scalar(t *load.Type) (string, bool) {
	switch t.Kind {
	case load.String:
		return "text", true
	case load.Bool:
		return "boolean", true
	case load.Int, load.Int64, load.Uint32:
		return "bigint", true
	case load.Int8, load.Int16, load.Int32, load.Uint8, load.Uint16:
		return "integer", true
	case load.Uint, load.Uint64:
		return "numeric(20)", true
	case load.Float32:
		// real holds exactly the values a float32 does: stored as double
		// precision, 0.1 would read back as 0.10000000149011612 and
		// WHERE x = 0.1 would match nothing.
		return "real", true
	case load.Float64:
		return "double precision", true
	}
	return "", false
}

// isArrayElem reports whether a slice of t can be a PostgreSQL array of
// the element's column type: scalars, timestamps and UUIDs, or pointers to
// them (NULL elements); not jsonb, bytea or nested arrays.
func isArrayElem(t *load.Type, ct ColumnType) bool {
	switch ct.SQL {
	case "text", "boolean", "bigint", "integer", "numeric(20)", "real", "double precision", "timestamptz", "uuid":
	default:
		return false
	}
	if t.Name != nil && t.Name.Path == sqlPath {
		return false
	}
	return ct.Conv == AsIs
}
