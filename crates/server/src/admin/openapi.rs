//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations
//! and the views' types (utoipa), served without a token.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi as _;

/// The error body every failure answers: the one [`super::error::ApiError`] writes.
pub(super) use super::error::{ErrorBody, ErrorDetail};

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Hookgate operator API", description = "Search, inspect, replay and watch webhooks."),
    paths(
        super::events::list, super::events::show, super::events::body,
        super::rejections::list, super::rejections::show, super::rejections::body,
        super::deliveries::list, super::deliveries::show, super::deliveries::cancel, super::deliveries::retry_now,
        super::jobs::replay, super::jobs::retry, super::jobs::list, super::jobs::show, super::jobs::cancel,
        super::audit::list, super::stream::stream, super::overview::sources, super::overview::targets, super::secrets::list,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags((name = "events"), (name = "rejections"), (name = "deliveries"), (name = "jobs"), (name = "audit"), (name = "stream"), (name = "overview")),
)]
struct ApiDoc;

fn built() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document.
pub(super) async fn document() -> impl IntoResponse {
    Json(built())
}

/// The document as served, pretty-printed: what `crates/server/openapi.json` holds, so a change
/// to the API shows in review (a test fails until the file is regenerated).
pub fn pretty() -> String {
    serde_json::to_string_pretty(&built()).unwrap_or_default() + "\n"
}
