module example.com/hallgren

go 1.25.0

require github.com/hallgren/eventsourcing v0.8.1

require (
	github.com/hallgren/eventsourcing/core v0.4.0 // indirect
	github.com/projgen/projgen/projection v0.0.0
)

replace github.com/projgen/projgen/projection => ../../projection
