//! How delivery failures are told: URLs without their credentials, errors with their causes.

/// A URL as it may be logged or stored: userinfo and query values replaced by `***`, since either
/// can carry a credential (`https://user:pass@host/`, `?token=…`). The path and the query's keys
/// stay, to tell targets apart.
pub fn redacted_url(url: &str) -> String {
    let (rest, fragment) = url.split_once('#').map_or((url, None), |(r, f)| (r, Some(f)));
    let (base, query) = rest.split_once('?').map_or((rest, None), |(b, q)| (b, Some(q)));
    let mut out = match base.split_once("://") {
        Some((scheme, after)) => {
            let (authority, path) = after.find('/').map_or((after, ""), |i| after.split_at(i));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let userinfo = if host.len() == authority.len() { "" } else { "***@" };
            format!("{scheme}://{userinfo}{host}{path}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}=***"),
                None if pair.is_empty() => String::new(),
                None => "***".to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if fragment.is_some() {
        out.push_str("#***");
    }
    out
}

/// An error with its causes, `outer: inner: root`, each message once (libraries often repeat
/// their source's text in their own).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_logged_without_credentials() {
        let cases = [
            ("https://svc.internal/in?token=s3cr3t&v=2", "https://svc.internal/in?token=***&v=***"),
            ("http://user:pa55@127.0.0.1:9000/hook", "http://***@127.0.0.1:9000/hook"),
            ("http://tok@host", "http://***@host"),
            ("http://host/a@b?x", "http://host/a@b?***"),
            ("http://host/p#frag", "http://host/p#***"),
            ("http://host/plain", "http://host/plain"),
            ("nats://u:p@127.0.0.1:4222", "nats://***@127.0.0.1:4222"),
        ];
        for (url, want) in cases {
            assert_eq!(redacted_url(url), want, "{url}");
        }
    }

    #[test]
    fn an_error_chain_names_each_cause_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(Wrapped(inner));
        assert_eq!(error_chain(&outer), "wrapped: connection refused");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
