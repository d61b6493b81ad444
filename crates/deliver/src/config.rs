//! `[[target]]` as the configuration writes it: the keys every target has, and its kind's own
//! keys, chosen by `type`.
//!
//! The file stays flat (`type = "http"` beside `url`) and unknown keys are still refused, now per
//! kind: serde's `flatten` and `deny_unknown_fields` do not work together, so `type` is read
//! first and the remaining keys are read as the kind's own struct (as svix-bridge reads its
//! `type` by hand). A key of another kind is refused with a message naming this target's kind.

use std::path::{Path, PathBuf};

use hookgate_verify::{Secret, SecretEncoding, SecretRef};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::target::KindConfig;

/// What building a target needs from its surroundings: the configuration's directory and its
/// secrets. The server reads them (from the environment or files); this crate only asks.
pub trait Resolve {
    /// A path from the configuration, resolved against the configuration file's directory.
    fn path(&self, p: &Path) -> PathBuf;
    /// A secret reference's text, surrounding whitespace trimmed (a credential sent as it is).
    ///
    /// # Errors
    /// Why it cannot be read (never its value).
    fn text(&self, r: &SecretRef) -> Result<Zeroizing<String>, String>;
    /// A secret reference decoded into key bytes.
    ///
    /// # Errors
    /// Why it cannot be read or decoded (never its value).
    fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String>;
}

/// One `[[target]]`: an internal service events are delivered to.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// Unique name (routes refer to it).
    pub name: String,
    /// Per-attempt timeout.
    pub timeout_secs: u64,
    /// Attempts in flight at once.
    pub concurrency: u32,
    /// Deliver in arrival order, one at a time (a failing event holds back later ones until it is
    /// delivered or dead). Default: unordered and concurrent.
    pub ordered: bool,
    /// Retry policy.
    pub retry: RetryConfig,
    /// The kind (`type`) and its own keys.
    pub kind: KindConfig,
}

/// The keys every kind has.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "default_timeout")]
    timeout_secs: u64,
    #[serde(default = "default_concurrency")]
    concurrency: u32,
    #[serde(default)]
    ordered: bool,
    #[serde(default)]
    retry: RetryConfig,
}

const COMMON_KEYS: &[&str] = &["name", "type", "timeout_secs", "concurrency", "ordered", "retry"];

fn default_timeout() -> u64 {
    10
}
fn default_concurrency() -> u32 {
    8
}

impl<'de> Deserialize<'de> for TargetConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let own: Vec<String> = table.keys().filter(|k| !COMMON_KEYS.contains(&k.as_str())).cloned().collect();
        let mut kind_keys = toml::Table::new();
        for key in own {
            if let Some(v) = table.remove(&key) {
                kind_keys.insert(key, v);
            }
        }
        let common: Common = from_table(table, None).map_err(D::Error::custom)?;
        let kind = KindConfig::from_table(&common.kind, kind_keys).map_err(D::Error::custom)?;
        Ok(TargetConfig {
            name: common.name,
            timeout_secs: common.timeout_secs,
            concurrency: common.concurrency,
            ordered: common.ordered,
            retry: common.retry,
            kind,
        })
    }
}

/// Reads a table as `T`. A failure names the key at fault as `(at `key`)` after serde's message
/// (which the caller may redact: it can quote the value), and an unknown key names the kind.
pub(crate) fn from_table<T: DeserializeOwned>(table: toml::Table, kind: Option<&str>) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().message().to_owned();
        let message = match kind {
            Some(kind) if message.starts_with("unknown field") => {
                // Every target also takes the common keys: name them too, so a misspelt common
                // key (`timeout_sec`) is not answered with only the kind's own list.
                let common: Vec<String> = COMMON_KEYS.iter().map(|k| format!("`{k}`")).collect();
                let others = crate::target::kinds_with_key(&path);
                if others.is_empty() {
                    format!("{message} (for a `{kind}` target; common keys: {})", common.join(", "))
                } else {
                    format!(
                        "{message} (for a `{kind}` target; `{path}` is for {} targets; common keys: {})",
                        others.join(" and "),
                        common.join(", ")
                    )
                }
            }
            _ => message,
        };
        if path.is_empty() || path == "." { message } else { format!("{message} (at `{path}`)") }
    })
}

/// Exponential backoff with jitter: delay n = min(initial × 3^(n-1), max) ± 20 %.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts in all, the first included; then the delivery is dead.
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_delay_ms: u64,
    /// Longest delay.
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    /// 10 attempts over about a day: 10 s, 30 s, 1.5 min, 4.5 min, 13.5 min, 40 min, 2 h, 4 h, 8 h.
    fn default() -> Self {
        Self { max_attempts: 10, initial_delay_ms: 10_000, max_delay_ms: 8 * 3600 * 1000 }
    }
}

/// The keys a struct reads, as its `Deserialize` names them (serde passes them to
/// `deserialize_struct`): kinds' key lists without a hand-kept copy.
pub(crate) fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Keys<'a>(&'a mut &'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> Deserializer<'de> for Keys<'_> {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Keys(&mut fields));
    fields
}
