//! Parsing signature headers into candidate signatures.
//!
//! This is the code that reads attacker-controlled text, so it is bounded: at most
//! [`MAX_HEADER_VALUES`] header lines of at most [`MAX_HEADER_VALUE_LEN`] bytes, at most
//! [`MAX_CANDIDATES`] signatures, each decoded into a fixed stack buffer. It never panics (see the
//! `fuzz/` target) and allocates nothing proportional to the input beyond the candidate list.

use crate::encoding::MacBytes;
use crate::error::Rejection;
use crate::scheme::{MAX_HEADER_VALUE_LEN, SignatureHeader};

/// Most header lines with the signature header's name that are read (providers send one).
pub const MAX_HEADER_VALUES: usize = 8;
/// Most signatures accepted in one request (rotation needs two or three).
pub const MAX_CANDIDATES: usize = 16;

/// Signatures found in a request's signature header.
pub struct ParsedSignatures<'a> {
    pub(crate) macs: Vec<MacBytes>,
    /// The timestamp field of a `key=value` header (Stripe `t=`), exactly as sent.
    pub timestamp: Option<&'a str>,
}

impl std::fmt::Debug for ParsedSignatures<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSignatures").field("count", &self.macs.len()).field("timestamp", &self.timestamp).finish()
    }
}

impl ParsedSignatures<'_> {
    /// How many signatures were decoded.
    pub fn len(&self) -> usize {
        self.macs.len()
    }

    /// Whether none was decoded (never true for an `Ok` from [`parse`]).
    pub fn is_empty(&self) -> bool {
        self.macs.is_empty()
    }

    /// Decoded MAC lengths, for tests and fuzzing.
    pub fn lengths(&self) -> impl Iterator<Item = usize> + '_ {
        self.macs.iter().map(|m| m.as_slice().len())
    }
}

/// Parses every value of one signature header.
///
/// # Errors
/// [`Rejection::InvalidHeader`] for too many or too large values or non-text bytes,
/// [`Rejection::EmptyHeader`] when every value is blank, [`Rejection::MalformedSignature`] when no
/// signature of this scheme's shape could be decoded, and [`Rejection::MalformedTimestamp`] when a
/// `key=value` header carries conflicting timestamps.
pub fn parse<'a>(spec: &SignatureHeader, values: &[&'a [u8]]) -> Result<ParsedSignatures<'a>, Rejection> {
    let invalid = || Rejection::InvalidHeader(spec.name.clone());
    if values.len() > MAX_HEADER_VALUES {
        return Err(invalid());
    }
    let mut parsed = ParsedSignatures { macs: Vec::new(), timestamp: None };
    let mut any_text = false;
    for raw in values {
        if raw.len() > MAX_HEADER_VALUE_LEN {
            return Err(invalid());
        }
        // Signatures are ASCII; anything else is not a signature header we can trust to split.
        let value = std::str::from_utf8(raw).ok().filter(|v| v.is_ascii()).ok_or_else(invalid)?;
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        any_text = true;
        match spec.separator {
            None => push_prefixed(spec, value, false, &mut parsed)?,
            Some(sep) => {
                for item in value.split(sep).map(str::trim).filter(|i| !i.is_empty()) {
                    match &spec.key {
                        None => push_prefixed(spec, item, true, &mut parsed)?,
                        Some(key) => {
                            let Some((k, v)) = item.split_once('=') else { continue };
                            let (k, v) = (k.trim(), v.trim());
                            if k == key {
                                push_prefixed(spec, v, false, &mut parsed)?;
                            } else if spec.timestamp_key.as_deref() == Some(k) {
                                match parsed.timestamp {
                                    Some(prev) if prev != v => return Err(Rejection::MalformedTimestamp),
                                    _ => parsed.timestamp = Some(v),
                                }
                            }
                            // Other keys (Stripe's `v0`, future versions) are ignored on purpose.
                        }
                    }
                }
            }
        }
    }
    if !any_text {
        return Err(Rejection::EmptyHeader(spec.name.clone()));
    }
    if parsed.macs.is_empty() {
        return Err(Rejection::MalformedSignature);
    }
    Ok(parsed)
}

/// Strips the prefix and decodes one MAC. In a list, an item with another prefix is another
/// signature version and is skipped; a single value with the wrong prefix is simply not a MAC.
fn push_prefixed(
    spec: &SignatureHeader,
    text: &str,
    in_list: bool,
    out: &mut ParsedSignatures<'_>,
) -> Result<(), Rejection> {
    let p = spec.prefix.len();
    let has_prefix = text.len() >= p && text.as_bytes()[..p].eq_ignore_ascii_case(spec.prefix.as_bytes());
    if !has_prefix {
        return if in_list { Ok(()) } else { Err(Rejection::MalformedSignature) };
    }
    let Some(mac) = spec.encoding.decode_mac(text[p..].trim().as_bytes()) else {
        // One undecodable item in a list does not hide a valid one beside it.
        return if in_list || spec.key.is_some() { Ok(()) } else { Err(Rejection::MalformedSignature) };
    };
    if out.macs.len() >= MAX_CANDIDATES {
        return Err(Rejection::InvalidHeader(spec.name.clone()));
    }
    out.macs.push(mac);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encoding;

    fn stripe_like() -> SignatureHeader {
        SignatureHeader {
            separator: Some(','),
            key: Some("v1".into()),
            timestamp_key: Some("t".into()),
            ..SignatureHeader::single("Stripe-Signature", Encoding::Hex, "")
        }
    }

    #[test]
    fn pairs_collect_every_v1_and_the_timestamp() {
        let v = b"t=12, v1=aa ,v0=bb,v1=cc, junk, =, v1=zz";
        let p = parse(&stripe_like(), &[v]).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.timestamp, Some("12"));
    }

    #[test]
    fn conflicting_timestamps_are_refused() {
        assert_eq!(parse(&stripe_like(), &[b"t=1,t=2,v1=aa"]).unwrap_err(), Rejection::MalformedTimestamp);
        assert!(parse(&stripe_like(), &[b"t=1,t=1,v1=aa"]).is_ok());
    }

    #[test]
    fn list_skips_other_versions() {
        let spec = SignatureHeader {
            separator: Some(' '),
            ..SignatureHeader::single("webhook-signature", Encoding::Base64, "v1,")
        };
        let p = parse(&spec, &[b"v1a,AAAA v1,AAAA v2,BBBB"]).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(parse(&spec, &[b"v1a,AAAA"]).unwrap_err(), Rejection::MalformedSignature);
    }

    #[test]
    fn single_value_needs_its_prefix_case_insensitively() {
        let spec = SignatureHeader::single("X-Webhook-Signature", Encoding::Hex, "sha256=");
        assert!(parse(&spec, &[b"SHA256=ABCD"]).is_ok());
        assert_eq!(parse(&spec, &[b"sha1=abcd"]).unwrap_err(), Rejection::MalformedSignature);
        assert_eq!(parse(&spec, &[b"sha256="]).unwrap_err(), Rejection::MalformedSignature);
    }

    #[test]
    fn bounds_and_blank_values() {
        let spec = SignatureHeader::single("X-Sig", Encoding::Hex, "");
        assert_eq!(parse(&spec, &[b"  "]).unwrap_err(), Rejection::EmptyHeader("X-Sig".into()));
        let big = vec![b'a'; MAX_HEADER_VALUE_LEN + 2];
        assert_eq!(parse(&spec, &[&big]).unwrap_err(), Rejection::InvalidHeader("X-Sig".into()));
        let many: Vec<&[u8]> = vec![b"aa"; MAX_HEADER_VALUES + 1];
        assert_eq!(parse(&spec, &many).unwrap_err(), Rejection::InvalidHeader("X-Sig".into()));
        assert_eq!(parse(&spec, &[b"\xffaa"]).unwrap_err(), Rejection::InvalidHeader("X-Sig".into()));
        let list = SignatureHeader { separator: Some(','), ..spec };
        let seventeen = vec!["aa"; MAX_CANDIDATES + 1].join(",");
        assert_eq!(parse(&list, &[seventeen.as_bytes()]).unwrap_err(), Rejection::InvalidHeader("X-Sig".into()));
    }

    #[test]
    fn repeated_header_lines_pool_their_signatures() {
        let spec = SignatureHeader::single("X-Sig", Encoding::Hex, "");
        assert_eq!(parse(&spec, &[b"aa", b"bb"]).unwrap().len(), 2);
    }
}
