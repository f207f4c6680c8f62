package jetstream

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultURL is the NATS server Dial connects to when given no URL: the
// local one, at the port the server listens on by default.
const DefaultURL = nats.DefaultURL

// The names ParseLayout knows the library's layouts by, for a runner's
// command line.
const (
	// HeadersLayout names Headers, without Subjects: every topic is read
	// from every subject of the stream.
	HeadersLayout = "headers"
	// GoesBusLayout names GoesBus with goes' default subjects.
	GoesBusLayout = "goes-bus"
	// GoesStoreLayout names GoesStore in goes' default namespace.
	GoesStoreLayout = "goes-store"
)

// LayoutNames lists the names ParseLayout accepts.
func LayoutNames() []string { return []string{HeadersLayout, GoesBusLayout, GoesStoreLayout} }

// ParseLayout returns the layout a command line names: HeadersLayout
// (also for ""), GoesBusLayout or GoesStoreLayout. A layout with options
// of its own (Headers' Subjects, GoesBus' Subject, GoesStore's Namespace)
// is built in code instead.
func ParseLayout(name string) (Layout, error) {
	switch name {
	case "", HeadersLayout:
		return Headers{}, nil
	case GoesBusLayout:
		return GoesBus{}, nil
	case GoesStoreLayout:
		return GoesStore{}, nil
	}
	return nil, fmt.Errorf("unknown layout %q: use one of %s", name, strings.Join(LayoutNames(), ", "))
}

// Dial connects to the NATS server at url (DefaultURL when empty) and
// returns a Source over its stream name in layout, and a function that
// closes the connection once the source is no longer read. The source is
// for a runner that owns the connection; an application that has one
// already calls NewSource with it.
func Dial(url, name string, layout Layout, opts ...nats.Option) (*Source, func(), error) {
	if url == "" {
		url = DefaultURL
	}
	// The caller's options come last, so that its own Name wins.
	opts = append([]nats.Option{nats.Name("projgen runner")}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("JetStream on %s: %w", url, err)
	}
	return NewSource(js, name, layout), nc.Close, nil
}
