//! `GET /api/v1/sources` and `/api/v1/targets`: each one's configuration (never a secret) with
//! what it did: counts by outcome, the newest event, rates over the last 1, 5 and 60 minutes, and
//! for targets the oldest pending delivery.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AdminState;
use super::auth::Caller;
use super::error::ApiError;
use super::tokens::Role;
use crate::view::rfc3339;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(sources)).routes(routes!(targets))
}

/// A source's configuration, as shown (no secret, no key material).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceInfo {
    /// Its name.
    pub name: String,
    /// Its URL path.
    pub path: String,
    /// Its scheme (preset or custom) name.
    pub scheme: String,
    /// Largest body accepted.
    pub body_limit: usize,
    /// Whether rejected bodies are kept.
    pub keep_rejected_bodies: bool,
    /// The targets its routes may send to.
    pub targets: Vec<String>,
    /// Signature headers shown to operators and admins only (lower case): those of a scheme
    /// whose signature binds neither a timestamp nor the delivery id, which a reader could
    /// replay with the stored body under a new id.
    #[serde(skip)]
    pub viewer_hidden_headers: Vec<String>,
    /// Its `k=v,k=v` metadata fields (Flinks' `tag`) as (name, pointer): where values that look
    /// like personal data are masked for viewers.
    #[serde(skip)]
    pub pairs_fields: Vec<(String, String)>,
}

/// A target's configuration, as shown (URLs with credentials as `***`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetInfo {
    /// Its name.
    pub name: String,
    /// `http`, `command` or `nats`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it delivers.
    pub destination: String,
    /// Per-attempt timeout.
    pub timeout_secs: u64,
    /// Attempts in flight at once.
    pub concurrency: u32,
    /// In arrival order, one at a time.
    pub ordered: bool,
    /// Attempts before a delivery is dead.
    pub max_attempts: u32,
}

impl TargetInfo {
    /// What a built target shows.
    pub fn of(t: &hookgate_deliver::Target) -> Self {
        Self {
            name: t.name().to_owned(),
            kind: t.type_name().to_owned(),
            destination: t.destination(),
            timeout_secs: t.attempt_timeout().as_secs(),
            concurrency: t.max_in_flight(),
            ordered: t.is_ordered(),
            max_attempts: t.policy().max_attempts,
        }
    }
}

/// Per minute over the last 1, 5 and 60 minutes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Rates {
    last_1m: f64,
    last_5m: f64,
    last_60m: f64,
}

fn rates(counts: [i64; 3]) -> Rates {
    Rates { last_1m: counts[0] as f64, last_5m: counts[1] as f64 / 5.0, last_60m: counts[2] as f64 / 60.0 }
}

/// A source with what it received.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SourceView {
    #[serde(flatten)]
    config: SourceInfo,
    /// Events stored.
    events: i64,
    /// Provider retries deduplicated.
    duplicates: i64,
    /// Rejected attempts kept.
    rejections: i64,
    /// When the newest event arrived.
    last_event_at: Option<String>,
    /// Events per minute.
    event_rate: Rates,
    /// Rejections per minute.
    rejection_rate: Rates,
    /// The requests this gateway answered for the source in each of the last 60 minutes, oldest
    /// first (the console's chart; a restart starts it again).
    last_hour: Vec<MinuteView>,
}

/// One minute of a source's requests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MinuteView {
    /// The minute's start.
    at: String,
    /// Events stored.
    accepted: u64,
    /// Provider retries of a stored event.
    duplicate: u64,
    /// Requests refused (signature, size, malformed, store unavailable).
    rejected: u64,
}

/// A target with how its deliveries stand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TargetView {
    #[serde(flatten)]
    config: TargetInfo,
    pending: i64,
    failed: i64,
    delivered: i64,
    dead: i64,
    cancelled: i64,
    /// When the oldest pending delivery was created.
    oldest_pending_at: Option<String>,
    /// Its age in seconds.
    oldest_pending_secs: Option<f64>,
    /// Deliveries made per minute.
    delivery_rate: Rates,
}

/// The configured sources with what each received.
#[utoipa::path(get, path = "/api/v1/sources", tag = "overview",
    responses((status = 200, body = Vec<SourceView>), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn sources(caller: Caller, State(state): State<Arc<AdminState>>) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let now = crate::now_ms();
    let stats = state.store.source_stats(now).await?;
    let views: Vec<SourceView> = state
        .sources
        .iter()
        .map(|config| {
            let s = stats.iter().find(|s| s.source == config.name).cloned().unwrap_or_default();
            SourceView {
                config: config.clone(),
                events: s.events,
                duplicates: s.duplicates,
                rejections: s.rejections,
                last_event_at: s.last_event_ms.map(rfc3339),
                event_rate: rates(s.events_last),
                rejection_rate: rates(s.rejections_last),
                last_hour: state
                    .last_hour
                    .get(&config.name)
                    .map(|h| h.minutes(now.div_euclid(60_000)))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| MinuteView {
                        at: rfc3339(m.minute * 60_000),
                        accepted: m.accepted,
                        duplicate: m.duplicate,
                        rejected: m.refused,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Json(views).into_response())
}

/// The configured targets with how their deliveries stand.
#[utoipa::path(get, path = "/api/v1/targets", tag = "overview",
    responses((status = 200, body = Vec<TargetView>), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn targets(caller: Caller, State(state): State<Arc<AdminState>>) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let now = crate::now_ms();
    let stats = state.store.target_stats(now).await?;
    let views: Vec<TargetView> = state
        .targets
        .iter()
        .map(|config| {
            let s = stats.iter().find(|s| s.target == config.name).cloned().unwrap_or_default();
            let [pending, failed, delivered, dead, cancelled] = s.by_status;
            TargetView {
                config: config.clone(),
                pending,
                failed,
                delivered,
                dead,
                cancelled,
                oldest_pending_at: s.oldest_pending_ms.map(rfc3339),
                oldest_pending_secs: s.oldest_pending_ms.map(|t| (now - t).max(0) as f64 / 1000.0),
                delivery_rate: rates(s.delivered_last),
            }
        })
        .collect();
    Ok(Json(views).into_response())
}
