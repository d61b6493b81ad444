//! Bodies for `hookgate send --generate`, shaped like the chosen provider's events from the
//! scheme's own facts, not a copy per provider: the provider id where the scheme reads it
//! (Stripe's `/id`, Paddle's `/event_id`), the event type where it reads it (`/type`, `/event`, or a
//! header such as GitHub's `X-GitHub-Event`), and Flinks' own shape for Flinks. Each body is
//! distinct, so the gateway stores every one (none is a duplicate).

use hookgate_verify::Scheme;
use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

/// Event types cycled through for providers without a shape of their own here.
const TYPES: [&str; 3] = ["hookgate.test.created", "hookgate.test.updated", "hookgate.test.deleted"];

/// The `i`-th generated body for `scheme`.
pub(crate) fn body(scheme: &Scheme, i: u64) -> Vec<u8> {
    if scheme.name.starts_with("flinks") && scheme.name != "flinks-pay" {
        return flinks(i);
    }
    let mut doc = Value::Object(Map::new());
    if let Some(pointer) = &scheme.id_pointer {
        set(&mut doc, pointer, json!(format!("evt_{}", hex_id(i))));
    }
    if let Some(pointer) = &scheme.event_type_pointer {
        set(&mut doc, pointer, json!(TYPES[usize::try_from(i % 3).unwrap_or(0)]));
    }
    set(&mut doc, "/created", json!(hookgate_verify::Timestamp::now().unix_secs()));
    set(&mut doc, "/data/object/sequence", json!(i));
    set(&mut doc, "/data/object/reference", json!(format!("ref-{}-{i}", std::process::id())));
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// The header a scheme reads its event type from (GitHub's `X-GitHub-Event`), with a type, unless
/// the caller set it with `-H`.
pub(crate) fn add_type_header(scheme: &Scheme, headers: &mut HeaderMap) {
    let Some(name) = &scheme.event_type_header else { return };
    let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else { return };
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(TYPES[0]));
    }
}

/// A distinct Flinks-shaped webhook body (the shape of the Flinks guide's example).
fn flinks(i: u64) -> Vec<u8> {
    let kinds = ["GetAccountsDetail", "KYC", "GetAccountsSummary"];
    format!(
        r#"{{"RequestId":"{i:08}-{pid}","ResponseType":"{kind}","HttpStatusCode":200,"Tag":"userId={user},session=s{i}","Login":{{"Id":"{login}"}},"Accounts":[]}}"#,
        pid = std::process::id(),
        kind = kinds[usize::try_from(i % 3).unwrap_or(0)],
        user = 10_000 + i % 500,
        login = hex_id(i),
    )
    .into_bytes()
}

/// 32 hex digits unique to `i` (and this process, so two runs never collide).
fn hex_id(i: u64) -> String {
    let mut h = sha2::Sha256::new();
    h.update(i.to_be_bytes());
    h.update(std::process::id().to_be_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Puts `value` at the RFC 6901 `pointer`, making the objects on the way.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let keys: Vec<String> = pointer.split('/').skip(1).map(|k| k.replace("~1", "/").replace("~0", "~")).collect();
    let Some((last, path)) = keys.split_last() else { return };
    let mut at = doc;
    for k in path {
        if !at.get(k).is_some_and(Value::is_object) {
            at[k.as_str()] = Value::Object(Map::new());
        }
        at = &mut at[k.as_str()];
    }
    at[last.as_str()] = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_provider_id_and_type_where_the_scheme_reads_them() {
        let stripe = hookgate_verify::preset("stripe").unwrap();
        let v: Value = serde_json::from_slice(&body(&stripe, 4)).unwrap();
        assert!(v["id"].as_str().unwrap().starts_with("evt_") && v["type"] == "hookgate.test.updated", "{v}");
        assert_ne!(body(&stripe, 4), body(&stripe, 5), "each body distinct");
        let zoom = hookgate_verify::preset("zoom").unwrap();
        let v: Value = serde_json::from_slice(&body(&zoom, 0)).unwrap();
        assert_eq!(v["event"], "hookgate.test.created", "never a handshake: {v}");
        let github = hookgate_verify::preset("github").unwrap();
        let mut headers = HeaderMap::new();
        add_type_header(&github, &mut headers);
        assert_eq!(headers["x-github-event"], "hookgate.test.created");
        let flinks: Value = serde_json::from_slice(&body(&hookgate_verify::preset("flinks").unwrap(), 1)).unwrap();
        assert_eq!(flinks["ResponseType"], "KYC");
    }
}
