//! Operator jobs: a bulk replay or retry over the events a filter selects, counted when created,
//! then worked through in batches that never hold up ingest and survive a restart (each batch's
//! deliveries and the job's cursor commit together: `hookgate_store::jobs`). The gateway runs
//! them in the background; `hookgate replay` and `retry` run theirs in place, showing the same
//! progress.

use std::sync::Arc;
use std::time::Duration;

use hookgate_store::{
    AdminOp, EventId, EventQuery, EventStatus, Job, JobBatch, JobId, JobKind, JobState, NewJob, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::filter::Filter;
use crate::matching::{Bounds, EventMatcher};

/// Events read per batch.
const BATCH: u32 = 200;
/// A count (a dry run, a job's total) reads this many events at a time...
const COUNT_BATCH: u32 = 500;
/// ...and holds the matches of at most this many at once.
const COUNT_WINDOW: usize = 1_000;

fn count_bounds() -> Bounds {
    Bounds { limit: usize::MAX, batch: COUNT_BATCH, budget: COUNT_WINDOW, deadline: None }
}
/// How long a runner holds a job between batches; past it (the node died) a runner takes it over,
/// after a restart too. A batch takes milliseconds, so 10 s leaves a wide margin.
const LEASE_MS: i64 = 10_000;
/// Writer queue length above which a runner waits: ingest first.
const INGEST_BUSY_QUEUE: usize = 4;

/// Which events a job works on: the operator API's event filters, as JSON.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFilter {
    /// Only this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only this event type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `pending`, `failed`, `delivered` or `dead`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Received at or after: RFC 3339, Unix seconds, or an age (`90s`, `15m`, `1h`, `2d`, `1w`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Received before: the same forms as `since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// A substring of the event id, the provider id or the dedup key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// A filter document matched against the body and the metadata.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub match_: Option<Value>,
    /// Only events whose body has this SHA-256 (64 hex digits): where a rejected attempt with the
    /// same body went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    /// Only the event with this id (a replay or retry of one event, as the console makes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub event: Option<EventId>,
}

/// A filter mistake: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn time(field: &'static str, v: Option<&str>) -> Result<Option<i64>, FilterError> {
    v.map(|t| crate::time::parse(t).ok_or(FilterError { field, message: format!("not {}", crate::time::EXPECTED) }))
        .transpose()
}

impl JobFilter {
    /// The store query and the `match` filter.
    ///
    /// # Errors
    /// The first field that is wrong.
    pub fn query(&self) -> Result<(EventQuery, Option<Filter>), FilterError> {
        if let Some(h) = &self.body_sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        {
            return Err(FilterError { field: "body_sha256", message: "not 64 lowercase hex digits".into() });
        }
        // PostgreSQL refuses a NUL in text (a 500 and an ERROR line, once): a bad request, the
        // same on both stores.
        for (field, value) in [("source", &self.source), ("type", &self.event_type), ("q", &self.q)] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                return Err(FilterError { field, message: "contains a NUL character".into() });
            }
        }
        let status = self
            .status
            .as_deref()
            .map(|s| s.parse::<EventStatus>().map_err(|message| FilterError { field: "status", message }))
            .transpose()?;
        let filter = self
            .match_
            .clone()
            .map(|m| Filter::parse(m).map_err(|message| FilterError { field: "match", message }))
            .transpose()?;
        let q = EventQuery {
            source: self.source.clone(),
            event_type: self.event_type.clone(),
            status,
            since_ms: time("since", self.since.as_deref())?,
            until_ms: time("until", self.until.as_deref())?,
            text: self.q.clone().filter(|t| !t.is_empty()),
            body_sha256: self.body_sha256.clone(),
            event_id: self.event,
            ..EventQuery::default()
        };
        Ok((q, filter))
    }
}

impl JobFilter {
    /// The filter with its ages (`1h`) fixed to the times they name now: a job's filter is read
    /// again by every batch and after a restart, and must select the same events each time.
    #[must_use]
    pub fn pinned(&self) -> JobFilter {
        let pin = |t: &Option<String>| match t.as_deref() {
            Some(text) if crate::time::is_age(text) => crate::time::parse(text).map(crate::view::rfc3339),
            _ => t.clone(),
        };
        JobFilter { since: pin(&self.since), until: pin(&self.until), ..self.clone() }
    }
}

/// What a job will work on: the query over its fixed set (newest first by id, up to `upto`).
fn job_query(kind: JobKind, mut q: EventQuery, upto: EventId) -> Result<EventQuery, FilterError> {
    if kind == JobKind::Retry {
        // A retry revives dead deliveries: the events that have one.
        match q.status {
            None | Some(EventStatus::Dead) => q.status = Some(EventStatus::Dead),
            Some(_) => return Err(FilterError { field: "status", message: "a retry works on dead deliveries".into() }),
        }
    }
    q.by_id = true;
    q.max_id = Some(upto);
    Ok(q)
}

/// The newest event's id now (0 when there is none).
async fn newest(store: &Store) -> Result<EventId, StoreError> {
    let q = EventQuery { by_id: true, limit: Some(1), ..EventQuery::default() };
    Ok(store.list_events(&q).await?.first().map_or(EventId(0), |e| e.id))
}

/// Counts the events a job would work on (a dry run).
///
/// # Errors
/// [`JobError::Filter`] for a bad filter, or the store's error.
pub async fn count(
    store: &Store,
    matcher: &EventMatcher,
    kind: JobKind,
    filter: &JobFilter,
) -> Result<(i64, EventId), JobError> {
    let (q, f) = filter.query().map_err(JobError::Filter)?;
    let upto = newest(store).await?;
    let q = job_query(kind, q, upto).map_err(JobError::Filter)?;
    // Counted a window at a time, the matches dropped as they are counted: a count over a
    // million events once held every one of them (bodies too) in memory at once.
    let mut q = q;
    let mut total: i64 = 0;
    loop {
        let found = matcher.scan(store, q.clone(), f.as_ref(), count_bounds()).await?;
        total = total.saturating_add(i64::try_from(found.records.len()).unwrap_or(i64::MAX));
        match found.next {
            Some(last) => q.max_id = Some(EventId(last.0 - 1)),
            None => return Ok((total, upto)),
        }
    }
}

/// Why a job could not be created or run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The filter is wrong.
    #[error("{}: {}", .0.field, .0.message)]
    Filter(FilterError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a job (counted now, worked through by a runner); answers its id and count.
///
/// # Errors
/// [`JobError`].
pub async fn create(
    store: &Store,
    matcher: &EventMatcher,
    kind: JobKind,
    filter: &JobFilter,
    targets: Option<Vec<String>>,
    actor: &str,
) -> Result<(JobId, i64), JobError> {
    let filter = &filter.pinned();
    let (total, upto) = count(store, matcher, kind, filter).await?;
    let job = NewJob {
        kind,
        filter: serde_json::to_string(filter).unwrap_or_else(|_| "{}".into()),
        targets,
        actor: actor.to_owned(),
        total,
        upto,
    };
    let id = store.admin(AdminOp::CreateJob(job)).await?;
    Ok((JobId(i64::try_from(id).unwrap_or(0)), total))
}

/// Works through a claimed job's remaining batches; `progress` sees the job after each. Stops
/// when it is done, cancelled (a batch finds it no longer running) or `stop` turns true.
///
/// # Errors
/// The store's; the job stays running, and its lease lets a runner take it up again.
pub async fn run(
    store: &Store,
    matcher: &EventMatcher,
    job: &Job,
    stop: Option<&tokio::sync::watch::Receiver<bool>>,
    mut progress: impl FnMut(&Job),
) -> Result<JobState, StoreError> {
    let parsed = serde_json::from_str::<JobFilter>(&job.filter)
        .map_err(|e| e.to_string())
        .and_then(|f| f.query().map_err(|e| format!("{}: {}", e.field, e.message)))
        .and_then(|(q, f)| job_query(job.kind, q, job.cursor).map(|q| (q, f)).map_err(|e| e.message));
    let (mut q, filter) = match parsed {
        Ok(p) => p,
        Err(error) => {
            store.admin(AdminOp::FailJob { job_id: job.id, error: format!("bad filter: {error}") }).await?;
            return Ok(JobState::Failed);
        }
    };
    let mut from_cursor = job.cursor;
    loop {
        if stop.is_some_and(|s| *s.borrow()) {
            return Ok(JobState::Running);
        }
        for _ in 0..25 {
            if store.queued() <= INGEST_BUSY_QUEUE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let found = matcher
            .scan(
                store,
                q.clone(),
                filter.as_ref(),
                Bounds { limit: usize::MAX, batch: BATCH, budget: BATCH as usize, deadline: None },
            )
            .await?;
        let last = found.scanned < BATCH as usize;
        let cursor = found.next.map_or(EventId(0), |id| EventId(id.0 - 1));
        let batch = JobBatch {
            job_id: job.id,
            event_ids: found.records.iter().map(|r| r.summary.id).collect(),
            from_cursor,
            cursor: if last { EventId(0) } else { cursor },
            last,
            lease_ms: LEASE_MS,
        };
        if store.admin(AdminOp::JobBatch(batch)).await? == 0 {
            return Ok(store.get_job(job.id).await?.map_or(JobState::Cancelled, |j| j.state));
        }
        if let Some(now) = store.get_job(job.id).await? {
            progress(&now);
        }
        if last {
            return Ok(JobState::Done);
        }
        q.max_id = Some(cursor);
        from_cursor = cursor;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Claims job `id` for this process (the CLI runs the job it created); `None` when a gateway's
/// runner has it already (then it is worked through there).
///
/// # Errors
/// The store's.
pub async fn claim(store: &Store, id: JobId) -> Result<Option<Job>, StoreError> {
    if store.admin(AdminOp::ClaimJob { lease_ms: LEASE_MS, job_id: Some(id) }).await? == 0 {
        return Ok(None);
    }
    store.get_job(id).await
}

/// Runs jobs in the background until `stop`: claims the oldest one waiting (or one whose runner
/// died), works through it, and looks again.
pub fn spawn_runner(
    store: &Arc<Store>,
    matcher: Arc<EventMatcher>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let claimed = match store.admin(AdminOp::ClaimJob { lease_ms: LEASE_MS, job_id: None }).await {
                Ok(0) => None,
                Ok(id) => store.get_job(JobId(i64::try_from(id).unwrap_or(0))).await.ok().flatten(),
                Err(e) => {
                    tracing::warn!(error = %e, "Claiming a job failed; retrying.");
                    None
                }
            };
            let Some(job) = claimed else {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            tracing::info!(job = job.id.0, kind = %job.kind, total = job.total, "Running a job.");
            match run(&store, &matcher, &job, Some(&stop), |_| {}).await {
                Ok(state) => tracing::info!(job = job.id.0, state = %state, "Job stopped."),
                Err(e) => {
                    tracing::warn!(job = job.id.0, error = %e, "A job's batch failed; it resumes after its lease.");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}
