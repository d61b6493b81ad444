//! Signed timestamps: parsing, formatting and the replay window.
//!
//! The clock is always a parameter ([`Timestamp`] `now`), never read here, so verification is
//! deterministic and tests can sit exactly on a tolerance boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point in time as Unix milliseconds (HubSpot signs milliseconds; everyone else seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From Unix seconds.
    pub const fn from_unix_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// From Unix milliseconds.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// The current system time.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    /// Unix seconds (rounded toward negative infinity).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Unix milliseconds.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Parses a timestamp written in `format`. `None` for anything else, including values outside
    /// years 0000–9999.
    pub fn parse(text: &str, format: TimestampFormat) -> Option<Self> {
        // No provider sends more than an RFC 3339 string with nanoseconds (~35 bytes); a long value is
        // hostile, and refusing it early bounds the work.
        if text.is_empty() || text.len() > 64 {
            return None;
        }
        match format {
            TimestampFormat::Seconds => parse_int(text).and_then(|s| s.checked_mul(1000)).map(Self),
            TimestampFormat::Milliseconds => parse_int(text).map(Self),
            TimestampFormat::Rfc3339 => parse_rfc3339(text.as_bytes()).map(Self),
        }
    }

    /// Writes the timestamp the way a provider would send it.
    pub fn format(self, format: TimestampFormat) -> String {
        match format {
            TimestampFormat::Seconds => self.unix_secs().to_string(),
            TimestampFormat::Milliseconds => self.0.to_string(),
            TimestampFormat::Rfc3339 => self.to_rfc3339(),
        }
    }

    /// RFC 3339 in UTC with milliseconds when they are not zero (`2026-11-22T10:00:00Z`).
    pub fn to_rfc3339(self) -> String {
        let secs = self.unix_secs();
        let millis = self.0.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
        if millis == 0 {
            format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
        } else {
            format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// How a provider writes its timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Decimal Unix seconds (`1614265330`).
    Seconds,
    /// Decimal Unix milliseconds (`1614265330123`).
    Milliseconds,
    /// RFC 3339 (`2019-11-16T10:11:12.634234626Z`, offsets allowed).
    Rfc3339,
}

/// Which side of `now` the tolerance applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Reject timestamps more than the tolerance before or after `now` (Standard Webhooks, Slack).
    #[default]
    Symmetric,
    /// Reject only timestamps older than the tolerance; future ones pass (Stripe, Twitch, HubSpot).
    PastOnly,
}

/// Outcome of a window check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Age {
    Fresh,
    TooOld,
    TooNew,
}

pub(crate) fn check_window(signed: Timestamp, now: Timestamp, tolerance_secs: u64, window: Window) -> Age {
    let tolerance = i64::try_from(tolerance_secs).unwrap_or(i64::MAX).saturating_mul(1000);
    let age = now.0.saturating_sub(signed.0);
    if age > tolerance {
        Age::TooOld
    } else if window == Window::Symmetric && age < -tolerance {
        Age::TooNew
    } else {
        Age::Fresh
    }
}

/// Strict decimal: optional leading `-`, digits only (no `+`, spaces or underscores).
fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// RFC 3339 `date-time` → Unix milliseconds (fraction truncated to milliseconds).
fn parse_rfc3339(s: &[u8]) -> Option<i64> {
    if s.len() < 20
        || s[4] != b'-'
        || s[7] != b'-'
        || !matches!(s[10], b'T' | b't' | b' ')
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    let (h, mi, sec) = (digits(&s[11..13])?, digits(&s[14..16])?, digits(&s[17..19])?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let ms_digits = &frac[..n.min(3)];
        millis = digits(ms_digits)? * 10i64.pow(3 - u32::try_from(ms_digits.len()).ok()?);
        rest = &frac[n..];
    }
    let offset_secs = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let (oh, om) = (digits(&[*oh1, *oh2])?, digits(&[*om1, *om2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    // A leap second (:60) is read as the next second, which is what providers mean by it.
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        let p = |s: &str| Timestamp::parse(s, TimestampFormat::Rfc3339).map(Timestamp::unix_millis);
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("2019-11-16T10:11:12.634234626Z"), Some(1_573_899_072_634));
        assert_eq!(p("2019-11-16T10:11:12.6Z"), Some(1_573_899_072_600));
        assert_eq!(p("2019-11-16T12:11:12+02:00"), Some(1_573_899_072_000));
        assert_eq!(p("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        for bad in [
            "2019-02-29T00:00:00Z",
            "2019-11-16T10:11:12",
            "2019-11-16T24:00:00Z",
            "2019-11-16T10:11:12.Z",
            "2019-11-16T10:11:12+2:00",
            "2019-1-16T10:11:12Z",
            "",
            "x019-11-16T10:11:12Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        for ms in [0, 1_573_899_072_634, 951_782_400_000, 4_102_444_799_999, -86_400_000] {
            let t = Timestamp::from_unix_millis(ms);
            assert_eq!(Timestamp::parse(&t.to_rfc3339(), TimestampFormat::Rfc3339), Some(t));
        }
    }

    #[test]
    fn integers_are_strict() {
        let s = |t: &str| Timestamp::parse(t, TimestampFormat::Seconds);
        assert_eq!(s("1614265330"), Some(Timestamp::from_unix_secs(1_614_265_330)));
        for bad in ["+1", " 1", "1 ", "1e3", "0x10", "", "-", "99999999999999999999"] {
            assert_eq!(s(bad), None, "{bad}");
        }
    }

    #[test]
    fn window_boundaries() {
        let now = Timestamp::from_unix_secs(1_000_000);
        let at = |d: i64| Timestamp::from_unix_secs(1_000_000 + d);
        assert_eq!(check_window(at(-300), now, 300, Window::Symmetric), Age::Fresh);
        assert_eq!(check_window(at(-301), now, 300, Window::Symmetric), Age::TooOld);
        assert_eq!(check_window(at(300), now, 300, Window::Symmetric), Age::Fresh);
        assert_eq!(check_window(at(301), now, 300, Window::Symmetric), Age::TooNew);
        assert_eq!(check_window(at(100_000), now, 300, Window::PastOnly), Age::Fresh);
        assert_eq!(check_window(at(-301), now, 300, Window::PastOnly), Age::TooOld);
    }
}
