//! Structured logs on stderr, text or JSON. The level comes from `HOOKGATE_LOG`
//! (`info` by default; e.g. `HOOKGATE_LOG=debug` or `info,hookgate_store=debug`).

use std::str::FromStr as _;

use anyhow::Context as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Each directive is a level or `target=level`. A bare word is a target at every level for
/// `tracing`'s parser, so `HOOKGATE_LOG=bogus` silently turned every other log off.
fn check_spec(spec: &str) -> anyhow::Result<()> {
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            anyhow::bail!("HOOKGATE_LOG: `{directive}` is not a level ({}) or `target=level`", LEVELS.join(", "));
        }
    }
    Ok(())
}

/// `HOOKGATE_LOG` as `serve` reads it: checked by `config check` too.
pub(crate) fn check_env() -> anyhow::Result<Targets> {
    let spec = std::env::var("HOOKGATE_LOG").unwrap_or_else(|_| "info".into());
    check_spec(&spec)?;
    Targets::from_str(&spec).with_context(|| format!("HOOKGATE_LOG `{spec}` is not a level or target list"))
}

/// A log format `serve` accepts.
pub(crate) fn check_format(format: &str) -> anyhow::Result<()> {
    match format {
        "text" | "json" => Ok(()),
        other => anyhow::bail!("log format `{other}` is not text or json"),
    }
}

pub(crate) fn init(format: &str) -> anyhow::Result<()> {
    check_format(format)?;
    let filter = check_env()?;
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        "json" => registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init(),
        "text" => {
            registry.with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::io::stderr)).try_init()
        }
        other => anyhow::bail!("log format `{other}` is not text or json"),
    }
    .context("cannot start logging")
}
