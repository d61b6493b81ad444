//! Request parts read the API's way: a query string or a path id that cannot be read is a 400 in
//! the API's error body naming what is wrong, where axum's own rejections would answer plain
//! text. Handlers take these instead of `Result<Query<_>, QueryRejection>` and a hand parse.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use hookgate_store::{DeliveryId, EventId, JobId, RejectionId};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The query string as `T`; unknown or malformed parameters are a 400 (`query: …`).
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| ApiQuery(t))
            .map_err(|e| ApiError::bad_request("query", e.body_text()))
    }
}

/// What kind of id a path names, for the 400 that refuses one that is not.
pub(crate) trait IdKind: FromStr {
    /// `an event id`, `a job id`, …
    const WHAT: &'static str;
}

impl IdKind for EventId {
    const WHAT: &'static str = "an event id";
}
impl IdKind for RejectionId {
    const WHAT: &'static str = "a rejection id";
}
impl IdKind for DeliveryId {
    const WHAT: &'static str = "a delivery id";
}
impl IdKind for JobId {
    const WHAT: &'static str = "a job id";
}

/// The path's `{id}`, parsed; anything else is a 400 (`id: not an event id`).
#[derive(Debug)]
pub(crate) struct Id<T>(pub(crate) T);

impl<S: Send + Sync, T: IdKind + Send> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not = || ApiError::bad_request("id", format!("not {}", T::WHAT));
        let Path(text) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not())?;
        text.parse().map(Id).map_err(|_| not())
    }
}
