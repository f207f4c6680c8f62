-- The read model of the test projection. orders is written as generated
-- read models write: every statement guarded by the row's
-- aggregate_version, so that a replayed event changes nothing; applied
-- counts the events that changed the row. deliveries is not guarded: it
-- counts every application that committed, so an event applied twice
-- shows there.
CREATE TABLE orders (
	aggregate_id uuid PRIMARY KEY,
	aggregate_version bigint NOT NULL,
	last_position bigint NOT NULL,
	placed_at timestamptz NOT NULL,
	customer_id uuid NOT NULL,
	items integer NOT NULL DEFAULT 0,
	total bigint NOT NULL DEFAULT 0,
	paid bigint NOT NULL DEFAULT 0,
	shipped boolean NOT NULL DEFAULT false,
	applied integer NOT NULL DEFAULT 1
);
CREATE TABLE deliveries (
	aggregate_id uuid PRIMARY KEY,
	n integer NOT NULL
);
