//! An HTTP target for tests: answers every request with a chosen status, headers and body, and
//! records what it was sent (method, path, headers as received, body).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

/// One request as the target received it.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST`, …
    pub method: String,
    /// The path and query.
    pub path: String,
    /// `(name in lower case, value)`, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value (the first).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the target answers: a status line's code, extra header lines, a body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Extra header lines, each `Name: value`.
    pub headers: Vec<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// `status` with a short body and no extra headers.
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: b"ok".to_vec() }
    }
}

/// The running target.
#[derive(Clone, Debug)]
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it was sent, in order.
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a target on a port of its own that answers `answer` to every request.
    ///
    /// # Panics
    /// When it cannot listen.
    pub fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let addr = listener.local_addr().expect("an address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&received);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Ok(read) = conn.try_clone() else { continue };
                if let Some(r) = read_request(BufReader::new(read)) {
                    record.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(r);
                }
                let mut head = format!(
                    "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                    answer.status,
                    answer.body.len()
                );
                for h in &answer.headers {
                    head.push_str(h);
                    head.push_str("\r\n");
                }
                head.push_str("\r\n");
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&answer.body);
            }
        });
        Self { addr, received }
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.received.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// The requests received so far.
    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn read_request(mut reader: BufReader<std::net::TcpStream>) -> Option<Received> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { method, path, headers, body })
}
