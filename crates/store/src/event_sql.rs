//! The SQL of an event query, for both stores: only the conditions a query sets, each written so
//! an index can serve it. (A condition written `? IS NULL OR id <= ?` cannot bound an index scan:
//! a page or a job's batch deep in a million events would read from the newest each time.)

use crate::model::{EventQuery, EventStatus};

/// A parameter of an event query.
#[derive(Debug)]
pub(crate) enum Param<'q> {
    Text(&'q str),
    Owned(String),
    Int(i64),
}

/// What differs between the stores' SQL.
pub(crate) struct Dialect {
    /// The `n`th parameter (from 1): `?n` or `$n`.
    pub(crate) param: fn(usize) -> String,
    /// Whether `haystack` contains `needle` (both SQL expressions).
    pub(crate) contains: fn(&str, &str) -> String,
    /// An event's status from its deliveries, as SQL over `events.id`.
    pub(crate) status: &'static str,
    /// Events carrying every one of `terms` (the metadata index): the condition, given its
    /// parameter's placeholder, and the parameter.
    pub(crate) terms: fn(&str, &[i64]) -> (String, String),
}

/// An event query as SQL: `WHERE {conditions} {order}` over `events`, and its parameters.
#[derive(Debug)]
pub(crate) struct EventSql<'q> {
    pub(crate) conditions: String,
    /// `ORDER BY …` and, when the query has a limit, `LIMIT …`.
    pub(crate) order: String,
    pub(crate) params: Vec<Param<'q>>,
}

struct Builder<'q, 'd> {
    dialect: &'d Dialect,
    conditions: Vec<String>,
    params: Vec<Param<'q>>,
}

impl<'q> Builder<'q, '_> {
    /// The next parameter's placeholder, for `value`.
    fn bind(&mut self, value: Param<'q>) -> String {
        self.params.push(value);
        (self.dialect.param)(self.params.len())
    }

    fn push(&mut self, condition: String) {
        self.conditions.push(condition);
    }
}

/// The SQL for `q`, narrowed to the events carrying every one of `terms` (the metadata index's
/// part, chosen by the store: see `terms::narrowing`).
pub(crate) fn build<'q>(q: &'q EventQuery, terms: &[i64], dialect: &Dialect) -> EventSql<'q> {
    let mut b = Builder { dialect, conditions: Vec::new(), params: Vec::new() };
    if let Some(s) = &q.source {
        let p = b.bind(Param::Text(s));
        b.push(format!("source = {p}"));
    }
    if let Some(t) = q.since_ms {
        let p = b.bind(Param::Int(t));
        b.push(format!("received_at >= {p}"));
    }
    if let Some(t) = q.until_ms {
        let p = b.bind(Param::Int(t));
        b.push(format!("received_at < {p}"));
    }
    if let Some(id) = q.before_id {
        let p = b.bind(Param::Int(id.0));
        if q.by_id {
            b.push(format!("id < {p}"));
        } else {
            // After the cursor's event in (received_at, id) order, written as a bound on
            // `received_at` (the index's column) and the tie broken by id.
            let at = format!("(SELECT received_at FROM events WHERE id = {p})");
            b.push(format!("received_at <= {at} AND (received_at < {at} OR id < {p})"));
        }
    }
    if let Some(id) = q.event_id {
        let p = b.bind(Param::Int(id.0));
        b.push(format!("id = {p}"));
    }
    if let Some(id) = q.max_id {
        let p = b.bind(Param::Int(id.0));
        b.push(format!("id <= {p}"));
    }
    if let Some(t) = &q.event_type {
        let p = b.bind(Param::Text(t));
        b.push(format!("event_type = {p}"));
    }
    if let Some(h) = &q.body_sha256 {
        let p = b.bind(Param::Text(h));
        b.push(format!("body_sha256 = {p}"));
    }
    if let Some(text) = &q.text {
        let p = b.bind(Param::Text(text));
        let c = dialect.contains;
        b.push(format!(
            "({} OR {} OR {})",
            c("CAST(id AS TEXT)", &p),
            c("COALESCE(provider_id, '')", &p),
            c("dedup_key", &p)
        ));
    }
    if let Some(s) = q.status {
        let p = b.bind(Param::Text(EventStatus::as_str(s)));
        b.push(format!("{} = {p}", dialect.status));
    }
    if !terms.is_empty() {
        let placeholder = (dialect.param)(b.params.len() + 1);
        let (condition, value) = (dialect.terms)(&placeholder, terms);
        b.bind(Param::Owned(value));
        b.push(condition);
    }
    let mut order =
        if q.by_id { "ORDER BY id DESC".to_owned() } else { "ORDER BY received_at DESC, id DESC".to_owned() };
    if let Some(limit) = q.limit {
        let p = b.bind(Param::Int(i64::from(limit)));
        order.push_str(&format!(" LIMIT {p}"));
    }
    let conditions = if b.conditions.is_empty() { "TRUE".to_owned() } else { b.conditions.join(" AND ") };
    EventSql { conditions, order, params: b.params }
}
