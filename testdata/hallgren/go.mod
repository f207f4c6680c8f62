module example.com/hallgren

go 1.25.0

require github.com/hallgren/eventsourcing v0.8.1

require (
	github.com/hallgren/eventsourcing/core v0.4.0 // indirect
	github.com/hallgren/eventsourcing/eventstore/sql v0.4.0
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/projgen/projgen/projection v0.0.0
	github.com/projgen/projgen/sources/hallgren v0.0.0
)

replace github.com/projgen/projgen/projection => ../../projection

replace github.com/projgen/projgen/sources/hallgren => ../../sources/hallgren
