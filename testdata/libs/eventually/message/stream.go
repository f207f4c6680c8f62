package message

import (
	"errors"
	"iter"
)

// ErrAlreadyIterated is what Err reports after a second Iter.
var ErrAlreadyIterated = errors.New("message: stream read twice")

// Stream is a one-shot sequence of T, fed by a producer function whose error
// Err reports once the sequence is done.
type Stream[T any] struct {
	produce func(yield func(T) bool) error
	used    bool
	err     error
}

// NewStream wraps produce.
func NewStream[T any](produce func(yield func(T) bool) error) *Stream[T] {
	return &Stream[T]{produce: produce}
}

// Iter returns the sequence; only the first call yields anything.
func (s *Stream[T]) Iter() iter.Seq[T] {
	if s.used {
		s.err = ErrAlreadyIterated
		return func(func(T) bool) {}
	}
	s.used = true
	return func(yield func(T) bool) { s.err = s.produce(yield) }
}

// Err is the producer's error, after iteration.
func (s *Stream[T]) Err() error { return s.err }
