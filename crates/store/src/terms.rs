//! The metadata index: every scalar an event's metadata holds, as a 64-bit term of its path and
//! value, indexed with the event so a search for a rare value (one user's events out of a
//! million) reads the few events that carry it instead of every event.
//!
//! Both stores keep it in an inverted index that takes inserts in sequence, not one random
//! B-tree insert per term (which multiplied what each commit writes): SQLite a contentless FTS5
//! table of hex tokens (new postings go to a small segment per transaction, merged later),
//! PostgreSQL a GIN index over `events.terms` (new entries go to its pending list first).
//!
//! A term is a necessary condition, not the match itself: the gateway still evaluates its filter
//! on each event the index yields, so a hash collision costs a wasted read, never a wrong result.
//! What makes it necessary is that the terms follow the filter language's rules: arrays are
//! looked through (a scalar in a filter matches an array holding it; a key matches any of an
//! array's objects), and numbers are equal by value (`1` and `1.0` are one term).

use serde_json::Value;

/// A metadata value an event must carry for a query to return it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataTerm {
    /// The metadata field's name, then the keys inside its value (arrays are looked through).
    pub path: Vec<String>,
    /// A scalar: a string, a number, a boolean or `null`.
    pub value: Value,
}

impl MetadataTerm {
    /// The term's hash; `None` for a value that is not a scalar (never indexed).
    pub fn hash(&self) -> Option<i64> {
        hash(self.path.iter().map(String::as_str), &self.value)
    }
}

/// The key under which the gateway copies an event's type into its metadata (for routing): the
/// event's `event_type` column already answers a search by type, so the index leaves it out.
const EVENT_TYPE_KEY: &str = "event_type";

/// The terms of one event's metadata (a JSON object), each once, sorted.
pub(crate) fn of_metadata(metadata: &Value) -> Vec<i64> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    match metadata {
        Value::Object(fields) => {
            for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != EVENT_TYPE_KEY) {
                path.push(k.as_str());
                collect(v, &mut path, &mut out);
                path.pop();
            }
        }
        other => collect(other, &mut path, &mut out),
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn collect<'a>(value: &'a Value, path: &mut Vec<&'a str>, out: &mut Vec<i64>) {
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                path.push(k);
                collect(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for item in items {
                collect(item, path, out);
            }
        }
        // The top level is an object of fields; a bare scalar there has no name to search by.
        scalar if !path.is_empty() => {
            if let Some(h) = hash(path.iter().copied(), scalar) {
                out.push(h);
            }
        }
        _ => {}
    }
}

/// A term carried by fewer events than this narrows a query through the index; a commoner one
/// does not (walking the events in order meets it soon enough, and the filter checks it).
pub(crate) const RARE_BELOW: i64 = 5_000;

/// The terms a query narrows with, given how many events carry each (counted up to
/// [`RARE_BELOW`]): all of them when one is rare (the index intersects them), none otherwise.
pub(crate) fn narrowing(terms: Vec<i64>, counts: &[i64]) -> Vec<i64> {
    if counts.iter().any(|c| *c < RARE_BELOW) { terms } else { Vec::new() }
}

/// The full-text row of one event's metadata (SQLite): its terms as tokens, space-separated;
/// empty when it has none.
pub(crate) fn tokens(metadata: &Value) -> String {
    use std::fmt::Write as _;
    let terms = of_metadata(metadata);
    let mut out = String::with_capacity(terms.len() * 17);
    for t in terms {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{:016x}", t as u64);
    }
    out
}

/// A term as an SQLite full-text token (16 hex digits).
pub(crate) fn token(term: i64) -> String {
    format!("{:016x}", term as u64)
}

/// The hashes of a query's terms (a non-scalar value, never indexed, is dropped: fewer conditions
/// still find every match).
pub(crate) fn of_query(terms: &[MetadataTerm]) -> Vec<i64> {
    let mut out: Vec<i64> = terms.iter().filter_map(MetadataTerm::hash).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a over the path's keys and the value's canonical form. Stable across versions: the index
/// is written once per event and read by every later release.
fn hash<'a>(path: impl Iterator<Item = &'a str>, value: &Value) -> Option<i64> {
    let mut h = Fnv::new();
    for key in path {
        h.write(key.as_bytes());
        // A separator no key contains unescaped, so `a.b` and `ab` differ.
        h.write(&[0]);
    }
    h.write(&[1]);
    match value {
        Value::String(s) => {
            h.write(b"s");
            h.write(s.as_bytes());
        }
        Value::Number(n) => {
            // Numbers by value: the filter compares them as f64, so `1`, `1.0` and `1e0` meet.
            let x = n.as_f64()?;
            let x = if x == 0.0 { 0.0 } else { x }; // -0 equals 0
            h.write(b"n");
            h.write(&x.to_bits().to_be_bytes());
        }
        Value::Bool(b) => h.write(if *b { b"t" } else { b"f" }),
        Value::Null => h.write(b"z"),
        Value::Array(_) | Value::Object(_) => return None,
    }
    Some(h.finish() as i64)
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn term(path: &[&str], value: Value) -> i64 {
        MetadataTerm { path: path.iter().map(|s| (*s).to_owned()).collect(), value }.hash().unwrap()
    }

    #[test]
    fn every_scalar_once_arrays_looked_through() {
        let m = json!({"tag": {"userId": "12345", "channel": "web"}, "codes": [1, 2, 2],
                       "accounts": [{"id": "a"}, {"id": "b"}], "n": null});
        let terms = of_metadata(&m);
        for (path, value) in [
            (&["tag", "userId"][..], json!("12345")),
            (&["tag", "channel"], json!("web")),
            (&["codes"], json!(1)),
            (&["codes"], json!(2)),
            (&["accounts", "id"], json!("a")),
            (&["accounts", "id"], json!("b")),
            (&["n"], Value::Null),
        ] {
            assert!(terms.contains(&term(path, value.clone())), "{path:?} = {value}");
        }
        assert_eq!(terms.len(), 7, "one term per distinct (path, value)");
        let typed = of_metadata(&json!({"event_type": "KYC", "response_type": "KYC"}));
        assert_eq!(typed, vec![term(&["response_type"], json!("KYC"))], "the type is the event's column");
        assert!(!terms.contains(&term(&["tag", "userId"], json!(12345))), "a string is not the number");
        assert!(!terms.contains(&term(&["tag"], json!("12345"))), "the path is part of the term");
    }

    #[test]
    fn numbers_by_value() {
        assert_eq!(term(&["a"], json!(1)), term(&["a"], json!(1.0)));
        assert_eq!(term(&["a"], json!(0)), term(&["a"], json!(-0.0)));
        assert_ne!(term(&["a"], json!(1)), term(&["a"], json!(2)));
        assert_ne!(term(&["a", "b"], json!(1)), term(&["ab"], json!(1)));
        assert!(MetadataTerm { path: vec!["a".into()], value: json!([1]) }.hash().is_none());
    }

    #[test]
    fn stable_across_releases() {
        // The index on disk was written with these values: changing the hash needs a migration.
        assert_eq!(term(&["tag", "userId"], json!("12345")), -1_232_707_512_642_906_684);
    }
}
