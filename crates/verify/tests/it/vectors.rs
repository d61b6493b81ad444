//! Known-answer vectors from providers' documentation and SDK test suites (`tests/vectors.toml`;
//! provenance in `tests/VECTORS.md`). Each vector is checked both ways: the published signature
//! verifies, and signing the same input reproduces it byte for byte.

use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Scheme, SignOptions, Timestamp, WebhookRequest, preset};
use serde::Deserialize;

use crate::support::{auth, headers, with_signing};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    scheme: String,
    source: String,
    secret: String,
    /// Further keys on the same source (a `whsec_` secret beside a `whpk_` key).
    #[serde(default)]
    more_secrets: Vec<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_hex: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default = "post")]
    method: String,
    now: i64,
    headers: Vec<(String, String)>,
    /// `valid`, or the rejection code expected.
    expect: String,
    /// Check that signing reproduces the headers (off when the vector's headers are not exactly
    /// what `sign` writes, e.g. several signatures in one header).
    #[serde(default = "yes")]
    resign: bool,
    #[serde(default)]
    allow_sha1: bool,
}

fn post() -> String {
    "POST".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct File {
    vector: Vec<Vector>,
}

fn body(v: &Vector) -> Vec<u8> {
    match (&v.body, &v.body_hex) {
        (Some(b), None) => b.as_bytes().to_vec(),
        (None, Some(h)) => (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect(),
        _ => panic!("{}: exactly one of body, body_hex", v.source),
    }
}

#[test]
fn published_vectors() {
    let file: File = toml::from_str(include_str!("../vectors.toml")).unwrap();
    let mut per_scheme = std::collections::BTreeMap::<String, usize>::new();
    for v in &file.vector {
        let scheme = preset(&v.scheme).unwrap_or_else(|| panic!("unknown scheme {}", v.scheme));
        let scheme = if v.allow_sha1 { with_signing(scheme, |s| s.allow_sha1 = true) } else { scheme };
        let keys: Vec<&str> =
            std::iter::once(v.secret.as_str()).chain(v.more_secrets.iter().map(String::as_str)).collect();
        let verifier = auth(scheme.clone(), &keys);
        let body = body(v);
        let h = headers(&v.headers);
        let mut req = WebhookRequest::new(&h, &body).with_method(&v.method);
        if let Some(url) = &v.url {
            req = req.with_url(url);
        }
        let got = verifier.verify(&req, Timestamp::from_unix_secs(v.now));
        match (&got, v.expect.as_str()) {
            (Ok(_), "valid") => {}
            (Err(e), code) if e.code() == code => {}
            _ => panic!("{} ({}): expected {}, got {got:?}", v.scheme, v.source, v.expect),
        }
        if v.expect == "valid" && v.resign {
            match &verifier {
                hookgate_verify::Auth::Signature(sig) => resign_matches(v, &scheme, sig, &body, &h),
                // A credential kind "signs" by sending the credential: the vector's header exactly.
                other => {
                    let out =
                        other.sign(&WebhookRequest::new(&HeaderMap::new(), &body), &SignOptions::default()).unwrap();
                    for (name, value) in out {
                        assert_eq!(h.get(name.as_str()).unwrap().to_str().unwrap(), value, "{}", v.source);
                    }
                }
            }
        }
        *per_scheme.entry(v.scheme.clone()).or_default() += 1;
    }
    // Every preset has at least one known-answer vector: one deleted by accident fails here.
    for name in hookgate_verify::PRESETS {
        assert!(per_scheme.contains_key(*name), "no vector for {name}");
    }
}

/// Signing the vector's input with the vector's timestamp and id reproduces its signature header.
fn resign_matches(v: &Vector, scheme: &Scheme, verifier: &hookgate_verify::Verifier, body: &[u8], h: &HeaderMap) {
    let get = |name: &str| h.get(name).map(|x| x.to_str().unwrap().to_owned());
    let ts = scheme.signing().unwrap().timestamp.as_ref().map(|spec| {
        let raw = match &spec.header {
            Some(name) => get(name).unwrap(),
            None => {
                let sig = get(&scheme.signing().unwrap().signature[0].name).unwrap();
                let key = format!("{}=", scheme.signing().unwrap().signature[0].timestamp_key.as_deref().unwrap());
                let sep = scheme.signing().unwrap().signature[0].separator.unwrap();
                sig.split(sep).find_map(|p| p.trim().strip_prefix(&key).map(str::to_owned)).unwrap()
            }
        };
        Timestamp::parse(&raw, spec.format).unwrap()
    });
    let id = scheme.id_header.as_deref().and_then(get);
    let algorithm = match &scheme.signing().unwrap().algorithm {
        hookgate_verify::AlgorithmSpec::FromHeader { header, .. } => get(header).map(|a| a.parse().unwrap()),
        hookgate_verify::AlgorithmSpec::Fixed(_) => None,
    };
    let algorithm = algorithm.or_else(|| {
        scheme
            .signing()
            .unwrap()
            .signature
            .iter()
            .find(|s| h.contains_key(s.name.to_ascii_lowercase().as_str()))
            .and_then(|s| s.algorithm)
    });
    let mut req = WebhookRequest::new(h, body).with_method(&v.method);
    if let Some(url) = &v.url {
        req = req.with_url(url);
    }
    let opts = SignOptions { timestamp: ts, id: id.as_deref(), algorithm };
    let out = verifier.sign(&req, &opts).unwrap();
    let (name, value) = out.last().unwrap();
    let sent = get(name).unwrap_or_else(|| panic!("{}: no {name}", v.source));
    // Hex is case-insensitive (Flinks Pay sends upper case); `sign` writes lower case.
    let same = if scheme
        .signing()
        .unwrap()
        .signature
        .iter()
        .any(|s| s.name == *name && s.encoding == hookgate_verify::Encoding::Hex)
    {
        value.eq_ignore_ascii_case(&sent)
    } else {
        *value == sent
    };
    assert!(same, "{}: re-signing gave {value}, the vector has {sent}", v.source);
}
