package projection

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RunnerTablesSQL creates the tables the runner keeps its state in, when
// they do not exist, and adds the columns that earlier versions lacked.
// Runner.Setup runs it; it can also go in a migration. The tables live on
// the search_path of the runner's pool, next to the read models, so that a
// batch, the position it reaches and the events it parks commit in one
// transaction.
//
// projgen_tracking has a row per projection: its position, the runner
// that holds it, the event it stopped at, and a rebuild's request that the
// runner let go of it. projgen_dead_letters holds parked events.
const RunnerTablesSQL = `CREATE TABLE IF NOT EXISTS projgen_tracking (
	name text PRIMARY KEY,
	position bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE projgen_tracking
	ADD COLUMN IF NOT EXISTS holder text,
	ADD COLUMN IF NOT EXISTS holder_pid integer,
	ADD COLUMN IF NOT EXISTS held_since timestamptz,
	ADD COLUMN IF NOT EXISTS error text,
	ADD COLUMN IF NOT EXISTS error_position bigint,
	ADD COLUMN IF NOT EXISTS error_topic text,
	ADD COLUMN IF NOT EXISTS error_aggregate_id text,
	ADD COLUMN IF NOT EXISTS error_version bigint,
	ADD COLUMN IF NOT EXISTS failed_at timestamptz,
	ADD COLUMN IF NOT EXISTS pause_requested_at timestamptz,
	ADD COLUMN IF NOT EXISTS pause_pid integer;
CREATE TABLE IF NOT EXISTS projgen_dead_letters (
	projection text NOT NULL,
	position bigint NOT NULL,
	aggregate_id text NOT NULL,
	version bigint NOT NULL,
	topic text NOT NULL,
	payload bytea NOT NULL,
	recorded_at timestamptz NOT NULL,
	error text NOT NULL,
	parked_at timestamptz NOT NULL DEFAULT now(),
	attempts integer NOT NULL DEFAULT 1,
	PRIMARY KEY (projection, position)
)`

// runnerColumns counts the columns RunnerTablesSQL gives its two tables.
// Setup runs the statements only when some are missing, since ALTER TABLE
// locks the tracking table against running batches even when it adds
// nothing.
const runnerColumns = 14 + 10

// Setup creates or upgrades the runner's tables (RunnerTablesSQL). It
// takes a transaction-level advisory lock first because two sessions
// running CREATE TABLE IF NOT EXISTS at once can still collide in the
// catalog.
func (r *Runner) Setup(ctx context.Context) error {
	if r.Pool == nil {
		return fmt.Errorf("projection runner: setup: Pool is nil")
	}
	var have int
	err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
WHERE attrelid IN (to_regclass('projgen_tracking'), to_regclass('projgen_dead_letters')) AND attnum > 0 AND NOT attisdropped`).Scan(&have)
	if err != nil {
		return fmt.Errorf("projection runner: read the tracking tables: %w", err)
	}
	if have == runnerColumns {
		return nil
	}
	err = pgx.BeginFunc(ctx, r.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('projgen:setup', 0))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, RunnerTablesSQL)
		return err
	})
	if err != nil {
		return fmt.Errorf("projection runner: create the tracking tables: %w", err)
	}
	return nil
}
