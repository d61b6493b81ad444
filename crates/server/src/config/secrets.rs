//! Reading what a configuration refers to: paths relative to its file, and secrets from the
//! environment or files (never from the file itself). Sources and targets read theirs here.

use std::path::{Path, PathBuf};

use hookgate_verify::{Secret, SecretEncoding, SecretRef};
use zeroize::Zeroizing;

/// The configuration file's directory, against which its relative paths resolve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConfigDir<'a>(pub(crate) &'a Path);

impl ConfigDir<'_> {
    pub(crate) fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_owned() } else { self.0.join(p) }
    }

    /// Reads and decodes one secret from its environment variable or file.
    pub(crate) fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String> {
        Secret::decode(&self.raw(r)?, encoding).map_err(|e| e.to_string())
    }

    /// The text of a secret reference (surrounding whitespace trimmed), for credentials that are
    /// sent as they are rather than used as keys.
    pub(crate) fn text(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(self.raw(r)?.trim().to_owned()))
    }

    /// The text of a secret reference as stored (untrimmed), from its environment variable or
    /// file: diagnosis tries it with its whitespace.
    pub(crate) fn raw(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(match (&r.env, &r.file) {
            (Some(var), None) => std::env::var(var).map_err(|_| format!("environment variable `{var}` is not set"))?,
            (None, Some(file)) => {
                let path = self.resolve(file);
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
            }
            _ => return Err("set exactly one of `env` or `file`".into()),
        }))
    }
}

/// A source's secret: where it comes from and, optionally, a label to tell it apart in
/// rotation (`secrets = [{ env = "FLINKS_NEW", label = "2026-12" }]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSecret {
    /// Where the secret is.
    pub from: SecretRef,
    /// How `hookgate secrets status`, metrics and diagnoses name it (else its position, `1`, `2`…).
    pub label: Option<String>,
}

/// The shape a source's secret takes, for error messages (never quoting what was given).
const SOURCE_SECRET_SHAPE: &str = "a table { env = \"VAR\" } or { file = \"PATH\" }, with an optional label = \"…\" (a secret itself is never written in the config)";

impl<'de> serde::Deserialize<'de> for SourceSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            env: Option<String>,
            file: Option<PathBuf>,
            label: Option<String>,
        }
        struct Shape;
        impl<'de> serde::de::Visitor<'de> for Shape {
            type Value = SourceSecret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SOURCE_SECRET_SHAPE)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<SourceSecret, A::Error> {
                let Fields { env, file, label } =
                    serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(SourceSecret { from: SecretRef { env, file }, label })
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<SourceSecret, E> {
                Err(E::custom(format!("invalid type: string, expected {SOURCE_SECRET_SHAPE}")))
            }
        }
        d.deserialize_any(Shape)
    }
}

/// Targets read their files and secrets as sources do.
impl hookgate_deliver::Resolve for ConfigDir<'_> {
    fn path(&self, p: &Path) -> PathBuf {
        self.resolve(p)
    }

    fn text(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        ConfigDir::text(self, r)
    }

    fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String> {
        ConfigDir::key(self, r, encoding)
    }
}
