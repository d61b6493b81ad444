-- The metadata index (src/terms.rs): each event's metadata scalars as 64-bit hashes of their
-- path and value, in `events.terms` under a GIN index. New entries go to the index's pending
-- list (appended) and are merged in bulk, so ingest does not pay a random B-tree insert per term.
-- Existing events are indexed by the migration itself, in Rust, right after this column exists.
ALTER TABLE events ADD COLUMN terms BIGINT[];
CREATE INDEX events_terms ON events USING gin (terms);
