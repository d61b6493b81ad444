-- The metadata index (src/terms.rs): each event's metadata scalars as hex tokens of 64-bit
-- hashes of their path and value, in a contentless full-text table keyed by the event id. FTS5
-- writes a transaction's new postings as one small segment and merges segments later, so the
-- index costs each commit a few sequential pages, not a random B-tree page per term.
-- `contentless_delete`: pruning an event deletes its row by id.
-- Existing events are indexed by the migration itself, in Rust, right after this table exists.
CREATE VIRTUAL TABLE event_terms USING fts5(
    terms, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
