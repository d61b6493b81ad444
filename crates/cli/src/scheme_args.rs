//! Flags shared by commands that need a scheme and its secrets.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use hookgate_verify::{Algorithm, Auth, Overrides, Scheme, Secret, SecretEncoding, SecretText};

/// Which scheme to use and where its secrets come from. Secrets are never accepted as argument
/// values: argv is visible in `ps` and shell history.
#[derive(Debug, Args)]
pub(crate) struct SchemeArgs {
    /// A preset name (see `hookgate schemes`).
    #[arg(long, required_unless_present = "scheme_file", conflicts_with = "scheme_file")]
    pub(crate) scheme: Option<String>,
    /// A custom scheme described in TOML (see the README, "Custom schemes").
    #[arg(long, value_name = "PATH")]
    pub(crate) scheme_file: Option<PathBuf>,
    /// Read a secret from this environment variable. Repeatable: `verify` tries every secret
    /// (rotation); `sign` and `send` sign with the first.
    #[arg(long, value_name = "VAR")]
    pub(crate) secret_env: Vec<String>,
    /// Read a secret from this file (surrounding whitespace is ignored). Repeatable.
    #[arg(long, value_name = "PATH")]
    pub(crate) secret_file: Vec<PathBuf>,
    /// How secret text becomes key bytes, overriding the scheme's default.
    #[arg(long, value_name = "utf8|whsec|hex|base64", value_parser = parse_secret_encoding)]
    pub(crate) secret_encoding: Option<SecretEncoding>,
    /// Accept SHA-1 signatures where the scheme has a legacy SHA-1 header (GitHub `X-Hub-Signature`).
    #[arg(long)]
    pub(crate) allow_sha1: bool,
    /// For schemes whose request names the algorithm (Fin): the accepted algorithms, comma-separated
    /// (`sha1` also needs --allow-sha1).
    #[arg(long, value_name = "ALG,...", value_delimiter = ',')]
    pub(crate) algorithms: Vec<Algorithm>,
}

fn parse_secret_encoding(s: &str) -> Result<SecretEncoding, String> {
    match s {
        "utf8" => Ok(SecretEncoding::Utf8),
        "whsec" => Ok(SecretEncoding::Whsec),
        "hex" => Ok(SecretEncoding::Hex),
        "base64" => Ok(SecretEncoding::Base64),
        _ => Err("expected utf8, whsec, hex or base64".into()),
    }
}

impl SchemeArgs {
    /// Loads the scheme, applies the overrides and reads the keys (in the order: env, file), each
    /// decoded by the scheme's rule: whatever its kind, the command gets one [`Auth`].
    pub(crate) fn build(&self) -> anyhow::Result<Auth> {
        let scheme = match (&self.scheme, &self.scheme_file) {
            (Some(name), _) => hookgate_verify::preset(name)
                .with_context(|| format!("unknown scheme `{name}` (see `hookgate schemes`)"))?,
            (None, Some(path)) => load_scheme_file(path)?,
            (None, None) => bail!("--scheme or --scheme-file is required"),
        };
        // The same rules as a source's keys in the configuration (SHA-1 only with --allow-sha1).
        let overrides = Overrides {
            secret_encoding: self.secret_encoding,
            allow_sha1: self.allow_sha1,
            algorithms: (!self.algorithms.is_empty()).then(|| self.algorithms.clone()),
            ..Overrides::default()
        };
        let scheme = scheme.with_overrides(&overrides)?;
        let secrets = self.secrets(&scheme)?;
        let name = scheme.name.clone();
        Auth::new(scheme, secrets).with_context(|| format!("cannot use scheme `{name}`"))
    }

    /// The secrets' text as read, named by where it came from, for `verify --explain` to try
    /// other decodings and whitespace (in the same order as the verifier's keys).
    pub(crate) fn secret_texts(&self) -> anyhow::Result<Vec<SecretText>> {
        let mut texts = Vec::new();
        for var in &self.secret_env {
            texts.push(SecretText::new(var.clone(), read_env(var)?.as_str()));
        }
        for path in &self.secret_file {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).with_context(|| format!("cannot read secret file {}", path.display()))?,
            );
            texts.push(SecretText::new(path.display().to_string(), text.as_str()));
        }
        Ok(texts)
    }

    fn secrets(&self, scheme: &Scheme) -> anyhow::Result<Vec<Secret>> {
        if self.secret_env.is_empty() && self.secret_file.is_empty() {
            bail!("a secret is required: --secret-env VAR or --secret-file PATH");
        }
        let mut secrets = Vec::new();
        for var in &self.secret_env {
            let text = read_env(var)?;
            secrets.push(scheme.key(&text).with_context(|| format!("secret from `{var}`"))?);
        }
        for path in &self.secret_file {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).with_context(|| format!("cannot read secret file {}", path.display()))?,
            );
            secrets.push(scheme.key(&text).with_context(|| format!("secret from {}", path.display()))?);
        }
        Ok(secrets)
    }
}

/// A secret's text from an environment variable (zeroized when dropped).
pub(crate) fn read_env(var: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = std::env::var(var).map_err(|e| match e {
        std::env::VarError::NotPresent => anyhow::anyhow!("environment variable `{var}` is not set"),
        std::env::VarError::NotUnicode(_) => anyhow::anyhow!("environment variable `{var}` is not UTF-8"),
    })?;
    Ok(zeroize::Zeroizing::new(text))
}

pub(crate) fn load_scheme_file(path: &std::path::Path) -> anyhow::Result<Scheme> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read scheme file {}", path.display()))?;
    let scheme: Scheme = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!("invalid scheme file {}: {}", path.display(), hookgate_server::config::parse_error(&text, &e))
    })?;
    scheme.validate().with_context(|| format!("invalid scheme file {}", path.display()))?;
    Ok(scheme)
}
