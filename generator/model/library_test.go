package model_test

import (
	"testing"

	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

// TestDefaultSource checks which store a new projgen.yaml names, from the
// aggregates' library and what go.mod requires.
func TestDefaultSource(t *testing.T) {
	const (
		plain    = "module example.com/m\n\ngo 1.25.0\n"
		nats     = plain + "require github.com/nats-io/nats.go v1.56.0\n"
		natsDep  = plain + "require github.com/nats-io/nats.go v1.56.0 // indirect\n"
		sqlStore = plain + "require github.com/hallgren/eventsourcing/eventstore/sql v0.4.0\n"
	)
	tests := []struct {
		name  string
		goMod string
		lib   load.Library
		want  string
	}{
		{"plain code", plain, "", ""},
		{"goes", plain, load.Goes, "goes"},
		{"goes beside nats.go", nats, load.Goes, "goes"},
		{"hallgren without its SQL store", plain, load.Hallgren, ""},
		{"hallgren with its SQL store", sqlStore, load.Hallgren, "hallgren"},
		{"plain code that requires nats.go", nats, "", "jetstream"},
		{"eventhorizon that requires nats.go", nats, load.EventHorizon, "jetstream"},
		{"nats.go only through a dependency", natsDep, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := &load.Module{Path: "example.com/m", GoMod: []byte(tt.goMod)}
			got := model.DefaultSource(mod, []*load.Package{{Library: tt.lib}})
			if got != tt.want {
				t.Errorf("DefaultSource = %q; want %q", got, tt.want)
			}
		})
	}
}
