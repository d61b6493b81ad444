//! Delivery targets: one file per kind, each with its configuration (the keys after `type`), its
//! built form, and one `deliver` that answers an [`Outcome`].
//!
//! Adding a kind is a new file here plus a variant in [`KindConfig`] and in `Kind` (and a cargo
//! feature when it brings a client library); see docs/adding-a-target.md.

mod command;
#[cfg(feature = "test-support")]
pub mod fake;
mod http;
#[cfg(feature = "nats")]
mod nats;

use std::time::Duration;

use hookgate_store::Claimed;

pub use self::command::CommandConfig;
pub use self::http::{AuthHeaderConfig, HttpConfig};
#[cfg(feature = "nats")]
pub use self::nats::NatsConfig;
use crate::config::{Resolve, TargetConfig, from_table, keys_of};
use crate::{Outcome, RetryPolicy};

/// A target kind's own keys, chosen by `type`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KindConfig {
    /// `type = "http"`: a signed POST.
    Http(HttpConfig),
    /// `type = "command"`: a program run with the body on stdin.
    Command(CommandConfig),
    /// `type = "nats"`: a JetStream publish.
    #[cfg(feature = "nats")]
    Nats(NatsConfig),
}

/// The `type`s this build knows, for the message about one it does not.
fn kinds() -> Vec<&'static str> {
    let mut kinds = vec!["http", "command"];
    if cfg!(feature = "nats") {
        kinds.push("nats");
    }
    kinds
}

/// The kinds, other than the one at hand, that have `key`: a key of another kind is most likely
/// a target whose `type` is not the one meant.
pub(crate) fn kinds_with_key(key: &str) -> Vec<&'static str> {
    let mut keys: Vec<(&str, &[&str])> =
        vec![("http", keys_of::<HttpConfig>()), ("command", keys_of::<CommandConfig>())];
    #[cfg(feature = "nats")]
    keys.push(("nats", keys_of::<NatsConfig>()));
    keys.into_iter().filter(|(_, k)| k.contains(&key)).map(|(kind, _)| kind).collect()
}

impl KindConfig {
    /// Reads the keys after the common ones as the kind `type` names.
    pub(crate) fn from_table(kind: &str, keys: toml::Table) -> Result<Self, String> {
        match kind {
            "http" => from_table(keys, Some(kind)).map(KindConfig::Http),
            "command" => from_table(keys, Some(kind)).map(KindConfig::Command),
            #[cfg(feature = "nats")]
            "nats" => from_table(keys, Some(kind)).map(KindConfig::Nats),
            #[cfg(not(feature = "nats"))]
            "nats" => Err(
                "unknown type `nats`: this build has no NATS targets (built without the `nats` feature) (at `type`)"
                    .into(),
            ),
            other => Err(format!("unknown type `{other}` ({}) (at `type`)", kinds().join(", "))),
        }
    }

    /// The `type` as the configuration writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            KindConfig::Http(_) => "http",
            KindConfig::Command(_) => "command",
            #[cfg(feature = "nats")]
            KindConfig::Nats(_) => "nats",
        }
    }
}

/// A delivery target, ready to send.
#[derive(Debug)]
pub struct Target {
    name: String,
    kind: Kind,
    timeout: Duration,
    concurrency: u32,
    ordered: bool,
    policy: RetryPolicy,
}

/// A kind, built: its client, its signer, its files read.
#[derive(Debug)]
enum Kind {
    Http(Box<http::HttpTarget>),
    Command(command::CommandTarget),
    #[cfg(feature = "nats")]
    Nats(Box<nats::NatsTarget>),
    #[cfg(feature = "test-support")]
    Fake(fake::FakeTarget),
}

/// What a kind needs to know about the attempt beyond the delivery itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The target's name.
    pub(crate) target: &'a str,
    /// The per-attempt timeout.
    pub(crate) timeout: Duration,
    /// This attempt's number, from 1.
    pub(crate) number: i64,
}

impl Target {
    /// Validates a target's configuration and builds it: secrets read, files loaded, clients made.
    ///
    /// # Errors
    /// What is wrong, naming the key (never a secret's value).
    pub fn build(c: &TargetConfig, resolve: &dyn Resolve) -> Result<Self, String> {
        if c.concurrency == 0 || c.timeout_secs == 0 || c.retry.max_attempts == 0 {
            return Err("concurrency, timeout_secs and retry.max_attempts must be positive".into());
        }
        let kind = match &c.kind {
            KindConfig::Http(h) => Kind::Http(Box::new(http::HttpTarget::build(h, resolve)?)),
            KindConfig::Command(k) => Kind::Command(command::CommandTarget::build(k)?),
            #[cfg(feature = "nats")]
            KindConfig::Nats(n) => Kind::Nats(Box::new(nats::NatsTarget::build(n, resolve)?)),
        };
        Ok(Self {
            name: c.name.clone(),
            kind,
            timeout: Duration::from_secs(c.timeout_secs),
            // Ordered delivery is one at a time by definition.
            concurrency: if c.ordered { 1 } else { c.concurrency },
            ordered: c.ordered,
            policy: RetryPolicy::from(&c.retry),
        })
    }

    /// Its name (routes refer to it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kind's `type`.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Http(_) => "http",
            Kind::Command(_) => "command",
            #[cfg(feature = "nats")]
            Kind::Nats(_) => "nats",
            #[cfg(feature = "test-support")]
            Kind::Fake(_) => "fake",
        }
    }

    /// Where it delivers, as it may be shown: an HTTP target's URL (credentials as `***`), a
    /// command's program, a NATS target's server and subject.
    pub fn destination(&self) -> String {
        match &self.kind {
            Kind::Http(h) => h.destination(),
            Kind::Command(k) => k.destination(),
            #[cfg(feature = "nats")]
            Kind::Nats(n) => n.destination(),
            #[cfg(feature = "test-support")]
            Kind::Fake(_) => "fake".into(),
        }
    }

    /// Its per-attempt timeout.
    pub fn attempt_timeout(&self) -> Duration {
        self.timeout
    }

    /// Attempts in flight at once.
    pub fn max_in_flight(&self) -> u32 {
        self.concurrency
    }

    /// Whether it delivers in arrival order, one at a time.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// Its retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn concurrency(&self) -> u32 {
        self.concurrency
    }

    pub(crate) fn ordered(&self) -> bool {
        self.ordered
    }

    /// One attempt of one delivery, and what it exchanged (kinds other than HTTP record none).
    pub(crate) async fn deliver(&self, c: &Claimed, number: i64) -> (Outcome, crate::Exchange) {
        let attempt = Attempt { target: &self.name, timeout: self.timeout, number };
        match &self.kind {
            Kind::Http(h) => h.deliver(c, attempt).await,
            Kind::Command(k) => (k.deliver(c, attempt).await, crate::Exchange::default()),
            #[cfg(feature = "nats")]
            Kind::Nats(n) => (n.deliver(c, attempt).await, crate::Exchange::default()),
            #[cfg(feature = "test-support")]
            Kind::Fake(f) => (f.deliver(c, attempt).await, crate::Exchange::default()),
        }
    }
}
