package model

import "github.com/projgen/projgen/generator/load"

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
