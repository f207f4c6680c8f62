module example.com/eventhorizon

go 1.26

require github.com/looplab/eventhorizon v0.17.0

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/projgen/projgen/projection v0.0.0
)

replace github.com/projgen/projgen/projection => ../../projection
