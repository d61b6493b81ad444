//! What a scheme signs, assembled from a request: the body, headers, timestamp, URL, method,
//! literals, digests and form parameters, in the scheme's order. Every primitive checks its
//! signature over the same assembled content.

use std::borrow::Cow;

use http::HeaderMap;
use sha1::Digest as _;

use crate::algorithm::Algorithm;
use crate::error::Rejection;
use crate::request::WebhookRequest;
use crate::scheme::{MAX_HEADER_VALUE_LEN, Part, Signing};

/// Checks the URL's body digest parameter, when the scheme has one and the URL carries it.
/// Returns whether it was present.
pub(crate) fn check_body_digest(scheme: &Signing, req: &WebhookRequest<'_>) -> Result<bool, Rejection> {
    let Some(param) = &scheme.body_digest_param else { return Ok(false) };
    let url = req.url.ok_or(Rejection::MissingUrl)?;
    let Some(sent) = query_param(url, &param.param) else { return Ok(false) };
    let expected = digest(param.algorithm, req.body);
    let sent = param.encoding.decode_mac(&sent).ok_or(Rejection::BodyDigestMismatch)?;
    if bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), sent.as_slice())) {
        Ok(true)
    } else {
        Err(Rejection::BodyDigestMismatch)
    }
}

/// Assembles the signed content. Parts are borrowed where possible, so for most schemes the
/// body is hashed in place and nothing is copied.
pub(crate) fn assemble<'r>(
    scheme: &Signing,
    req: &WebhookRequest<'r>,
    headers: &'r HeaderMap,
    timestamp: Option<&'r str>,
    digest_in_url: bool,
) -> Result<Vec<Cow<'r, [u8]>>, Rejection> {
    let mut out = Vec::with_capacity(scheme.content.len());
    for part in &scheme.content {
        match part {
            Part::Body => out.push(Cow::Borrowed(req.body)),
            Part::Timestamp => out.push(Cow::Borrowed(timestamp.ok_or(Rejection::MalformedTimestamp)?.as_bytes())),
            Part::Url => out.push(Cow::Borrowed(req.url.ok_or(Rejection::MissingUrl)?.as_bytes())),
            Part::UrlUnescaped => {
                out.push(Cow::Owned(hubspot_unescape(req.url.ok_or(Rejection::MissingUrl)?).into_bytes()))
            }
            Part::Method => out.push(Cow::Borrowed(req.method.as_bytes())),
            Part::Header(name) => out.push(Cow::Borrowed(single_value(headers, name)?)),
            Part::Literal(text) => out.push(Cow::Owned(text.as_bytes().to_vec())),
            Part::BodyDigest { algorithm, encoding } => {
                out.push(Cow::Owned(encoding.encode(&digest(*algorithm, req.body)).into_bytes()));
            }
            Part::SortedFormParams if digest_in_url => {}
            Part::SortedFormParams => out.push(Cow::Owned(sorted_form_params(req.body))),
        }
    }
    Ok(out)
}

/// The value of a header that must appear exactly once and not be empty.
pub(crate) fn single_value<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h [u8], Rejection> {
    let mut values = headers.get_all(name).iter();
    let first = values.next().ok_or_else(|| Rejection::MissingHeader(name.to_owned()))?;
    if values.next().is_some() {
        return Err(Rejection::DuplicateHeader(name.to_owned()));
    }
    let bytes = first.as_bytes();
    if bytes.len() > MAX_HEADER_VALUE_LEN {
        return Err(Rejection::InvalidHeader(name.to_owned()));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::EmptyHeader(name.to_owned()));
    }
    Ok(bytes)
}

pub(crate) fn single_text<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, Rejection> {
    let bytes = single_value(headers, name)?;
    std::str::from_utf8(bytes).map(str::trim).map_err(|_| Rejection::InvalidHeader(name.to_owned()))
}

fn digest(algorithm: Algorithm, body: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => sha1::Sha1::digest(body).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(body).to_vec(),
        Algorithm::Sha384 => sha2::Sha384::digest(body).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(body).to_vec(),
    }
}

fn query_param(url: &str, name: &str) -> Option<Vec<u8>> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |q| q.0);
    form_pairs(query.as_bytes()).find(|(k, _)| k.as_slice() == name.as_bytes()).map(|(_, v)| v)
}

/// `application/x-www-form-urlencoded` pairs, decoded to bytes. Unlike a lossy UTF-8 decoder this
/// keeps invalid bytes distinct, so two different bodies cannot decode to the same signed text.
pub(crate) fn form_pairs(input: &[u8]) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    input.split(|b| *b == b'&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (form_decode(k), form_decode(v))
    })
}

fn form_decode(text: &[u8]) -> Vec<u8> {
    let plus_as_space: Vec<u8> = text.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_encoding::percent_decode(&plus_as_space).collect()
}

/// Twilio's rule: parameters sorted by name (then value), each written as name then value.
fn sorted_form_params(body: &[u8]) -> Vec<u8> {
    let mut params: Vec<(Vec<u8>, Vec<u8>)> = form_pairs(body).collect();
    params.sort();
    params.dedup();
    let mut out = Vec::with_capacity(body.len());
    for (k, v) in params {
        out.extend_from_slice(&k);
        out.extend_from_slice(&v);
    }
    out
}

/// HubSpot v3 decodes these escapes in the URI before signing (its "Validating requests" page).
fn hubspot_unescape(url: &str) -> String {
    const PAIRS: [(&str, char); 12] = [
        ("%3A", ':'),
        ("%2F", '/'),
        ("%3F", '?'),
        ("%40", '@'),
        ("%21", '!'),
        ("%24", '$'),
        ("%27", '\''),
        ("%28", '('),
        ("%29", ')'),
        ("%2A", '*'),
        ("%2C", ','),
        ("%3B", ';'),
    ];
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        match PAIRS.iter().find(|(esc, _)| tail.len() >= 3 && tail[..3].eq_ignore_ascii_case(esc)) {
            Some((_, c)) => {
                out.push(*c);
                rest = &tail[3..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URL with its default port added (`https://h/p` → `https://h:443/p`) or removed.
pub(crate) fn port_variant(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    // Userinfo or IPv6 literals make the port ambiguous to find by hand; no variant for those.
    if authority.contains('@') || authority.contains('[') {
        return None;
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port == default => Some(format!("{scheme}://{host}{tail}")),
        Some(_) => None,
        None => Some(format!("{scheme}://{authority}:{default}{tail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_unescape_only_touches_its_set() {
        assert_eq!(hubspot_unescape("https://a.example/p%3Fx%3a1%20%2c%ZZ%"), "https://a.example/p?x:1%20,%ZZ%");
    }

    #[test]
    fn default_port_variants() {
        assert_eq!(port_variant("https://a.example/x?y=1").as_deref(), Some("https://a.example:443/x?y=1"));
        assert_eq!(port_variant("https://a.example:443/x").as_deref(), Some("https://a.example/x"));
        assert_eq!(port_variant("http://a.example").as_deref(), Some("http://a.example:80"));
        assert_eq!(port_variant("https://a.example:8443/x"), None);
        assert_eq!(port_variant("ftp://a.example/x"), None);
        assert_eq!(port_variant("https://u:p@a.example/x"), None);
    }

    #[test]
    fn form_params_are_sorted_by_name_then_value() {
        assert_eq!(sorted_form_params(b"b=2&a=z&a=y&c=%2B+1"), b"ayazb2c+ 1".to_vec());
    }
}
