module example.com/eventuallyapp

go 1.23

require (
	github.com/get-eventually/go-eventually v0.4.2
	github.com/projgen/projgen/projection v0.0.0
)

replace github.com/get-eventually/go-eventually => ../eventually

replace github.com/projgen/projgen/projection => ../../../projection
