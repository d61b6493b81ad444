//! The one time syntax every surface takes (CLI flags, the operator API's `since` / `until`, job
//! filters, the console): RFC 3339, Unix seconds, or an age — `90s`, `15m`, `1h`, `2d`, `1w`
//! before now. One grammar, so a time that works in one place works in all of them.

use hookgate_verify::{Timestamp, TimestampFormat};

/// What a time must look like, for error messages.
pub const EXPECTED: &str = "RFC 3339, Unix seconds, or an age like 90s, 15m, 1h, 2d, 1w";

/// `text` as Unix ms, ages counted back from `now_ms`; `None` when it is none of the forms.
pub fn parse_at(text: &str, now_ms: i64) -> Option<i64> {
    if let Some(ts) =
        Timestamp::parse(text, TimestampFormat::Rfc3339).or_else(|| Timestamp::parse(text, TimestampFormat::Seconds))
    {
        return Some(ts.unix_millis());
    }
    age_ms(text).map(|age| now_ms.saturating_sub(age))
}

/// `text` as Unix ms, ages counted back from now.
pub fn parse(text: &str) -> Option<i64> {
    parse_at(text, Timestamp::now().unix_millis())
}

/// Whether `text` is an age (relative to now) rather than a point in time.
pub fn is_age(text: &str) -> bool {
    age_ms(text).is_some()
}

/// An age or a duration (`15m`, `30d`) in ms; `None` when `text` is not one.
pub fn age_ms(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let secs_per: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - unit.len_utf8()];
    // Digits only: `+1h`, `-1h`, ` 1h` are not ages (`i64::from_str` would take a sign).
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|n| n.saturating_mul(secs_per * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn every_form() {
        assert_eq!(parse_at("2023-11-14T22:13:20Z", NOW), Some(NOW));
        assert_eq!(parse_at("1700000000", NOW), Some(NOW));
        assert_eq!(parse_at("90s", NOW), Some(NOW - 90_000));
        assert_eq!(parse_at("15m", NOW), Some(NOW - 900_000));
        assert_eq!(parse_at("1h", NOW), Some(NOW - 3_600_000));
        assert_eq!(parse_at("2d", NOW), Some(NOW - 2 * 86_400_000));
        assert_eq!(parse_at("1w", NOW), Some(NOW - 7 * 86_400_000));
        assert!(is_age("1h") && !is_age("1700000000"));
    }

    #[test]
    fn refuses_what_is_none_of_them() {
        for bad in ["", "h", "1y", "-1h", "+1h", " 1h", "1.5h", "1hh", "yesterday", "1é"] {
            assert_eq!(parse_at(bad, NOW), None, "{bad:?}");
        }
    }
}
