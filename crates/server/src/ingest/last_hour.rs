//! Per source, the requests of the last hour minute by minute (accepted, duplicate, refused), for
//! the console's overview chart. Kept in memory by each gateway for the requests it answered: a
//! few atomics per request, no store query to draw the chart.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// How a request ended, as the chart counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Accepted,
    Duplicate,
    /// Any refusal: a bad signature, too large, malformed, or the store unavailable.
    Refused,
}

#[derive(Default)]
struct Bucket {
    /// The Unix minute these counts are for.
    minute: AtomicI64,
    counts: [AtomicU64; 3],
}

/// Sixty one-minute buckets, reused in turn.
pub(crate) struct LastHour {
    buckets: [Bucket; 60],
}

impl std::fmt::Debug for LastHour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastHour").finish_non_exhaustive()
    }
}

impl Default for LastHour {
    fn default() -> Self {
        Self { buckets: std::array::from_fn(|_| Bucket::default()) }
    }
}

/// One minute's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Minute {
    /// Unix minute.
    pub(crate) minute: i64,
    /// Events stored.
    pub(crate) accepted: u64,
    /// Provider retries of a stored event.
    pub(crate) duplicate: u64,
    /// Requests refused.
    pub(crate) refused: u64,
}

impl LastHour {
    /// Counts one request that ended at Unix minute `minute`.
    pub(crate) fn record(&self, kind: Kind, minute: i64) {
        let b = &self.buckets[minute.rem_euclid(60) as usize];
        let seen = b.minute.load(Ordering::Acquire);
        if seen != minute && b.minute.compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // The first request of a new minute empties the bucket an hour old. (A request that
            // lands between the swap and the reset is lost to the chart, never to the store.)
            for c in &b.counts {
                c.store(0, Ordering::Release);
            }
        }
        b.counts[kind as usize].fetch_add(1, Ordering::AcqRel);
    }

    /// The sixty minutes ending with `now_minute`, oldest first (zeros where nothing came).
    pub(crate) fn minutes(&self, now_minute: i64) -> Vec<Minute> {
        (now_minute - 59..=now_minute)
            .map(|minute| {
                let b = &self.buckets[minute.rem_euclid(60) as usize];
                if b.minute.load(Ordering::Acquire) != minute {
                    return Minute { minute, ..Minute::default() };
                }
                let n = |k: Kind| b.counts[k as usize].load(Ordering::Acquire);
                Minute { minute, accepted: n(Kind::Accepted), duplicate: n(Kind::Duplicate), refused: n(Kind::Refused) }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_minute_and_forgets_what_is_an_hour_old() {
        let h = LastHour::default();
        h.record(Kind::Accepted, 1000);
        h.record(Kind::Accepted, 1000);
        h.record(Kind::Refused, 1001);
        h.record(Kind::Duplicate, 1059);
        let m = h.minutes(1059);
        assert_eq!(m.len(), 60);
        assert_eq!((m[0].minute, m[0].accepted), (1000, 2));
        assert_eq!(m[1].refused, 1);
        assert_eq!(m[59].duplicate, 1);
        // An hour on, minute 1000's bucket is minute 1060's: reset before counting.
        h.record(Kind::Accepted, 1060);
        let m = h.minutes(1060);
        assert_eq!((m[59].minute, m[59].accepted), (1060, 1));
        assert_eq!(m[0].minute, 1001);
        assert!(h.minutes(2000).iter().all(|m| m.accepted + m.duplicate + m.refused == 0), "nothing in a later hour");
    }
}
