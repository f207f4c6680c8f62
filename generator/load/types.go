package load

import (
	"fmt"
	"go/types"
	"reflect"
	"strings"
)

// Kind is the kind of a Go type, or of a named type's underlying type.
type Kind int

// The kinds of Go types.
const (
	Invalid Kind = iota
	Bool
	Int
	Int8
	Int16
	Int32
	Int64
	Uint
	Uint8
	Uint16
	Uint32
	Uint64
	Uintptr
	Float32
	Float64
	Complex64
	Complex128
	String
	Pointer
	Slice
	Array
	Map
	Struct
	Interface
	Chan
	Func
	UnsafePointer
)

var kindNames = [...]string{
	Invalid: "invalid", Bool: "bool", Int: "int", Int8: "int8", Int16: "int16", Int32: "int32",
	Int64: "int64", Uint: "uint", Uint8: "uint8", Uint16: "uint16", Uint32: "uint32",
	Uint64: "uint64", Uintptr: "uintptr", Float32: "float32", Float64: "float64",
	Complex64: "complex64", Complex128: "complex128", String: "string", Pointer: "pointer",
	Slice: "slice", Array: "array", Map: "map", Struct: "struct", Interface: "interface",
	Chan: "chan", Func: "func", UnsafePointer: "unsafe.Pointer",
}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// IsBasic reports whether k is a boolean, numeric or string kind.
func (k Kind) IsBasic() bool { return k >= Bool && k <= String }

// Type describes a Go type as projgen needs it: enough to choose a column
// type and to write the type in generated code, and nothing that ties it
// to go/types, so that later stages can be tested without loading code.
type Type struct {
	// Kind is the kind of the type, or of its underlying type when named.
	Kind Kind
	// Name is set for named types (after resolving aliases).
	Name *TypeName
	// TypeArgs are the type arguments of an instantiated generic type.
	TypeArgs []*Type
	// Elem is the element type of a pointer, slice, array, map or channel,
	// or of a named type whose underlying type is one of those.
	Elem *Type
	// Key is the key type of a map.
	Key *Type
	// Len is the length of an array.
	Len int64
	// Fields are the fields of an unnamed struct type.
	Fields []StructField
	// Empty reports, for an interface, whether it has no methods (any).
	Empty bool
	// Basic is how a basic type is spelled: "byte" and "rune" are kept
	// apart from uint8 and int32, as the source wrote them.
	Basic string
}

// TypeName names a declared type.
type TypeName struct {
	// Path is the import path of the type's package; empty for predeclared
	// types such as error.
	Path string
	// Package is the package's name.
	Package string
	// Name is the type's name.
	Name string
}

// StructField is a field of an unnamed struct type, kept so the type can be
// written out.
type StructField struct {
	Name     string
	Type     *Type
	Tag      string
	Embedded bool
}

// Is reports whether t is the named type path.name.
func (t *Type) Is(path, name string) bool {
	return t != nil && t.Name != nil && t.Name.Path == path && t.Name.Name == name
}

// String returns the type as Go source, with package names as qualifiers.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	if t == nil {
		b.WriteString("<nil>")
		return
	}
	if t.Name != nil {
		if t.Name.Package != "" {
			b.WriteString(t.Name.Package + ".")
		}
		b.WriteString(t.Name.Name)
		if len(t.TypeArgs) > 0 {
			b.WriteByte('[')
			for i, a := range t.TypeArgs {
				if i > 0 {
					b.WriteString(", ")
				}
				a.write(b)
			}
			b.WriteByte(']')
		}
		return
	}
	switch t.Kind {
	case Pointer:
		b.WriteByte('*')
		t.Elem.write(b)
	case Slice:
		b.WriteString("[]")
		t.Elem.write(b)
	case Array:
		fmt.Fprintf(b, "[%d]", t.Len)
		t.Elem.write(b)
	case Map:
		b.WriteString("map[")
		t.Key.write(b)
		b.WriteByte(']')
		t.Elem.write(b)
	case Chan:
		b.WriteString("chan ")
		t.Elem.write(b)
	case Struct:
		b.WriteString("struct{")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			if !f.Embedded {
				b.WriteString(f.Name + " ")
			}
			f.Type.write(b)
		}
		b.WriteByte('}')
	case Interface:
		if t.Empty {
			b.WriteString("any")
		} else {
			b.WriteString("interface{...}")
		}
	case Func:
		b.WriteString("func(...)")
	default:
		if t.Basic != "" {
			b.WriteString(t.Basic)
		} else {
			b.WriteString(t.Kind.String())
		}
	}
}

// maxTypeDepth bounds the conversion of recursive unnamed types.
const maxTypeDepth = 32

// convertType converts a go/types type. Aliases are resolved first, so an
// alias of uuid.UUID is uuid.UUID.
func convertType(t types.Type, depth int) (*Type, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type %s is nested too deeply", t)
	}
	t = types.Unalias(t)
	switch t := t.(type) {
	case *types.Named:
		obj := t.Obj()
		name := &TypeName{Name: obj.Name()}
		if pkg := obj.Pkg(); pkg != nil {
			name.Path, name.Package = pkg.Path(), pkg.Name()
		}
		var args []*Type
		for a := range t.TypeArgs().Types() {
			at, err := convertType(a, depth+1)
			if err != nil {
				return nil, err
			}
			args = append(args, at)
		}
		under, err := convertUnderlying(t.Underlying(), depth+1)
		if err != nil {
			return nil, err
		}
		under.Name, under.TypeArgs, under.Fields = name, args, nil
		return under, nil
	case *types.TypeParam:
		return nil, fmt.Errorf("type parameter %s cannot be projected", t)
	}
	return convertUnderlying(t, depth)
}

// convertUnderlying converts an unnamed type. Struct fields are kept only
// for unnamed structs; a named struct is written by its name.
func convertUnderlying(t types.Type, depth int) (*Type, error) {
	elem := func(e types.Type) (*Type, error) { return convertType(e, depth+1) }
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		k, ok := basicKinds[t.Kind()]
		if !ok {
			return nil, fmt.Errorf("type %s cannot be projected", t)
		}
		return &Type{Kind: k, Basic: t.Name()}, nil
	case *types.Pointer:
		e, err := elem(t.Elem())
		return &Type{Kind: Pointer, Elem: e}, err
	case *types.Slice:
		e, err := elem(t.Elem())
		return &Type{Kind: Slice, Elem: e}, err
	case *types.Array:
		e, err := elem(t.Elem())
		return &Type{Kind: Array, Elem: e, Len: t.Len()}, err
	case *types.Map:
		k, err := elem(t.Key())
		if err != nil {
			return nil, err
		}
		e, err := elem(t.Elem())
		return &Type{Kind: Map, Key: k, Elem: e}, err
	case *types.Chan:
		e, err := elem(t.Elem())
		return &Type{Kind: Chan, Elem: e}, err
	case *types.Signature:
		return &Type{Kind: Func}, nil
	case *types.Interface:
		return &Type{Kind: Interface, Empty: t.NumMethods() == 0 && t.IsMethodSet()}, nil
	case *types.Struct:
		st := &Type{Kind: Struct}
		for i := range t.NumFields() {
			f := t.Field(i)
			ft, err := elem(f.Type())
			if err != nil {
				return nil, err
			}
			st.Fields = append(st.Fields, StructField{Name: f.Name(), Type: ft, Tag: t.Tag(i), Embedded: f.Embedded()})
		}
		return st, nil
	case *types.Named, *types.TypeParam:
		return convertType(t, depth)
	}
	return nil, fmt.Errorf("type %s cannot be projected", t)
}

var basicKinds = map[types.BasicKind]Kind{
	types.Bool: Bool, types.Int: Int, types.Int8: Int8, types.Int16: Int16, types.Int32: Int32,
	types.Int64: Int64, types.Uint: Uint, types.Uint8: Uint8, types.Uint16: Uint16,
	types.Uint32: Uint32, types.Uint64: Uint64, types.Uintptr: Uintptr, types.Float32: Float32,
	types.Float64: Float64, types.Complex64: Complex64, types.Complex128: Complex128,
	types.String: String, types.UnsafePointer: UnsafePointer,
}

// jsonName returns the name encoding/json gives a field and whether the
// field is encoded at all, from its struct tag.
func jsonName(tag string) (name string, skip bool) {
	v, ok := reflect.StructTag(tag).Lookup("json")
	if !ok {
		return "", false
	}
	if v == "-" {
		return "", true
	}
	name, _, _ = strings.Cut(v, ",")
	return name, false
}
