//! The writer's SQL: one function per command.

use rusqlite::{Connection, OptionalExtension, params};

use super::command::{EncodedEvent, Leased};
use super::dedup::{DedupIndex, key_hash};
use crate::admin::AdminOp;
use crate::model::{EventId, Finished, Inserted, NewRejection, Next, RejectionRetention};

pub(super) fn insert_event(
    tx: &Connection,
    keys: &mut DedupIndex,
    encoded: &EncodedEvent,
) -> rusqlite::Result<Inserted> {
    let ev = &encoded.event;
    // A provider retry: an event with the same source and key is already stored (or earlier in
    // this batch). The index gives candidates by hash; the event's own key decides.
    let hash = encoded.key_hash;
    for id in keys.candidates(hash)? {
        let same: Option<bool> = tx
            .prepare_cached("SELECT source = ?2 AND dedup_key = ?3 FROM events WHERE id = ?1")?
            .query_row(params![id, ev.source, ev.dedup_key], |r| r.get(0))
            .optional()?;
        if same == Some(true) {
            tx.prepare_cached("UPDATE events SET duplicates = duplicates + 1, last_duplicate_at = ?2 WHERE id = ?1")?
                .execute(params![id, ev.received_at_ms])?;
            return Ok(Inserted::Duplicate(EventId(id)));
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (source, received_at, dedup_key, provider_id, event_type, signed_at, body, body_sha256, size, headers, metadata, body_encoding, pii)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    insert.execute(params![
        ev.source,
        ev.received_at_ms,
        ev.dedup_key,
        ev.provider_id,
        ev.event_type,
        ev.signed_at_ms,
        encoded.body,
        ev.body_sha256,
        encoded.size,
        encoded.headers,
        encoded.metadata,
        encoded.body_encoding,
        crate::model::marks_json(&ev.pii),
    ])?;
    let id = tx.last_insert_rowid();
    keys.add(hash, id);
    if !encoded.terms.is_empty() {
        tx.prepare_cached("INSERT INTO event_terms (rowid, terms) VALUES (?1, ?2)")?
            .execute(params![id, encoded.terms])?;
    }
    // The outbox: deliveries are committed with the event, so an acknowledged event always has them.
    if !ev.targets.is_empty() {
        let mut delivery = tx.prepare_cached(
            "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at) VALUES (?1, ?2, 'pending', ?3, ?3)",
        )?;
        for target in &ev.targets {
            delivery.execute(params![id, target, ev.received_at_ms])?;
        }
    }
    Ok(Inserted::New(EventId(id)))
}

/// Size of the readiness probe's write: about a typical event's, so that a probe fits only where an
/// event would.
const PROBE_BYTES: usize = 8 * 1024;

/// The readiness probe's write: a row of `PROBE_BYTES` replaced each time, so a probe needs new
/// log frames as an event does (a smaller write could fit where an event cannot).
pub(super) fn probe(tx: &Connection) -> rusqlite::Result<()> {
    let value = format!("{:<width$}", crate::now_ms(), width = PROBE_BYTES);
    tx.prepare_cached(
        "INSERT INTO store_meta (name, value) VALUES ('readiness_probe', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute([value])?;
    Ok(())
}

pub(super) fn insert_rejection(tx: &Connection, r: &NewRejection) -> rusqlite::Result<()> {
    let mut reject = tx.prepare_cached(
        "INSERT INTO rejections (source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers, diagnosis)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let names = serde_json::to_string(&r.header_names).unwrap_or_else(|_| "[]".into());
    let headers = serde_json::to_string(&r.headers).unwrap_or_else(|_| "[]".into());
    reject.execute(params![
        r.source,
        r.received_at_ms,
        r.peer,
        r.reason,
        r.reason_code,
        names,
        r.body_sha256,
        r.size,
        r.body,
        headers,
        r.diagnosis.as_ref().map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".into())),
    ])?;
    Ok(())
}

/// Leases due deliveries. Only the lease is written here; the events are read afterwards on a
/// read connection, so the single writer spends no time copying bodies.
pub(super) fn claim(
    tx: &Connection,
    target: &str,
    limit: u32,
    ordered: bool,
    now_ms: i64,
    lease_ms: i64,
) -> rusqlite::Result<Vec<Leased>> {
    // Ordered targets take only the oldest pending delivery, and only once it is due and not
    // leased: a later event waits until the earlier one is delivered or dead.
    let sql = if ordered {
        "UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id = (SELECT MIN(id) FROM deliveries WHERE target = ?3 AND status = 'pending')
           AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1) AND ?4 > 0
         RETURNING id, event_id, attempts"
    } else {
        "UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id IN (SELECT id FROM deliveries
                      WHERE target = ?3 AND status = 'pending' AND next_attempt_at <= ?1
                        AND (lease_until IS NULL OR lease_until <= ?1)
                      ORDER BY next_attempt_at, id LIMIT ?4)
         RETURNING id, event_id, attempts"
    };
    let mut lease = tx.prepare_cached(sql)?;
    lease.query_map(params![now_ms, lease_ms, target, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
}

pub(super) fn finish(tx: &Connection, f: &Finished) -> rusqlite::Result<()> {
    let a = &f.attempt;
    tx.prepare_cached(
        "INSERT INTO delivery_attempts
             (delivery_id, started_at, duration_ms, status_code, error, response_excerpt, request, response_headers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        f.delivery_id,
        a.started_at_ms,
        a.duration_ms,
        a.status_code,
        a.error,
        a.response_excerpt,
        a.request,
        a.response_headers
    ])?;
    let (status, next_at, delivered_at) = match f.next {
        Next::Delivered => ("delivered", None, Some(a.started_at_ms + a.duration_ms)),
        Next::Retry(at) => ("pending", Some(at), None),
        Next::Dead => ("dead", None, None),
    };
    tx.prepare_cached(
        "UPDATE deliveries SET attempts = attempts + 1, lease_until = NULL, status = ?2,
             next_attempt_at = COALESCE(?3, next_attempt_at), delivered_at = ?4, last_error = ?5
         WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(params![f.delivery_id, status, next_at, delivered_at, a.error])?;
    Ok(())
}

pub(super) fn admin(tx: &Connection, keys: Option<&mut DedupIndex>, op: &AdminOp) -> rusqlite::Result<u64> {
    let now = crate::now_ms();
    let n = match op {
        AdminOp::Replay { event_ids, target } => {
            let mut n = 0usize;
            for id in event_ids {
                // Replay never re-verifies: the event was verified when it arrived.
                n += match target {
                    Some(t) => tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                         SELECT id, ?2, 'pending', ?3, ?3, 'replay' FROM events WHERE id = ?1",
                        params![id, t, now],
                    )?,
                    None => tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                         SELECT DISTINCT event_id, target, 'pending', ?2, ?2, 'replay' FROM deliveries WHERE event_id = ?1",
                        params![id, now],
                    )?,
                };
            }
            n
        }
        AdminOp::Prune { before_ms, limit } => {
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY); DELETE FROM prune_ids;",
            )?;
            let n = tx.execute(
                "INSERT INTO temp.prune_ids SELECT id FROM events e WHERE received_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status NOT IN ('delivered', 'cancelled'))
                 ORDER BY id LIMIT ?2",
                params![before_ms, limit],
            )?;
            // Their entries leave the dedup index once this commits. (From an operator handle,
            // without the index, entries stay behind: harmless, a hit is confirmed on the event,
            // and ids are never reused.)
            // Their entries leave the dedup index once this commits. (From an operator handle,
            // without the index, entries stay behind: harmless, a hit is confirmed on the event,
            // and ids are never reused.)
            if let Some(keys) = keys {
                let mut pruned = tx.prepare_cached(
                    "SELECT id, source, dedup_key FROM events WHERE id IN (SELECT id FROM temp.prune_ids)",
                )?;
                let rows = pruned
                    .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
                for row in rows {
                    let (id, source, key) = row?;
                    keys.remove(key_hash(&source, &key), id);
                }
            }
            tx.execute("DELETE FROM event_terms WHERE rowid IN (SELECT id FROM temp.prune_ids)", [])?;
            tx.execute(
                "DELETE FROM delivery_attempts WHERE delivery_id IN
                   (SELECT id FROM deliveries WHERE event_id IN (SELECT id FROM temp.prune_ids))",
                [],
            )?;
            tx.execute("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM temp.prune_ids)", [])?;
            tx.execute("DELETE FROM events WHERE id IN (SELECT id FROM temp.prune_ids)", [])?;
            n
        }
        AdminOp::RetryDead { target } => tx.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?1, lease_until = NULL,
                 revived = revived + 1
             WHERE status = 'dead' AND (?2 IS NULL OR target = ?2)",
            params![now, target],
        )?,
        AdminOp::Cancel { delivery_id } => tx.execute(
            "UPDATE deliveries SET status = 'cancelled', lease_until = NULL
             WHERE id = ?1 AND status = 'pending'",
            params![delivery_id],
        )?,
        AdminOp::RetryNow { delivery_id } => tx.execute(
            "UPDATE deliveries SET next_attempt_at = ?2,
                 revived = revived + (status = 'dead'), attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END,
                 status = 'pending'
             WHERE id = ?1 AND status IN ('pending', 'dead') AND (lease_until IS NULL OR lease_until <= ?2)",
            params![delivery_id, now],
        )?,
        AdminOp::CreateJob(job) => return super::jobs::create(tx, job, now),
        AdminOp::ClaimJob { lease_ms, job_id } => return super::jobs::claim(tx, now, *lease_ms, *job_id),
        AdminOp::JobBatch(batch) => return super::jobs::batch(tx, batch, now),
        AdminOp::FailJob { job_id, error } => return super::jobs::fail(tx, *job_id, error, now),
        AdminOp::CancelJob { job_id, actor } => return super::jobs::cancel(tx, *job_id, actor, now),
        AdminOp::Audit(entry) => return super::jobs::audit(tx, entry, now),
        AdminOp::SecretMatches(batch) => {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO secret_matches (source, fingerprint, secret, matches, last_matched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source, fingerprint) DO UPDATE SET
                   secret = excluded.secret,
                   matches = matches + excluded.matches,
                   last_matched_at = NULLIF(MAX(COALESCE(last_matched_at, 0), COALESCE(excluded.last_matched_at, 0)), 0)",
            )?;
            for m in batch {
                upsert.execute(params![m.source, m.fingerprint, m.secret, m.matches, m.last_matched_at_ms])?;
            }
            batch.len()
        }
    };
    Ok(n as u64)
}

pub(super) fn prune_rejections(conn: &Connection, retention: RejectionRetention) -> Result<(), rusqlite::Error> {
    let cutoff = crate::now_ms() - i64::try_from(retention.max_age_secs).unwrap_or(i64::MAX / 2) * 1000;
    // Bounded deletes, so one prune never holds the write lock for long.
    conn.execute(
        "DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_at < ?1 LIMIT 10000)",
        params![cutoff],
    )?;
    conn.execute(
        "DELETE FROM rejections WHERE id IN (
             SELECT id FROM rejections WHERE id <= (SELECT id FROM rejections ORDER BY id DESC LIMIT 1 OFFSET ?1)
             LIMIT 10000)",
        params![i64::try_from(retention.max_rows).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}
