//! The group-commit writer tasks: a batch of events, their deliveries and rejections per transaction.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::mpsc;
use tokio_postgres::error::SqlState;

use crate::PendingRejections;
use crate::error::{StoreError, postgres_message};
use crate::model::{EventId, Inserted, NewEvent, NewRejection, RejectionRetention};

use super::connection::{Cmd, client};

/// One group-commit writer. Several share the queue: each takes what is waiting, writes it in one
/// transaction, answers, and takes the next batch.
pub(super) struct Writer {
    pub(super) pool: Pool,
    pub(super) rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Cmd>>>,
    pub(super) max_batch: usize,
    pub(super) queued: Arc<AtomicUsize>,
    pub(super) commits: Arc<AtomicU64>,
    pub(super) pending: Arc<PendingRejections>,
    pub(super) retention: RejectionRetention,
    /// Shared by the writers: rejections written since the last prune, and when that was.
    pub(super) prune: Arc<Mutex<PruneClock>>,
}

pub(super) struct PruneClock {
    pub(super) since: usize,
    pub(super) last: Instant,
}

impl Writer {
    /// Whether it is time to prune rejections (after 1,000 new ones, or a minute after the last
    /// prune if any came); the writer that sees it first does it.
    fn prune_due(&self, rejections: usize) -> bool {
        let mut clock = self.prune.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        clock.since += rejections;
        let due = clock.since >= 1000 || (clock.since > 0 && clock.last.elapsed() > Duration::from_secs(60));
        if due {
            clock.since = 0;
            clock.last = Instant::now();
        }
        due
    }

    pub(super) async fn run(self) {
        loop {
            let mut batch = Vec::new();
            {
                let mut rx = self.rx.lock().await;
                let Some(first) = rx.recv().await else { break };
                batch.push(first);
                while batch.len() < self.max_batch {
                    match rx.try_recv() {
                        Ok(cmd) => batch.push(cmd),
                        Err(_) => break,
                    }
                }
            }
            let queue_wait = metrics::histogram!("hookgate_store_queue_wait_seconds");
            for cmd in &batch {
                if let Cmd::Insert(_, _, queued_at) = cmd {
                    queue_wait.record(queued_at.elapsed().as_secs_f64());
                }
            }
            let started = Instant::now();
            let outcome = self.write_batch(&batch).await;
            metrics::histogram!("hookgate_store_commit_duration_seconds").record(started.elapsed().as_secs_f64());
            metrics::histogram!("hookgate_store_batch_size").record(batch.len() as f64);
            self.queued.fetch_sub(batch.len(), Ordering::AcqRel);
            let rejections = batch.iter().filter(|c| matches!(c, Cmd::Reject(_))).count();
            self.pending.written(rejections);
            match outcome {
                Ok(mut results) => {
                    for cmd in batch {
                        match cmd {
                            Cmd::Insert(_, reply, _) => {
                                let r =
                                    results.pop_front().unwrap_or_else(|| Err(StoreError::Write("no result".into())));
                                let _ = reply.send(r);
                            }
                            Cmd::Barrier(reply) => drop(reply.send(Ok(()))),
                            Cmd::Reject(_) => {}
                        }
                    }
                }
                Err(e) => {
                    static THROTTLE: crate::throttle::LogThrottle =
                        crate::throttle::LogThrottle::new(Duration::from_secs(5));
                    if let Some(suppressed) = THROTTLE.admit() {
                        tracing::error!(error = %e, batch = batch.len(), suppressed, "Store commit failed; answering 503 for this batch.");
                    }
                    metrics::counter!("hookgate_store_commit_failures_total").increment(1);
                    let msg = e.to_string();
                    for cmd in batch {
                        match cmd {
                            Cmd::Insert(_, reply, _) => drop(reply.send(Err(StoreError::Write(msg.clone())))),
                            Cmd::Barrier(reply) => drop(reply.send(Err(StoreError::Write(msg.clone())))),
                            Cmd::Reject(_) => {}
                        }
                    }
                }
            }
            // After the replies: pruning never delays an acknowledgement.
            if self.prune_due(rejections)
                && let Err(e) = self.prune_rejections().await
            {
                tracing::warn!(error = %e, "Pruning old rejections failed; will retry.");
            }
        }
    }

    /// Writes the batch in one transaction. When the database refuses it (an SQL error, not a lost
    /// connection), one event may be at fault: each is then written alone, so it fails by itself
    /// and its neighbours are still stored (as SQLite's savepoints per command do).
    async fn write_batch(
        &self,
        batch: &[Cmd],
    ) -> Result<std::collections::VecDeque<Result<Inserted, StoreError>>, StoreError> {
        let inserts = batch.iter().filter(|c| matches!(c, Cmd::Insert(..))).count();
        match self.write_with_retry(batch).await {
            Ok(results) => Ok(results.into_iter().map(Ok).collect()),
            Err(StoreError::Postgres(e)) if e.code().is_some() && inserts > 1 => {
                tracing::warn!(error = %postgres_message(&e), batch = batch.len(), "A batch was refused; writing its events one by one.");
                let mut results = std::collections::VecDeque::new();
                for cmd in batch {
                    let one = self.write_with_retry(std::slice::from_ref(cmd)).await;
                    if let Cmd::Insert(..) = cmd {
                        results.push_back(
                            one.and_then(|mut r| r.pop_front().ok_or_else(|| StoreError::Write("no result".into()))),
                        );
                    } else if let Err(e) = one {
                        tracing::warn!(error = %e, "Recording a rejection failed.");
                    }
                }
                Ok(results)
            }
            Err(e) => Err(e),
        }
    }

    /// A deadlock or serialization failure is the database choosing a victim among concurrent
    /// transactions: the batch is written again (a few times) rather than failed.
    async fn write_with_retry(&self, batch: &[Cmd]) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
        let mut tries = 0;
        loop {
            match self.write(batch).await {
                Err(StoreError::Postgres(e))
                    if tries < 3
                        && matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
                            || *c == SqlState::T_R_SERIALIZATION_FAILURE) =>
                {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    async fn write(&self, batch: &[Cmd]) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
        let events: Vec<&NewEvent> =
            batch.iter().filter_map(|c| if let Cmd::Insert(e, _, _) = c { Some(&**e) } else { None }).collect();
        let rejections: Vec<&NewRejection> =
            batch.iter().filter_map(|c| if let Cmd::Reject(r) = c { Some(&**r) } else { None }).collect();
        let mut conn = client(&self.pool).await?;
        let mut tx = conn.transaction().await?;
        let results = if events.is_empty() { Default::default() } else { insert_events(&tx, &events).await? };
        if !rejections.is_empty() {
            // A rejection that cannot be written is logged, never a reason to fail the events.
            let sp = tx.savepoint("rejections").await?;
            match insert_rejections(&sp, &rejections).await {
                Ok(()) => sp.commit().await?,
                Err(e) => {
                    tracing::warn!(error = %e, "Recording rejections failed.");
                    sp.rollback().await?;
                }
            }
        }
        // The one commit every request of the batch waits for: its WAL flush is shared.
        tx.commit().await?;
        self.commits.fetch_add(1, Ordering::AcqRel);
        Ok(results)
    }

    async fn prune_rejections(&self) -> Result<(), StoreError> {
        let conn = client(&self.pool).await?;
        let cutoff = crate::now_ms()
            - i64::try_from(self.retention.max_age_secs).unwrap_or(i64::MAX / 2000).saturating_mul(1000);
        conn.execute(
            "DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_at < $1 LIMIT 10000)",
            &[&cutoff],
        )
        .await?;
        conn.execute(
            "DELETE FROM rejections WHERE id IN (
                 SELECT id FROM rejections WHERE id <= (SELECT id FROM rejections ORDER BY id DESC LIMIT 1 OFFSET $1)
                 LIMIT 10000)",
            &[&i64::try_from(self.retention.max_rows).unwrap_or(i64::MAX)],
        )
        .await?;
        Ok(())
    }
}

/// Inserts a batch of events with their deliveries; returns one result per event, in order.
async fn insert_events(
    tx: &deadpool_postgres::Transaction<'_>,
    events: &[&NewEvent],
) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
    // The first occurrence of each key is inserted; later ones in the same batch are retries.
    // Keys go in sorted order, so two nodes inserting overlapping batches take the unique index's
    // locks in the same order and cannot deadlock.
    let mut first: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        first.entry((e.source.as_str(), e.dedup_key.as_str())).or_insert(i);
    }
    let unique: Vec<&NewEvent> = first.values().map(|&i| events[i]).collect();
    let col = |f: &dyn Fn(&NewEvent) -> String| unique.iter().map(|e| f(e)).collect::<Vec<String>>();
    let sources = col(&|e| e.source.clone());
    let keys = col(&|e| e.dedup_key.clone());
    let received: Vec<i64> = unique.iter().map(|e| e.received_at_ms).collect();
    let provider_ids: Vec<Option<&str>> = unique.iter().map(|e| e.provider_id.as_deref()).collect();
    let types: Vec<Option<&str>> = unique.iter().map(|e| e.event_type.as_deref()).collect();
    let signed: Vec<Option<i64>> = unique.iter().map(|e| e.signed_at_ms).collect();
    let bodies: Vec<&[u8]> = unique.iter().map(|e| e.body.as_slice()).collect();
    let hashes: Vec<&str> = unique.iter().map(|e| e.body_sha256.as_str()).collect();
    let sizes: Vec<i64> = unique.iter().map(|e| i64::try_from(e.body.len()).unwrap_or(i64::MAX)).collect();
    let headers = col(&|e| serde_json::to_string(&e.headers).unwrap_or_else(|_| "[]".into()));
    let metadata = col(&|e| serde_json::to_string(&e.metadata).unwrap_or_else(|_| "{}".into()));
    // The metadata index (see `terms.rs`), as `BIGINT[]` text; NULL for none.
    let terms: Vec<Option<String>> = unique
        .iter()
        .map(|e| {
            Some(crate::terms::of_metadata(&e.metadata)).filter(|t| !t.is_empty()).map(|t| super::array_literal(&t))
        })
        .collect();
    let pii: Vec<Option<String>> = unique.iter().map(|e| crate::model::marks_json(&e.pii)).collect();
    let insert = tx
        .prepare_cached(
            "INSERT INTO events (source, received_at, dedup_key, provider_id, event_type, signed_at, body, body_sha256,
                                 size, headers, metadata, terms, pii)
             SELECT s, r, k, p, t, sa, b, h, sz, hd, m, tm::BIGINT[], pi
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::bytea[],
                         $8::text[], $9::int8[], $10::text[], $11::text[], $12::text[], $13::text[])
                  WITH ORDINALITY AS u(s, r, k, p, t, sa, b, h, sz, hd, m, tm, pi, n)
             ORDER BY n
             ON CONFLICT (source, dedup_key) DO NOTHING
             RETURNING id, source, dedup_key",
        )
        .await?;
    let rows = tx
        .query(
            &insert,
            &[
                &sources,
                &received,
                &keys,
                &provider_ids,
                &types,
                &signed,
                &bodies,
                &hashes,
                &sizes,
                &headers,
                &metadata,
                &terms,
                &pii,
            ],
        )
        .await?;
    let new_ids: std::collections::HashMap<(String, String), i64> =
        rows.iter().map(|r| ((r.get(1), r.get(2)), r.get(0))).collect();

    // Retries: every occurrence beyond the one stored now is counted on the stored event.
    let mut dup_counts: std::collections::BTreeMap<(&str, &str), (i64, i64)> = std::collections::BTreeMap::new();
    for e in events {
        let key = (e.source.as_str(), e.dedup_key.as_str());
        let entry = dup_counts.entry(key).or_insert((0, e.received_at_ms));
        entry.0 += 1;
        entry.1 = entry.1.max(e.received_at_ms);
    }
    let mut dup_sources = Vec::new();
    let mut dup_keys = Vec::new();
    let mut dup_n = Vec::new();
    let mut dup_at = Vec::new();
    for ((s, k), (count, at)) in &dup_counts {
        let extra = if new_ids.contains_key(&((*s).to_owned(), (*k).to_owned())) { count - 1 } else { *count };
        if extra > 0 {
            dup_sources.push(*s);
            dup_keys.push(*k);
            dup_n.push(extra);
            dup_at.push(*at);
        }
    }
    let mut existing: std::collections::HashMap<(String, String), i64> = std::collections::HashMap::new();
    if !dup_keys.is_empty() {
        let update = tx
            .prepare_cached(
                "UPDATE events SET duplicates = duplicates + u.n, last_duplicate_at = u.at
                 FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) AS u(s, k, n, at)
                 WHERE events.source = u.s AND events.dedup_key = u.k
                 RETURNING events.id, events.source, events.dedup_key",
            )
            .await?;
        for r in tx.query(&update, &[&dup_sources, &dup_keys, &dup_n, &dup_at]).await? {
            existing.insert((r.get(1), r.get(2)), r.get(0));
        }
    }

    // The outbox, in the same transaction: an acknowledged event always has its deliveries.
    let mut d_events = Vec::new();
    let mut d_targets = Vec::new();
    let mut d_created = Vec::new();
    for e in &unique {
        if let Some(&id) = new_ids.get(&(e.source.clone(), e.dedup_key.clone())) {
            for t in &e.targets {
                d_events.push(id);
                d_targets.push(t.as_str());
                d_created.push(e.received_at_ms);
            }
        }
    }
    if !d_events.is_empty() {
        let deliveries = tx
            .prepare_cached(
                "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                 SELECT e, t, 'pending', c, c FROM unnest($1::int8[], $2::text[], $3::int8[]) WITH ORDINALITY AS u(e, t, c, n)
                 ORDER BY n",
            )
            .await?;
        tx.execute(&deliveries, &[&d_events, &d_targets, &d_created]).await?;
    }

    let mut seen_new = std::collections::HashSet::new();
    let results: Vec<Inserted> = events
        .iter()
        .map(|e| {
            let key = (e.source.clone(), e.dedup_key.clone());
            if let Some(&id) = new_ids.get(&key) {
                // The first occurrence is the new event; the rest of the batch are its retries.
                if seen_new.insert(key) { Ok(Inserted::New(EventId(id))) } else { Ok(Inserted::Duplicate(EventId(id))) }
            } else if let Some(&id) = existing.get(&key) {
                Ok(Inserted::Duplicate(EventId(id)))
            } else {
                // It conflicted, then vanished (pruned in between): fail it, the provider retries.
                Err(StoreError::Write("the stored event of this duplicate was removed concurrently".into()))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(results.into())
}

async fn insert_rejections(
    tx: &deadpool_postgres::Transaction<'_>,
    rejections: &[&NewRejection],
) -> Result<(), StoreError> {
    let sources: Vec<&str> = rejections.iter().map(|r| r.source.as_str()).collect();
    let received: Vec<i64> = rejections.iter().map(|r| r.received_at_ms).collect();
    let peers: Vec<Option<&str>> = rejections.iter().map(|r| r.peer.as_deref()).collect();
    let reasons: Vec<&str> = rejections.iter().map(|r| r.reason.as_str()).collect();
    let codes: Vec<&str> = rejections.iter().map(|r| r.reason_code.as_str()).collect();
    let names: Vec<String> =
        rejections.iter().map(|r| serde_json::to_string(&r.header_names).unwrap_or_else(|_| "[]".into())).collect();
    let hashes: Vec<&str> = rejections.iter().map(|r| r.body_sha256.as_str()).collect();
    let sizes: Vec<i64> = rejections.iter().map(|r| r.size).collect();
    let bodies: Vec<Option<&[u8]>> = rejections.iter().map(|r| r.body.as_deref()).collect();
    let headers: Vec<String> =
        rejections.iter().map(|r| serde_json::to_string(&r.headers).unwrap_or_else(|_| "[]".into())).collect();
    let diagnoses: Vec<Option<String>> = rejections
        .iter()
        .map(|r| r.diagnosis.as_ref().map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".into())))
        .collect();
    let insert = tx
        .prepare_cached(
            "INSERT INTO rejections (source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers, diagnosis)
             SELECT s, r, p, re, c, hn, h, sz, b, hv, dg
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[],
                         $9::bytea[], $10::text[], $11::text[]) WITH ORDINALITY AS u(s, r, p, re, c, hn, h, sz, b, hv, dg, n)
             ORDER BY n",
        )
        .await?;
    tx.execute(
        &insert,
        &[&sources, &received, &peers, &reasons, &codes, &names, &hashes, &sizes, &bodies, &headers, &diagnoses],
    )
    .await?;
    Ok(())
}
