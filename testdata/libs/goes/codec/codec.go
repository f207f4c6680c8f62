// Package codec is a stand-in for github.com/modernice/goes/codec at v0.9.0,
// written from that package's exported API. Names and signatures match the
// upstream ones; the bodies are this repository's own. Encoding really works:
// values go through encoding/json unless they bring their own Marshal and
// Unmarshal methods, as upstream does.
package codec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// Encoding turns registered values into bytes and back; the name picks the
// type to decode into.
type Encoding interface {
	Marshal(any) ([]byte, error)
	Unmarshal([]byte, string) (any, error)
}

// Registerer takes a name and a function that makes a fresh pointer for it.
type Registerer interface {
	Register(string, func() any)
}

// Marshaler lets a value choose its own bytes.
type Marshaler interface {
	Marshal() ([]byte, error)
}

// Unmarshaler lets a pointer fill itself from bytes.
type Unmarshaler interface {
	Unmarshal([]byte) error
}

// Option configures a Registry.
type Option func(*Registry)

// Registry maps names (event names, command names) to Go types.
type Registry struct {
	mu        sync.RWMutex
	makers    map[string]func() any
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
}

var _ Encoding = (*Registry)(nil)

// Default swaps the fallback encoding, which is JSON.
func Default(marshal func(any) ([]byte, error), unmarshal func([]byte, any) error) Option {
	if marshal == nil || unmarshal == nil {
		panic("codec.Default: nil function")
	}
	return func(r *Registry) { r.marshal, r.unmarshal = marshal, unmarshal }
}

// Debug is accepted for API compatibility; this stand-in does not log.
func Debug(bool) Option { return func(*Registry) {} }

// New makes an empty Registry that encodes with encoding/json.
func New(opts ...Option) *Registry {
	r := &Registry{makers: map[string]func() any{}, marshal: json.Marshal, unmarshal: json.Unmarshal}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Register binds name to the type that factory makes a pointer to. A later
// call with the same name replaces the earlier one.
func (r *Registry) Register(name string, factory func() any) {
	r.mu.Lock()
	r.makers[name] = factory
	r.mu.Unlock()
}

func (r *Registry) maker(name string) (func() any, error) {
	r.mu.RLock()
	f, ok := r.makers[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("codec: nothing registered under %q", name)
	}
	return f, nil
}

// New returns a fresh pointer to the type registered under name.
func (r *Registry) New(name string) (any, error) {
	f, err := r.maker(name)
	if err != nil {
		return nil, err
	}
	return f(), nil
}

// Marshal encodes data.
func (r *Registry) Marshal(data any) ([]byte, error) {
	if m, ok := data.(Marshaler); ok {
		return m.Marshal()
	}
	return r.marshal(data)
}

// Unmarshal decodes b into the type registered under name and returns the
// value, not the pointer.
func (r *Registry) Unmarshal(b []byte, name string) (any, error) {
	f, err := r.maker(name)
	if err != nil {
		return nil, err
	}
	p := f()
	if u, ok := p.(Unmarshaler); ok {
		err = u.Unmarshal(b)
	} else {
		err = r.unmarshal(b, p)
	}
	return deref(p), err
}

// Map returns a copy of the name-to-factory table.
func (r *Registry) Map() map[string]func() any {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]func() any, len(r.makers))
	for k, v := range r.makers {
		out[k] = v
	}
	return out
}

// deref follows pointers down to the value they end at.
func deref(p any) any {
	v := reflect.ValueOf(p)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v.Interface()
}

// Register binds name to type D.
func Register[D any](r Registerer, name string) {
	r.Register(name, func() any { return new(D) })
}

// Make returns a zero D for the type registered under name, or an error when
// the registered type is not D.
func Make[D any](r *Registry, name string) (D, error) {
	var zero D
	p, err := r.New(name)
	if err != nil {
		return zero, err
	}
	d, ok := deref(p).(D)
	if !ok {
		return zero, fmt.Errorf("codec: %q is registered as %T, not %T", name, deref(p), zero)
	}
	return d, nil
}
