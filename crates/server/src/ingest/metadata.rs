//! Routing metadata: the fields a source reads from a verified JSON body — its scheme's own
//! (`Scheme::metadata`: Flinks' `ResponseType`, `Tag`, …) plus the source's `metadata` table.

use hookgate_verify::{MetadataParse, MetadataSpec};
use serde_json::{Map, Value};

/// The metadata value of `field`, from the JSON value at its pointer.
pub(crate) fn value_of(field: &MetadataSpec, found: Value) -> Value {
    match (field.parse, found) {
        (MetadataParse::Pairs, Value::String(s)) => pairs(&s),
        (_, v) => v,
    }
}

/// A `k=v,k=v` string as an object (Flinks `Tag`).
fn pairs(text: &str) -> Value {
    let mut map = Map::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        map.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flinks_tag_pairs() {
        assert_eq!(pairs("userId=12345,session=abc"), serde_json::json!({"userId": "12345", "session": "abc"}));
        assert_eq!(pairs(" a = 1 ,, b"), serde_json::json!({"a": "1", "b": ""}));
    }
}
