//! Reading the API's query strings: times (`crate::time`: RFC 3339, Unix seconds or an age), limits and cursors, each
//! refused with a 400 naming the parameter.

use super::error::ApiError;

/// Most items one page holds.
pub(super) const MAX_LIMIT: u32 = 500;
/// Items a page holds when the caller does not say.
pub(super) const DEFAULT_LIMIT: u32 = 50;

/// `since` / `until`: RFC 3339, Unix seconds or an age, as Unix ms.
pub(super) fn time(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    crate::time::parse(v)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request(field, format!("not {}", crate::time::EXPECTED)))
}

/// `limit`: 1..=500, 50 when absent.
pub(super) fn limit(value: Option<u32>) -> Result<u32, ApiError> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request("limit", format!("between 1 and {MAX_LIMIT}"))),
    }
}

/// `cursor`: the `next_cursor` of the previous page (an id: pages run newest first, and the next
/// one starts below it, so rows arriving meanwhile never shift a page).
pub(super) fn cursor(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|c| {
            c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| ApiError::bad_request("cursor", "not a cursor"))
        })
        .transpose()
}

/// A text filter (`target`, `source`, `reason`): as given, but never with a NUL, which
/// PostgreSQL refuses in text (a 400 here, the same on both stores).
pub(super) fn text(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.contains('\0') => Err(ApiError::bad_request(field, "contains a NUL character")),
        other => Ok(other),
    }
}

/// One page of a list, newest first: the one shape every list answers (events add `scanned`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Page<T> {
    /// Newest first.
    pub(crate) items: Vec<T>,
    /// Where the next page starts (pass it as `cursor`); `null` when this is the last.
    pub(crate) next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` as a page of `view`s; a full page (`limit` rows) gives its last row's id as the
    /// next cursor (the next page starts below it).
    pub(crate) fn of<'r, R>(rows: &'r [R], limit: u32, id: impl Fn(&R) -> i64, view: impl Fn(&'r R) -> T) -> Self {
        let next_cursor = (rows.len() == limit as usize).then(|| rows.last().map(|r| id(r).to_string())).flatten();
        Self { items: rows.iter().map(view).collect(), next_cursor }
    }
}
