// Package person is the person of hallgren/eventsourcing's README.
package person

import (
	"errors"

	"github.com/hallgren/eventsourcing"
	"github.com/hallgren/eventsourcing/aggregate"
)

// Person is the aggregate.
type Person struct {
	aggregate.Root
	Name string
	Age  int
}

// Born is the initial event.
type Born struct {
	Name string
}

// AgedOneYear happens once a year.
type AgedOneYear struct{}

// Register registers the person's events with the library.
func (p *Person) Register(r aggregate.RegisterFunc) {
	r(&Born{}, &AgedOneYear{})
}

// Transition applies one event to the person's state.
func (p *Person) Transition(event eventsourcing.Event) {
	switch e := event.Data().(type) {
	case *Born:
		p.Age = 0
		p.Name = e.Name
	case *AgedOneYear:
		p.Age++
	}
}

// CreatePerson is the constructor.
func CreatePerson(name string) (*Person, error) {
	if name == "" {
		return nil, errors.New("name can't be blank")
	}
	p := &Person{}
	aggregate.TrackChange(p, &Born{Name: name})
	return p, nil
}

// GrowOlder is a command.
func (p *Person) GrowOlder() {
	aggregate.TrackChange(p, &AgedOneYear{})
}
