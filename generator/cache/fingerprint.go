package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"reflect"
	"slices"
)

// Tag is the struct tag that leaves a field out of fingerprints:
// `fingerprint:"-"` on a field that no rendering reads, such as a
// position kept for error messages, relative to the working directory.
const Tag = "fingerprint"

// Fingerprint returns a SHA-256 of every value reachable from v: every
// field, exported or not, but those tagged `fingerprint:"-"`, the dynamic
// type and value of every interface, map entries in the order of their
// keys, and nil apart from empty. A value reached again through another
// pointer is written as a reference to its first occurrence, so that
// shared parts cost once and cycles end. Two values with the same
// fingerprint are equal in everything a function of them can read, but
// the tagged fields, and functions and channels, which it refuses.
func Fingerprint(v any) ([sha256.Size]byte, error) {
	f := &fingerprinter{h: sha256.New(), seen: map[identity]uint64{}}
	err := f.value(reflect.ValueOf(v))
	var sum [sha256.Size]byte
	if err == nil {
		f.flush()
		f.h.Sum(sum[:0])
	}
	return sum, err
}

// identity is a value behind a reference: its address, type and, for a
// slice, length.
type identity struct {
	addr uintptr
	typ  reflect.Type
	n    int
}

type fingerprinter struct {
	h    hash.Hash // nil keeps everything in buf
	buf  []byte
	seen map[identity]uint64
}

// Tags say what follows, so that no two encodings of different values
// are the same bytes.
const (
	tagNil byte = iota
	tagNew
	tagRef
	tagValue
)

func (f *fingerprinter) flush() {
	f.h.Write(f.buf)
	f.buf = f.buf[:0]
}

func (f *fingerprinter) byte(b byte) { f.buf = append(f.buf, b) }

func (f *fingerprinter) uint(u uint64) {
	f.buf = binary.AppendUvarint(f.buf, u)
	if f.h != nil && len(f.buf) > 32<<10 {
		f.flush()
	}
}

func (f *fingerprinter) string(s string) {
	f.uint(uint64(len(s)))
	f.buf = append(f.buf, s...)
}

// reference writes a reference to the value at id when it was written
// already, and reports whether it was; otherwise it numbers it.
func (f *fingerprinter) reference(id identity) bool {
	if n, ok := f.seen[id]; ok {
		f.byte(tagRef)
		f.uint(n)
		return true
	}
	f.seen[id] = uint64(len(f.seen))
	f.byte(tagNew)
	return false
}

func (f *fingerprinter) value(v reflect.Value) error {
	if !v.IsValid() {
		f.byte(tagNil)
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		b := uint64(0)
		if v.Bool() {
			b = 1
		}
		f.uint(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.uint(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		f.uint(math.Float64bits(v.Float()))
	case reflect.Complex64, reflect.Complex128:
		f.uint(math.Float64bits(real(v.Complex())))
		f.uint(math.Float64bits(imag(v.Complex())))
	case reflect.String:
		f.string(v.String())
	case reflect.Pointer:
		if v.IsNil() {
			f.byte(tagNil)
			return nil
		}
		if f.reference(identity{v.Pointer(), v.Type(), 0}) {
			return nil
		}
		return f.value(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			f.byte(tagNil)
			return nil
		}
		e := v.Elem()
		f.byte(tagValue)
		f.string(e.Type().PkgPath() + " " + e.Type().String())
		return f.value(e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get(Tag) == "-" {
				continue
			}
			if err := f.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", v.Type(), v.Type().Field(i).Name, err)
			}
		}
	case reflect.Array:
		return f.elems(v)
	case reflect.Slice:
		if v.IsNil() {
			f.byte(tagNil)
			return nil
		}
		if f.reference(identity{v.Pointer(), v.Type(), v.Len()}) {
			return nil
		}
		return f.elems(v)
	case reflect.Map:
		if v.IsNil() {
			f.byte(tagNil)
			return nil
		}
		if f.reference(identity{v.Pointer(), v.Type(), 0}) {
			return nil
		}
		return f.entries(v)
	default:
		return fmt.Errorf("cannot fingerprint a %s", v.Kind())
	}
	return nil
}

func (f *fingerprinter) elems(v reflect.Value) error {
	f.uint(uint64(v.Len()))
	for i := range v.Len() {
		if err := f.value(v.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

// entries writes a map's entries in the order of their keys' own
// fingerprints' bytes, which do not depend on where the map keeps them.
func (f *fingerprinter) entries(v reflect.Value) error {
	type entry struct {
		key []byte
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := &fingerprinter{seen: map[identity]uint64{}}
		if err := k.value(it.Key()); err != nil {
			return err
		}
		entries = append(entries, entry{k.buf, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	f.uint(uint64(len(entries)))
	for _, e := range entries {
		f.string(string(e.key))
		if err := f.value(e.val); err != nil {
			return err
		}
	}
	return nil
}
