//! Property tests: random bodies and secrets over every preset.

use hookgate_verify::{Scheme, SecretEncoding};
use proptest::prelude::*;

use crate::support::*;

fn scheme_strategy() -> impl Strategy<Value = Scheme> {
    // Twilio signs decoded form parameters, not bytes (two encodings of one parameter are one
    // message by design), so its byte-level properties are checked in JSON mode in conformance.
    prop::sample::select(all_presets().filter(|s| s.name != "twilio").collect::<Vec<_>>())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(scheme in scheme_strategy(), body in prop::collection::vec(any::<u8>(), 0..2048), key in prop::collection::vec(any::<u8>(), 1..80)) {
        // Any key bytes, given as hex so every byte value is reachable (an Ed25519 scheme's are
        // its private key's seed).
        let scheme = with_signing(scheme, |s| s.secret_encoding = SecretEncoding::Hex);
        let key = match scheme.signing().unwrap().primitives().as_slice() {
            [hookgate_verify::Primitive::Ed25519] => ed25519_from_seed(&key),
            [hookgate_verify::Primitive::EcdsaP256] => p256_pkcs8(key[0]),
            _ => key,
        };
        let v = verifier(scheme.clone(), &[&hex(&key)]);
        let s = sign(&v, &fit(&scheme, body));
        prop_assert!(check(&v, &s.headers, &s.body, s.now).is_ok());
    }

    #[test]
    fn any_flipped_body_byte_rejects(scheme in scheme_strategy(), body in prop::collection::vec(any::<u8>(), 1..1024), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 1)]);
        let s = sign(&v, &fit(&scheme, body));
        let mut tampered = s.body.clone();
        let i = pos.index(tampered.len());
        tampered[i] ^= 1 << bit;
        prop_assert_eq!(check(&v, &s.headers, &tampered, s.now), Err(flipped(&scheme, i)));
    }

    #[test]
    fn any_flipped_signature_byte_rejects(scheme in scheme_strategy(), body in prop::collection::vec(any::<u8>(), 0..512), pos in any::<prop::sample::Index>(), bit in 0u8..7) {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 2)]);
        let s = sign(&v, &fit(&scheme, body));
        let name = scheme.signing().unwrap().signature[0].name.to_ascii_lowercase();
        let mut value = s.headers.get(&name).unwrap().as_bytes().to_vec();
        let i = pos.index(value.len());
        value[i] ^= 1 << bit;
        // Hex digits and prefixes are case-insensitive by design (Flinks Pay sends upper case), so
        // a flip that only changes the case of one of those is the same signature.
        let spec = &scheme.signing().unwrap().signature[0];
        let original = s.headers.get(&name).unwrap().to_str().unwrap();
        let case_only = value.eq_ignore_ascii_case(original.as_bytes());
        // `sign` writes the MAC last: after the prefix, or after `key=` in a pairs header.
        let mac_start = match &spec.key {
            Some(key) => original.rfind(&format!("{key}=")).unwrap() + key.len() + 1,
            None => spec.prefix.len(),
        };
        let same_signature = case_only
            && ((i >= mac_start && spec.encoding == hookgate_verify::Encoding::Hex) || (spec.key.is_none() && i < spec.prefix.len()));
        if let Ok(hv) = hookgate_verify::http::HeaderValue::from_bytes(&value) {
            let mut h = s.headers.clone();
            h.insert(hookgate_verify::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), hv);
            prop_assert_eq!(check(&v, &h, &s.body, s.now).is_ok(), same_signature);
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_headers(scheme in scheme_strategy(), values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..4), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 3)]);
        let mut h = hookgate_verify::http::HeaderMap::new();
        for value in &values {
            if let Ok(hv) = hookgate_verify::http::HeaderValue::from_bytes(value) {
                for name in scheme.header_names() {
                    h.append(hookgate_verify::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), hv.clone());
                }
            }
        }
        let _ = check(&v, &h, &body, hookgate_verify::Timestamp::from_unix_secs(SIGNED_AT));
    }
}
