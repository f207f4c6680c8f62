package projection_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// This is what a runner main does with a generated registry: in a module,
// the registrations and event types come from its projections package,
// projections.Registrations() and projections.EventTypes(). It needs a
// database, so it is compiled but not run.
func ExampleRunner() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	runner := &projection.Runner{
		Pool:   pool,
		Source: projection.NewPostgresSource(pool, "events"),
		Types:  projection.EventTypes{"a": func() any { return new(payload) }},
		Registrations: []projection.Registration{{
			Name:   "counts",
			Topics: []string{"a"},
			Tables: []string{"counts", "applied"},
			New: func(db projection.DBTX) projection.Projection {
				return &counter{db: db, name: "counts", topics: []string{"a"}}
			},
		}},
	}
	if err := runner.Setup(ctx); err != nil {
		log.Fatal(err)
	}
	// Run until interrupted. A poison event stops only its projection,
	// which Status then reports with the event; Run returns an error only
	// once every projection has stopped.
	if err := runner.Run(ctx); err != nil {
		log.Fatal(err)
	}
	statuses, err := runner.Status(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range statuses {
		fmt.Printf("%s %s at %d of %d (lag %d events, %s)\n", s.Name, s.State, s.Position, s.Head, s.Lag, s.LagTime)
	}
}
