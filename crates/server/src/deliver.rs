//! Delivery: workers that take due deliveries from the store's outbox and send them to their
//! targets, with retries, backoff and dead letters.
//!
//! At least once: a delivery is leased (claimed) before the attempt and recorded after it; a
//! worker that dies mid-attempt loses its lease, and the delivery is attempted again once the
//! lease expires (the target may then see it twice; `webhook-id` lets it deduplicate).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookgate_store::{Attempt, Claimed, Finished, Next, Store};
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Secret, SignOptions, Timestamp, Verifier, WebhookRequest};
use tokio::sync::{Notify, watch};

use crate::config::{RetryConfig, TargetConfig};

/// Writer queue length above which delivery workers yield to ingest.
const INGEST_BUSY_QUEUE: usize = 4;

/// Bytes of a target's response kept with the attempt.
const EXCERPT_BYTES: usize = 1024;

/// A delivery target, ready to send.
#[derive(Debug)]
pub struct Target {
    /// Name.
    pub name: String,
    kind: Kind,
    timeout: Duration,
    concurrency: u32,
    ordered: bool,
    retry_4xx: bool,
    retry: RetryConfig,
}

/// What a target reads from its files and secrets at start-up, beyond its signing secret: for
/// HTTP, the TLS files and a credential header; for NATS, `nats`.
#[derive(Default)]
pub(crate) struct TargetExtras {
    /// CA certificates (PEM) trusted beside the system's roots.
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// Client certificate chain and key (PEM), for mTLS.
    pub(crate) identity_pem: Option<zeroize::Zeroizing<Vec<u8>>>,
    /// A credential header: name and value.
    pub(crate) auth: Option<(String, zeroize::Zeroizing<String>)>,
    /// A NATS target's connection options instead.
    pub(crate) nats: Option<NatsOptions>,
}

/// How a NATS target connects: its authentication and TLS files.
#[derive(Default)]
pub(crate) struct NatsOptions {
    pub(crate) auth: NatsAuth,
    /// CA certificates (PEM) trusted for the server.
    pub(crate) ca: Option<std::path::PathBuf>,
    /// Client certificate and key (PEM), for a server that verifies clients.
    pub(crate) client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// A NATS target's credentials. `Debug` never shows a password or a token.
#[derive(Default)]
pub(crate) enum NatsAuth {
    #[default]
    None,
    UserPassword(String, zeroize::Zeroizing<String>),
    Token(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.auth {
            NatsAuth::None => "none",
            NatsAuth::UserPassword(..) => "user and password (redacted)",
            NatsAuth::Token(_) => "token (redacted)",
        };
        f.debug_struct("NatsOptions").field("auth", &auth).field("ca", &self.ca).finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum Kind {
    Http {
        url: String,
        forward_headers: Vec<String>,
        /// Signs what Hookgate sends with the target's own secret (Standard Webhooks), so the
        /// internal service can verify it with any Standard Webhooks library.
        signer: Box<Verifier>,
        /// This target's client: its own trusted CAs and client certificate, if any.
        client: reqwest::Client,
        /// A credential header sent with every attempt (marked sensitive: `Debug` hides it).
        auth: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    },
    /// adnanh/webhook's use case: run a program with the body on stdin and the event's metadata in
    /// its environment; exit 0 is delivered.
    Command { argv: Vec<String>, pass_env: Vec<String> },
    /// A JetStream publish with `Nats-Msg-Id` = the event id (the broker drops duplicates within
    /// its window), delivered once the stream acknowledges it.
    Nats {
        url: String,
        subject: String,
        options: Box<NatsOptions>,
        jetstream: Box<tokio::sync::OnceCell<async_nats::jetstream::Context>>,
    },
}

impl Target {
    pub(crate) fn new(c: &TargetConfig, secret: Option<Secret>, extras: TargetExtras) -> Result<Self, String> {
        if c.concurrency == 0 || c.timeout_secs == 0 || c.retry.max_attempts == 0 {
            return Err("concurrency, timeout_secs and retry.max_attempts must be positive".into());
        }
        if c.auth_header.is_some() && c.kind != "http" {
            return Err(format!("auth_header is for http targets, not {}", c.kind));
        }
        let tls_files = c.ca_file.is_some() || c.client_cert.is_some() || c.client_key.is_some();
        if tls_files && !matches!(c.kind.as_str(), "http" | "nats") {
            return Err(format!("ca_file, client_cert and client_key are for http and nats targets, not {}", c.kind));
        }
        let nats_auth = c.user.is_some() || c.password.is_some() || c.token.is_some();
        if nats_auth && c.kind != "nats" {
            return Err(format!("user, password and token are for nats targets, not {}", c.kind));
        }
        let kind = match c.kind.as_str() {
            "http" => {
                let (Some(url), Some(secret), None) = (&c.url, secret, &c.command) else {
                    return Err("an http target needs `url` and `secret` (and no `command`)".into());
                };
                let parsed = reqwest::Url::parse(url).map_err(|e| format!("url `{}`: {e}", redacted_url(url)))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("url `{}` is not http or https", redacted_url(url)));
                }
                let scheme =
                    hookgate_verify::preset("standard-webhooks").ok_or("the standard-webhooks preset exists")?;
                let signer = Box::new(Verifier::new(scheme, vec![secret]).map_err(|e| e.to_string())?);
                let (client, auth) = http_client(extras)?;
                Kind::Http {
                    url: url.clone(),
                    forward_headers: c.forward_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
                    signer,
                    client,
                    auth,
                }
            }
            "command" => {
                let (Some(argv), None, None) = (&c.command, &c.url, &c.secret) else {
                    return Err("a command target needs `command` (and no `url` or `secret`)".into());
                };
                if argv.first().is_none_or(|p| p.is_empty()) {
                    return Err("`command` needs at least the program".into());
                }
                Kind::Command { argv: argv.clone(), pass_env: c.pass_env.clone() }
            }
            "nats" => {
                let (Some(url), Some(subject), None, None) = (&c.url, &c.subject, &c.secret, &c.command) else {
                    return Err("a nats target needs `url` and `subject` (and no `secret` or `command`)".into());
                };
                if !url.starts_with("nats://") && !url.starts_with("tls://") {
                    return Err(format!("url `{}` is not nats:// or tls://", redacted_url(url)));
                }
                if subject.is_empty() || subject.contains([' ', '*', '>']) {
                    return Err(format!("subject `{subject}` must be a plain subject (no spaces or wildcards)"));
                }
                Kind::Nats {
                    url: url.clone(),
                    subject: subject.clone(),
                    options: Box::new(extras.nats.unwrap_or_default()),
                    jetstream: Box::default(),
                }
            }
            other => return Err(format!("unknown type `{other}` (http, command or nats)")),
        };
        Ok(Self {
            name: c.name.clone(),
            kind,
            timeout: Duration::from_secs(c.timeout_secs),
            // Ordered delivery is one at a time by definition.
            concurrency: if c.ordered { 1 } else { c.concurrency },
            ordered: c.ordered,
            retry_4xx: c.retry_4xx,
            retry: c.retry.clone(),
        })
    }

    /// Delay before attempt `n + 1` after `n` failed attempts: initial × 3^(n-1), capped, ±20 %.
    fn backoff(&self, failed_attempts: i64, salt: i64) -> Duration {
        let exp = u32::try_from(failed_attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let base = self.retry.initial_delay_ms.saturating_mul(3u64.saturating_pow(exp)).min(self.retry.max_delay_ms);
        // Jitter spreads retries of a burst that failed together; it needs no cryptographic randomness.
        let nanos = i64::from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()),
        );
        let spread = (salt.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(nanos)).rem_euclid(41) - 20; // -20..=20 %
        let jittered = base as i128 * (100 + i128::from(spread)) / 100;
        Duration::from_millis(u64::try_from(jittered.max(0)).unwrap_or(u64::MAX))
    }
}

/// An HTTP target's client (its trusted CAs and client certificate) and credential header.
fn http_client(
    extras: TargetExtras,
) -> Result<(reqwest::Client, Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = &extras.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("ca_file: {e}"))?;
        if certs.is_empty() {
            return Err("ca_file: no PEM certificate in it".into());
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = &extras.identity_pem {
        let identity = reqwest::Identity::from_pem(pem).map_err(|e| format!("client_cert / client_key: {e}"))?;
        builder = builder.identity(identity);
    }
    let client = builder.build().map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))?;
    let auth = match extras.auth {
        Some((name, value)) => {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("auth_header name `{name}` is not a header name"))?;
            // Never echoed: the value is a credential.
            let mut value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| "auth_header value is not a valid header value".to_owned())?;
            value.set_sensitive(true);
            Some((name, value))
        }
        None => None,
    };
    Ok((client, auth))
}

/// Runs one worker per target until `stop` turns true; in-flight attempts finish first.
pub(crate) fn spawn_workers(
    store: &Arc<Store>,
    targets: Vec<Target>,
    wake: &Arc<Notify>,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    targets
        .into_iter()
        .map(|t| {
            let (store, wake, mut stop) = (Arc::clone(store), Arc::clone(wake), stop.clone());
            let target = Arc::new(t);
            tokio::spawn(async move {
                // Longer than any attempt can take (its timeout) plus time to record it.
                let lease = target.timeout + Duration::from_secs(5);
                loop {
                    if *stop.borrow() {
                        break;
                    }
                    // Ingest first: acknowledging providers is the latency-critical path, delivery
                    // is asynchronous by design. While requests keep the single writer busy, a
                    // worker waits (up to 50 ms at a time) before adding its claim to the queue.
                    for _ in 0..25 {
                        if store.queued() <= INGEST_BUSY_QUEUE {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    let claimed = match store.claim(&target.name, target.concurrency, target.ordered, lease).await {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(target = %target.name, error = %e, "Claiming deliveries failed; retrying.");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    };
                    if claimed.is_empty() {
                        // New events wake the workers; retries come due on the poll.
                        tokio::select! {
                            () = wake.notified() => {}
                            () = tokio::time::sleep(Duration::from_millis(200)) => {}
                            _ = stop.changed() => {}
                        }
                        continue;
                    }
                    let mut set = tokio::task::JoinSet::new();
                    for c in claimed {
                        let (store, target) = (Arc::clone(&store), Arc::clone(&target));
                        set.spawn(async move {
                            let finished = attempt(&target, &c).await;
                            if let Err(e) = store.finish(finished).await {
                                // The lease expires and the delivery is attempted again.
                                tracing::warn!(target = %target.name, delivery = c.delivery_id, error = %e, "Recording an attempt failed.");
                            }
                        });
                    }
                    while set.join_next().await.is_some() {}
                }
            })
        })
        .collect()
}

async fn attempt(target: &Target, c: &Claimed) -> Finished {
    let started_at = Timestamp::now();
    let started = Instant::now();
    let attempts_after = c.attempts + 1;
    let (delivered, status_code, error, excerpt, retryable, retry_after) = match &target.kind {
        Kind::Http { url, forward_headers, signer, client, auth } => {
            match send(client, auth.as_ref(), target, url, forward_headers, signer, c).await {
                Ok((status, excerpt, retry_after)) => {
                    let ok = (200..300).contains(&status);
                    let permanent = (400..500).contains(&status) && status != 408 && status != 429 && !target.retry_4xx;
                    let error = (!ok).then(|| format!("http status {status}"));
                    (ok, Some(i64::from(status)), error, Some(excerpt), !ok && !permanent, retry_after)
                }
                Err(e) => (false, None, Some(e), None, true, None),
            }
        }
        Kind::Nats { url, subject, options, jetstream } => {
            match publish(target, url, subject, options, jetstream, c).await {
                Ok(text) => (true, None, None, Some(text), true, None),
                Err(e) => (false, None, Some(e), None, true, None),
            }
        }
        Kind::Command { argv, pass_env } => match run_command(target, argv, pass_env, c, attempts_after).await {
            Ok((code, output)) => {
                let error = (code != 0).then(|| format!("exit code {code}"));
                (code == 0, Some(code), error, Some(output), true, None)
            }
            Err(e) => (false, None, Some(e), None, true, None),
        },
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let next = if delivered {
        Next::Delivered
    } else if !retryable || attempts_after >= i64::from(target.retry.max_attempts) {
        Next::Dead
    } else {
        let delay = target.backoff(attempts_after, c.delivery_id).max(retry_after.unwrap_or_default());
        Next::Retry(Timestamp::now().unix_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2))
    };
    let outcome = match next {
        Next::Delivered => "delivered",
        Next::Retry(_) => "retry",
        Next::Dead => "dead",
    };
    metrics::counter!("hookgate_delivery_attempts_total", "target" => target.name.clone(), "outcome" => outcome)
        .increment(1);
    if delivered {
        let latency = (Timestamp::now().unix_millis() - c.received_at_ms).max(0) as f64 / 1000.0;
        metrics::histogram!("hookgate_delivery_latency_seconds", "target" => target.name.clone()).record(latency);
    } else {
        tracing::warn!(target = %target.name, delivery = c.delivery_id, event = c.event_id, attempt = attempts_after,
            error = error.as_deref().unwrap_or(""), next = outcome, "Delivery attempt failed.");
    }
    Finished {
        delivery_id: c.delivery_id,
        attempt: Attempt {
            started_at_ms: started_at.unix_millis(),
            started_at: String::new(),
            duration_ms,
            status_code,
            error,
            response_excerpt: excerpt,
        },
        next,
    }
}

/// One HTTP attempt: the original body and content type, Hookgate's headers and a Standard
/// Webhooks signature. Returns the status, a bounded excerpt of the answer and its Retry-After.
async fn send(
    client: &reqwest::Client,
    auth: Option<&(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    target: &Target,
    url: &str,
    forward_headers: &[String],
    signer: &Verifier,
    c: &Claimed,
) -> Result<(u16, String, Option<Duration>), String> {
    let message_id = format!("evt_{}", c.event_id);
    let empty = HeaderMap::new();
    let signed = signer
        .sign(
            &WebhookRequest::new(&empty, &c.body),
            &SignOptions { timestamp: Some(Timestamp::now()), id: Some(&message_id), algorithm: None },
        )
        .map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .timeout(target.timeout)
        .header("hookgate-event-id", c.event_id.to_string())
        .header("hookgate-source", &c.source)
        .body(c.body.clone());
    let content_type = c
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .and_then(|(_, v)| v.to_str())
        .unwrap_or("application/octet-stream");
    request = request.header("content-type", content_type);
    if let Some(t) = &c.event_type {
        request = request.header("hookgate-event-type", t);
    }
    for (k, v) in c.headers.iter().filter(|(k, _)| forward_headers.contains(k)) {
        // The bytes received, whatever they are (a value that is not UTF-8 is still a header).
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(v.as_bytes()) {
            request = request.header(k, v);
        }
    }
    for (k, v) in signed {
        request = request.header(k, v);
    }
    if let Some((name, value)) = auth {
        request = request.header(name.clone(), value.clone());
    }
    // reqwest names the URL in its errors; the URL may carry a token (`?token=…`, userinfo), and
    // this text goes to the log and the delivery's `last_error`: name it redacted, once.
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("request to {} failed: {}", redacted_url(url), error_chain(&e.without_url())))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
    let mut excerpt = Vec::new();
    while excerpt.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - excerpt.len())]),
            _ => break,
        }
    }
    Ok((status, String::from_utf8_lossy(&excerpt).into_owned(), retry_after))
}

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

/// A subject token from event data: NATS subjects split on `.` and forbid spaces and wildcards.
fn subject_token(s: &str) -> String {
    let t: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if t.is_empty() { "_".to_owned() } else { t }
}

/// Publishes to JetStream and waits for the stream's acknowledgement.
async fn publish(
    target: &Target,
    url: &str,
    subject: &str,
    options: &NatsOptions,
    jetstream: &tokio::sync::OnceCell<async_nats::jetstream::Context>,
    c: &Claimed,
) -> Result<String, String> {
    let js = jetstream
        .get_or_try_init(|| async {
            let mut connect = async_nats::ConnectOptions::new().connection_timeout(target.timeout);
            connect = match &options.auth {
                NatsAuth::None => connect,
                NatsAuth::UserPassword(user, password) => connect.user_and_password(user.clone(), password.to_string()),
                NatsAuth::Token(token) => connect.token(token.to_string()),
            };
            if let Some(ca) = &options.ca {
                connect = connect.add_root_certificates(ca.clone()).require_tls(true);
            }
            if let Some((cert, key)) = &options.client_cert {
                connect = connect.add_client_certificate(cert.clone(), key.clone()).require_tls(true);
            }
            let client = connect
                .connect(url)
                .await
                .map_err(|e| format!("cannot connect to {}: {}", redacted_url(url), error_chain(&e)))?;
            Ok::<_, String>(async_nats::jetstream::new(client))
        })
        .await?;
    let subject = subject
        .replace("{source}", &subject_token(&c.source))
        .replace("{event_type}", &subject_token(c.event_type.as_deref().unwrap_or("unknown")));
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", format!("evt_{}", c.event_id).as_str());
    headers.insert("Hookgate-Event-Id", c.event_id.to_string().as_str());
    headers.insert("Hookgate-Source", c.source.as_str());
    if let Some(ct) = c.headers.iter().find(|(k, _)| k == "content-type").and_then(|(_, v)| v.to_str()) {
        headers.insert("Content-Type", ct);
    }
    let ack = tokio::time::timeout(target.timeout, async {
        js.publish_with_headers(subject.clone(), headers, bytes::Bytes::from(c.body.clone()))
            .await
            .map_err(|e| format!("publish to {subject} failed: {e}"))?
            .await
            .map_err(|e| format!("no acknowledgement from the stream for {subject}: {e}"))
    })
    .await
    .map_err(|_| format!("no acknowledgement within {} s", target.timeout.as_secs()))??;
    Ok(format!("stream {} seq {}{}", ack.stream, ack.sequence, if ack.duplicate { " (duplicate)" } else { "" }))
}

/// Runs a command target: no shell, the body on stdin, metadata in `HOOKGATE_*` variables, and a
/// clean environment (Hookgate's own holds secrets) plus `PATH` and the target's `pass_env`. The
/// timeout kills it. Returns the exit code and the start of its output.
async fn run_command(
    target: &Target,
    argv: &[String],
    pass_env: &[String],
    c: &Claimed,
    attempt: i64,
) -> Result<(i64, String), String> {
    use tokio::io::AsyncWriteExt as _;
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, so a timeout kills what it started too (`sh -c "sleep 30"`),
        // not only the direct child.
        .process_group(0)
        .kill_on_drop(true);
    for var in std::iter::once("PATH").chain(pass_env.iter().map(String::as_str)) {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.env("HOOKGATE_EVENT_ID", c.event_id.to_string())
        .env("HOOKGATE_DELIVERY_ID", c.delivery_id.to_string())
        .env("HOOKGATE_SOURCE", &c.source)
        .env("HOOKGATE_EVENT_TYPE", c.event_type.as_deref().unwrap_or(""))
        .env("HOOKGATE_RECEIVED_AT", Timestamp::from_unix_millis(c.received_at_ms).to_rfc3339())
        .env("HOOKGATE_ATTEMPT", attempt.to_string())
        .env("HOOKGATE_TARGET", &target.name);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run `{}`: {e}", argv[0]))?;
    let group = child.id();
    let (mut stdin, mut stdout, mut stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let body = c.body.clone();
    let run = async move {
        let feed = async {
            if let Some(s) = stdin.as_mut() {
                // A program that does not read its stdin is fine: a broken pipe is not an error.
                let _ = s.write_all(&body).await;
            }
            drop(stdin);
        };
        // Read both streams to the end (so the child never blocks on a full pipe), keep the start.
        let ((), out, err, status) =
            tokio::join!(feed, read_bounded(stdout.take()), read_bounded(stderr.take()), child.wait());
        (out, err, status)
    };
    match tokio::time::timeout(target.timeout, run).await {
        Ok((out, err, Ok(status))) => {
            let mut text = String::from_utf8_lossy(&out).into_owned();
            if !err.is_empty() {
                text.push_str(&String::from_utf8_lossy(&err));
            }
            // A signal has no exit code; -1 stands for it.
            Ok((i64::from(status.code().unwrap_or(-1)), text))
        }
        Ok((_, _, Err(e))) => Err(format!("waiting for the command failed: {e}")),
        // Dropping the future drops the child, which kills it (kill_on_drop); the rest of its
        // process group goes with it.
        Err(_) => {
            if let Some(group) = group {
                crate::process::kill_group(group);
            }
            Err(format!("timed out after {} s; killed", target.timeout.as_secs()))
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date, capped at a day.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            httpdate::parse_http_date(value).ok()?.duration_since(std::time::SystemTime::now()).unwrap_or_default()
        }
    };
    Some(delay.min(Duration::from_secs(24 * 3600)))
}

/// Reads a child's stream to the end, keeping at most [`EXCERPT_BYTES`].
async fn read_bounded(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut kept = Vec::new();
    if let Some(mut s) = stream {
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n.min(EXCERPT_BYTES.saturating_sub(kept.len()))]);
        }
    }
    kept
}

/// Publishes queue depth and the oldest pending delivery's age every few seconds.
pub(crate) fn spawn_queue_metrics(store: &Arc<Store>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        loop {
            if let Ok(q) = store.queue_depth().await {
                metrics::gauge!("hookgate_deliveries", "status" => "pending").set(q.pending as f64);
                metrics::gauge!("hookgate_deliveries", "status" => "failed").set(q.failed as f64);
                metrics::gauge!("hookgate_deliveries", "status" => "dead").set(q.dead as f64);
                metrics::gauge!("hookgate_delivery_oldest_pending_seconds").set(q.oldest_pending_ms as f64 / 1000.0);
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.changed() => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_or_http_date() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("9999999"), Some(Duration::from_secs(24 * 3600)));
        let in_a_minute = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(61));
        let d = parse_retry_after(&in_a_minute).unwrap();
        assert!(d > Duration::from_secs(55) && d <= Duration::from_secs(61), "{d:?}");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

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
