module example.com/goesapp

go 1.22

require (
	github.com/google/uuid v1.6.0
	github.com/modernice/goes v0.9.0
	github.com/projgen/projgen/projection v0.0.0
	github.com/projgen/projgen/sources/goes v0.0.0
)

replace github.com/modernice/goes => ../goes

replace github.com/projgen/projgen/projection => ../../../projection

replace github.com/projgen/projgen/sources/goes => ../../../sources/goes
