//! Limits under hostile load: how many connections are open at once, and how many bytes of
//! request bodies are held in memory at once across all of them.
//!
//! Without them 200 stalled 1 MiB uploads took the process from 23 to 419 MiB (kept by the
//! allocator after the connections closed), and with few file descriptors idle connections kept
//! new requests out until the header timeout freed them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes of request bodies in flight, across every connection. A request reserves what it
/// declares (`Content-Length`) before reading anything, or what arrives as it arrives (chunked);
/// over the budget it is answered 503 with `Retry-After` at once.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    limit: u64,
    used: AtomicU64,
}

/// Part of the budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct Reserved {
    budget: Arc<BodyBudget>,
    bytes: u64,
}

impl BodyBudget {
    pub(crate) fn new(limit: u64) -> Arc<Self> {
        Arc::new(Self { limit, used: AtomicU64::new(0) })
    }

    /// Reserves `bytes`, or `None` when that would pass the budget.
    pub(crate) fn reserve(self: &Arc<Self>, bytes: u64) -> Option<Reserved> {
        let mut r = Reserved { budget: Arc::clone(self), bytes: 0 };
        r.grow(bytes).then_some(r)
    }
}

impl Reserved {
    /// Bytes held.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reserves `bytes` more; `false` (and nothing more reserved) when over the budget.
    pub(crate) fn grow(&mut self, bytes: u64) -> bool {
        let b = &self.budget;
        let mut used = b.used.load(Ordering::Acquire);
        loop {
            let Some(next) = used.checked_add(bytes).filter(|n| *n <= b.limit) else { return false };
            match b.used.compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.bytes += bytes;
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Open connections, up to a cap: past it a new connection is closed at once (the sender sees
/// a reset and retries) instead of waiting for a file descriptor held by an idle one.
#[derive(Debug)]
pub(crate) struct ConnectionCap {
    limit: usize,
    open: AtomicUsize,
    /// The listeners it counts (`webhooks`, `api`), for the refusal metric.
    name: &'static str,
    /// The setting that sets `limit`, for the refusal log line.
    setting: &'static str,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub(crate) struct Open(Arc<ConnectionCap>);

impl ConnectionCap {
    pub(crate) fn new(limit: usize, name: &'static str, setting: &'static str) -> Arc<Self> {
        Arc::new(Self { limit, open: AtomicUsize::new(0), name, setting })
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn setting(&self) -> &'static str {
        self.setting
    }

    /// Counts a new connection, or `None` when the cap is reached.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Open> {
        let mut open = self.open.load(Ordering::Acquire);
        loop {
            if open >= self.limit {
                return None;
            }
            match self.open.compare_exchange_weak(open, open + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(Open(Arc::clone(self))),
                Err(now) => open = now,
            }
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_budget_is_shared_and_given_back() {
        let b = BodyBudget::new(100);
        let first = b.reserve(60).unwrap();
        assert!(b.reserve(41).is_none());
        let mut second = b.reserve(40).unwrap();
        assert!(!second.grow(1), "nothing is left");
        drop(first);
        assert!(second.grow(60));
        assert!(b.reserve(1).is_none());
        drop(second);
        assert!(b.reserve(100).is_some());
        assert!(b.reserve(u64::MAX).is_none(), "no overflow");
    }

    #[test]
    fn connections_past_the_cap_are_refused_until_one_closes() {
        let cap = ConnectionCap::new(2, "webhooks", "server.max_connections");
        let a = cap.admit().unwrap();
        let _b = cap.admit().unwrap();
        assert!(cap.admit().is_none());
        drop(a);
        assert_eq!(cap.open(), 1);
        assert!(cap.admit().is_some());
    }
}
