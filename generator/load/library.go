package load

import "strings"

// Library is an event-sourcing library that aggregate packages are
// written with. Each stores events its own way; what projgen takes from
// that is decided in the model, from the library found here.
type Library string

// The libraries projgen knows, by the module they come from.
const (
	// Hallgren is github.com/hallgren/eventsourcing.
	Hallgren Library = "hallgren"
	// EventHorizon is github.com/looplab/eventhorizon.
	EventHorizon Library = "eventhorizon"
	// Goes is github.com/modernice/goes.
	Goes Library = "goes"
	// Eventually is github.com/get-eventually/go-eventually.
	Eventually Library = "eventually"
)

// libraryModules maps the module path of each library to it.
var libraryModules = []struct {
	module string
	lib    Library
}{
	{"github.com/hallgren/eventsourcing", Hallgren},
	{"github.com/looplab/eventhorizon", EventHorizon},
	{"github.com/modernice/goes", Goes},
	{"github.com/get-eventually/go-eventually", Eventually},
}

// libraryOf returns the library a package imports, directly, or "" when it
// imports none of them.
func (p *Package) libraryOf() Library {
	for _, imp := range p.pkg.Types.Imports() {
		for _, lm := range libraryModules {
			if imp.Path() == lm.module || strings.HasPrefix(imp.Path(), lm.module+"/") {
				return lm.lib
			}
		}
	}
	return ""
}
