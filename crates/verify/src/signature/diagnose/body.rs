//! Bodies the sender may have signed instead of the one that arrived: the usual
//! re-serializations of a JSON body, and byte-level changes any body suffers on the way (line
//! endings, a trailing newline, a byte-order mark, `\u` escapes).
//!
//! The variants are the bugs the vendor guides warn about ("verify the raw body, not a parsed and
//! re-serialized one"): a framework that parsed the JSON and printed it again, a proxy that
//! normalised line endings, an editor that saved a captured body with a BOM.

use super::json::{self, Style};

const BOM: &[u8] = b"\xef\xbb\xbf";

/// A body to try, with how it differs from the one received.
pub(crate) struct Variant {
    pub(crate) bytes: Vec<u8>,
    pub(crate) how: &'static str,
}

/// JSON bodies larger than this are not re-serialized (the tree alone would be many times the
/// body); their byte-level variants are still tried.
const MAX_JSON: usize = 1024 * 1024;

/// The variants of `body`, most common first, each different from `body` and from each other,
/// none longer than `cap` bytes.
pub(crate) fn variants(body: &[u8], cap: usize) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    let mut push = |bytes: Vec<u8>, how: &'static str| {
        if bytes.len() <= cap && bytes != body && !out.iter().any(|v| v.bytes == bytes) {
            out.push(Variant { bytes, how });
        }
    };

    // The smallest changes first: when a body differs only by its last newline, that is the
    // explanation, not "re-serialized".
    let unbommed = body.strip_prefix(BOM);
    if let Ok(text) = std::str::from_utf8(body) {
        if text.contains("\\u") {
            push(unescape_unicode(text).into_bytes(), "\\u escapes written as raw UTF-8");
        }
        if !text.is_ascii() {
            push(escape_non_ascii(text).into_bytes(), "non-ASCII characters written as \\u escapes");
        }
    }
    match body.last() {
        Some(b'\n') => {
            let trimmed = body.strip_suffix(b"\r\n").or_else(|| body.strip_suffix(b"\n")).unwrap_or(body);
            push(trimmed.to_vec(), "without its trailing newline");
        }
        _ => {
            push([body, b"\n"].concat(), "with a trailing newline added");
            // SendGrid signs its body with the CRLF it ends with; a framework that trims it
            // breaks every signature.
            push([body, b"\r\n"].concat(), "with a trailing CRLF added (it was trimmed after signing)");
        }
    }
    if body.windows(2).any(|w| w == b"\r\n") {
        push(replace(body, b"\r\n", b"\n"), "with CRLF line endings as LF");
    } else if body.contains(&b'\n') {
        push(replace(body, b"\n", b"\r\n"), "with LF line endings as CRLF");
    }
    match unbommed {
        Some(rest) => push(rest.to_vec(), "without its byte-order mark"),
        None => push([BOM, body].concat(), "with a UTF-8 byte-order mark added"),
    }
    let json_body = Some(unbommed.unwrap_or(body)).filter(|b| b.len() <= MAX_JSON);
    if let Some(doc) = json_body.and_then(|b| std::str::from_utf8(b).ok()).and_then(json::parse) {
        const FORMS: [(Style, &str); 11] = [
            (style(None, false, false, false), "re-serialized compact (JavaScript JSON.stringify, Go)"),
            (
                style(None, true, false, true),
                "re-serialized with Python's json.dumps defaults (\", \" and \": \", \\u escapes)",
            ),
            (style(Some(2), false, false, false), "pretty-printed with 2-space indent"),
            (style(Some(4), false, false, false), "pretty-printed with 4-space indent"),
            (style(None, true, false, false), "re-serialized with \", \" and \": \" separators"),
            (style(None, false, true, false), "re-serialized compact with sorted keys"),
            (style(None, true, true, true), "re-serialized with sorted keys (Python json.dumps(sort_keys=True))"),
            (style(Some(2), false, true, false), "pretty-printed with 2-space indent and sorted keys (jq -S)"),
            (style(Some(4), false, true, false), "pretty-printed with 4-space indent and sorted keys"),
            (style(None, false, false, true), "re-serialized compact with non-ASCII as \\u escapes"),
            (
                style(Some(4), false, false, true),
                "pretty-printed with 4-space indent and \\u escapes (Python indent=4)",
            ),
        ];
        for (style, how) in FORMS {
            let Some(text) = json::write(&doc, style, cap) else { continue };
            if style.indent == Some(2) && !style.sort_keys {
                // `jq .` ends its output with a newline.
                let mut jq = text.clone().into_bytes();
                jq.push(b'\n');
                push(text.into_bytes(), how);
                push(jq, "pretty-printed with 2-space indent and a trailing newline (jq)");
            } else {
                push(text.into_bytes(), how);
            }
        }
    }

    out
}

const fn style(indent: Option<usize>, spaced: bool, sort_keys: bool, ascii: bool) -> Style {
    Style { indent, spaced, sort_keys, ascii }
}

fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// The text with each `\uXXXX` escape (and surrogate pair) that stands for a printable non-ASCII
/// character written as that character; everything else, spacing included, kept as it is.
fn unescape_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("\\u") {
        // An escaped backslash (`\\u`) is not an escape of `u`.
        let backslashes = rest[..pos].bytes().rev().take_while(|b| *b == b'\\').count();
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let unit = |s: &str| s.get(2..6).and_then(|h| u32::from_str_radix(h, 16).ok());
        let decoded = match unit(tail) {
            _ if backslashes % 2 == 1 => None,
            Some(hi @ 0xd800..0xdc00) => tail
                .get(6..)
                .filter(|t| t.starts_with("\\u"))
                .and_then(unit)
                .filter(|lo| (0xdc00..0xe000).contains(lo))
                .and_then(|lo| char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)))
                .map(|c| (c, 12)),
            Some(u) if u >= 0x80 => char::from_u32(u).map(|c| (c, 6)),
            _ => None,
        };
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push_str("\\u");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_non_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants_all(body: &[u8]) -> Vec<Variant> {
        variants(body, usize::MAX)
    }

    #[test]
    fn no_variant_is_longer_than_the_cap() {
        let body = br#"{"a":[1,2,3],"b":{"c":"d"}}"#;
        assert!(variants(body, body.len() + 1).iter().all(|v| v.bytes.len() <= body.len() + 1));
        assert!(variants(body, usize::MAX).iter().any(|v| v.bytes.len() > 2 * body.len()));
    }

    fn hows(body: &[u8]) -> Vec<&'static str> {
        variants(body, usize::MAX).into_iter().map(|v| v.how).collect()
    }

    #[test]
    fn a_compact_json_body_is_not_offered_as_its_own_compact_form() {
        let body = br#"{"b":1,"a":[true,null]}"#;
        let v = variants(body, usize::MAX);
        assert!(v.iter().all(|v| v.bytes != body));
        let pretty = v.iter().find(|v| v.how.starts_with("pretty-printed with 2-space indent")).unwrap();
        assert_eq!(pretty.bytes, b"{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}");
        let sorted = v.iter().find(|v| v.how == "re-serialized compact with sorted keys").unwrap();
        assert_eq!(sorted.bytes, br#"{"a":[true,null],"b":1}"#);
    }

    #[test]
    fn byte_level_variants_apply_to_any_body() {
        let h = hows(b"a=1&b=2");
        assert!(h.contains(&"with a trailing newline added"));
        assert!(h.contains(&"with a UTF-8 byte-order mark added"));
        assert!(!h.iter().any(|h| h.contains("re-serialized")));
        let crlf = variants_all(b"line one\r\nline two\n");
        assert!(crlf.iter().any(|v| v.bytes == b"line one\nline two\n"));
        assert!(crlf.iter().any(|v| v.bytes == b"line one\r\nline two"));
        let bom = variants_all(b"\xef\xbb\xbf{\"a\":1}");
        assert!(bom.iter().any(|v| v.bytes == b"{\"a\":1}" && v.how == "without its byte-order mark"));
    }

    #[test]
    fn unicode_escapes_both_ways() {
        let escaped = variants_all(br#"{"n":"caf\u00e9 \\u00e9 \ud83d\ude00"}"#);
        let raw = escaped.iter().find(|v| v.how == "\\u escapes written as raw UTF-8").unwrap();
        assert_eq!(std::str::from_utf8(&raw.bytes).unwrap(), "{\"n\":\"caf\u{e9} \\\\u00e9 \u{1f600}\"}");
        let raw = variants_all("{\"n\": \"caf\u{e9}\"}".as_bytes());
        assert!(raw.iter().any(|v| v.bytes == b"{\"n\": \"caf\\u00e9\"}"));
    }
}
