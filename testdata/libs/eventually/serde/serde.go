// Package serde is a stand-in for github.com/get-eventually/go-eventually/serde
// at v0.4.2: the serializer interfaces, Fused, Chain and the JSON serde.
// Signatures follow upstream; the bodies are this repository's own. The
// Protobuf serdes (NewProto, NewProtoJSON) are left out so that the module
// has no dependencies.
package serde

import (
	"encoding/json"
	"fmt"
)

// Serializer turns a Src into a Dst.
type Serializer[Src any, Dst any] interface {
	Serialize(src Src) (Dst, error)
}

// SerializerFunc is a function Serializer.
type SerializerFunc[Src any, Dst any] func(src Src) (Dst, error)

// Serialize calls fn.
func (fn SerializerFunc[Src, Dst]) Serialize(src Src) (Dst, error) { return fn(src) }

// Deserializer turns a Dst back into a Src.
type Deserializer[Src any, Dst any] interface {
	Deserialize(dst Dst) (Src, error)
}

// DeserializerFunc is a function Deserializer.
type DeserializerFunc[Src any, Dst any] func(dst Dst) (Src, error)

// Deserialize calls fn.
func (fn DeserializerFunc[Src, Dst]) Deserialize(dst Dst) (Src, error) { return fn(dst) }

// Serde does both.
type Serde[Src any, Dst any] interface {
	Serializer[Src, Dst]
	Deserializer[Src, Dst]
}

// Bytes is a Serde to and from bytes; the stores take one for events
// (Bytes[message.Message]) and for aggregate state.
type Bytes[Src any] interface {
	Serde[Src, []byte]
}

// Fused joins a Serializer and a Deserializer.
type Fused[Src any, Dst any] struct {
	Serializer[Src, Dst]
	Deserializer[Src, Dst]
}

// Fuse joins s and d.
func Fuse[Src, Dst any](s Serializer[Src, Dst], d Deserializer[Src, Dst]) Fused[Src, Dst] {
	return Fused[Src, Dst]{Serializer: s, Deserializer: d}
}

// Chained maps Src to Dst through Mid.
type Chained[Src any, Mid any, Dst any] struct {
	first  Serde[Src, Mid]
	second Serde[Mid, Dst]
}

// Chain makes a Chained.
func Chain[Src any, Mid any, Dst any](first Serde[Src, Mid], second Serde[Mid, Dst]) Chained[Src, Mid, Dst] {
	return Chained[Src, Mid, Dst]{first: first, second: second}
}

// Serialize runs first, then second.
func (c Chained[Src, Mid, Dst]) Serialize(src Src) (Dst, error) {
	var zero Dst
	mid, err := c.first.Serialize(src)
	if err != nil {
		return zero, fmt.Errorf("serde: chain, first step: %w", err)
	}
	dst, err := c.second.Serialize(mid)
	if err != nil {
		return zero, fmt.Errorf("serde: chain, second step: %w", err)
	}
	return dst, nil
}

// Deserialize runs second, then first.
func (c Chained[Src, Mid, Dst]) Deserialize(dst Dst) (Src, error) {
	var zero Src
	mid, err := c.second.Deserialize(dst)
	if err != nil {
		return zero, fmt.Errorf("serde: chain, second step: %w", err)
	}
	src, err := c.first.Deserialize(mid)
	if err != nil {
		return zero, fmt.Errorf("serde: chain, first step: %w", err)
	}
	return src, nil
}

// NewJSONSerializer encodes a T with encoding/json.
func NewJSONSerializer[T any]() SerializerFunc[T, []byte] {
	return func(t T) ([]byte, error) {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("serde: json encode: %w", err)
		}
		return b, nil
	}
}

// NewJSONDeserializer decodes into a T made by factory (so that a pointer T
// gets a value to point at).
func NewJSONDeserializer[T any](factory func() T) DeserializerFunc[T, []byte] {
	return func(b []byte) (T, error) {
		v := factory()
		if err := json.Unmarshal(b, &v); err != nil {
			var zero T
			return zero, fmt.Errorf("serde: json decode: %w", err)
		}
		return v, nil
	}
}

// NewJSON is the JSON Serde of T.
func NewJSON[T any](factory func() T) Fused[T, []byte] {
	return Fuse[T, []byte](NewJSONSerializer[T](), NewJSONDeserializer(factory))
}
