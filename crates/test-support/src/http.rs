//! A raw HTTP/1.1 client: one request per connection (`Connection: close`), read to the end,
//! the headers exactly as written (a test of a gateway must send what a provider or a browser
//! sends, not what a client library would normalise).

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

/// An answer: status, the head as text, the body (de-chunked).
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The status line and the headers, as received.
    pub headers: String,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON (with the body in the message).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (the first, name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `method path` with `headers` (each `Name: value\r\n`, as given) and `body`; a
/// `Content-Length` is added unless `headers` has one or a `Transfer-Encoding` (a test of framing
/// sends its own). Reads the whole answer.
///
/// # Panics
/// When the connection fails or the answer is not HTTP.
pub fn raw(addr: SocketAddr, method: &str, path: &str, headers: &str, body: impl AsRef<[u8]>) -> Reply {
    let body = body.as_ref();
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("a timeout");
    let lower = headers.to_ascii_lowercase();
    let framed = lower.contains("content-length:") || lower.contains("transfer-encoding:");
    let length = if framed { String::new() } else { format!("Content-Length: {}\r\n", body.len()) };
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}{length}\r\n")
        .expect("send the head");
    // The server may answer (413) and close before the whole body is sent.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no response: {out:?}"));
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut body = out[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status: head[9..12].parse().expect("a status code"), headers: head, body }
}

/// `GET path`, with a bearer token when given.
pub fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Reply {
    raw(addr, "GET", path, &bearer(token), b"")
}

/// `method path` with a JSON `body`, with a bearer token when given.
pub fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
    let headers = format!("{}Content-Type: application/json\r\n", bearer(token));
    raw(addr, method, path, &headers, body)
}

fn bearer(token: Option<&str>) -> String {
    token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default()
}

/// A chunked body's bytes.
///
/// # Panics
/// When the chunks are malformed.
pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).expect("hex").trim(), 16)
            .expect("a chunk size");
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// A query value percent-encoded.
pub fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_values() {
        assert_eq!(dechunk(b"3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n"), b"abcd");
        assert_eq!(enc("a b/{}"), "a%20b%2F%7B%7D");
    }
}
