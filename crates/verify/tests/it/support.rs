//! Helpers shared by the test modules.

use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate_verify::{Scheme, SignOptions, Timestamp, Verifier, WebhookRequest, preset};

pub(crate) const URL: &str = "https://hooks.example.com/webhooks/provider?account=42";

pub(crate) fn verifier(scheme: Scheme, secrets: &[&str]) -> Verifier {
    let secrets = secrets.iter().map(|s| scheme.key(s).unwrap()).collect();
    Verifier::new(scheme, secrets).unwrap()
}

/// Any kind's check, with keys as a dashboard shows them.
pub(crate) fn auth(scheme: Scheme, keys: &[&str]) -> hookgate_verify::Auth {
    let keys = keys.iter().map(|k| scheme.key(k).unwrap()).collect();
    hookgate_verify::Auth::new(scheme, keys).unwrap()
}

/// The scheme with its signing rules changed by `change`.
pub(crate) fn with_signing(mut scheme: Scheme, change: impl FnOnce(&mut hookgate_verify::Signing)) -> Scheme {
    change(scheme.signing_mut().expect("a signature scheme"));
    scheme
}

/// A secret that is valid in the preset's encoding: for a public-key scheme, a private key
/// (seed ‖ public key) so the harness can play the provider.
pub(crate) fn secret_for(scheme: &Scheme, seed: u8) -> String {
    let signing = scheme.signing().unwrap();
    let private = match signing.primitives().as_slice() {
        [hookgate_verify::Primitive::Ed25519] => Some(ed25519_keypair(seed)),
        [hookgate_verify::Primitive::EcdsaP256] => Some(p256_pkcs8(seed)),
        _ => None,
    };
    if let Some(key) = private {
        return match signing.secret_encoding {
            hookgate_verify::SecretEncoding::Hex => key.iter().map(|b| format!("{b:02x}")).collect(),
            _ => b64(&key),
        };
    }
    match signing.secret_encoding {
        hookgate_verify::SecretEncoding::Whsec => {
            use std::fmt::Write as _;
            // 24 bytes → 32 base64 characters.
            let bytes: Vec<u8> = (0..24).map(|i| seed.wrapping_mul(31).wrapping_add(i)).collect();
            let mut s = String::from("whsec_");
            write!(s, "{}", b64(&bytes)).unwrap();
            s
        }
        hookgate_verify::SecretEncoding::Hex => format!("{seed:02x}{seed:02x}0011223344"),
        hookgate_verify::SecretEncoding::Base64 => b64(&[seed, 0x5a, 0xc3, 0x11, seed, 0x7e]),
        _ => format!("secret-{seed}-Zq8s"),
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn headers(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    map
}

/// A body each preset can sign meaningfully (Twilio signs form parameters).
pub(crate) fn body_for(scheme: &Scheme) -> Vec<u8> {
    if scheme.name == "twilio" {
        b"CallSid=CA1234567890ABCDE&Caller=12349013030&Digits=1234&From=12349013030&To=18005551212".to_vec()
    } else {
        br#"{"ResponseType":"KYC","Tag":"userId=12345,session=abc","Login":{"Id":"f5d5f008"}}"#.to_vec()
    }
}

pub(crate) struct Signed {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) now: Timestamp,
}

pub(crate) const SIGNED_AT: i64 = 1_763_800_000;

pub(crate) fn sign(v: &Verifier, body: &[u8]) -> Signed {
    let empty = HeaderMap::new();
    let req = WebhookRequest::new(&empty, body).with_url(URL);
    let opts =
        SignOptions { timestamp: Some(Timestamp::from_unix_secs(SIGNED_AT)), id: Some("evt_1"), algorithm: None };
    let out = v.sign(&req, &opts).unwrap();
    Signed { headers: headers(&out), body: body.to_vec(), now: Timestamp::from_unix_secs(SIGNED_AT) }
}

pub(crate) fn check(
    v: &Verifier,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<hookgate_verify::Verified, hookgate_verify::Rejection> {
    v.verify(&WebhookRequest::new(headers, body).with_url(URL), now)
}

/// Every preset whose proof is a signature (the harness's checks are about signatures; the
/// credential kinds have theirs in `credentials.rs`).
pub(crate) fn all_presets() -> impl Iterator<Item = Scheme> {
    hookgate_verify::PRESETS.iter().map(|n| preset(n).unwrap()).filter(|s| s.signing().is_some())
}

/// An Ed25519 private key as seed ‖ public key (64 bytes), from a one-byte seed.
pub(crate) fn ed25519_keypair(seed: u8) -> Vec<u8> {
    ed25519_from_seed(&(0..32).map(|i| seed.wrapping_mul(17).wrapping_add(i)).collect::<Vec<u8>>())
}

/// An Ed25519 private key as seed ‖ public key, from the first 32 bytes of `seed` (zero-padded).
pub(crate) fn ed25519_from_seed(seed: &[u8]) -> Vec<u8> {
    use ring::signature::KeyPair as _;
    let mut full = [0u8; 32];
    let n = seed.len().min(32);
    full[..n].copy_from_slice(&seed[..n]);
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&full).unwrap();
    [&full[..], pair.public_key().as_ref()].concat()
}

/// A P-256 private key (PKCS#8) per seed: ring only makes random ones, so each seed's is made
/// once and kept, and the same seed means the same key throughout a test run.
pub(crate) fn p256_pkcs8(seed: u8) -> Vec<u8> {
    static KEYS: std::sync::Mutex<Vec<Option<Vec<u8>>>> = std::sync::Mutex::new(Vec::new());
    let mut keys = KEYS.lock().unwrap();
    if keys.is_empty() {
        keys.resize(256, None);
    }
    keys[usize::from(seed)]
        .get_or_insert_with(|| {
            let rng = ring::rand::SystemRandom::new();
            let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
            ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap().as_ref().to_vec()
        })
        .clone()
}

/// A body the scheme accepts the shape of: a scheme whose events are JSON objects gets `{` first.
pub(crate) fn fit(scheme: &Scheme, body: Vec<u8>) -> Vec<u8> {
    if scheme.signing().is_some_and(|s| s.json_object_body) { [&b"{"[..], &body].concat() } else { body }
}

/// What changing body byte `i` is refused for: the first byte of a JSON-object body stops being
/// `{`, which is refused before any MAC; any other is a signature mismatch.
pub(crate) fn flipped(scheme: &Scheme, i: usize) -> hookgate_verify::Rejection {
    if i == 0 && scheme.signing().is_some_and(|s| s.json_object_body) {
        hookgate_verify::Rejection::UnexpectedBody
    } else {
        hookgate_verify::Rejection::Mismatch
    }
}
