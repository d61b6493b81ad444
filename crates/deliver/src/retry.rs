//! When a failed delivery is tried again: exponential backoff with jitter, at least what the
//! target asked for (`Retry-After`), and dead after the last attempt.

use std::time::{Duration, SystemTime};

use crate::config::RetryConfig;

/// A target's retry policy, built from its `retry` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; then the delivery is dead.
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_delay: Duration,
    /// Longest delay.
    pub max_delay: Duration,
}

impl From<&RetryConfig> for RetryPolicy {
    fn from(c: &RetryConfig) -> Self {
        Self {
            max_attempts: c.max_attempts,
            initial_delay: Duration::from_millis(c.initial_delay_ms),
            max_delay: Duration::from_millis(c.max_delay_ms),
        }
    }
}

impl RetryPolicy {
    /// Whether a delivery that has failed `failed_attempts` times gets another attempt.
    pub fn allows_another(&self, failed_attempts: i64) -> bool {
        failed_attempts < i64::from(self.max_attempts)
    }

    /// Delay before attempt `n + 1` after `n` failed attempts: initial × 3^(n-1), capped, then
    /// moved by `spread_percent` (−20..=20, from the worker's jitter): retries of a burst that
    /// failed together spread out instead of arriving together.
    pub fn delay(&self, failed_attempts: i64, spread_percent: i64) -> Duration {
        let exp = u32::try_from(failed_attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let initial = u64::try_from(self.initial_delay.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        let base = initial.saturating_mul(3u64.saturating_pow(exp)).min(max);
        let spread = i128::from(spread_percent.clamp(-20, 20));
        let jittered = i128::from(base) * (100 + spread) / 100;
        Duration::from_millis(u64::try_from(jittered.max(0)).unwrap_or(u64::MAX))
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (measured from `now`), capped at a day.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or_default(),
    };
    Some(delay.min(Duration::from_secs(24 * 3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_or_http_date() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("9999999", now), Some(Duration::from_secs(24 * 3600)));
        let in_a_minute = httpdate::fmt_http_date(now + Duration::from_secs(61));
        let d = parse_retry_after(&in_a_minute, now).unwrap();
        assert!(d > Duration::from_secs(59) && d <= Duration::from_secs(61), "{d:?}");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_triples_up_to_the_cap_and_jitter_stays_within_a_fifth() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
        };
        assert_eq!(p.delay(1, 0), Duration::from_secs(10));
        assert_eq!(p.delay(2, 0), Duration::from_secs(30));
        assert_eq!(p.delay(3, 0), Duration::from_secs(90));
        assert_eq!(p.delay(9, 0), Duration::from_secs(3600));
        assert_eq!(p.delay(60, 0), Duration::from_secs(3600));
        assert_eq!(p.delay(1, 20), Duration::from_secs(12));
        assert_eq!(p.delay(1, -20), Duration::from_secs(8));
        assert_eq!(p.delay(1, 99), Duration::from_secs(12), "the spread is clamped");
        assert!(p.allows_another(9) && !p.allows_another(10));
    }
}
