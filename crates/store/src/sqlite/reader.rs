//! Read-only connections and every read query with its row mappers.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::body;
use crate::error::StoreError;
use crate::model::{
    Attempt, Claimed, DeliveryId, DeliveryRecord, DeliveryStatus, DeliverySummary, EventId, EventQuery, EventRecord,
    EventStatus, EventSummary, QueueDepth, RejectionQuery, RejectionRecord,
};
use crate::{DeliveryQuery, RejectionDetail};
use crate::{event_sql, migrate, terms};

/// A read-only connection for queries (the CLI's `events` and `rejections` commands).
pub struct Reader {
    conn: Connection,
    /// The store has `events.body_encoding` (schema 4); an older store, opened for inspection
    /// without migrating, keeps every body as received.
    body_encoding: bool,
    /// The store has `rejections.headers` (schema 5).
    rejection_headers: bool,
    /// The store has the metadata index (schema 7); without it a query's metadata terms are
    /// left to the caller's filter.
    metadata_index: bool,
    /// The store has rejection diagnoses, PII marks and secret counts (schema 8).
    diagnosis: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// An event's stored body, from a row that selects `body`, `body_encoding`, `size` and
/// `body_sha256` by name.
fn stored_body(row: &rusqlite::Row<'_>) -> rusqlite::Result<body::Stored> {
    Ok(body::Stored {
        encoding: row.get("body_encoding")?,
        bytes: row.get("body")?,
        size: row.get("size")?,
        sha256: row.get("body_sha256")?,
    })
}

/// The body as received; a damaged one is [`StoreError::CorruptBody`], never other bytes.
fn decoded(event_id: i64, stored: body::Stored) -> Result<Vec<u8>, StoreError> {
    body::decode(stored).map_err(|e| StoreError::CorruptBody { event_id, reason: e.to_string() })
}

/// An event's listing fields, from a row that starts with [`EVENT_COLUMNS`] and `status` (by
/// position: a scan reads a hundred thousand rows, and a lookup by name compares every column's).
fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventSummary> {
    Ok(EventSummary {
        id: row.get(0)?,
        source: row.get(1)?,
        received_at_ms: row.get(2)?,
        dedup_key: row.get(3)?,
        provider_id: row.get(4)?,
        event_type: row.get(5)?,
        body_sha256: row.get(6)?,
        size: row.get(7)?,
        duplicates: row.get(8)?,
        status: EventStatus::from_sql(row.get::<_, Option<String>>(9)?.as_deref()),
    })
}

/// The listing columns of an event (`summary` reads them by name, with `status`).
const EVENT_COLUMNS: &str =
    "id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates";

/// An event's status from its deliveries (see [`EventStatus`]); `NULL` when it has none.
macro_rules! event_status_sql {
    () => {
        "(SELECT CASE WHEN SUM(d.status = 'dead') > 0 THEN 'dead'
            WHEN SUM(d.status = 'pending' AND d.attempts > 0) > 0 THEN 'failed'
            WHEN SUM(d.status = 'pending') > 0 THEN 'pending'
            WHEN SUM(d.status = 'delivered') > 0 THEN 'delivered' END
          FROM deliveries d WHERE d.event_id = events.id)"
    };
}
const EVENT_STATUS: &str = event_status_sql!();

/// How SQLite writes an event query (see `event_sql.rs`).
const DIALECT: event_sql::Dialect = event_sql::Dialect {
    param: |n| format!("?{n}"),
    contains: |haystack, needle| format!("instr({haystack}, {needle}) > 0"),
    status: EVENT_STATUS,
    terms: |p, terms| (format!("id IN (SELECT rowid FROM event_terms WHERE event_terms MATCH {p})"), match_all(terms)),
};

/// A full-text query for the events carrying every one of `terms`.
fn match_all(terms: &[i64]) -> String {
    terms.iter().map(|t| format!("\"{}\"", terms::token(*t))).collect::<Vec<_>>().join(" AND ")
}

fn bound<'a>(params: &'a [event_sql::Param<'_>]) -> impl Iterator<Item = &'a dyn rusqlite::ToSql> {
    params.iter().map(|p| match p {
        event_sql::Param::Text(s) => s as &dyn rusqlite::ToSql,
        event_sql::Param::Owned(s) => s as &dyn rusqlite::ToSql,
        event_sql::Param::Int(i) => i as &dyn rusqlite::ToSql,
    })
}

/// A rejection's listing fields, from columns 0-8 of `id, source, received_at, peer, reason,
/// reason_code, header_names, body_sha256, size`, and `diagnosis` by name.
fn rejection_record(row: &rusqlite::Row<'_>, body_kept: bool) -> rusqlite::Result<RejectionRecord> {
    let names: String = row.get(6)?;
    let diagnosis: Option<String> = row.get("diagnosis")?;
    Ok(RejectionRecord {
        id: row.get(0)?,
        source: row.get(1)?,
        received_at_ms: row.get(2)?,
        peer: row.get(3)?,
        reason: row.get(4)?,
        reason_code: row.get(5)?,
        header_names: serde_json::from_str(&names).unwrap_or_default(),
        body_sha256: row.get(7)?,
        size: row.get(8)?,
        body_kept,
        diagnosis: crate::model::diagnosis_from(diagnosis.as_deref()),
    })
}

fn delivery_summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeliverySummary> {
    let stored: String = row.get(3)?;
    let attempts: i64 = row.get(4)?;
    let status = DeliveryStatus::from_row(&stored, attempts);
    let pending = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed);
    Ok(DeliverySummary {
        id: row.get(0)?,
        event_id: row.get(1)?,
        target: row.get(2)?,
        status,
        attempts,
        next_attempt_at_ms: if pending { Some(row.get(5)?) } else { None },
        created_at_ms: row.get(6)?,
        delivered_at_ms: row.get(7)?,
        last_error: row.get(8)?,
    })
}

/// Why an existing file could not be read as a store: not a hookgate store only when it has no
/// migrations table; anything else (a read-only directory, a lock, damage) is said as it is.
fn unreadable(path: &Path, e: rusqlite::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("no such table") || text.contains("file is not a database") {
        return StoreError::Missing(format!("{} (not a hookgate store)", path.display()));
    }
    if matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)) {
        return StoreError::Write(format!(
            "cannot read {}: SQLite must create {}-shm beside a WAL store to read it, and cannot here \
             (a read-only directory?); copy the store to a writable directory to inspect it",
            path.display(),
            path.display()
        ));
    }
    StoreError::Open { path: path.display().to_string(), source: e }
}

impl Reader {
    /// Opens an existing store read-only and checks its schema version.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no database file, or a database error.
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let version: i64 = conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
            .map_err(|e| unreadable(path, e))?;
        if version > migrate::latest_version() {
            return Err(StoreError::TooNew { found: version, known: migrate::latest_version() });
        }
        Ok(Self {
            conn,
            body_encoding: version >= 4,
            rejection_headers: version >= 5,
            metadata_index: version >= 7,
            diagnosis: version >= 8,
        })
    }

    /// How a query names an event's body encoding on this store's schema.
    fn body_encoding(&self) -> &'static str {
        if self.body_encoding { "body_encoding" } else { "'identity' AS body_encoding" }
    }

    /// The metadata terms `q` narrows with (see `terms::narrowing`).
    fn narrowing(&self, q: &EventQuery) -> Result<Vec<i64>, StoreError> {
        if !self.metadata_index || q.metadata_terms.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = terms::of_query(&q.metadata_terms);
        let mut count = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM (SELECT rowid FROM event_terms WHERE event_terms MATCH ?1 LIMIT ?2)",
        )?;
        let counts = wanted
            .iter()
            .map(|t| count.query_row(params![match_all(&[*t]), terms::RARE_BELOW], |r| r.get(0)))
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(terms::narrowing(wanted, &counts))
    }

    /// An event query's SQL.
    fn event_sql<'q>(&self, q: &'q EventQuery) -> Result<event_sql::EventSql<'q>, StoreError> {
        Ok(event_sql::build(q, &self.narrowing(q)?, &DIALECT))
    }

    /// Events, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_events(&self, q: &EventQuery) -> Result<Vec<EventSummary>, StoreError> {
        let q = self.event_sql(q)?;
        let sql =
            format!("SELECT {EVENT_COLUMNS}, {EVENT_STATUS} AS status FROM events WHERE {} {}", q.conditions, q.order);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(bound(&q.params)), summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Events as [`list_events`](Self::list_events) finds them, with their metadata and, when
    /// `with_body`, their bodies: what a `match` filter is evaluated on. Their `status` is not
    /// computed (a query per row; the scans that need it ask for the few rows they keep).
    ///
    /// # Errors
    /// A database error, or [`StoreError::CorruptBody`].
    pub fn scan_events(&self, q: &EventQuery, with_body: bool) -> Result<Vec<EventRecord>, StoreError> {
        let body = if with_body {
            format!("body, {}", self.body_encoding())
        } else {
            "NULL AS body, 'identity' AS body_encoding".to_owned()
        };
        let q = self.event_sql(q)?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, NULL AS status, signed_at, metadata, {body}
             FROM events WHERE {} {}",
            q.conditions, q.order
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        // By position: EVENT_COLUMNS and status (0-9), then signed_at, metadata, body and its encoding.
        let rows = stmt.query_map(rusqlite::params_from_iter(bound(&q.params)), |row| {
            let metadata: String = row.get(11)?;
            let summary = summary(row)?;
            let stored = if with_body {
                Some(body::Stored {
                    bytes: row.get(12)?,
                    encoding: row.get(13)?,
                    size: summary.size,
                    sha256: summary.body_sha256.clone(),
                })
            } else {
                None
            };
            let record = EventRecord {
                summary,
                signed_at_ms: row.get(10)?,
                headers: Vec::new(),
                metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
                body: Vec::new(),
                pii: Vec::new(),
            };
            Ok((record, stored))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut record, stored) = row?;
            if let Some(stored) = stored {
                // One damaged body fails its own row, not the search or the job over it: the
                // row is matched without its body (so never on a body field), and said once in
                // a while. Reading that event alone (`get_event`) still refuses it.
                match decoded(record.summary.id.0, stored) {
                    Ok(bytes) => record.body = bytes,
                    Err(e) => {
                        static THROTTLE: crate::throttle::LogThrottle =
                            crate::throttle::LogThrottle::new(std::time::Duration::from_secs(5));
                        if let Some(suppressed) = THROTTLE.admit() {
                            tracing::error!(error = %e, suppressed, "A stored body is unreadable; its event is matched without it.");
                        }
                    }
                }
            }
            out.push(record);
        }
        Ok(out)
    }

    /// One event with its body, or `None`.
    ///
    /// # Errors
    /// A database error, or [`StoreError::CorruptBody`] when the stored body does not decode to
    /// the bytes received.
    pub fn get_event(&self, id: crate::EventId) -> Result<Option<EventRecord>, StoreError> {
        let pii = if self.diagnosis { "pii" } else { "NULL AS pii" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS}, {EVENT_STATUS} AS status, signed_at, headers, metadata, body, {}, {pii}
             FROM events WHERE id = ?1",
            self.body_encoding()
        ))?;
        let row = stmt
            .query_row(params![id], |row| {
                let headers: String = row.get("headers")?;
                let metadata: String = row.get("metadata")?;
                let record = EventRecord {
                    summary: summary(row)?,
                    signed_at_ms: row.get("signed_at")?,
                    headers: serde_json::from_str(&headers).unwrap_or_default(),
                    metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
                    body: Vec::new(),
                    pii: crate::model::marks_from(row.get::<_, Option<String>>("pii")?.as_deref()),
                };
                Ok((record, stored_body(row)?))
            })
            .optional()?;
        row.map(|(mut record, stored)| {
            record.body = decoded(id.0, stored)?;
            Ok(record)
        })
        .transpose()
    }

    /// Rejections, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_rejections(&self, q: &RejectionQuery) -> Result<Vec<RejectionRecord>, StoreError> {
        let diagnosis = if self.diagnosis { "diagnosis" } else { "NULL AS diagnosis" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body IS NOT NULL, {diagnosis}
             FROM rejections WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR received_at >= ?2)
               AND (?4 IS NULL OR received_at < ?4)
               AND (?5 IS NULL OR (received_at, id) < (SELECT received_at, id FROM rejections WHERE id = ?5))
               AND (?6 IS NULL OR reason_code = ?6)
             ORDER BY received_at DESC, id DESC LIMIT ?3"
        ))?;
        let limit = q.limit.map_or(-1, i64::from);
        let rows = stmt.query_map(params![q.source, q.since_ms, limit, q.until_ms, q.before_id, q.reason], |row| {
            rejection_record(row, row.get(9)?)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One rejected attempt with its headers and kept body, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub fn get_rejection(&self, id: crate::RejectionId) -> Result<Option<RejectionDetail>, StoreError> {
        let headers = if self.rejection_headers { "headers" } else { "NULL AS headers" };
        let diagnosis = if self.diagnosis { "diagnosis" } else { "NULL AS diagnosis" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, {headers}, {diagnosis}
             FROM rejections WHERE id = ?1"
        ))?;
        let found = stmt
            .query_row(params![id], |row| {
                let body: Option<Vec<u8>> = row.get(9)?;
                let headers: Option<String> = row.get(10)?;
                Ok(RejectionDetail {
                    record: rejection_record(row, body.is_some())?,
                    headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                    body,
                })
            })
            .optional()?;
        Ok(found)
    }

    /// Every secret's counts, by source then label.
    ///
    /// # Errors
    /// A database error.
    pub fn secret_matches(&self) -> Result<Vec<crate::SecretMatchRecord>, StoreError> {
        if !self.diagnosis {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, secret, fingerprint, matches, last_matched_at FROM secret_matches ORDER BY source, secret, fingerprint",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(crate::SecretMatchRecord {
                source: r.get(0)?,
                secret: r.get(1)?,
                fingerprint: r.get(2)?,
                matches: r.get(3)?,
                last_matched_at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per source: events, duplicates, the newest, and what arrived in the last 1, 5, 60 minutes
    /// before `now_ms` (rejections too).
    ///
    /// # Errors
    /// A database error.
    pub fn source_stats(&self, now_ms: i64) -> Result<Vec<crate::SourceStats>, StoreError> {
        let (m1, m5, m60) = (now_ms - 60_000, now_ms - 300_000, now_ms - 3_600_000);
        let mut stats: std::collections::BTreeMap<String, crate::SourceStats> = Default::default();
        let mut events = self.conn.prepare_cached(
            "SELECT source, COUNT(*), COALESCE(SUM(duplicates), 0), MAX(received_at),
                    SUM(received_at >= ?1), SUM(received_at >= ?2), SUM(received_at >= ?3)
             FROM events GROUP BY source",
        )?;
        let rows = events.query_map(params![m1, m5, m60], |r| {
            Ok(crate::SourceStats {
                source: r.get(0)?,
                events: r.get(1)?,
                duplicates: r.get(2)?,
                last_event_ms: r.get(3)?,
                events_last: [r.get(4)?, r.get(5)?, r.get(6)?],
                ..Default::default()
            })
        })?;
        for row in rows {
            let row = row?;
            stats.insert(row.source.clone(), row);
        }
        let mut rejections = self.conn.prepare_cached(
            "SELECT source, COUNT(*), SUM(received_at >= ?1), SUM(received_at >= ?2), SUM(received_at >= ?3)
             FROM rejections GROUP BY source",
        )?;
        let rows = rejections.query_map(params![m1, m5, m60], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, [r.get(2)?, r.get(3)?, r.get(4)?]))
        })?;
        for row in rows {
            let (source, n, last) = row?;
            let s = stats.entry(source.clone()).or_insert_with(|| crate::SourceStats { source, ..Default::default() });
            s.rejections = n;
            s.rejections_last = last;
        }
        Ok(stats.into_values().collect())
    }

    /// Per target: deliveries by status, the oldest pending, and what was delivered in the last 1,
    /// 5, 60 minutes before `now_ms`.
    ///
    /// # Errors
    /// A database error.
    pub fn target_stats(&self, now_ms: i64) -> Result<Vec<crate::TargetStats>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT target, SUM(status = 'pending' AND attempts = 0), SUM(status = 'pending' AND attempts > 0),
                    SUM(status = 'delivered'), SUM(status = 'dead'), SUM(status = 'cancelled'),
                    MIN(CASE WHEN status = 'pending' THEN created_at END),
                    SUM(delivered_at >= ?1), SUM(delivered_at >= ?2), SUM(delivered_at >= ?3)
             FROM deliveries GROUP BY target ORDER BY target",
        )?;
        let rows = stmt.query_map(params![now_ms - 60_000, now_ms - 300_000, now_ms - 3_600_000], |r| {
            Ok(crate::TargetStats {
                target: r.get(0)?,
                by_status: [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                oldest_pending_ms: r.get(6)?,
                delivered_last: [
                    r.get::<_, Option<i64>>(7)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(8)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(9)?.unwrap_or(0),
                ],
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One job, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub fn get_job(&self, id: crate::JobId) -> Result<Option<crate::Job>, StoreError> {
        Ok(super::jobs::get(&self.conn, id)?)
    }

    /// Jobs, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_jobs(&self, before: Option<crate::JobId>, limit: u32) -> Result<Vec<crate::Job>, StoreError> {
        Ok(super::jobs::list(&self.conn, before, limit)?)
    }

    /// The audit log, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_audit(&self, before: Option<crate::AuditId>, limit: u32) -> Result<Vec<crate::AuditEntry>, StoreError> {
        Ok(super::jobs::list_audit(&self.conn, before, limit)?)
    }

    /// Deliveries matching `q`, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<DeliverySummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
             FROM deliveries
             WHERE (?1 IS NULL OR target = ?1)
               AND (?2 IS NULL OR (?2 = 'failed' AND status = 'pending' AND attempts > 0)
                               OR (?2 = 'pending' AND status = 'pending' AND attempts = 0)
                               OR (?2 NOT IN ('failed', 'pending') AND status = ?2))
               AND (?4 IS NULL OR event_id = ?4)
               AND (?5 IS NULL OR id < ?5)
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![q.target, q.status.map(DeliveryStatus::as_str), q.limit, q.event_id, q.before_id],
            delivery_summary,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One delivery with its attempts.
    ///
    /// # Errors
    /// A database error.
    pub fn get_delivery(&self, id: crate::DeliveryId) -> Result<Option<DeliveryRecord>, StoreError> {
        let found = self
            .conn
            .prepare_cached(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error,
                        origin, revived
                 FROM deliveries WHERE id = ?1",
            )?
            .query_row(params![id], |r| Ok((delivery_summary(r)?, r.get(9)?, r.get(10)?)))
            .optional()?;
        let Some((summary, origin, revived)) = found else { return Ok(None) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT started_at, duration_ms, status_code, error, response_excerpt, request, response_headers
             FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY id",
        )?;
        let attempts_history = stmt
            .query_map(params![id], |r| {
                let started_at_ms: i64 = r.get(0)?;
                Ok(Attempt {
                    started_at_ms,
                    duration_ms: r.get(1)?,
                    status_code: r.get(2)?,
                    error: r.get(3)?,
                    response_excerpt: r.get(4)?,
                    request: r.get(5)?,
                    response_headers: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(DeliveryRecord { summary, origin, revived, attempts_history }))
    }

    /// Deliveries waiting, failed and dead, and the oldest pending one's age.
    ///
    /// # Errors
    /// A database error.
    pub fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        let now = crate::now_ms();
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'pending' AND attempts > 0), 0),
                    COALESCE(SUM(status = 'dead'), 0), COALESCE(?1 - MIN(CASE WHEN status = 'pending' THEN created_at END), 0)
             FROM deliveries",
            params![now],
            |r| Ok(QueueDepth { pending: r.get(0)?, failed: r.get(1)?, dead: r.get(2)?, oldest_pending_ms: r.get(3)? }),
        )?)
    }

    /// Ids of events of `source` received in `[since, until)` (Unix ms), oldest first.
    ///
    /// # Errors
    /// A database error.
    pub fn event_ids(
        &self,
        source: &str,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Vec<crate::EventId>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM events WHERE source = ?1 AND received_at >= ?2 AND (?3 IS NULL OR received_at < ?3) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![source, since_ms, until_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The event of a leased delivery.
    pub(super) fn claimed(&self, delivery_id: i64, event_id: i64, attempts: i64) -> Result<Claimed, StoreError> {
        let mut event = self.conn.prepare_cached(&format!(
            "SELECT source, body, headers, received_at, event_type, size, body_sha256, {} FROM events WHERE id = ?1",
            self.body_encoding()
        ))?;
        let (claimed, stored) = event.query_row(params![event_id], |r| {
            let headers: String = r.get(2)?;
            let claimed = Claimed {
                delivery_id: DeliveryId(delivery_id),
                event_id: EventId(event_id),
                attempts,
                source: r.get(0)?,
                body: Vec::new(),
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                received_at_ms: r.get(3)?,
                event_type: r.get(4)?,
            };
            Ok((claimed, stored_body(r)?))
        })?;
        Ok(Claimed { body: decoded(event_id, stored)?, ..claimed })
    }

    /// The store's schema version.
    ///
    /// # Errors
    /// A database error.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
    }

    /// Number of stored events.
    ///
    /// # Errors
    /// A database error.
    pub fn count_events(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?)
    }

    /// Runs SQLite's integrity check; `Ok(())` when the database is sound.
    ///
    /// # Errors
    /// [`StoreError::Write`] with SQLite's report when it is not.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let report: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if report == "ok" { Ok(()) } else { Err(StoreError::Write(report)) }
    }
}
