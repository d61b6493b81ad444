//! Bulk actions as durable jobs: `POST /api/v1/replays` and `/retries` (a dry run answers the
//! count; otherwise 202 with the job), `GET /api/v1/jobs[/{id}]` for their progress, and
//! `DELETE /api/v1/jobs/{id}` to cancel one. Operators only; every action is in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookgate_store::{AdminOp, Job, JobId, JobKind};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiQuery, Id};
use super::tokens::Role;
use super::{AdminState, query};
use crate::jobs::{JobError, JobFilter};
use crate::view::rfc3339;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new()
        .routes(routes!(replay))
        .routes(routes!(retry))
        .routes(routes!(list))
        .routes(routes!(show, cancel))
}

/// A bulk replay or retry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct JobRequest {
    /// Which events: the event list's filters (`match` as a JSON object).
    #[serde(default)]
    filter: JobFilter,
    /// Only to these targets: configured names, each once (default: the targets each event was
    /// routed to).
    #[serde(default)]
    targets: Option<Vec<String>>,
    /// Count what would be done, and do nothing.
    #[serde(default)]
    dry_run: bool,
}

/// A dry run's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DryRun {
    /// Events the job would work on.
    count: i64,
    /// Always true.
    dry_run: bool,
}

/// A created job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Created {
    /// Its id (`GET /api/v1/jobs/{id}`).
    #[schema(value_type = i64)]
    job: JobId,
    /// Events it will work on.
    total: i64,
}

/// A job's progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct JobView {
    #[schema(value_type = i64)]
    id: JobId,
    /// `replay` or `retry`.
    kind: &'static str,
    /// `queued`, `running`, `done`, `cancelled` or `failed`.
    state: &'static str,
    /// Its filter.
    #[schema(value_type = Object)]
    filter: serde_json::Value,
    /// Its targets (`null`: the routed ones).
    targets: Option<Vec<String>>,
    /// Who created it.
    actor: String,
    /// Events in its set.
    total: i64,
    /// Events done.
    done: i64,
    /// Events that could not be done.
    failed: i64,
    /// Deliveries created (replay) or revived (retry).
    deliveries: i64,
    created_at: String,
    updated_at: String,
    /// Why it failed.
    error: Option<String>,
}

impl From<&Job> for JobView {
    fn from(j: &Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind.as_str(),
            state: j.state.as_str(),
            filter: serde_json::from_str(&j.filter).unwrap_or(serde_json::Value::Null),
            targets: j.targets.clone(),
            actor: j.actor.clone(),
            total: j.total,
            done: j.done,
            failed: j.failed,
            deliveries: j.made,
            created_at: rfc3339(j.created_at_ms),
            updated_at: rfc3339(j.updated_at_ms),
            error: j.error.clone(),
        }
    }
}

async fn start(state: &AdminState, caller: &Caller, kind: JobKind, req: JobRequest) -> Result<Response, ApiError> {
    let targets = req.targets.as_deref().map(|t| known_targets(state, t)).transpose()?;
    if let Some(source) = &req.filter.source
        && state.source(source).is_none()
    {
        let names: Vec<&str> = state.sources.iter().map(|s| s.name.as_str()).collect();
        return Err(ApiError::bad_request(
            "filter.source",
            format!("unknown source `{source}`: the configuration has {}", names.join(", ")),
        ));
    }
    let to_api = |e: JobError| match e {
        JobError::Filter(f) => ApiError::bad_request(&format!("filter.{}", f.field), f.message),
        JobError::Store(e) => ApiError::from(e),
    };
    if req.dry_run {
        let (count, _) = crate::jobs::count(&state.store, &state.matcher, kind, &req.filter).await.map_err(to_api)?;
        return Ok(Json(DryRun { count, dry_run: true }).into_response());
    }
    let (job, total) = crate::jobs::create(&state.store, &state.matcher, kind, &req.filter, targets, &caller.name)
        .await
        .map_err(to_api)?;
    Ok((StatusCode::ACCEPTED, Json(Created { job, total })).into_response())
}

/// A job's targets as a set of configured names: a delivery to a name no worker serves would stay
/// pending for ever, and a name given twice would deliver twice (or, repeated, without bound).
fn known_targets(state: &AdminState, asked: &[String]) -> Result<Vec<String>, ApiError> {
    if asked.is_empty() {
        return Err(ApiError::bad_request("targets", "a list of target names, or leave it out"));
    }
    let mut set: Vec<String> = Vec::new();
    for name in asked {
        if !state.targets.iter().any(|t| &t.name == name) {
            let names: Vec<&str> = state.targets.iter().map(|t| t.name.as_str()).collect();
            let have = if names.is_empty() { "no targets".to_owned() } else { names.join(", ") };
            return Err(ApiError::bad_request(
                "targets",
                format!("unknown target `{name}`: the configuration has {have}"),
            ));
        }
        if !set.contains(name) {
            set.push(name.clone());
        }
    }
    Ok(set)
}

fn body(req: Result<Json<JobRequest>, JsonRejection>) -> Result<JobRequest, ApiError> {
    req.map(|Json(r)| r).map_err(|e| ApiError::bad_request("body", e.body_text()))
}

/// Replays the events a filter selects, as a job (or counts them: `dry_run`).
#[utoipa::path(post, path = "/api/v1/replays", tag = "jobs", request_body = JobRequest,
    responses((status = 202, body = Created), (status = 200, body = DryRun),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn replay(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    req: Result<Json<JobRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    start(&state, &caller, JobKind::Replay, body(req)?).await
}

/// Retries the dead deliveries of the events a filter selects, as a job (or counts them).
#[utoipa::path(post, path = "/api/v1/retries", tag = "jobs", request_body = JobRequest,
    responses((status = 202, body = Created), (status = 200, body = DryRun),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn retry(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    req: Result<Json<JobRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    start(&state, &caller, JobKind::Retry, body(req)?).await
}

/// `GET /api/v1/jobs` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct JobsParams {
    /// At most this many (1-500, default 50).
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Lists jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobsParams),
    responses((status = 200, body = query::Page<JobView>), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<JobsParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = query::limit(p.limit)?;
    let jobs = state.store.list_jobs(query::cursor(p.cursor.as_deref())?.map(JobId), limit).await?;
    Ok(Json(query::Page::of(&jobs, limit, |j| j.id.0, JobView::from)).into_response())
}

/// One job: state, total, done, failed.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn show(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<JobId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let job = state.store.get_job(id).await?.ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    Ok(Json(JobView::from(&job)).into_response())
}

/// Cancels a queued or running job: no batch runs after this (what was done stays done).
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn cancel(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<JobId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let job = state.store.get_job(id).await?.ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    if state.store.admin(AdminOp::CancelJob { job_id: id, actor: caller.name.clone() }).await? == 0 {
        return Err(ApiError::conflict(format!("job {id} is {}, not queued or running", job.state)));
    }
    let job = state.store.get_job(id).await?.ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    Ok(Json(JobView::from(&job)).into_response())
}
