package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/names"
)

// goType writes a load.Type as Go code, qualified by import path so that
// jennifer can add the imports.
func goType(t *load.Type) jen.Code {
	if t.Name != nil {
		var s *jen.Statement
		if t.Name.Path == "" {
			s = jen.Id(t.Name.Name)
		} else {
			s = jen.Qual(t.Name.Path, t.Name.Name)
		}
		if len(t.TypeArgs) > 0 {
			args := make([]jen.Code, len(t.TypeArgs))
			for i, a := range t.TypeArgs {
				args[i] = goType(a)
			}
			s = s.Types(args...)
		}
		return s
	}
	switch t.Kind {
	case load.Pointer:
		return jen.Op("*").Add(goType(t.Elem))
	case load.Slice:
		return jen.Index().Add(goType(t.Elem))
	case load.Array:
		return jen.Index(jen.Lit(int(t.Len))).Add(goType(t.Elem))
	case load.Map:
		return jen.Map(goType(t.Key)).Add(goType(t.Elem))
	case load.Chan:
		return jen.Chan().Add(goType(t.Elem))
	case load.Struct:
		fields := make([]jen.Code, len(t.Fields))
		for i, f := range t.Fields {
			var s *jen.Statement
			if f.Embedded {
				s = jen.Add(goType(f.Type))
			} else {
				s = jen.Id(f.Name).Add(goType(f.Type))
			}
			if f.Tag != "" {
				s = s.Add(jen.Op(strconv.Quote(f.Tag)))
			}
			fields[i] = s
		}
		return jen.Struct(fields...)
	case load.Interface:
		return jen.Any()
	case load.UnsafePointer:
		return jen.Qual("unsafe", "Pointer")
	}
	if t.Basic != "" {
		return jen.Id(t.Basic)
	}
	return jen.Id(t.Kind.String())
}

// importNames tells jennifer the real names of the packages generated code
// imports, so that it writes no aliases.
// toolImportNames are the names of the migration packages generated code
// imports: the runtime's and the tools'. Without them jennifer would alias
// each import.
func toolImportNames() map[string]string {
	return map[string]string{
		migrationPackage:                     "migration",
		model.GooseModule:                    "goose",
		model.MigrateModule:                  "migrate",
		model.MigrateModule + "/source/iofs": "iofs",
		model.PgxStdlibPackage:               "stdlib",
	}
}

func importNames(f *jen.File, m *model.Module, p *model.Projection) {
	f.ImportNames(map[string]string{
		model.RuntimePackage:     "projection",
		model.RuntimeTestPackage: "projectiontest",
		model.GomockPackage:      "gomock",
		"github.com/google/uuid": "uuid",
	})
	f.ImportNames(toolImportNames())
	// golang-migrate's driver is package pgx, as pgx is.
	f.ImportAlias(model.MigrateModule+"/database/pgx/v5", "pgxmigrate")
	for _, proj := range m.Projections {
		if p != nil && proj != p {
			continue
		}
		f.ImportName(proj.Package.Path, proj.Package.Name)
		for _, meth := range proj.Methods {
			f.ImportName(meth.Event.Package, meth.Event.PackageName)
			nameTypes(f, meth.Event.Type)
			for _, prm := range meth.Params {
				nameTypes(f, prm.Type)
			}
		}
		for _, ev := range proj.Ignored {
			f.ImportName(ev.Package, ev.PackageName)
		}
	}
}

func nameTypes(f *jen.File, t *load.Type) {
	if t == nil {
		return
	}
	if t.Name != nil && t.Name.Path != "" {
		f.ImportName(t.Name.Path, t.Name.Package)
	}
	nameTypes(f, t.Elem)
	nameTypes(f, t.Key)
	for _, a := range t.TypeArgs {
		nameTypes(f, a)
	}
	for _, fld := range t.Fields {
		nameTypes(f, fld.Type)
	}
}

// sampler makes the values generated tests pass: deterministic, and
// different for each value asked for, so that a swapped argument shows.
type sampler struct {
	n int
	// untyped is set while sampling the elements of a composite literal.
	untyped bool
}

// sample is a sample value in generated code.
type sample struct {
	// pre are statements that must precede value: pointers take the
	// address of a variable.
	pre []jen.Code
	// value is the Go expression of the value.
	value jen.Code
	// row is the value as a test expects it in its column: the pointee
	// of a pointer, the slice of a byte array.
	row jen.Code
}

// next returns a new sample value of type t. name names the variables it
// declares.
func (s *sampler) next(t *load.Type, name string) sample {
	s.n++
	return s.value(t, name, s.n)
}

func (s *sampler) value(t *load.Type, name string, n int) sample {
	lit := func(c jen.Code) sample { return sample{value: c, row: c} }
	conv := func(c jen.Code) sample {
		if t.Name != nil {
			return lit(jen.Add(goType(t)).Call(c))
		}
		return lit(c)
	}
	// Elements of composite literals need no conversion: []int64{101}.
	if s.untyped && t.Name == nil && t.Kind >= load.Int && t.Kind <= load.Uint32 {
		return lit(jen.Lit(100 + n))
	}
	word := fmt.Sprintf("%s-%d", sampleWord(name), n)
	switch {
	case t.Is("time", "Time"):
		return lit(sampleTime(n))
	case t.Is("time", "Duration"):
		return lit(jen.Lit(n).Op("*").Qual("time", "Second"))
	case t.Is("github.com/google/uuid", "UUID"):
		return lit(sampleUUID(n))
	case t.Name != nil && t.Kind == load.Array && t.Len == 16 && t.Elem.Kind == load.Uint8:
		return conv(sampleUUID(n))
	case t.Is("encoding/json", "RawMessage"):
		return conv(jen.Lit(fmt.Sprintf(`{"sample":%d}`, n)))
	}
	switch t.Kind {
	case load.String:
		return conv(jen.Lit(word))
	case load.Bool:
		return conv(jen.Lit(true))
	case load.Int, load.Int64, load.Int32, load.Int16, load.Uint, load.Uint32, load.Uint16:
		return conv(basicLit(t.Kind, int64(100+n)))
	case load.Int8, load.Uint8:
		return conv(basicLit(t.Kind, int64(n%100)))
	case load.Uint64:
		// The top of the range, to show that numeric(20) holds it.
		return conv(jen.Id("uint64").Call(jen.Op(strconv.FormatUint(math.MaxUint64-uint64(n), 10))))
	case load.Float32:
		return conv(jen.Lit(float32(n) + 0.5))
	case load.Float64:
		return conv(jen.Lit(float64(n) + 0.25))
	case load.Pointer:
		if t.Name != nil {
			return lit(typedNil(t))
		}
		v := name + "Value"
		elemName := name
		if t.Elem.Kind == load.Pointer && t.Elem.Name == nil {
			// A pointer to a pointer declares a variable of its own.
			elemName = v
		}
		elem := s.value(t.Elem, elemName, n)
		return sample{
			pre:   append(elem.pre, jen.Id(v).Op(":=").Add(elem.value)),
			value: jen.Op("&").Id(v),
			row:   elem.row,
		}
	case load.Slice:
		if t.Elem.Kind == load.Uint8 && t.Elem.Name == nil {
			return conv(jen.Index().Byte().Call(jen.Lit(word)))
		}
		s.untyped = true
		elem := s.value(t.Elem, name, n)
		s.untyped = false
		switch {
		case elem.pre != nil:
			return lit(jen.Add(goType(t)).Values())
		case t.Elem.Kind == load.Struct && t.Elem.Name != nil:
			return lit(jen.Add(goType(t)).Values(jen.Values()))
		}
		return lit(jen.Add(goType(t)).Values(elem.value))
	case load.Array:
		if t.Elem.Kind == load.Uint8 && t.Elem.Name == nil {
			bytes := jen.Qual("bytes", "Repeat").Call(jen.Index().Byte().Values(jen.Lit(n%256)), jen.Lit(int(t.Len)))
			return sample{value: jen.Add(goType(t)).Call(bytes), row: bytes}
		}
		return lit(jen.Add(goType(t)).Values())
	case load.Map:
		s.untyped = true
		k, v := s.value(t.Key, name, n), s.value(t.Elem, name, n)
		s.untyped = false
		if k.pre != nil || v.pre != nil || t.Key.Kind != load.String {
			return lit(jen.Add(goType(t)).Values())
		}
		return lit(jen.Add(goType(t)).Values(jen.Dict{k.value: v.value}))
	case load.Struct:
		return lit(jen.Add(goType(t)).Values())
	case load.Interface:
		if t.Empty {
			return lit(jen.Lit(word))
		}
	}
	return lit(typedNil(t))
}

// typedNil is the nil of a type that has one, as an expression that can
// initialize a variable: error(nil), (*T)(nil), (func())(nil).
func typedNil(t *load.Type) jen.Code {
	if t.Name != nil {
		return jen.Add(goType(t)).Parens(jen.Nil())
	}
	return jen.Parens(goType(t)).Parens(jen.Nil())
}

// basicLit writes an integer literal of a kind, in decimal: 101 for int,
// int64(101), uint16(102).
func basicLit(k load.Kind, v int64) jen.Code {
	if k == load.Int {
		return jen.Lit(int(v))
	}
	return jen.Id(k.String()).Call(jen.Lit(int(v)))
}

// sampleWord turns a Go name into the stem of a sample string:
// accountLogin → account-login, tenantID → tenant-id.
func sampleWord(name string) string {
	return strings.ReplaceAll(names.Snake(name), "_", "-")
}

// sampleTime is a fixed UTC time, different for each n.
func sampleTime(n int) jen.Code {
	t := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
	return jen.Qual("time", "Date").Call(jen.Lit(t.Year()), jen.Qual("time", t.Month().String()),
		jen.Lit(t.Day()), jen.Lit(t.Hour()), jen.Lit(t.Minute()), jen.Lit(t.Second()), jen.Lit(0),
		jen.Qual("time", "UTC"))
}

func sampleUUIDString(n int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
}

func sampleUUID(n int) jen.Code {
	return jen.Qual("github.com/google/uuid", "MustParse").Call(jen.Lit(sampleUUIDString(n)))
}

// sampleAggregateID is a sample aggregate ID for a key type.
func sampleAggregateID(keyType string, n int) string {
	switch keyType {
	case "text":
		return fmt.Sprintf("aggregate-%d", n)
	case "bigint":
		return fmt.Sprint(1000 + n)
	}
	return fmt.Sprintf("6f1c2a3e-0000-4000-8000-%012d", n)
}
