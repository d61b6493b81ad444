//! Rate-limited logging of a failure that repeats for every request: while a disk is full each
//! webhook failed with two ERROR lines (8,936 lines in 25 s), which buries the first one and fills
//! the disk that holds the logs. One line per interval, with the count of those left out.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most one log line per interval for one call site.
#[derive(Debug)]
pub struct LogThrottle {
    every_ms: i64,
    /// When the next line may be written (ms on a process-wide monotonic clock).
    next_ms: AtomicI64,
    suppressed: AtomicU64,
}

fn now_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    i64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl LogThrottle {
    /// One line per `every`.
    #[must_use]
    pub const fn new(every: Duration) -> Self {
        Self { every_ms: every.as_millis() as i64, next_ms: AtomicI64::new(0), suppressed: AtomicU64::new(0) }
    }

    /// `Some(n)`: log this one, saying `n` like it were left out since the last line; `None`:
    /// leave it out.
    pub fn admit(&self) -> Option<u64> {
        let now = now_ms();
        let next = self.next_ms.load(Ordering::Acquire);
        if now >= next
            && self.next_ms.compare_exchange(next, now + self.every_ms, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::AcqRel));
        }
        self.suppressed.fetch_add(1, Ordering::AcqRel);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_left_out() {
        let t = LogThrottle::new(Duration::from_millis(200));
        assert_eq!(t.admit(), Some(0));
        assert_eq!((0..50).filter_map(|_| t.admit()).count(), 0);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(t.admit(), Some(50));
        assert_eq!(t.admit(), None);
    }
}
