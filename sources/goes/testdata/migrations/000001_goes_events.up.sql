-- goes' events table as goes v0.9.0's PostgreSQL event store creates it on
-- connect (backend/postgres/store.go: eventTableSQL and requiredIndexes).
CREATE TABLE IF NOT EXISTS events (
	id UUID PRIMARY KEY NOT NULL,
	name VARCHAR(255) NOT NULL,
	time BIGINT NOT NULL,
	aggregate_id UUID,
	aggregate_name VARCHAR(255),
	aggregate_version INTEGER,
	data JSONB
);
CREATE INDEX IF NOT EXISTS goes_name ON events (name);
CREATE INDEX IF NOT EXISTS goes_time ON events (time);
CREATE UNIQUE INDEX IF NOT EXISTS goes_aggregate ON events (aggregate_id, aggregate_name, aggregate_version);
