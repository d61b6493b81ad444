//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations
//! and the views' types (utoipa), served without a token. The paths come from the routers
//! themselves (`utoipa_axum`'s `routes!`: a path is registered once, where it is routed); this
//! module adds what is common to all: the title, the bearer scheme, the tags.

use std::sync::LazyLock;

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi as _;

use super::error::{ErrorBody, ErrorDetail};

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
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags((name = "events"), (name = "rejections"), (name = "deliveries"), (name = "jobs"), (name = "audit"), (name = "stream"), (name = "overview")),
)]
struct ApiDoc;

/// What every path shares, which the routers' paths are added to.
pub(super) fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The whole document, built once.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(super::document);

/// The document.
pub(super) async fn document() -> impl IntoResponse {
    Json(&*DOCUMENT)
}

/// The document as served, pretty-printed: what `crates/server/openapi.json` holds, so a change
/// to the API shows in review (a test fails until the file is regenerated).
pub fn pretty() -> String {
    serde_json::to_string_pretty(&*DOCUMENT).unwrap_or_default() + "\n"
}
