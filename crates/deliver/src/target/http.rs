//! `type = "http"`: a POST of the original body and content type, signed with the target's own
//! Standard Webhooks secret, so the internal service can verify it with any Standard Webhooks
//! library.

use std::path::PathBuf;

use hookgate_store::Claimed;
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{SecretEncoding, SecretRef, SignOptions, Timestamp, Verifier, WebhookRequest};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::Attempt;
use crate::config::Resolve;
use crate::{EXCERPT_BYTES, Outcome, error_chain, parse_retry_after, redacted_url};

/// An HTTP target's own keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Where to POST.
    pub url: String,
    /// The target's own Standard Webhooks secret (`whsec_…`), used to sign what Hookgate sends.
    pub secret: SecretRef,
    /// Original request headers passed on (e.g. the provider's signature, for audit).
    #[serde(default)]
    pub forward_headers: Vec<String>,
    /// Treat 4xx answers (other than 408 and 429) as retryable instead of permanent.
    #[serde(default)]
    pub retry_4xx: bool,
    /// A PEM file of CA certificates trusted for this target, beside the system's roots (an
    /// internal CA). Relative to the config file.
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain (PEM) presented to the target (mTLS), with `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// A header sent with every delivery, its value from an environment variable or a file
    /// (`{ name = "Authorization", value = { env = "KYC_SVC_TOKEN" } }`), never a literal.
    pub auth_header: Option<AuthHeaderConfig>,
}

/// A static credential header for an HTTP target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthHeaderConfig {
    /// Header name (`Authorization`, `X-Api-Key`).
    pub name: String,
    /// Where its value comes from.
    pub value: SecretRef,
}

#[derive(Debug)]
pub(super) struct HttpTarget {
    url: String,
    forward_headers: Vec<String>,
    retry_4xx: bool,
    signer: Box<Verifier>,
    /// This target's client: its own trusted CAs and client certificate, if any.
    client: reqwest::Client,
    /// A credential header sent with every attempt (marked sensitive: `Debug` hides it).
    auth: Option<(HeaderName, HeaderValue)>,
}

impl HttpTarget {
    pub(super) fn build(c: &HttpConfig, resolve: &dyn Resolve) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(&c.url).map_err(|e| format!("url `{}`: {e}", redacted_url(&c.url)))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("url `{}` is not http or https", redacted_url(&c.url)));
        }
        let secret = resolve.key(&c.secret, SecretEncoding::Whsec)?;
        let scheme = hookgate_verify::preset("standard-webhooks").ok_or("the standard-webhooks preset exists")?;
        let signer = Box::new(Verifier::new(scheme, vec![secret]).map_err(|e| e.to_string())?);
        Ok(Self {
            url: c.url.clone(),
            forward_headers: c.forward_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            retry_4xx: c.retry_4xx,
            signer,
            client: client(c, resolve)?,
            auth: auth_header(c, resolve)?,
        })
    }

    pub(super) fn destination(&self) -> String {
        crate::redacted_url(&self.url)
    }

    pub(super) async fn deliver(&self, c: &Claimed, attempt: Attempt<'_>) -> (Outcome, crate::Exchange) {
        let mut exchange = crate::Exchange::default();
        let outcome = self.outcome(c, attempt, &mut exchange).await;
        (outcome, exchange)
    }

    async fn outcome(&self, c: &Claimed, attempt: Attempt<'_>, exchange: &mut crate::Exchange) -> Outcome {
        match self.send(c, attempt, exchange).await {
            Ok((status, excerpt, after)) => {
                let code = Some(i64::from(status));
                if (200..300).contains(&status) {
                    return Outcome::Delivered { status: code, response: Some(excerpt) };
                }
                let error = format!("http status {status}");
                let permanent = (400..500).contains(&status) && status != 408 && status != 429 && !self.retry_4xx;
                if permanent {
                    Outcome::Permanent { status: code, error, response: Some(excerpt) }
                } else {
                    Outcome::Retry { status: code, error, response: Some(excerpt), after }
                }
            }
            Err(e) => Outcome::retry(e),
        }
    }

    /// One HTTP attempt: the original body and content type, Hookgate's headers and a Standard
    /// Webhooks signature. Returns the status, a bounded excerpt of the answer and its Retry-After;
    /// records in `exchange` what was sent and the response's headers.
    async fn send(
        &self,
        c: &Claimed,
        attempt: Attempt<'_>,
        exchange: &mut crate::Exchange,
    ) -> Result<(u16, String, Option<std::time::Duration>), String> {
        let message_id = format!("evt_{}", c.event_id);
        let empty = HeaderMap::new();
        let signed = self
            .signer
            .sign(
                &WebhookRequest::new(&empty, &c.body),
                &SignOptions { timestamp: Some(Timestamp::now()), id: Some(&message_id), algorithm: None },
            )
            .map_err(|e| e.to_string())?;
        let mut request = self
            .client
            .post(&self.url)
            .timeout(attempt.timeout)
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
            // Percent-encoded when a header cannot carry it as it is (and then said so).
            let (value, encoded) = crate::carried_text::header_value(t);
            request = request.header("hookgate-event-type", value.as_ref());
            if encoded {
                request = request.header("hookgate-event-type-encoding", "percent");
            }
        }
        for (k, v) in c.headers.iter().filter(|(k, _)| self.forward_headers.contains(k)) {
            // The bytes received, whatever they are (a value that is not UTF-8 is still a header).
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                request = request.header(k, v);
            }
        }
        for (k, v) in signed {
            request = request.header(k, v);
        }
        if let Some((name, value)) = &self.auth {
            request = request.header(name.clone(), value.clone());
        }
        // reqwest names the URL in its errors; the URL may carry a token (`?token=…`, userinfo),
        // and this text goes to the log and the delivery's `last_error`: name it redacted, once.
        let failed = |e: reqwest::Error| {
            format!("request to {} failed: {}", redacted_url(&self.url), error_chain(&e.without_url()))
        };
        let request = request.build().map_err(failed)?;
        exchange.request = Some(describe_request(&request, &self.url, c.body.len()));
        let mut response = self.client.execute(request).await.map_err(failed)?;
        exchange.response_headers = Some(describe_headers(response.headers()));
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    excerpt.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - excerpt.len())]);
                }
                _ => break,
            }
        }
        Ok((status, String::from_utf8_lossy(&excerpt).into_owned(), retry_after))
    }
}

/// The request as recorded with the attempt: what an operator needs to tell deliveries apart and
/// reproduce one, without a credential (header values are not kept; the URL is redacted).
fn describe_request(request: &reqwest::Request, url: &str, body_bytes: usize) -> String {
    let names: Vec<&str> = request.headers().keys().map(reqwest::header::HeaderName::as_str).collect();
    serde_json::json!({
        "method": request.method().as_str(),
        "url": redacted_url(url),
        "headers": names,
        "body_bytes": body_bytes,
    })
    .to_string()
}

/// Response headers kept per attempt: at most this many...
const KEPT_HEADERS: usize = 32;
/// ...each value cut to this many characters.
const KEPT_VALUE_CHARS: usize = 256;

/// The response's headers as `[[name, value]]`, bounded; values of headers that carry credentials
/// (cookies, authorization, tokens, keys) as `***`: the record is shown to every operator role.
fn describe_headers(headers: &reqwest::header::HeaderMap) -> String {
    let pairs: Vec<[String; 2]> = headers
        .iter()
        .take(KEPT_HEADERS)
        .map(|(name, value)| {
            let n = name.as_str();
            let secret = ["cookie", "authorization", "token", "key", "secret", "session"].iter().any(|w| n.contains(w));
            let shown = if secret {
                "***".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).chars().take(KEPT_VALUE_CHARS).collect()
            };
            [n.to_owned(), shown]
        })
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// An HTTP target's client: the system's roots plus its `ca_file`, and its client certificate.
/// The files are read now, so a missing one stops the start.
fn client(c: &HttpConfig, resolve: &dyn Resolve) -> Result<reqwest::Client, String> {
    let read = |p: &std::path::Path| {
        let path = resolve.path(p);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if let Some(file) = &c.ca_file {
        let pem = read(file)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("ca_file: {e}"))?;
        if certs.is_empty() {
            return Err("ca_file: no PEM certificate in it".into());
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&c.client_cert, &c.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = zeroize::Zeroizing::new(read(cert)?);
            pem.push(b'\n');
            pem.extend_from_slice(&zeroize::Zeroizing::new(read(key)?));
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| format!("client_cert / client_key: {e}"))?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err("client_cert and client_key go together".into()),
    }
    builder.build().map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))
}

/// The credential header, its value read now and marked sensitive (never echoed: it is a
/// credential).
fn auth_header(c: &HttpConfig, resolve: &dyn Resolve) -> Result<Option<(HeaderName, HeaderValue)>, String> {
    let Some(h) = &c.auth_header else { return Ok(None) };
    let name = HeaderName::from_bytes(h.name.as_bytes())
        .map_err(|_| format!("auth_header name `{}` is not a header name", h.name))?;
    let text = resolve.text(&h.value)?;
    let mut value =
        HeaderValue::from_str(&text).map_err(|_| "auth_header value is not a valid header value".to_owned())?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}
