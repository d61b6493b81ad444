//! Background work beside serving: retention.

use std::sync::Arc;
use std::time::Duration;

use hookgate_store::Store;

/// Deletes events past retention every minute, 1,000 per transaction with a pause between, so
/// pruning shares the writer with ingest instead of holding it.
pub(crate) fn spawn_pruner(
    store: &Arc<Store>,
    retention: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        loop {
            let before_ms = hookgate_verify::Timestamp::now().unix_millis()
                - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
            let mut total = 0;
            loop {
                match store.admin(hookgate_store::AdminOp::Prune { before_ms, limit: 1000 }).await {
                    Ok(n) => {
                        total += n;
                        if n < 1000 || *stop.borrow() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Pruning old events failed; will retry.");
                        break;
                    }
                }
            }
            if total > 0 {
                tracing::info!(events = total, "Pruned events past retention.");
                metrics::counter!("hookgate_events_pruned_total").increment(total);
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = stop.changed() => break,
            }
        }
    })
}
