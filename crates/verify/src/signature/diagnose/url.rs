//! URLs the sender may have signed instead of the one Hookgate assembled, for schemes that sign
//! the URL (Twilio, Square, HubSpot): what a proxy in front changes — the scheme (TLS ended at
//! the proxy), the host or port, a trailing slash, the order of the query.

use http::HeaderMap;

use super::super::content::port_variant;

/// A URL to try, with how it differs.
pub(super) struct Variant {
    pub(super) url: String,
    pub(super) how: String,
}

/// Variants of `url`, each different from it and from each other.
pub(super) fn variants(url: &str, headers: &HeaderMap) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    let mut push = |candidate: String, how: String| {
        if candidate != url && !out.iter().any(|v| v.url == candidate) {
            out.push(Variant { url: candidate, how });
        }
    };
    let Some((scheme, rest)) = url.split_once("://") else { return out };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let join = |scheme: &str, authority: &str, path: &str, query: Option<&str>| match query {
        Some(q) => format!("{scheme}://{authority}{path}?{q}"),
        None => format!("{scheme}://{authority}{path}"),
    };

    let other_scheme = if scheme.eq_ignore_ascii_case("https") { "http" } else { "https" };
    push(join(other_scheme, authority, path, query), format!("with `{other_scheme}://` (TLS ended at a proxy?)"));
    if let Some(v) = port_variant(url) {
        let how = if v.len() > url.len() { "with the default port written out" } else { "without the default port" };
        push(v, how.to_owned());
    }
    match path.strip_suffix('/') {
        Some(p) => push(join(scheme, authority, p, query), "without the trailing slash".into()),
        _ => push(join(scheme, authority, &format!("{path}/"), query), "with a trailing slash".into()),
    }
    for name in ["x-forwarded-host", "host", "x-original-host"] {
        let Some(host) = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim) else { continue };
        if host.is_empty() || host.len() > 255 || host.contains(['/', '?', '#', ' ', '@']) {
            continue;
        }
        if !host.eq_ignore_ascii_case(authority) {
            push(join(scheme, host, path, query), format!("with the host `{host}` from the `{name}` header"));
        }
    }
    if let Some(proto) = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::trim)
        && (proto == "http" || proto == "https")
    {
        push(join(proto, authority, path, query), format!("with `{proto}://` from `x-forwarded-proto`"));
    }
    if let Some(q) = query {
        let mut params: Vec<&str> = q.split('&').collect();
        if params.len() > 1 {
            let sorted = {
                params.sort_unstable();
                params.join("&")
            };
            push(join(scheme, authority, path, Some(&sorted)), "with its query parameters sorted".into());
            let reversed: Vec<&str> = q.split('&').rev().collect();
            push(join(scheme, authority, path, Some(&reversed.join("&"))), "with its query parameters reversed".into());
        }
        push(join(scheme, authority, path, None), "without its query string".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_s_changes() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-host", "hooks.example.com".parse().unwrap());
        h.insert("host", "10.0.0.5:8080".parse().unwrap());
        let urls: Vec<String> =
            variants("https://hooks.example.com/twilio?b=2&a=1", &h).into_iter().map(|v| v.url).collect();
        for want in [
            "http://hooks.example.com/twilio?b=2&a=1",
            "https://hooks.example.com:443/twilio?b=2&a=1",
            "https://hooks.example.com/twilio/?b=2&a=1",
            "https://10.0.0.5:8080/twilio?b=2&a=1",
            "https://hooks.example.com/twilio?a=1&b=2",
            "https://hooks.example.com/twilio",
        ] {
            assert!(urls.iter().any(|u| u == want), "{want} in {urls:?}");
        }
        assert!(!urls.iter().any(|u| u == "https://hooks.example.com/twilio?b=2&a=1"));
        assert!(variants("not a url", &h).is_empty());
    }
}
