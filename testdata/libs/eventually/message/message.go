// Package message is a stand-in for github.com/get-eventually/go-eventually/message
// at v0.4.2: the Message interface that events and commands share, and the
// envelope around it. Signatures follow upstream; the bodies are this
// repository's own.
package message

// Message is anything with a name; events, commands and queries all are.
type Message interface {
	Name() string
}

// Metadata is string key-value data carried beside a Message.
type Metadata map[string]string

// With sets key to value, making the map when it is nil.
func (m Metadata) With(key, value string) Metadata {
	if m == nil {
		m = Metadata{}
	}
	m[key] = value
	return m
}

// Merge copies other into m; a nil m gives other back.
func (m Metadata) Merge(other Metadata) Metadata {
	if m == nil {
		return other
	}
	for k, v := range other {
		m[k] = v
	}
	return m
}

// Envelope carries a Message of type T and its Metadata.
type Envelope[T Message] struct {
	Message  T
	Metadata Metadata
}

// GenericEnvelope is an Envelope whose Message type is not known statically.
type GenericEnvelope Envelope[Message]

// ToGenericEnvelope erases the Message type.
func (e Envelope[T]) ToGenericEnvelope() GenericEnvelope {
	return GenericEnvelope{Message: e.Message, Metadata: e.Metadata}
}
