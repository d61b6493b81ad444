//! Every read query of the PostgreSQL store, with its row mappers.

use crate::error::StoreError;
use crate::model::{
    Attempt, DeliveryRecord, DeliveryStatus, DeliverySummary, EventQuery, EventRecord, EventStatus, EventSummary,
    QueueDepth, RejectionQuery, RejectionRecord,
};
use crate::{event_sql, migrate, terms};

use super::PgStore;
use super::connection::read_client;

impl PgStore {
    pub(crate) async fn list_events(&self, q: &EventQuery) -> Result<Vec<EventSummary>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let q = event_sql::build(q, &narrowing(q), &DIALECT);
        let sql = format!("SELECT {EVENT_COLUMNS}, {EVENT_STATUS} FROM events WHERE {} {}", q.conditions, q.order);
        let rows = conn.query(&sql, &bound(&q.params)).await?;
        Ok(rows.iter().map(summary).collect())
    }

    /// Events as `list_events` finds them, with metadata and (when `with_body`) bodies.
    pub(crate) async fn scan_events(&self, q: &EventQuery, with_body: bool) -> Result<Vec<EventRecord>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let body = if with_body { "body" } else { "NULL::BYTEA" };
        let q = event_sql::build(q, &narrowing(q), &DIALECT);
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, NULL::TEXT, signed_at, metadata, {body}
             FROM events WHERE {} {}",
            q.conditions, q.order
        );
        let rows = conn.query(&sql, &bound(&q.params)).await?;
        Ok(rows
            .iter()
            .map(|r| EventRecord {
                summary: summary(r),
                signed_at_ms: r.get(10),
                headers: Vec::new(),
                metadata: serde_json::from_str(r.get::<_, &str>(11)).unwrap_or(serde_json::Value::Null),
                body: r.get::<_, Option<Vec<u8>>>(12).unwrap_or_default(),
                pii: Vec::new(),
            })
            .collect())
    }

    pub(crate) async fn get_event(&self, id: crate::EventId) -> Result<Option<EventRecord>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let row = conn
            .query_opt(
                &format!(
                    "SELECT {EVENT_COLUMNS}, {EVENT_STATUS}, signed_at, headers, metadata, body, pii FROM events WHERE id = $1"
                ),
                &[&id],
            )
            .await?;
        Ok(row.map(|r| EventRecord {
            summary: summary(&r),
            signed_at_ms: r.get(10),
            headers: serde_json::from_str(r.get::<_, &str>(11)).unwrap_or_default(),
            metadata: serde_json::from_str(r.get::<_, &str>(12)).unwrap_or(serde_json::Value::Null),
            body: r.get(13),
            pii: crate::model::marks_from(r.get::<_, Option<&str>>(14)),
        }))
    }

    pub(crate) async fn get_rejection(
        &self,
        id: crate::RejectionId,
    ) -> Result<Option<crate::RejectionDetail>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let row = conn
            .query_opt(
                "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers,
                        diagnosis
                 FROM rejections WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(row.map(|r| {
            let body: Option<Vec<u8>> = r.get(9);
            let headers: Option<String> = r.get(10);
            crate::RejectionDetail {
                record: rejection_record(&r, body.is_some(), r.get(11)),
                headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                body,
            }
        }))
    }

    pub(crate) async fn list_rejections(&self, q: &RejectionQuery) -> Result<Vec<RejectionRecord>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let limit = q.limit.map(i64::from);
        let rows = conn
            .query(
                "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size,
                        body IS NOT NULL, diagnosis
                 FROM rejections WHERE ($1::TEXT IS NULL OR source = $1) AND ($2::BIGINT IS NULL OR received_at >= $2)
                   AND ($4::BIGINT IS NULL OR received_at < $4)
                   AND ($5::BIGINT IS NULL OR (received_at, id) < (SELECT received_at, id FROM rejections WHERE id = $5))
                   AND ($6::TEXT IS NULL OR reason_code = $6)
                 ORDER BY received_at DESC, id DESC LIMIT $3",
                &[&q.source, &q.since_ms, &limit, &q.until_ms, &q.before_id, &q.reason],
            )
            .await?;
        Ok(rows.iter().map(|r| rejection_record(r, r.get(9), r.get(10))).collect())
    }

    pub(crate) async fn deliveries(&self, q: &crate::DeliveryQuery) -> Result<Vec<DeliverySummary>, StoreError> {
        let (status, target, limit) = (q.status.map(DeliveryStatus::as_str), q.target.as_deref(), q.limit);
        let conn = read_client(&self.reads).await?;
        let rows = conn
            .query(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
                 FROM deliveries
                 WHERE ($1::TEXT IS NULL OR target = $1)
                   AND ($2::TEXT IS NULL OR ($2 = 'failed' AND status = 'pending' AND attempts > 0)
                                         OR ($2 = 'pending' AND status = 'pending' AND attempts = 0)
                                         OR ($2 NOT IN ('failed', 'pending') AND status = $2))
                   AND ($4::BIGINT IS NULL OR event_id = $4)
                   AND ($5::BIGINT IS NULL OR id < $5)
                 ORDER BY id DESC LIMIT $3",
                &[&target, &status, &i64::from(limit), &q.event_id, &q.before_id],
            )
            .await?;
        Ok(rows.iter().map(delivery_summary).collect())
    }

    pub(crate) async fn get_delivery(&self, id: crate::DeliveryId) -> Result<Option<DeliveryRecord>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let Some(row) = conn
            .query_opt(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error,
                        origin, revived
                 FROM deliveries WHERE id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let attempts_history = conn
            .query(
                "SELECT started_at, duration_ms, status_code, error, response_excerpt, request, response_headers
                 FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| {
                let started_at_ms: i64 = r.get(0);
                Attempt {
                    started_at_ms,
                    duration_ms: r.get(1),
                    status_code: r.get(2),
                    error: r.get(3),
                    response_excerpt: r.get(4),
                    request: r.get(5),
                    response_headers: r.get(6),
                }
            })
            .collect();
        Ok(Some(DeliveryRecord {
            summary: delivery_summary(&row),
            origin: row.get(9),
            revived: row.get(10),
            attempts_history,
        }))
    }

    pub(crate) async fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        let conn = read_client(&self.reads).await?;
        let now = crate::now_ms();
        let r = conn
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE status = 'pending'),
                        COUNT(*) FILTER (WHERE status = 'pending' AND attempts > 0),
                        COUNT(*) FILTER (WHERE status = 'dead'),
                        COALESCE($1 - MIN(created_at) FILTER (WHERE status = 'pending'), 0)
                 FROM deliveries",
                &[&now],
            )
            .await?;
        Ok(QueueDepth { pending: r.get(0), failed: r.get(1), dead: r.get(2), oldest_pending_ms: r.get(3) })
    }

    pub(crate) async fn event_ids(
        &self,
        source: &str,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Vec<crate::EventId>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let rows = conn
            .query(
                "SELECT id FROM events WHERE source = $1 AND received_at >= $2
                   AND ($3::BIGINT IS NULL OR received_at < $3) ORDER BY id",
                &[&source, &since_ms, &until_ms],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(crate) async fn source_stats(&self, now_ms: i64) -> Result<Vec<crate::SourceStats>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let (m1, m5, m60) = (now_ms - 60_000, now_ms - 300_000, now_ms - 3_600_000);
        let mut stats: std::collections::BTreeMap<String, crate::SourceStats> = Default::default();
        for r in conn
            .query(
                "SELECT source, COUNT(*), COALESCE(SUM(duplicates), 0)::BIGINT, MAX(received_at),
                        COUNT(*) FILTER (WHERE received_at >= $1), COUNT(*) FILTER (WHERE received_at >= $2),
                        COUNT(*) FILTER (WHERE received_at >= $3)
                 FROM events GROUP BY source",
                &[&m1, &m5, &m60],
            )
            .await?
        {
            let s = crate::SourceStats {
                source: r.get(0),
                events: r.get(1),
                duplicates: r.get(2),
                last_event_ms: r.get(3),
                events_last: [r.get(4), r.get(5), r.get(6)],
                ..Default::default()
            };
            stats.insert(s.source.clone(), s);
        }
        for r in conn
            .query(
                "SELECT source, COUNT(*), COUNT(*) FILTER (WHERE received_at >= $1),
                        COUNT(*) FILTER (WHERE received_at >= $2), COUNT(*) FILTER (WHERE received_at >= $3)
                 FROM rejections GROUP BY source",
                &[&m1, &m5, &m60],
            )
            .await?
        {
            let source: String = r.get(0);
            let s = stats.entry(source.clone()).or_insert_with(|| crate::SourceStats { source, ..Default::default() });
            s.rejections = r.get(1);
            s.rejections_last = [r.get(2), r.get(3), r.get(4)];
        }
        Ok(stats.into_values().collect())
    }

    pub(crate) async fn target_stats(&self, now_ms: i64) -> Result<Vec<crate::TargetStats>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let rows = conn
            .query(
                "SELECT target, COUNT(*) FILTER (WHERE status = 'pending' AND attempts = 0),
                        COUNT(*) FILTER (WHERE status = 'pending' AND attempts > 0),
                        COUNT(*) FILTER (WHERE status = 'delivered'), COUNT(*) FILTER (WHERE status = 'dead'),
                        COUNT(*) FILTER (WHERE status = 'cancelled'),
                        MIN(created_at) FILTER (WHERE status = 'pending'),
                        COUNT(*) FILTER (WHERE delivered_at >= $1), COUNT(*) FILTER (WHERE delivered_at >= $2),
                        COUNT(*) FILTER (WHERE delivered_at >= $3)
                 FROM deliveries GROUP BY target ORDER BY target",
                &[&(now_ms - 60_000), &(now_ms - 300_000), &(now_ms - 3_600_000)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| crate::TargetStats {
                target: r.get(0),
                by_status: [r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)],
                oldest_pending_ms: r.get(6),
                delivered_last: [r.get(7), r.get(8), r.get(9)],
            })
            .collect())
    }

    pub(crate) async fn get_job(&self, id: crate::JobId) -> Result<Option<crate::Job>, StoreError> {
        super::jobs::get(&**read_client(&self.reads).await?, id).await
    }

    pub(crate) async fn list_jobs(
        &self,
        before: Option<crate::JobId>,
        limit: u32,
    ) -> Result<Vec<crate::Job>, StoreError> {
        super::jobs::list(&**read_client(&self.reads).await?, before, limit).await
    }

    pub(crate) async fn secret_matches(&self) -> Result<Vec<crate::SecretMatchRecord>, StoreError> {
        let conn = read_client(&self.reads).await?;
        let rows = conn
            .query(
                "SELECT source, secret, fingerprint, matches, last_matched_at FROM secret_matches
                 ORDER BY source, secret, fingerprint",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| crate::SecretMatchRecord {
                source: r.get(0),
                secret: r.get(1),
                fingerprint: r.get(2),
                matches: r.get(3),
                last_matched_at_ms: r.get(4),
            })
            .collect())
    }

    pub(crate) async fn list_audit(
        &self,
        before: Option<crate::AuditId>,
        limit: u32,
    ) -> Result<Vec<crate::AuditEntry>, StoreError> {
        super::jobs::list_audit(&**read_client(&self.reads).await?, before, limit).await
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = read_client(&self.reads).await?;
        Ok(migrate::postgres_version(&**conn, &self.url.schema).await?.unwrap_or(0))
    }

    pub(crate) async fn count_events(&self) -> Result<i64, StoreError> {
        Ok(read_client(&self.reads).await?.query_one("SELECT COUNT(*) FROM events", &[]).await?.get(0))
    }
}

fn summary(r: &tokio_postgres::Row) -> EventSummary {
    EventSummary {
        id: r.get(0),
        source: r.get(1),
        received_at_ms: r.get(2),
        dedup_key: r.get(3),
        provider_id: r.get(4),
        event_type: r.get(5),
        body_sha256: r.get(6),
        size: r.get(7),
        duplicates: r.get(8),
        status: EventStatus::from_sql(r.get::<_, Option<&str>>(9)),
    }
}

/// The listing columns of an event, with its status next (column 9).
const EVENT_COLUMNS: &str =
    "id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates";

/// An event's status from its deliveries (see `EventStatus`); `NULL` when it has none.
macro_rules! event_status_sql {
    () => {
        "(SELECT CASE WHEN bool_or(d.status = 'dead') THEN 'dead'
            WHEN bool_or(d.status = 'pending' AND d.attempts > 0) THEN 'failed'
            WHEN bool_or(d.status = 'pending') THEN 'pending'
            WHEN bool_or(d.status = 'delivered') THEN 'delivered' END
          FROM deliveries d WHERE d.event_id = events.id)"
    };
}
const EVENT_STATUS: &str = event_status_sql!();

/// How PostgreSQL writes an event query (see `event_sql.rs`).
const DIALECT: event_sql::Dialect = event_sql::Dialect {
    param: |n| format!("${n}"),
    contains: |haystack, needle| format!("strpos({haystack}, {needle}) > 0"),
    status: EVENT_STATUS,
    terms: |p, terms| (format!("terms @> ({p}::TEXT)::BIGINT[]"), array_literal(terms)),
};

/// `{1,2,3}`: a `BIGINT[]` written as text (one parameter type for every event query).
pub(crate) fn array_literal(terms: &[i64]) -> String {
    format!("{{{}}}", terms.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

fn bound<'a>(params: &'a [event_sql::Param<'_>]) -> Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            event_sql::Param::Text(s) => s as &(dyn tokio_postgres::types::ToSql + Sync),
            event_sql::Param::Owned(s) => s as &(dyn tokio_postgres::types::ToSql + Sync),
            event_sql::Param::Int(i) => i as &(dyn tokio_postgres::types::ToSql + Sync),
        })
        .collect()
}

/// The metadata terms `q` narrows with: all of them. PostgreSQL's planner knows from the
/// column's statistics how common each is, and picks the GIN index for a rare one and a walk
/// through `received_at` (checking each row's array) for a common one, so there is no count to
/// make first as on SQLite.
fn narrowing(q: &EventQuery) -> Vec<i64> {
    terms::of_query(&q.metadata_terms)
}

/// A rejection's listing fields, from columns 0-8 (as `sqlite::rejection_record`).
fn rejection_record(r: &tokio_postgres::Row, body_kept: bool, diagnosis: Option<&str>) -> RejectionRecord {
    RejectionRecord {
        id: r.get(0),
        source: r.get(1),
        received_at_ms: r.get(2),
        peer: r.get(3),
        reason: r.get(4),
        reason_code: r.get(5),
        header_names: serde_json::from_str(r.get::<_, &str>(6)).unwrap_or_default(),
        body_sha256: r.get(7),
        size: r.get(8),
        body_kept,
        diagnosis: crate::model::diagnosis_from(diagnosis),
    }
}

fn delivery_summary(r: &tokio_postgres::Row) -> DeliverySummary {
    let stored: String = r.get(3);
    let attempts: i64 = r.get(4);
    let status = DeliveryStatus::from_row(&stored, attempts);
    let pending = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed);
    DeliverySummary {
        id: r.get(0),
        event_id: r.get(1),
        target: r.get(2),
        status,
        attempts,
        next_attempt_at_ms: if pending { Some(r.get(5)) } else { None },
        created_at_ms: r.get(6),
        delivered_at_ms: r.get(7),
        last_error: r.get(8),
    }
}
