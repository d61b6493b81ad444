//! Structured logs on stderr, text or JSON. The level comes from `HOOKGATE_LOG`
//! (`info` by default; e.g. `HOOKGATE_LOG=debug` or `info,hookgate_store=debug`).

use std::str::FromStr as _;

use anyhow::Context as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub(crate) fn init(format: &str) -> anyhow::Result<()> {
    let spec = std::env::var("HOOKGATE_LOG").unwrap_or_else(|_| "info".into());
    let filter =
        Targets::from_str(&spec).with_context(|| format!("HOOKGATE_LOG `{spec}` is not a level or target list"))?;
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
