//! Matching stored events against a `match` filter: the document each event is matched as, and
//! the scan that pages through the store in batches, keeping the matches. The operator API's
//! event search and the jobs (bulk replay and retry) use the same scan.

use std::collections::HashMap;
use std::sync::Arc;

use hookgate_store::{EventId, EventQuery, EventRecord, MetadataTerm, Store, StoreError};
use serde_json::Value;

use crate::filter::Filter;
use crate::ingest::source::Source;

/// The document a filter reads for an event: the body's JSON, with each field its source reads
/// as metadata (`fields`: name, JSON pointer) replaced by the metadata value, so Flinks' `Tag`, a
/// `k=v` string in the body, is matched as the object it means. Without a body, the metadata
/// alone at its pointers.
///
/// A field read as metadata is matched as it was read at ingest, and is absent when it was not
/// read (an event stored before the field was configured): the store's metadata index answers
/// the same way, so a search gives one answer whichever way it runs.
pub fn document<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&[u8]>,
    metadata: &Value,
) -> Value {
    let mut doc = match body {
        Some(b) => serde_json::from_slice::<Value>(b).unwrap_or_else(|_| Value::Object(Default::default())),
        None => Value::Object(Default::default()),
    };
    for (name, pointer) in fields {
        match metadata.get(name) {
            Some(v) => crate::filter::overlay(&mut doc, pointer, v.clone()),
            None if body.is_some() => crate::filter::remove(&mut doc, pointer),
            None => {}
        }
    }
    doc
}

/// Per source, its metadata fields as (name, JSON pointer).
#[derive(Debug, Clone, Default)]
pub struct EventMatcher {
    metadata: HashMap<String, Vec<(String, String)>>,
}

/// How far a scan goes.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Stop once this many matched.
    pub limit: usize,
    /// Events read from the store at a time.
    pub batch: u32,
    /// Stop once this many were looked at.
    pub budget: usize,
    /// Stop at this time (the page ends with a `next`), if any.
    pub deadline: Option<std::time::Instant>,
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

    /// The document a filter reads for a stored event (see [`document`]); the metadata alone
    /// without the body.
    pub fn document(&self, record: &EventRecord, with_body: bool) -> Value {
        let fields = self.metadata.get(&record.summary.source).map_or(&[][..], Vec::as_slice);
        document(
            fields.iter().map(|(n, p)| (n.as_str(), p.as_str())),
            with_body.then_some(record.body.as_slice()),
            &record.metadata,
        )
    }

    /// The metadata values every match of `filter` carries, for the store's metadata index: each
    /// plain equality on a field that every source in scope reads as metadata, under the same
    /// name (a field some source reads only from its body cannot narrow the search).
    pub fn metadata_terms(&self, filter: &Filter, source: Option<&str>) -> Vec<MetadataTerm> {
        let scope: Vec<&Vec<(String, String)>> = match source {
            Some(s) => self.metadata.get(s).into_iter().collect(),
            None => self.metadata.values().collect(),
        };
        if scope.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (keys, value) in filter.required_equalities() {
            let mapped: Vec<Option<Vec<String>>> = scope.iter().map(|fields| metadata_path(fields, &keys)).collect();
            if let Some(Some(path)) = mapped.first()
                && mapped.iter().all(|m| m.as_ref() == Some(path))
            {
                out.push(MetadataTerm { path: path.clone(), value: value.clone() });
            }
        }
        out
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
        bounds: Bounds,
    ) -> Result<Scanned, StoreError> {
        let mut found = self.scan(store, q, Some(filter), bounds).await?;
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
    /// The next batch is read while the current one is matched (on a blocking thread: decoding
    /// bodies is CPU work), so reading and matching overlap.
    ///
    /// # Errors
    /// The store's.
    pub async fn scan(
        &self,
        store: &Store,
        mut q: EventQuery,
        filter: Option<&Filter>,
        bounds: Bounds,
    ) -> Result<Scanned, StoreError> {
        let Bounds { limit, batch, budget, deadline } = bounds;
        let with_body = filter.is_some_and(|f| !self.covers(f, q.source.as_deref()));
        if let Some(f) = filter {
            q.metadata_terms = self.metadata_terms(f, q.source.as_deref());
        }
        let judge = filter.map(|f| Arc::new((self.clone(), f.clone())));
        let mut found = Scanned { records: Vec::new(), next: None, scanned: 0 };
        q.limit = Some(batch);
        let mut rows = store.scan_events(&q, with_body).await?;
        loop {
            let full = rows.len() == batch as usize;
            let Some(last) = rows.last().map(|r| r.summary.id) else { return Ok(found) };
            if q.by_id {
                q.max_id = Some(EventId(last.0 - 1));
            } else {
                q.before_id = Some(last);
            }
            // Past the deadline the page ends where it is (with `next`), like past the budget.
            let in_time = deadline.is_none_or(|d| std::time::Instant::now() < d);
            let more = full && found.scanned + rows.len() < budget && in_time;
            let next = async { if more { store.scan_events(&q, with_body).await.map(Some) } else { Ok(None) } };
            let judged = async {
                match &judge {
                    None => Ok(rows.into_iter().map(|r| (r, true)).collect::<Vec<_>>()),
                    Some(judge) => {
                        let judge = Arc::clone(judge);
                        tokio::task::spawn_blocking(move || {
                            let (matcher, filter) = &*judge;
                            rows.into_iter()
                                .map(|r| {
                                    let keep = filter.matches(&matcher.document(&r, with_body));
                                    (r, keep)
                                })
                                .collect()
                        })
                        .await
                        .map_err(|e| StoreError::Write(format!("match task failed: {e}")))
                    }
                }
            };
            let (judged, next) = tokio::join!(judged, next);
            for (record, keep) in judged? {
                found.scanned += 1;
                let id = record.summary.id;
                if keep {
                    found.records.push(record);
                }
                if found.records.len() == limit {
                    found.next = Some(id);
                    return Ok(found);
                }
            }
            if !full {
                return Ok(found);
            }
            match next? {
                Some(n) => rows = n,
                None => {
                    found.next = Some(last);
                    return Ok(found);
                }
            }
        }
    }
}

/// Where the document's `keys` lie in the metadata: under the field whose pointer they start
/// with, as the field's name and the keys after the pointer's.
fn metadata_path(fields: &[(String, String)], keys: &[&str]) -> Option<Vec<String>> {
    fields.iter().find_map(|(name, pointer)| {
        let pointer: Vec<String> = crate::filter::pointer_keys(pointer).collect();
        let under = !pointer.is_empty() && keys.len() >= pointer.len() && pointer.iter().zip(keys).all(|(p, k)| p == k);
        under.then(|| {
            std::iter::once(name.clone()).chain(keys[pointer.len()..].iter().map(|k| (*k).to_owned())).collect()
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_read_as_metadata_is_matched_as_read_and_absent_when_not_read() {
        let fields = [("tag", "/Tag"), ("login_id", "/Login/Id")];
        let body = br#"{"Tag":"userId=1","Login":{"Id":"L","Other":2},"Kept":true}"#;
        let doc = document(fields, Some(body), &json!({"tag": {"userId": "1"}}));
        assert_eq!(doc, json!({"Tag": {"userId": "1"}, "Login": {"Other": 2}, "Kept": true}));
        assert_eq!(document(fields, None, &json!({"tag": {"userId": "1"}})), json!({"Tag": {"userId": "1"}}));
    }

    #[test]
    fn metadata_terms_map_document_paths_to_fields_every_source_in_scope_reads() {
        let mut matcher = EventMatcher::default();
        let flinks = vec![("tag".to_owned(), "/Tag".to_owned()), ("login_id".to_owned(), "/Login/Id".to_owned())];
        matcher.metadata.insert("a".into(), flinks.clone());
        matcher.metadata.insert("b".into(), flinks);
        matcher.metadata.insert("plain".into(), Vec::new());
        let f = Filter::parse(json!({"Tag": {"userId": "1"}, "Login": {"Id": "L"}, "Body": 3})).unwrap();
        let paths = |terms: Vec<MetadataTerm>| terms.into_iter().map(|t| t.path.join(".")).collect::<Vec<_>>();
        assert_eq!(paths(matcher.metadata_terms(&f, Some("a"))), ["tag.userId", "login_id"], "in the filter's order");
        assert!(matcher.metadata_terms(&f, None).is_empty(), "`plain` reads them from its body");
        assert!(matcher.metadata_terms(&f, Some("unknown")).is_empty());
    }
}
