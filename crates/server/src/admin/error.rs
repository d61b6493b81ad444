//! The operator API's errors: `{"error": {"code": "...", "message": "..."}}` with the right
//! status. A message never holds a secret or a stack trace; an internal error is logged and
//! answered 500 with nothing but its code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// 400: a filter or a body the API cannot use; `field` names it.
    pub fn bad_request(field: &str, message: impl std::fmt::Display) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "bad_request", message: format!("{field}: {message}") }
    }

    /// 404.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: format!("no {what}") }
    }

    /// 401: no token, or one that is unknown, revoked or expired (the answer does not say which).
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "a valid token is required: Authorization: Bearer hgat_…".into(),
        }
    }

    /// 403: the token's role is too low.
    pub fn forbidden(needed: &str) -> Self {
        Self { status: StatusCode::FORBIDDEN, code: "forbidden", message: format!("this needs the {needed} role") }
    }

    /// 403: a console request that changes something without its session's CSRF token.
    pub fn csrf() -> Self {
        Self { status: StatusCode::FORBIDDEN, code: "csrf", message: "missing or wrong X-CSRF-Token".into() }
    }

    /// 409: the resource is not in a state that allows it.
    pub fn conflict(message: impl std::fmt::Display) -> Self {
        Self { status: StatusCode::CONFLICT, code: "conflict", message: message.to_string() }
    }

    /// 429: this caller holds its share already.
    pub fn too_many(message: impl std::fmt::Display) -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, code: "too_many", message: message.to_string() }
    }

    /// 500: logged here with its cause; the caller learns nothing but that it failed.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "Operator API request failed.");
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: "internal error".into() }
    }

    /// 503: too much of one kind of work at once; try again.
    pub fn busy(message: impl std::fmt::Display) -> Self {
        Self { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message: message.to_string() }
    }

    /// 503: the store is busy; try again.
    pub fn unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the store is busy; retry".into(),
        }
    }
}

impl From<hookgate_store::StoreError> for ApiError {
    fn from(e: hookgate_store::StoreError) -> Self {
        match e {
            hookgate_store::StoreError::Overloaded => ApiError::unavailable(),
            hookgate_store::StoreError::ReadTimedOut => ApiError::busy(
                "the read took too long or the read connections were all busy: narrow it (source, type, since) or retry",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// The error body every failure answers, as the OpenAPI document describes it: written from
/// this one type, so the document and the answers cannot drift apart.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `csrf`, `not_found`, `conflict`, `too_many`,
    /// `internal`, `unavailable`.
    code: String,
    /// For people; never a secret.
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}
