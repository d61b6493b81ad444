//! One module per subcommand.

pub(crate) mod admin;
pub(crate) mod config;
pub(crate) mod deliveries;
pub(crate) mod events;
mod generated;
pub(crate) mod migrate;
pub(crate) mod route;
pub(crate) mod schemes;
pub(crate) mod secret;
pub(crate) mod secrets;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod tail;
pub(crate) mod verify;

use std::io::Read as _;

use anyhow::Context as _;

/// The exact bytes of standard input: the body is signed and verified as raw bytes, never as text.
pub(crate) fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    std::io::stdin().lock().read_to_end(&mut body).context("cannot read the body from standard input")?;
    Ok(body)
}

/// Parses `-H 'Name: value'` flags into a header map (repeated names keep every value).
pub(crate) fn parse_headers(lines: &[String]) -> anyhow::Result<hookgate_verify::http::HeaderMap> {
    use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').with_context(|| format!("header `{line}` is not `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .with_context(|| format!("invalid header name in `{line}`"))?;
        let value =
            HeaderValue::from_str(value.trim()).with_context(|| format!("invalid header value for `{name}`"))?;
        headers.append(name, value);
    }
    Ok(headers)
}
