module example.com/registry

go 1.26

require (
	github.com/google/uuid v1.6.0
	github.com/projgen/projgen/projection v0.0.0
)

replace github.com/projgen/projgen/projection => ../../projection
