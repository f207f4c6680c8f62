// Command projections runs this module's projections: it reads the events
// table, applies each event to the read models, and records how far each
// projection got, in one transaction, so that every event is applied
// exactly once. projgen wrote this file once, with the module's first
// projection; it is yours to change, and projgen never rewrites it.
//
// Usage:
//
//	projections                 run every projection until interrupted
//	projections -status         print where each projection stands
//	projections -rebuild NAME   empty a projection's tables; it replays every event on its next run
//
// DATABASE_URL names the PostgreSQL database that holds the events table
// and the read-model tables; apply the migrations first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"example.com/registry/projections"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/projgen/projgen/projection"
)

func main() {
	events := flag.String("events", "events", "the table the events are stored in")
	status := flag.Bool("status", false, "print where each projection stands, and exit")
	rebuild := flag.String("rebuild", "", "empty the named projection's tables and reset its position, and exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv("DATABASE_URL"), *events, *status, *rebuild); err != nil {
		fmt.Fprintln(os.Stderr, "projections:", err)
		os.Exit(1)
	}
}

// run connects to the database and does what the flags ask.
func run(ctx context.Context, url, events string, status bool, rebuild string) error {
	if url == "" {
		return errors.New("set DATABASE_URL to the PostgreSQL database")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	registrations := projections.Registrations()
	// Each projection runs on a connection of its own, which holds its lock.
	cfg.MaxConns = max(cfg.MaxConns, int32(len(registrations)+2))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	runner := &projection.Runner{
		Pool:          pool,
		Source:        projection.NewPostgresSource(pool, events),
		Types:         projections.EventTypes(),
		Registrations: registrations,
	}
	if err := runner.Setup(ctx); err != nil {
		return err
	}
	switch {
	case status:
		statuses, err := runner.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range statuses {
			fmt.Printf("%-30s position %d, head %d, lag %d\n", s.Name, s.Position, s.Head, s.Lag)
		}
		return nil
	case rebuild != "":
		return runner.Rebuild(ctx, rebuild)
	}
	return runner.Run(ctx)
}
