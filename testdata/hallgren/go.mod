module example.com/hallgren

go 1.26

require github.com/hallgren/eventsourcing v0.8.1

require (
	github.com/hallgren/eventsourcing/core v0.4.0 // indirect
	github.com/projgen/projgen v0.0.0
)

replace github.com/projgen/projgen => ../..
