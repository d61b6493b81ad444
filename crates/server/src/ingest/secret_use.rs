//! Which configured secret verifies each request: counted on the request path (atomics and
//! registered metric handles only), reported to the store in batches by a background task, so
//! `hookgate secrets status` can tell when an old secret has stopped being used.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use hookgate_store::{AdminOp, SecretMatches, Store};

/// One source's secrets, in configured order.
pub(crate) struct SecretUse {
    source: String,
    secrets: Vec<Counted>,
}

struct Counted {
    label: String,
    fingerprint: String,
    /// Matches not yet reported to the store.
    unreported: AtomicU64,
    /// The latest match (Unix ms; 0: none since the last report).
    last_ms: AtomicI64,
    counter: metrics::Counter,
}

impl SecretUse {
    /// Registers the metric handles; call after the metrics recorder is installed.
    pub(crate) fn new(source: &str, labels: &[String], fingerprints: Vec<String>) -> Self {
        let secrets = labels
            .iter()
            .zip(fingerprints)
            .map(|(label, fingerprint)| Counted {
                label: label.clone(),
                fingerprint,
                unreported: AtomicU64::new(0),
                last_ms: AtomicI64::new(0),
                counter: metrics::counter!("hookgate_secret_matches_total", "source" => source.to_owned(), "secret" => label.clone()),
            })
            .collect();
        Self { source: source.to_owned(), secrets }
    }

    /// The secret at `index` verified a request at `now_ms`.
    pub(crate) fn matched(&self, index: usize, now_ms: i64) {
        if let Some(s) = self.secrets.get(index) {
            s.unreported.fetch_add(1, Ordering::Relaxed);
            s.last_ms.fetch_max(now_ms, Ordering::Relaxed);
            s.counter.increment(1);
        }
    }

    /// What to report: every secret with matches since the last report, or every secret when
    /// `all` (the first report registers them, so unused ones show with 0).
    fn take(&self, all: bool) -> Vec<SecretMatches> {
        self.secrets
            .iter()
            .filter_map(|s| {
                let n = s.unreported.swap(0, Ordering::AcqRel);
                let last = s.last_ms.swap(0, Ordering::AcqRel);
                (all || n > 0).then(|| SecretMatches {
                    source: self.source.clone(),
                    secret: s.label.clone(),
                    fingerprint: s.fingerprint.clone(),
                    matches: i64::try_from(n).unwrap_or(i64::MAX),
                    last_matched_at_ms: (last > 0).then_some(last),
                })
            })
            .collect()
    }

    /// Puts back a report the store did not take, to go with the next.
    fn restore(&self, batch: &[SecretMatches]) {
        // The batch holds every source's report: take back only this source's.
        for m in batch.iter().filter(|m| m.source == self.source) {
            if let Some(s) = self.secrets.iter().find(|s| s.fingerprint == m.fingerprint && s.label == m.secret) {
                s.unreported.fetch_add(u64::try_from(m.matches).unwrap_or(0), Ordering::AcqRel);
                if let Some(last) = m.last_matched_at_ms {
                    s.last_ms.fetch_max(last, Ordering::AcqRel);
                }
            }
        }
    }
}

/// How often counts are reported (and at shutdown).
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Reports every source's counts until `stop`, then once more.
pub(crate) fn spawn_reporter(
    store: &Arc<Store>,
    uses: Vec<Arc<SecretUse>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let stopping = *stop.borrow();
            let mut batch = Vec::new();
            for u in &uses {
                batch.extend(u.take(first));
            }
            if !batch.is_empty() {
                match store.admin(AdminOp::SecretMatches(batch.clone())).await {
                    Ok(_) => first = false,
                    Err(e) => {
                        tracing::warn!(error = %e, "Recording secret match counts failed; retrying with the next report.");
                        for u in &uses {
                            u.restore(&batch);
                        }
                    }
                }
            }
            if stopping {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(REPORT_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_restored_on_failure() {
        let u = SecretUse::new("flinks", &["new".into(), "old".into()], vec!["aaaa0000".into(), "bbbb1111".into()]);
        u.matched(1, 1_000);
        u.matched(1, 2_000);
        u.matched(7, 3_000);
        let first = u.take(true);
        assert_eq!(first.len(), 2, "the first report registers every secret");
        assert_eq!((first[0].matches, first[0].last_matched_at_ms), (0, None));
        assert_eq!((first[1].matches, first[1].last_matched_at_ms), (2, Some(2_000)));
        assert!(u.take(false).is_empty());
        u.restore(&first);
        let again = u.take(false);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].secret, "old");
        assert_eq!(again[0].matches, 2);
        // Another source's report (the same secret shared) is not this source's to take back.
        let other = SecretUse::new("fin", &["old".into()], vec!["bbbb1111".into()]);
        other.restore(&again);
        assert!(other.take(false).is_empty());
    }
}
