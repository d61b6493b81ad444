//! Jobs and the audit log on SQLite: the writer's statements (one transaction per call, as every
//! writer command) and the reads.

use rusqlite::{Connection, OptionalExtension, params};

use crate::ids::{AuditId, EventId, JobId};
use crate::jobs::{AuditEntry, Job, JobBatch, JobKind, JobState, NewAudit, NewJob};

pub(super) fn create(tx: &Connection, job: &NewJob, now: i64) -> rusqlite::Result<u64> {
    let targets = job.targets.as_ref().map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()));
    tx.prepare_cached(
        "INSERT INTO jobs (kind, state, filter, targets, actor, total, cursor, created_at, updated_at)
         VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![job.kind.as_str(), job.filter, targets, job.actor, job.total, job.upto, now])?;
    let id = tx.last_insert_rowid();
    let detail = serde_json::json!({"job": id, "filter": serde_json::from_str::<serde_json::Value>(&job.filter).ok(),
        "targets": job.targets, "total": job.total});
    audit(
        tx,
        &NewAudit { actor: job.actor.clone(), action: format!("{}.create", job.kind), detail: detail.to_string() },
        now,
    )?;
    Ok(u64::try_from(id).unwrap_or(0))
}

pub(super) fn claim(tx: &Connection, now: i64, lease_ms: i64, only: Option<JobId>) -> rusqlite::Result<u64> {
    let id: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM jobs WHERE (state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < ?1)))
               AND (?2 IS NULL OR id = ?2)
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![now, only], |r| r.get(0))
        .optional()?;
    let Some(id) = id else { return Ok(0) };
    tx.prepare_cached("UPDATE jobs SET state = 'running', lease_until = ?2, updated_at = ?1 WHERE id = ?3")?
        .execute(params![now, now.saturating_add(lease_ms), id])?;
    Ok(u64::try_from(id).unwrap_or(0))
}

pub(super) fn batch(tx: &Connection, b: &JobBatch, now: i64) -> rusqlite::Result<u64> {
    let job: Option<(String, String, Option<String>, EventId)> = tx
        .prepare_cached("SELECT state, kind, targets, cursor FROM jobs WHERE id = ?1")?
        .query_row(params![b.job_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((state, kind, targets, cursor)) = job else { return Ok(0) };
    // Another runner moved the job on (this one stalled past its lease): its batch is not ours.
    if state != "running" || cursor != b.from_cursor {
        return Ok(0);
    }
    let targets: Option<Vec<String>> = targets.and_then(|t| serde_json::from_str(&t).ok());
    let made = match JobKind::from_name(&kind) {
        Some(JobKind::Replay) => replay(tx, &b.event_ids, targets.as_deref(), &format!("job:{}", b.job_id), now)?,
        Some(JobKind::Retry) => retry(tx, &b.event_ids, targets.as_deref(), now)?,
        None => return Ok(0),
    };
    let state = if b.last { "done" } else { "running" };
    tx.prepare_cached(
        "UPDATE jobs SET done = done + ?2, made = made + ?7, cursor = ?3, state = ?4, lease_until = ?5, updated_at = ?1
         WHERE id = ?6",
    )?
    .execute(params![
        now,
        b.event_ids.len() as i64,
        b.cursor,
        state,
        now.saturating_add(b.lease_ms),
        b.job_id,
        made
    ])?;
    Ok(1)
}

/// New deliveries: to each of `targets`, or to every target the event was routed to. Answers
/// how many were created.
fn replay(
    tx: &Connection,
    events: &[EventId],
    targets: Option<&[String]>,
    origin: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    let mut made = 0;
    for id in events {
        match targets {
            Some(targets) => {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                     SELECT id, ?2, 'pending', ?3, ?3, ?4 FROM events WHERE id = ?1",
                )?;
                for t in targets {
                    made += insert.execute(params![id, t, now, origin])?;
                }
            }
            None => {
                made += tx
                    .prepare_cached(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                         SELECT DISTINCT event_id, target, 'pending', ?2, ?2, ?3 FROM deliveries WHERE event_id = ?1",
                    )?
                    .execute(params![id, now, origin])?;
            }
        }
    }
    Ok(made as i64)
}

/// Dead deliveries of these events (to `targets`, or any) become due now, attempts reset. Answers
/// how many were revived.
fn retry(tx: &Connection, events: &[EventId], targets: Option<&[String]>, now: i64) -> rusqlite::Result<i64> {
    let targets = targets.map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()));
    let mut update = tx.prepare_cached(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = NULL,
             revived = revived + 1
         WHERE event_id = ?1 AND status = 'dead'
           AND (?3 IS NULL OR target IN (SELECT value FROM json_each(?3)))",
    )?;
    let mut made = 0;
    for id in events {
        made += update.execute(params![id, now, targets])?;
    }
    Ok(made as i64)
}

pub(super) fn fail(tx: &Connection, job: JobId, error: &str, now: i64) -> rusqlite::Result<u64> {
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET state = 'failed', error = ?2, lease_until = NULL, updated_at = ?1
             WHERE id = ?3 AND state IN ('queued', 'running')",
        )?
        .execute(params![now, error, job])?;
    Ok(n as u64)
}

pub(super) fn cancel(tx: &Connection, job: JobId, actor: &str, now: i64) -> rusqlite::Result<u64> {
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', lease_until = NULL, updated_at = ?1
             WHERE id = ?2 AND state IN ('queued', 'running')",
        )?
        .execute(params![now, job])?;
    if n > 0 {
        let detail = serde_json::json!({"job": job.0}).to_string();
        audit(tx, &NewAudit { actor: actor.to_owned(), action: "job.cancel".into(), detail }, now)?;
    }
    Ok(n as u64)
}

pub(super) fn audit(tx: &Connection, a: &NewAudit, now: i64) -> rusqlite::Result<u64> {
    tx.prepare_cached("INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![now, a.actor, a.action, a.detail])?;
    Ok(u64::try_from(tx.last_insert_rowid()).unwrap_or(0))
}

const JOB_COLUMNS: &str =
    "id, kind, state, filter, targets, actor, total, done, failed, cursor, created_at, updated_at, error, made";

fn job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let kind: String = r.get(1)?;
    let state: String = r.get(2)?;
    let targets: Option<String> = r.get(4)?;
    Ok(Job {
        id: r.get(0)?,
        kind: JobKind::from_name(&kind).unwrap_or(JobKind::Replay),
        state: JobState::from_name(&state).unwrap_or(JobState::Failed),
        filter: r.get(3)?,
        targets: targets.and_then(|t| serde_json::from_str(&t).ok()),
        actor: r.get(5)?,
        total: r.get(6)?,
        done: r.get(7)?,
        failed: r.get(8)?,
        cursor: r.get(9)?,
        created_at_ms: r.get(10)?,
        updated_at_ms: r.get(11)?,
        error: r.get(12)?,
        made: r.get(13)?,
    })
}

pub(super) fn get(conn: &Connection, id: JobId) -> rusqlite::Result<Option<Job>> {
    conn.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?
        .query_row(params![id], job)
        .optional()
}

pub(super) fn list(conn: &Connection, before: Option<JobId>, limit: u32) -> rusqlite::Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![before, limit], job)?;
    rows.collect()
}

pub(super) fn list_audit(conn: &Connection, before: Option<AuditId>, limit: u32) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, action, detail FROM audit WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before, limit], |r| {
        Ok(AuditEntry { id: r.get(0)?, at_ms: r.get(1)?, actor: r.get(2)?, action: r.get(3)?, detail: r.get(4)? })
    })?;
    rows.collect()
}
