package model

import (
	"slices"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
)

// HallgrenSQLStoreModule is hallgren/eventsourcing's SQL store, which the
// hallgren source reads.
const HallgrenSQLStoreModule = "github.com/hallgren/eventsourcing/eventstore/sql"

// DefaultSource is the event store of a new projgen.yaml whose first
// projection projects pkgs: the store of the library they are written
// with, when projgen has a source for it, else projgen's own events table
// (""). goes' aggregates are saved by its PostgreSQL backend; hallgren's
// by its SQL store only when the module requires that store (it has
// others: memory, bbolt, EventStoreDB). Other aggregates (eventhorizon's,
// go-eventually's, plain code) are read from JetStream when the module
// requires nats.go itself, not only through a dependency, and from
// projgen's table otherwise.
func DefaultSource(mod *load.Module, pkgs []*load.Package) string {
	if s := librarySource(mod, pkgs); s != "" {
		return s
	}
	if mod.RequiresDirectly(NATSModule) {
		return config.SourceJetStream
	}
	return ""
}

// librarySource is the store of the first of pkgs whose library has one
// projgen reads, or "".
func librarySource(mod *load.Module, pkgs []*load.Package) string {
	for _, pkg := range pkgs {
		var s string
		switch pkg.Library {
		case load.Hallgren:
			if mod.Requires(HallgrenSQLStoreModule) {
				s = config.SourceHallgren
			}
		case load.Goes:
			s = config.SourceGoes
		}
		if s != "" && slices.Contains(config.Sources(), s) {
			return s
		}
	}
	return ""
}

// libraryTopics is the topic template of events whose source names no
// topic, for aggregates written with lib: the way the library itself
// stores them, so that the registry decodes what it stored. Empty means the
// module's template.
//
// hallgren/eventsourcing records an event under its bare type name (its
// "reason", reflect's Name of the payload's type). eventhorizon and goes
// name every event with a constant at registration, which discovery takes
// as the event's topic, so they need no template.
func libraryTopics(lib load.Library) string {
	switch lib {
	case load.Hallgren:
		return "{{.Type}}"
	}
	return ""
}
