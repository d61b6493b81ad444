//! Jobs and the audit log on PostgreSQL (see `crate::jobs`). A claim takes the job with
//! `FOR UPDATE SKIP LOCKED`, so two nodes never run one job at once; a batch locks its job row,
//! so a cancel waits for the batch in flight and no batch runs after it.

use deadpool_postgres::Transaction;
use tokio_postgres::GenericClient;

use crate::error::StoreError;
use crate::ids::{AuditId, EventId, JobId};
use crate::jobs::{AuditEntry, Job, JobBatch, JobKind, JobState, NewAudit, NewJob};

pub(super) async fn create(tx: &Transaction<'_>, job: &NewJob, now: i64) -> Result<u64, StoreError> {
    let targets = job.targets.as_ref().map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()));
    let row = tx
        .query_one(
            "INSERT INTO jobs (kind, state, filter, targets, actor, total, cursor, created_at, updated_at)
             VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            &[&job.kind.as_str(), &job.filter, &targets, &job.actor, &job.total, &job.upto, &now],
        )
        .await?;
    let id: i64 = row.get(0);
    let detail = serde_json::json!({"job": id, "filter": serde_json::from_str::<serde_json::Value>(&job.filter).ok(),
        "targets": job.targets, "total": job.total});
    audit(
        tx,
        &NewAudit { actor: job.actor.clone(), action: format!("{}.create", job.kind), detail: detail.to_string() },
        now,
    )
    .await?;
    Ok(u64::try_from(id).unwrap_or(0))
}

pub(super) async fn claim(
    tx: &Transaction<'_>,
    now: i64,
    lease_ms: i64,
    only: Option<JobId>,
) -> Result<u64, StoreError> {
    let row = tx
        .query_opt(
            "UPDATE jobs SET state = 'running', lease_until = $2, updated_at = $1
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < $1)))
                           AND ($3::BIGINT IS NULL OR id = $3)
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id",
            &[&now, &now.saturating_add(lease_ms), &only],
        )
        .await?;
    Ok(row.map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
}

pub(super) async fn batch(tx: &Transaction<'_>, b: &JobBatch, now: i64) -> Result<u64, StoreError> {
    let Some(row) =
        tx.query_opt("SELECT state, kind, targets, cursor FROM jobs WHERE id = $1 FOR UPDATE", &[&b.job_id]).await?
    else {
        return Ok(0);
    };
    let (state, kind, targets, cursor): (String, String, Option<String>, EventId) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    // Another runner moved the job on (this one stalled past its lease): its batch is not ours.
    if state != "running" || cursor != b.from_cursor {
        return Ok(0);
    }
    let targets: Option<Vec<String>> = targets.and_then(|t| serde_json::from_str(&t).ok());
    let origin = format!("job:{}", b.job_id);
    let made = match JobKind::from_name(&kind) {
        Some(JobKind::Replay) => match &targets {
            Some(targets) => {
                tx.execute(
                    "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                     SELECT e.id, t, 'pending', $3, $3, $4 FROM events e CROSS JOIN unnest($2::TEXT[]) AS t
                     WHERE e.id = ANY($1) ORDER BY e.id",
                    &[&b.event_ids, targets, &now, &origin],
                )
                .await?
            }
            None => {
                tx.execute(
                    "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                     SELECT DISTINCT event_id, target, 'pending', $2::BIGINT, $2::BIGINT, $3::TEXT FROM deliveries
                     WHERE event_id = ANY($1)",
                    &[&b.event_ids, &now, &origin],
                )
                .await?
            }
        },
        Some(JobKind::Retry) => {
            tx.execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = NULL,
                     revived = revived + 1
                 WHERE event_id = ANY($1) AND status = 'dead' AND ($3::TEXT[] IS NULL OR target = ANY($3))",
                &[&b.event_ids, &now, &targets],
            )
            .await?
        }
        None => return Ok(0),
    };
    let state = if b.last { "done" } else { "running" };
    tx.execute(
        "UPDATE jobs SET done = done + $2, made = made + $7, cursor = $3, state = $4, lease_until = $5, updated_at = $1
         WHERE id = $6",
        &[
            &now,
            &(b.event_ids.len() as i64),
            &b.cursor,
            &state,
            &now.saturating_add(b.lease_ms),
            &b.job_id,
            &(made as i64),
        ],
    )
    .await?;
    Ok(1)
}

pub(super) async fn fail(tx: &Transaction<'_>, job: JobId, error: &str, now: i64) -> Result<u64, StoreError> {
    Ok(tx
        .execute(
            "UPDATE jobs SET state = 'failed', error = $2, lease_until = NULL, updated_at = $1
             WHERE id = $3 AND state IN ('queued', 'running')",
            &[&now, &error, &job],
        )
        .await?)
}

pub(super) async fn cancel(tx: &Transaction<'_>, job: JobId, actor: &str, now: i64) -> Result<u64, StoreError> {
    let n = tx
        .execute(
            "UPDATE jobs SET state = 'cancelled', lease_until = NULL, updated_at = $1
             WHERE id = $2 AND state IN ('queued', 'running')",
            &[&now, &job],
        )
        .await?;
    if n > 0 {
        let detail = serde_json::json!({"job": job.0}).to_string();
        audit(tx, &NewAudit { actor: actor.to_owned(), action: "job.cancel".into(), detail }, now).await?;
    }
    Ok(n)
}

pub(super) async fn audit(tx: &Transaction<'_>, a: &NewAudit, now: i64) -> Result<u64, StoreError> {
    let row = tx
        .query_one(
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&now, &a.actor, &a.action, &a.detail],
        )
        .await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

const JOB_COLUMNS: &str =
    "id, kind, state, filter, targets, actor, total, done, failed, cursor, created_at, updated_at, error, made";

fn job(r: &tokio_postgres::Row) -> Job {
    let kind: String = r.get(1);
    let state: String = r.get(2);
    let targets: Option<String> = r.get(4);
    Job {
        id: r.get(0),
        kind: JobKind::from_name(&kind).unwrap_or(JobKind::Replay),
        state: JobState::from_name(&state).unwrap_or(JobState::Failed),
        filter: r.get(3),
        targets: targets.and_then(|t| serde_json::from_str(&t).ok()),
        actor: r.get(5),
        total: r.get(6),
        done: r.get(7),
        failed: r.get(8),
        cursor: r.get::<_, EventId>(9),
        created_at_ms: r.get(10),
        updated_at_ms: r.get(11),
        error: r.get(12),
        made: r.get(13),
    }
}

pub(super) async fn get(c: &impl GenericClient, id: JobId) -> Result<Option<Job>, StoreError> {
    let row = c.query_opt(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"), &[&id]).await?;
    Ok(row.as_ref().map(job))
}

pub(super) async fn list(c: &impl GenericClient, before: Option<JobId>, limit: u32) -> Result<Vec<Job>, StoreError> {
    let rows = c
        .query(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE ($1::BIGINT IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"),
            &[&before, &i64::from(limit)],
        )
        .await?;
    Ok(rows.iter().map(job).collect())
}

pub(super) async fn list_audit(
    c: &impl GenericClient,
    before: Option<AuditId>,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = c
        .query(
            "SELECT id, at, actor, action, detail FROM audit WHERE ($1::BIGINT IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            &[&before, &i64::from(limit)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry { id: r.get(0), at_ms: r.get(1), actor: r.get(2), action: r.get(3), detail: r.get(4) })
        .collect())
}
