//! What diagnosis reads from the request: every signature in the header however it was written
//! (the candidates), a timestamp the strict reader refused, and headers that look like the
//! signature header. All of it is bounded by the header limits.

use base64::Engine as _;

use super::super::SigHeader;
use super::super::header::MAX_HEADER_VALUES;
use crate::encoding::{BASE64_ANY_PAD, Encoding, MacBytes};
use crate::scheme::{MAX_HEADER_VALUE_LEN, SignatureHeader};

/// A signature read from the request: the MAC bytes and, when it was read another way than the
/// scheme reads it, how.
pub(super) struct Candidate {
    pub(super) mac: MacBytes,
    pub(super) read: Option<String>,
}

/// The `timestamp_key=` field of a pairs header, without the strict reader's checks.
pub(super) fn loose_timestamp<'v>(spec: &SignatureHeader, values: &[&'v [u8]]) -> Option<&'v str> {
    let key = spec.timestamp_key.as_deref()?;
    let sep = spec.separator.unwrap_or(',');
    values.iter().filter_map(|v| std::str::from_utf8(v).ok()).flat_map(|v| v.split(sep)).find_map(|item| {
        let (k, v) = item.split_once('=')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// Most signatures read loosely from one request (the strict reader stops at 16).
pub(super) const MAX_LOOSE: usize = 48;

/// Every signature in the header values: those the scheme reads, then those read another way
/// (another encoding, without or with another prefix, under another key, hex text base64-encoded),
/// each with how it was read. Bounded by the header limits.
pub(super) fn candidates(spec: &SignatureHeader, values: &[&[u8]], strict: &[MacBytes]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = strict.iter().map(|m| Candidate { mac: *m, read: None }).collect();
    let push = |mac: MacBytes, read: String, out: &mut Vec<Candidate>| {
        if out.len() < MAX_LOOSE && !out.iter().any(|c| c.mac.as_slice() == mac.as_slice()) {
            out.push(Candidate { mac, read: Some(read) });
        }
    };
    let prefix = spec.prefix.as_str();
    for raw in values.iter().take(MAX_HEADER_VALUES) {
        let Some(value) = std::str::from_utf8(raw).ok().filter(|v| v.is_ascii() && v.len() <= MAX_HEADER_VALUE_LEN)
        else {
            continue;
        };
        let value = value.trim();
        let items = std::iter::once(value)
            .chain(value.split([',', ';', ' ', '\t']).map(str::trim).filter(|s| !s.is_empty() && *s != value))
            .take(32);
        for item in items {
            let mut forms: Vec<(&str, Vec<String>)> = Vec::new();
            if !prefix.is_empty() && item.len() > prefix.len() && item[..prefix.len()].eq_ignore_ascii_case(prefix) {
                forms.push((&item[prefix.len()..], Vec::new()));
            } else if prefix.is_empty() {
                forms.push((item, Vec::new()));
            } else {
                forms.push((item, vec![format!("without the `{prefix}` prefix")]));
            }
            if let Some((k, rest)) = item.split_once('=')
                && (1..=16).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !rest.is_empty()
                && !rest.bytes().all(|b| b == b'=')
            {
                let rest = rest.trim();
                let note = match &spec.key {
                    Some(key) if key == k => None,
                    Some(key) => Some(format!("under `{k}=` where the scheme reads `{key}=`")),
                    None if format!("{k}=").eq_ignore_ascii_case(prefix) => None,
                    None if !prefix.is_empty() => Some(format!("after `{k}=` where the scheme expects `{prefix}`")),
                    None => Some(format!("after an extra `{k}=` prefix")),
                };
                forms.push((rest, note.into_iter().collect()));
            }
            for (text, notes) in forms {
                for enc in [Encoding::Hex, Encoding::Base64, Encoding::Base64url] {
                    let mut read = notes.clone();
                    if enc != spec.encoding {
                        read.push(format!("in {} where the scheme expects {}", enc.name(), spec.encoding.name()));
                    }
                    if let Some(mac) = enc.decode_mac(text.as_bytes()) {
                        if read.is_empty() {
                            // Read as the scheme reads it but missed by the strict reader (a
                            // duplicate or a neighbouring item): not a different way of writing.
                            if out.len() < MAX_LOOSE && !out.iter().any(|c| c.mac.as_slice() == mac.as_slice()) {
                                out.push(Candidate { mac, read: None });
                            }
                        } else {
                            push(mac, read.join(", "), &mut out);
                        }
                    }
                }
                // Hex text of the MAC, then base64-encoded: `base64(hexdigest)`.
                // 128 hex digits (SHA-512) are 172 base64 characters.
                if text.len() <= 172
                    && let Ok(inner) = BASE64_ANY_PAD.decode(text)
                    && let Some(mac) =
                        std::str::from_utf8(&inner).ok().and_then(|h| Encoding::Hex.decode_mac(h.as_bytes()))
                {
                    let mut read = notes.clone();
                    read.push("as the hex digest's text, base64-encoded".into());
                    push(mac, read.join(", "), &mut out);
                }
            }
        }
    }
    out
}

/// Present headers that look like the signature header: the same name written differently,
/// another provider's signature header, a near miss, or a name that says "signature".
pub(super) fn look_alikes(headers: &http::HeaderMap, sig_headers: &[SigHeader]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in headers.keys().take(200) {
        let n = name.as_str();
        let why = if sig_headers.iter().any(|h| normal(&h.spec.name) == normal(n)) {
            Some("the same name written differently".to_owned())
        } else if let Some(scheme) = other_provider(n, sig_headers) {
            Some(format!("the signature header of the `{scheme}` scheme"))
        } else if sig_headers.iter().any(|h| similar(n, &h.spec.name.to_lowercase())) {
            Some("a near miss".to_owned())
        } else if n.contains("signature") || n.contains("hmac") || n.ends_with("-sig") || n.contains("-sig-") {
            Some("a signature-like name".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            out.push((n.to_owned(), why));
        }
        if out.len() >= 5 {
            break;
        }
    }
    out
}

/// Lowercase letters and digits only, without a leading `x`: `X_Flinks_Signature` and
/// `flinks-signature` are the same name.
pub(super) fn normal(name: &str) -> String {
    let s: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    match s.strip_prefix('x') {
        Some(rest) if rest.len() > 3 => rest.to_owned(),
        _ => s,
    }
}

/// Every preset's signature header names, with the preset's name: built once, not per header.
pub(super) static PRESET_HEADERS: std::sync::LazyLock<Vec<(&'static str, String)>> = std::sync::LazyLock::new(|| {
    crate::preset::PRESETS
        .iter()
        .filter_map(|p| Some((*p, crate::preset::preset(p)?)))
        .flat_map(|(p, s)| s.proof_headers().into_iter().map(move |h| (p, h)))
        .collect()
});

pub(super) fn other_provider(name: &str, ours: &[SigHeader]) -> Option<&'static str> {
    if ours.iter().any(|o| o.spec.name.eq_ignore_ascii_case(name)) {
        return None;
    }
    PRESET_HEADERS.iter().find(|(_, h)| h.eq_ignore_ascii_case(name)).map(|(p, _)| *p)
}

/// Different names that are the same written differently, or within two edits of each other (a
/// typo) when long enough for that to mean something.
pub(super) fn similar(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    if normal(a) == normal(b) {
        return true;
    }
    if a.len() < 6 || b.len() < 6 || a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}
