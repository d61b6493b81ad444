//! What the viewer role sees of a Tag value that looks like personal data (an e-mail address, a
//! phone, a SIN, a card, a postal code: `ingest::pii`): `***` in the metadata and in the body,
//! the rest of the body byte for byte. Operators and admins see the event as stored. The stored
//! event is never changed; the flag on the event (`pii`) says which keys were flagged.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::ingest::pii::classify;

/// What a masked value is shown as.
pub(crate) const MASK: &str = "***";

/// A `k=v,k=v` text with each value that looks like personal data (or a bare part that does) as
/// `***`, everything else as written; `None` when nothing needed masking.
pub(crate) fn mask_pairs(text: &str) -> Option<String> {
    let mut changed = false;
    let items: Vec<Cow<'_, str>> = text
        .split(',')
        .map(|item| match item.split_once('=') {
            Some((k, v)) if classify(v.trim()).is_some() => {
                changed = true;
                Cow::Owned(format!("{k}={MASK}"))
            }
            None if classify(item.trim()).is_some() => {
                changed = true;
                Cow::Borrowed(MASK)
            }
            _ => Cow::Borrowed(item),
        })
        .collect();
    changed.then(|| items.join(","))
}

/// The metadata's pairs fields (`tag`) with their flagged values (or flagged bare keys) masked.
pub(crate) fn mask_metadata(metadata: &mut Value, pairs_fields: &[String]) {
    for name in pairs_fields {
        let Some(Value::Object(pairs)) = metadata.get_mut(name) else { continue };
        let masked: serde_json::Map<String, Value> = std::mem::take(pairs)
            .into_iter()
            .map(|(k, v)| match v.as_str() {
                Some("") if classify(&k).is_some() => (MASK.to_owned(), v),
                Some(text) if classify(text).is_some() => (k, Value::String(MASK.to_owned())),
                _ => (k, v),
            })
            .collect();
        *pairs = masked;
    }
}

/// The body with the string at each pointer (a pairs field: Flinks' `/Tag`) masked as
/// [`mask_pairs`] does, every other byte as received; `None` when nothing needed masking (or the
/// body is not JSON).
pub(crate) fn mask_body(body: &[u8], pointers: &[String]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for pointer in pointers {
        let Some(raw) = find(text, pointer) else { continue };
        let Ok(value) = serde_json::from_str::<String>(raw.get()) else { continue };
        let Some(masked) = mask_pairs(&value) else { continue };
        // `raw` borrows from `text`: its place in the body is where its slice starts.
        let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        spans.push((start, start + raw.get().len(), serde_json::to_string(&masked).ok()?));
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|s| s.0);
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    for (start, end, replacement) in spans {
        if start < at {
            continue;
        }
        out.extend_from_slice(&body[at..start]);
        out.extend_from_slice(replacement.as_bytes());
        at = end;
    }
    out.extend_from_slice(&body[at..]);
    Some(out)
}

/// The raw JSON value at an RFC 6901 pointer, borrowed from `text` (objects only: a pairs field
/// is never inside an array); the last of duplicate keys, as ingest reads them.
fn find<'a>(text: &'a str, pointer: &str) -> Option<&'a RawValue> {
    let mut here: &'a RawValue = serde_json::from_str(text).ok()?;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let members: BTreeMap<Cow<'a, str>, &'a RawValue> = serde_json::from_str(here.get()).ok()?;
        here = members.get(token.as_str()).copied()?;
    }
    Some(here)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_looks_like_personal_data_is_masked() {
        assert_eq!(
            mask_pairs("userId=12345,email=bob@example.com, session=abc").as_deref(),
            Some("userId=12345,email=***, session=abc")
        );
        assert_eq!(mask_pairs("bob@example.com,userId=1").as_deref(), Some("***,userId=1"));
        assert_eq!(mask_pairs("userId=12345,order=550e8400-e29b-41d4-a716-446655440000"), None);
    }

    #[test]
    fn the_body_is_masked_at_the_pointer_and_exact_elsewhere() {
        let body = br#"{"Amount":12.50, "Tag":"userId=1,email=bob@example.com","Login":{"Id":"x"}}"#;
        let masked = mask_body(body, &["/Tag".into()]).unwrap();
        assert_eq!(masked, br#"{"Amount":12.50, "Tag":"userId=1,email=***","Login":{"Id":"x"}}"#.to_vec());
        let nested = br#"{"a":{"t\/x":"phone=+14165550123"}}"#;
        assert_eq!(mask_body(nested, &["/a/t~1x".into()]).unwrap(), br#"{"a":{"t\/x":"phone=***"}}"#.to_vec());
        assert_eq!(mask_body(br#"{"Tag":"userId=1"}"#, &["/Tag".into()]), None);
        assert_eq!(mask_body(b"not json", &["/Tag".into()]), None);
    }

    #[test]
    fn metadata_values_and_bare_keys_are_masked() {
        let mut m =
            serde_json::json!({"tag": {"userId": "1", "email": "bob@example.com", "bob@example.com": ""}, "x": 1});
        mask_metadata(&mut m, &["tag".into()]);
        assert_eq!(m, serde_json::json!({"tag": {"userId": "1", "email": "***", "***": ""}, "x": 1}));
    }
}
