package model_test

import (
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

// basic returns an unnamed basic type of kind k.
func basic(k load.Kind) *load.Type { return &load.Type{Kind: k} }

// named returns t with a name in package path (whose name is its last
// element).
func named(path, name string, t *load.Type) *load.Type {
	pkg := path[strings.LastIndex(path, "/")+1:]
	t.Name = &load.TypeName{Path: path, Package: pkg, Name: name}
	return t
}

// ptr, slice and array build composite types.
func ptr(e *load.Type) *load.Type            { return &load.Type{Kind: load.Pointer, Elem: e} }
func slice(e *load.Type) *load.Type          { return &load.Type{Kind: load.Slice, Elem: e} }
func array(n int64, e *load.Type) *load.Type { return &load.Type{Kind: load.Array, Len: n, Elem: e} }
func mapOf(k, e *load.Type) *load.Type       { return &load.Type{Kind: load.Map, Key: k, Elem: e} }
func byteType() *load.Type                   { return &load.Type{Kind: load.Uint8, Basic: "byte"} }
func timeTime() *load.Type                   { return named("time", "Time", &load.Type{Kind: load.Struct}) }
func structOf(fields ...load.StructField) *load.Type {
	return &load.Type{Kind: load.Struct, Fields: fields}
}

func TestMapType(t *testing.T) {
	const m = "example.com/m"
	tests := []struct {
		name     string
		typ      *load.Type
		sql      string
		nullable bool
		conv     model.Conversion
	}{
		// string, named string types (enums) → text
		{"string", basic(load.String), "text", false, model.AsIs},
		{"named string", named(m, "Status", basic(load.String)), "text", false, model.AsIs},
		// bool → boolean
		{"bool", basic(load.Bool), "boolean", false, model.AsIs},
		{"named bool", named(m, "Flag", basic(load.Bool)), "boolean", false, model.AsIs},
		// int, int64, uint32, named ints → bigint
		{"int", basic(load.Int), "bigint", false, model.AsIs},
		{"int64", basic(load.Int64), "bigint", false, model.AsIs},
		{"uint32", basic(load.Uint32), "bigint", false, model.AsIs},
		{"named int", named(m, "Level", basic(load.Int)), "bigint", false, model.AsIs},
		// int16/int32/uint8/uint16 → integer
		{"int8", basic(load.Int8), "integer", false, model.AsIs},
		{"int16", basic(load.Int16), "integer", false, model.AsIs},
		{"int32", basic(load.Int32), "integer", false, model.AsIs},
		{"uint8", basic(load.Uint8), "integer", false, model.AsIs},
		{"uint16", basic(load.Uint16), "integer", false, model.AsIs},
		// uint, uint64 → numeric(20)
		{"uint", basic(load.Uint), "numeric(20)", false, model.AsIs},
		{"uint64", basic(load.Uint64), "numeric(20)", false, model.AsIs},
		// float32 → real, which holds its values exactly; float64 → double precision
		{"float32", basic(load.Float32), "real", false, model.AsIs},
		{"float64", basic(load.Float64), "double precision", false, model.AsIs},
		// time.Time → timestamptz, before the struct → jsonb rule
		{"time.Time", timeTime(), "timestamptz", false, model.AsIs},
		// time.Duration → bigint
		{"time.Duration", named("time", "Duration", basic(load.Int64)), "bigint", false, model.AsIs},
		// uuid.UUID, and named [16]byte ID types → uuid
		{"uuid.UUID", named("github.com/google/uuid", "UUID", array(16, basic(load.Uint8))), "uuid", false, model.AsIs},
		{"ItemID [16]byte", named(m, "ItemID", array(16, basic(load.Uint8))), "uuid", false, model.AsIs},
		// []byte → bytea; a byte array is passed as a slice
		{"[]byte", slice(byteType()), "bytea", true, model.AsIs},
		{"[32]byte", array(32, byteType()), "bytea", false, model.ByteSlice},
		// []string, []int64 … → arrays
		{"[]string", slice(basic(load.String)), "text[]", true, model.AsIs},
		{"[]int64", slice(basic(load.Int64)), "bigint[]", true, model.AsIs},
		{"[]time.Time", slice(timeTime()), "timestamptz[]", true, model.AsIs},
		// *T → T, NULL allowed
		{"*int64", ptr(basic(load.Int64)), "bigint", true, model.AsIs},
		{"*string", ptr(basic(load.String)), "text", true, model.AsIs},
		{"*time.Time", ptr(timeTime()), "timestamptz", true, model.AsIs},
		// struct, map, other slices, custom types → jsonb
		{"[][]string", slice(slice(basic(load.String))), "jsonb", true, model.AsIs},
		{"[][]byte", slice(slice(byteType())), "jsonb", true, model.AsIs},
		{"map", mapOf(basic(load.String), basic(load.Int)), "jsonb", true, model.AsIs},
		{"unnamed struct", structOf(load.StructField{Name: "X", Type: basic(load.Int)}), "jsonb", false, model.AsIs},
		{"named struct", named(m, "Address", &load.Type{Kind: load.Struct}), "jsonb", false, model.AsIs},
		{"[]Address", slice(named(m, "Address", &load.Type{Kind: load.Struct})), "jsonb", true, model.AsIs},
		{"[4]int", array(4, basic(load.Int)), "jsonb", false, model.AsIs},
		{"any", &load.Type{Kind: load.Interface, Empty: true}, "jsonb", true, model.AsJSON},
	}
	for _, tt := range tests {
		got, err := model.MapType(tt.typ)
		if err != nil {
			t.Errorf("%s: MapType(%v) error %v", tt.name, tt.typ, err)
			continue
		}
		want := model.ColumnType{SQL: tt.sql, Nullable: tt.nullable, Conv: tt.conv}
		if got != want {
			t.Errorf("%s: MapType(%v) = %+v, want %+v", tt.name, tt.typ, got, want)
		}
	}
}

func TestMapTypeRejects(t *testing.T) {
	tests := []struct {
		name string
		typ  *load.Type
		msg  string
	}{
		{"chan", &load.Type{Kind: load.Chan, Elem: basic(load.Int)}, "channel"},
		{"func", &load.Type{Kind: load.Func}, "function"},
		{"complex64", basic(load.Complex64), "complex"},
		{"complex128", basic(load.Complex128), "complex"},
		{"*chan", ptr(&load.Type{Kind: load.Chan, Elem: basic(load.Int)}), "channel"},
		{"nil", nil, "no type"},
	}
	for _, tt := range tests {
		got, err := model.MapType(tt.typ)
		if err == nil {
			t.Errorf("%s: MapType = %+v, want an error", tt.name, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.msg)
		}
	}
}

func TestKeyTypeOf(t *testing.T) {
	tests := []struct {
		typ  *load.Type
		want string
	}{
		{basic(load.String), "text"},
		{named("example.com/m", "AccountID", basic(load.String)), "text"},
		{array(16, basic(load.Uint8)), "uuid"},
		{basic(load.Int64), "bigint"},
		{basic(load.Uint32), "bigint"},
		{named("example.com/m", "OrderNo", basic(load.Int)), "bigint"},
		{basic(load.Float64), "uuid"},
		{nil, "uuid"},
	}
	for _, tt := range tests {
		if got := model.KeyTypeOf(tt.typ); got != tt.want {
			t.Errorf("KeyTypeOf(%v) = %q, want %q", tt.typ, got, tt.want)
		}
	}
}
