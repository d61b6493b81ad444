//! Matching stored events against a `match` filter: the document each event is matched as, and
//! the scan that pages through the store in batches, keeping the matches. The operator API's
//! event search and the jobs (bulk replay and retry) use the same scan.

use std::collections::HashMap;
use std::sync::Arc;

use hookgate_store::{EventId, EventQuery, EventRecord, Store, StoreError};
use serde_json::Value;

use crate::filter::Filter;
use crate::ingest::source::Source;

/// Per source, its metadata fields as (name, JSON pointer).
#[derive(Debug, Clone, Default)]
pub struct EventMatcher {
    metadata: HashMap<String, Vec<(String, String)>>,
}

/// What a scan found.
#[derive(Debug)]
pub struct Scanned {
    /// The matching events, newest first.
    pub records: Vec<EventRecord>,
    /// The last event looked at, when the scan stopped before the events ran out.
    pub next: Option<EventId>,
    /// Events looked at.
    pub scanned: usize,
}

impl EventMatcher {
    /// The configured sources' metadata fields.
    pub fn new(sources: &[Arc<Source>]) -> Self {
        let metadata = sources
            .iter()
            .map(|s| (s.name.clone(), s.metadata.iter().map(|f| (f.name.clone(), f.pointer.clone())).collect()))
            .collect();
        Self { metadata }
    }

    /// The document a filter reads for an event: the body's JSON, with each field its source
    /// reads as metadata replaced by the metadata value (so Flinks' `Tag`, a `k=v` string in the
    /// body, is matched as the object it means); the metadata alone without the body.
    pub fn document(&self, record: &EventRecord, with_body: bool) -> Value {
        let fields = self.metadata.get(&record.summary.source).map_or(&[][..], Vec::as_slice);
        let mut doc = if with_body {
            serde_json::from_slice::<Value>(&record.body).unwrap_or_else(|_| Value::Object(Default::default()))
        } else {
            Value::Object(Default::default())
        };
        for (name, pointer) in fields {
            if let Some(v) = record.metadata.get(name) {
                crate::filter::overlay(&mut doc, pointer, v.clone());
            }
        }
        doc
    }

    /// Whether every field `filter` reads at the top level is a metadata field, at a top-level
    /// pointer, of every source in scope: then the metadata alone answers it and no body is read.
    pub fn covers(&self, filter: &Filter, source: Option<&str>) -> bool {
        let fields = filter.top_level_fields();
        let covered = |specs: &Vec<(String, String)>| {
            fields.iter().all(|f| specs.iter().any(|(_, p)| p.strip_prefix('/').is_some_and(|p| p == *f)))
        };
        !fields.is_empty()
            && match source {
                Some(s) => self.metadata.get(s).is_some_and(covered),
                None => self.metadata.values().all(covered),
            }
    }

    /// [`EventMatcher::scan`] for a page the API shows: the kept events with their status.
    ///
    /// # Errors
    /// The store's.
    pub async fn scan_page(
        &self,
        store: &Store,
        q: EventQuery,
        filter: &Filter,
        limit: usize,
        batch: u32,
        budget: usize,
    ) -> Result<Scanned, StoreError> {
        let mut found = self.scan(store, q, Some(filter), limit, batch, budget).await?;
        for record in &mut found.records {
            let one =
                EventQuery { max_id: Some(record.summary.id), by_id: true, limit: Some(1), ..EventQuery::default() };
            if let Some(e) = store.list_events(&one).await?.into_iter().next() {
                record.summary.status = e.status;
            }
        }
        Ok(found)
    }

    /// Reads events `q` selects in batches of `batch`, keeping those `filter` matches (all of
    /// them without one), until `limit` matched, the events ran out, or `budget` were looked at.
    ///
    /// # Errors
    /// The store's.
    pub async fn scan(
        &self,
        store: &Store,
        mut q: EventQuery,
        filter: Option<&Filter>,
        limit: usize,
        batch: u32,
        budget: usize,
    ) -> Result<Scanned, StoreError> {
        let with_body = filter.is_some_and(|f| !self.covers(f, q.source.as_deref()));
        let mut found = Scanned { records: Vec::new(), next: None, scanned: 0 };
        let mut last = None;
        q.limit = Some(batch);
        loop {
            let rows = store.scan_events(&q, with_body).await?;
            let full = rows.len() == batch as usize;
            for record in rows {
                found.scanned += 1;
                let id = record.summary.id;
                last = Some(id);
                if filter.is_none_or(|f| f.matches(&self.document(&record, with_body))) {
                    found.records.push(record);
                }
                if q.by_id {
                    q.max_id = Some(EventId(id.0 - 1));
                } else {
                    q.before_id = Some(id);
                }
                if found.records.len() == limit {
                    found.next = Some(id);
                    return Ok(found);
                }
            }
            if !full {
                return Ok(found);
            }
            if found.scanned >= budget {
                found.next = last;
                return Ok(found);
            }
        }
    }
}
