//! `type = "nats"`: a JetStream publish with `Nats-Msg-Id` = the event id (the broker drops
//! duplicates within its window), delivered once the stream acknowledges it.

use std::path::PathBuf;

use hookgate_store::Claimed;
use hookgate_verify::SecretRef;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::Attempt;
use crate::config::Resolve;
use crate::{Outcome, error_chain, redacted_url};

/// A NATS target's own keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// The server (`nats://127.0.0.1:4222`, or `tls://`).
    pub url: String,
    /// The JetStream subject; `{source}` and `{event_type}` are replaced.
    pub subject: String,
    /// A PEM file of CA certificates trusted for the server. Relative to the config file.
    pub ca_file: Option<PathBuf>,
    /// A client certificate (PEM), for a server that verifies clients, with `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// User name, with `password`.
    pub user: Option<String>,
    /// The user's password, from env or a file.
    pub password: Option<SecretRef>,
    /// An authentication token, from env or a file.
    pub token: Option<SecretRef>,
}

/// A NATS target's credentials. `Debug` never shows a password or a token.
enum Auth {
    None,
    UserPassword(String, Zeroizing<String>),
    Token(Zeroizing<String>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "none",
            Auth::UserPassword(..) => "user and password (redacted)",
            Auth::Token(_) => "token (redacted)",
        })
    }
}

#[derive(Debug)]
pub(super) struct NatsTarget {
    url: String,
    subject: String,
    auth: Auth,
    /// CA certificates (PEM) trusted for the server.
    ca: Option<PathBuf>,
    /// Client certificate and key (PEM).
    client_cert: Option<(PathBuf, PathBuf)>,
    /// Connected on the first attempt, and kept.
    jetstream: tokio::sync::OnceCell<async_nats::jetstream::Context>,
}

impl NatsTarget {
    /// Checks the URL and subject, reads the credentials, and checks every file is readable now
    /// (the client reads them again when it connects).
    pub(super) fn build(c: &NatsConfig, resolve: &dyn Resolve) -> Result<Self, String> {
        if !c.url.starts_with("nats://") && !c.url.starts_with("tls://") {
            return Err(format!("url `{}` is not nats:// or tls://", redacted_url(&c.url)));
        }
        if c.subject.is_empty() || c.subject.contains([' ', '*', '>']) {
            return Err(format!("subject `{}` must be a plain subject (no spaces or wildcards)", c.subject));
        }
        let readable = |p: &std::path::Path| {
            let path = resolve.path(p);
            std::fs::File::open(&path).map(|_| path.clone()).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let auth = match (&c.user, &c.password, &c.token) {
            (None, None, None) => Auth::None,
            (Some(user), Some(password), None) => Auth::UserPassword(user.clone(), resolve.text(password)?),
            (None, None, Some(token)) => Auth::Token(resolve.text(token)?),
            _ => return Err("give either `user` and `password`, or `token`".into()),
        };
        let client_cert = match (&c.client_cert, &c.client_key) {
            (Some(cert), Some(key)) => Some((readable(cert)?, readable(key)?)),
            (None, None) => None,
            _ => return Err("client_cert and client_key go together".into()),
        };
        let ca = c.ca_file.as_deref().map(readable).transpose()?;
        Ok(Self {
            url: c.url.clone(),
            subject: c.subject.clone(),
            auth,
            ca,
            client_cert,
            jetstream: tokio::sync::OnceCell::new(),
        })
    }

    pub(super) fn destination(&self) -> String {
        format!("{} {}", crate::redacted_url(&self.url), self.subject)
    }

    pub(super) async fn deliver(&self, c: &Claimed, attempt: Attempt<'_>) -> Outcome {
        match self.publish(c, attempt).await {
            Ok(text) => Outcome::Delivered { status: None, response: Some(text) },
            Err(e) => Outcome::retry(e),
        }
    }

    async fn connect(&self, attempt: Attempt<'_>) -> Result<&async_nats::jetstream::Context, String> {
        self.jetstream
            .get_or_try_init(|| async {
                let mut connect = async_nats::ConnectOptions::new().connection_timeout(attempt.timeout);
                connect = match &self.auth {
                    Auth::None => connect,
                    Auth::UserPassword(user, password) => connect.user_and_password(user.clone(), password.to_string()),
                    Auth::Token(token) => connect.token(token.to_string()),
                };
                if let Some(ca) = &self.ca {
                    connect = connect.add_root_certificates(ca.clone()).require_tls(true);
                }
                if let Some((cert, key)) = &self.client_cert {
                    connect = connect.add_client_certificate(cert.clone(), key.clone()).require_tls(true);
                }
                let client = connect
                    .connect(&self.url)
                    .await
                    .map_err(|e| format!("cannot connect to {}: {}", redacted_url(&self.url), error_chain(&e)))?;
                Ok::<_, String>(async_nats::jetstream::new(client))
            })
            .await
    }

    /// Publishes to JetStream and waits for the stream's acknowledgement.
    async fn publish(&self, c: &Claimed, attempt: Attempt<'_>) -> Result<String, String> {
        let js = self.connect(attempt).await?;
        let subject = self
            .subject
            .replace("{source}", &subject_token(&c.source))
            .replace("{event_type}", &subject_token(c.event_type.as_deref().unwrap_or("unknown")));
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("evt_{}", c.event_id).as_str());
        headers.insert("Hookgate-Event-Id", c.event_id.to_string().as_str());
        headers.insert("Hookgate-Source", c.source.as_str());
        if let Some(ct) = c.headers.iter().find(|(k, _)| k == "content-type").and_then(|(_, v)| v.to_str()) {
            headers.insert("Content-Type", ct);
        }
        let ack = tokio::time::timeout(attempt.timeout, async {
            js.publish_with_headers(subject.clone(), headers, bytes::Bytes::from(c.body.clone()))
                .await
                .map_err(|e| format!("publish to {subject} failed: {e}"))?
                .await
                .map_err(|e| format!("no acknowledgement from the stream for {subject}: {e}"))
        })
        .await
        .map_err(|_| format!("no acknowledgement within {} s", attempt.timeout.as_secs()))??;
        Ok(format!("stream {} seq {}{}", ack.stream, ack.sequence, if ack.duplicate { " (duplicate)" } else { "" }))
    }
}

/// A subject token from event data: NATS subjects split on `.` and forbid spaces and wildcards.
fn subject_token(s: &str) -> String {
    let t: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if t.is_empty() { "_".to_owned() } else { t }
}
