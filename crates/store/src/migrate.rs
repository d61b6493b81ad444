//! Versioned schema migrations, run in order inside one transaction each.
//!
//! A migration is never edited once released; a change is a new entry. `schema_migrations` records
//! what ran, so a restart runs only what is new, and a database from a newer Hookgate is refused
//! rather than misread. SQLite and PostgreSQL have their own SQL under the same version numbers:
//! version N means the same tables and the same semantics in both.

use rusqlite::{Connection, params};

use crate::error::StoreError;

/// `(version, description, SQL)`, in order. The SQL lives in `migrations/<backend>/NNNN_name.sql`;
/// an empty file is a version that changes only the other backend.
pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (1, "events and rejections", include_str!("../migrations/sqlite/0001_events_and_rejections.sql")),
    (
        2,
        "deliveries (outbox) and delivery attempts",
        include_str!("../migrations/sqlite/0002_deliveries_and_attempts.sql"),
    ),
    (
        3,
        "dedup keys move to the dedup index file (events lose their random-key unique index)",
        include_str!("../migrations/sqlite/0003_dedup_index_file.sql"),
    ),
    (
        4,
        "events name how their body is stored (identity or lz4; see body.rs)",
        include_str!("../migrations/sqlite/0004_body_encoding.sql"),
    ),
    (
        5,
        "rejections keep their header values (minus drop_headers), to re-verify offline",
        include_str!("../migrations/sqlite/0005_rejection_headers.sql"),
    ),
    (6, "operator jobs and the audit log", include_str!("../migrations/sqlite/0006_jobs_and_audit.sql")),
    (7, "the metadata index (event_terms)", include_str!("../migrations/sqlite/0007_metadata_index.sql")),
    (
        8,
        "rejection diagnosis, Tag PII marks, secret match counts",
        include_str!("../migrations/sqlite/0008_diagnosis_secrets_pii.sql"),
    ),
    (
        9,
        "what made each delivery, its revivals, each attempt's request and response headers",
        include_str!("../migrations/sqlite/0009_delivery_history.sql"),
    ),
];

/// The same versions for PostgreSQL. Ids are identities, times Unix ms in `BIGINT` (as in SQLite,
/// so both stores read and write the same values), bodies `BYTEA`. JSON is kept as `TEXT`, exactly
/// as serialized: `JSONB` refuses `\u0000`, which a verified body may carry into the metadata, and
/// a verified event must never be refused by its store.
pub(crate) const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "events and rejections", include_str!("../migrations/postgres/0001_events_and_rejections.sql")),
    (
        2,
        "deliveries (outbox) and delivery attempts",
        include_str!("../migrations/postgres/0002_deliveries_and_attempts.sql"),
    ),
    (
        3,
        "(SQLite only: dedup keys in a file of their own; PostgreSQL keeps UNIQUE (source, dedup_key) for cross-node dedup)",
        include_str!("../migrations/postgres/0003_sqlite_only_dedup_index.sql"),
    ),
    (
        4,
        "(SQLite only: compressed bodies; PostgreSQL compresses large values itself (TOAST))",
        include_str!("../migrations/postgres/0004_sqlite_only_body_encoding.sql"),
    ),
    (
        5,
        "rejections keep their header values (minus drop_headers), to re-verify offline",
        include_str!("../migrations/postgres/0005_rejection_headers.sql"),
    ),
    (6, "operator jobs and the audit log", include_str!("../migrations/postgres/0006_jobs_and_audit.sql")),
    (7, "the metadata index (event_terms)", include_str!("../migrations/postgres/0007_metadata_index.sql")),
    (
        8,
        "rejection diagnosis, Tag PII marks, secret match counts",
        include_str!("../migrations/postgres/0008_diagnosis_secrets_pii.sql"),
    ),
    (
        9,
        "what made each delivery, its revivals, each attempt's request and response headers",
        include_str!("../migrations/postgres/0009_delivery_history.sql"),
    ),
];

/// The version whose migration also indexes the stored events' metadata (in Rust: the terms are
/// hashes SQL cannot compute).
const METADATA_INDEX: i64 = 7;

/// Events indexed per statement while migrating.
const INDEX_BATCH: i64 = 5_000;

/// Indexes the metadata of every stored event (SQLite), inside the migration's transaction.
fn index_sqlite(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut after = 0_i64;
    let mut read = tx.prepare("SELECT id, metadata FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut insert = tx.prepare("INSERT INTO event_terms (rowid, terms) VALUES (?1, ?2)")?;
    loop {
        let rows: Vec<(i64, String)> =
            read.query_map(params![after, INDEX_BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.0;
        for (id, metadata) in &rows {
            let metadata = serde_json::from_str(metadata).unwrap_or(serde_json::Value::Null);
            let tokens = crate::terms::tokens(&metadata);
            if !tokens.is_empty() {
                insert.execute(params![id, tokens])?;
            }
        }
    }
}

/// Indexes the metadata of every stored event (PostgreSQL), inside the migration's transaction.
async fn index_postgres(tx: &tokio_postgres::Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    let mut after = 0_i64;
    loop {
        let rows = tx
            .query("SELECT id, metadata FROM events WHERE id > $1 ORDER BY id LIMIT $2", &[&after, &INDEX_BATCH])
            .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.get(0);
        let (mut ids, mut terms) = (Vec::new(), Vec::new());
        for row in &rows {
            let metadata = serde_json::from_str(row.get::<_, &str>(1)).unwrap_or(serde_json::Value::Null);
            let of = crate::terms::of_metadata(&metadata);
            if !of.is_empty() {
                ids.push(row.get::<_, i64>(0));
                terms.push(crate::postgres::array_literal(&of));
            }
        }
        tx.execute(
            "UPDATE events e SET terms = u.t::BIGINT[] FROM unnest($1::int8[], $2::text[]) AS u(id, t) WHERE e.id = u.id",
            &[&ids, &terms],
        )
        .await?;
    }
}

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    SQLITE.last().map_or(0, |m| m.0)
}

/// The version this build knows, when a store at `current` may be used: a newer store is refused,
/// an older one unless its migrations are to run (`apply`).
fn check_version(current: i64, apply: bool) -> Result<i64, StoreError> {
    let known = latest_version();
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    if !apply && current < known {
        return Err(StoreError::NotMigrated { found: current, known });
    }
    Ok(known)
}

/// The schema version of the PostgreSQL store in `schema`, or `None` when it holds none.
pub(crate) async fn postgres_version(
    client: &impl tokio_postgres::GenericClient,
    schema: &str,
) -> Result<Option<i64>, StoreError> {
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_migrations')",
            &[&schema],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row =
        client.query_one(&format!("SELECT COALESCE(MAX(version), 0) FROM {schema}.schema_migrations"), &[]).await?;
    Ok(Some(row.get(0)))
}

/// Runs the PostgreSQL migrations not yet applied, in `schema` (created if missing). Several nodes
/// may start at once: an advisory lock makes one of them migrate while the others wait.
pub(crate) async fn run_postgres(
    client: &mut tokio_postgres::Client,
    schema: &str,
    now_ms: i64,
    apply: bool,
) -> Result<Vec<i64>, StoreError> {
    let tx = client.transaction().await?;
    // One lock for every Hookgate schema in the database: migrations are rare and short.
    tx.execute("SELECT pg_advisory_xact_lock(7403362214052418)", &[]).await?;
    if apply {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
    }
    let current = postgres_version(&tx, schema).await?.unwrap_or(0);
    let known = check_version(current, apply)?;
    let mut applied = Vec::new();
    if current < known {
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        ))
        .await?;
        tx.batch_execute(&format!("SET LOCAL search_path TO {schema}")).await?;
        for (version, description, sql) in POSTGRES.iter().filter(|m| m.0 > current) {
            // An empty version only changes the SQLite store; it is recorded all the same.
            if !sql.is_empty() {
                tx.batch_execute(sql)
                    .await
                    .map_err(|e| StoreError::Migration { version: *version, source: Box::new(e) })?;
            }
            if *version == METADATA_INDEX {
                index_postgres(&tx)
                    .await
                    .map_err(|e| StoreError::Migration { version: *version, source: Box::new(e) })?;
                // The planner chooses between the GIN index and a walk by `received_at` from the
                // column's statistics: have them now, not at the next autovacuum.
                tx.batch_execute("ANALYZE events")
                    .await
                    .map_err(|e| StoreError::Migration { version: *version, source: Box::new(e) })?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                &[version, description, &now_ms],
            )
            .await?;
            applied.push(*version);
        }
    }
    tx.commit().await?;
    Ok(applied)
}

/// Runs the migrations not yet applied. Returns the versions applied now.
pub(crate) fn run(conn: &mut Connection, now_ms: i64, apply: bool) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    check_version(current, apply)?;
    let mut applied = Vec::new();
    // A migration may rebuild a table others refer to; SQLite's procedure for that is to switch
    // foreign keys off around it (they cannot change inside a transaction) and check them after.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = (|| {
        for (version, description, sql) in SQLITE.iter().filter(|m| m.0 > current) {
            // Write-locked from the start, and the version checked again under the lock: another
            // process (`hookgate migrate` beside `serve`) may have applied it since it was read.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let done: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| {
                    r.get(0)
                })?;
            if done {
                continue;
            }
            tx.execute_batch(sql).map_err(|e| StoreError::Migration { version: *version, source: Box::new(e) })?;
            if *version == METADATA_INDEX {
                index_sqlite(&tx).map_err(|e| StoreError::Migration { version: *version, source: Box::new(e) })?;
            }
            let broken: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if broken > 0 {
                return Err(StoreError::Write(format!("migration {version} left {broken} broken references")));
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
                params![version, description, now_ms],
            )?;
            tx.commit()?;
            applied.push(*version);
        }
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test, and the database path in it.
    fn temp_db(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("hookgate-migrate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("hookgate.db");
        (dir, db)
    }

    #[test]
    fn processes_migrating_one_store_at_once_apply_each_version_once() {
        let (dir, db) = temp_db("race");
        for round in 0..5 {
            let _ = std::fs::remove_file(&db);
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
            let runs: Vec<_> = (0..3)
                .map(|_| {
                    let (db, barrier) = (db.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        let mut conn = Connection::open(&db).unwrap();
                        conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                        barrier.wait();
                        run(&mut conn, 0, true)
                    })
                })
                .collect();
            let mut applied: Vec<i64> = runs
                .into_iter()
                .flat_map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}")))
                .collect();
            applied.sort_unstable();
            assert_eq!(applied, SQLITE.iter().map(|m| m.0).collect::<Vec<_>>(), "round {round}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_version_2_store_upgrades_with_its_events_and_deliveries() {
        let (dir, db) = temp_db("v2");
        {
            // A store as version 2 left it, with an event, a delivery and an attempt.
            let conn = Connection::open(&db).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .unwrap();
            for (version, description, sql) in &SQLITE[..2] {
                conn.execute_batch(sql).unwrap();
                conn.execute("INSERT INTO schema_migrations VALUES (?1, ?2, 0)", params![version, description])
                    .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO events (id, source, received_at, dedup_key, body, body_sha256, size, headers, metadata)
                     VALUES (7, 'flinks', 1000, 'k7', x'00ff', 'h', 2, '[]', '{\"tag\":{\"userId\":\"u1\"},\"codes\":[1,2]}');
                 INSERT INTO deliveries (id, event_id, target, status, next_attempt_at, created_at)
                     VALUES (3, 7, 'svc', 'pending', 1000, 1000);
                 INSERT INTO delivery_attempts (delivery_id, started_at, duration_ms) VALUES (3, 1000, 5);",
            )
            .unwrap();
        }
        let mut conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        assert_eq!(run(&mut conn, 0, true).unwrap(), vec![3, 4, 5, 6, 7, 8, 9]);
        let indexed: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM event_terms WHERE event_terms MATCH ?1 AND rowid = 7",
                [format!(
                    "\"{}\"",
                    crate::terms::token(crate::terms::of_metadata(&serde_json::json!({"tag": {"userId": "u1"}}))[0])
                )],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 1, "the stored event's metadata is indexed");
        let fk: String = conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0)).unwrap().to_string();
        assert_eq!(fk, "1", "foreign keys are back on");
        let (id, body, encoding): (i64, Vec<u8>, String) = conn
            .query_row("SELECT id, body, body_encoding FROM events", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        assert_eq!((id, body, encoding.as_str()), (7, vec![0, 0xff], "identity"), "kept as received");
        let broken: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(broken, 0);
        // The delivery still refers to its event: deleting the event is refused.
        assert!(conn.execute("DELETE FROM events WHERE id = 7", []).is_err());
        // No random-key unique index any more; ids are never reused.
        let unique: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_index_list('events') WHERE \"unique\" = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(unique, 0);
        let sql: String =
            conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'events'", [], |r| r.get(0)).unwrap();
        assert!(sql.contains("AUTOINCREMENT"), "{sql}");
        drop(conn);
        let _ = std::fs::remove_dir_all(dir);
    }
}
