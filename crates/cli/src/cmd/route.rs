//! `hookgate route test`: which routes and targets an event would get, without sending it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::events::Format;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Derive what the gateway would from a body on stdin (metadata, event type, dedup key) and
    /// print the routes that match and the targets they select. The signature is not checked; the
    /// configuration is loaded as `serve` loads it (secrets are read, never printed).
    Test {
        /// Configuration file.
        #[arg(long, value_name = "FILE", env = "HOOKGATE_CONFIG")]
        config: PathBuf,
        /// The source the body arrives at.
        #[arg(long)]
        source: String,
        /// A request header, `Name: value` (schemes that read the event type or id from one).
        #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Test { config, source, headers, format } = cmd;
    let (_, built) = super::serve::load(&config, None, None)?;
    let src = built.sources.iter().find(|s| s.name == source).with_context(|| {
        let names: Vec<&str> = built.sources.iter().map(|s| s.name.as_str()).collect();
        format!("no source `{source}` in {} (sources: {})", config.display(), names.join(", "))
    })?;
    let headers = super::parse_headers(&headers)?;
    let body = super::read_stdin()?;
    let (derived, routes) = src.route_test(&headers, &body);
    if format == Format::Json {
        crate::output::outln!(
            "{}",
            serde_json::json!({
                "source": src.name,
                "event_type": derived.event_type,
                "provider_id": derived.provider_id,
                "dedup_key": derived.dedup_key,
                "metadata": derived.metadata,
                "routes": routes,
                "default": routes.is_empty(),
                "targets": derived.targets,
            })
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::outln!("source:      {} (scheme {})", src.name, src.scheme().name)?;
    crate::output::outln!("event_type:  {}", derived.event_type.as_deref().unwrap_or("-"))?;
    crate::output::outln!("dedup_key:   {}", derived.dedup_key)?;
    crate::output::outln!("metadata:    {}", derived.metadata)?;
    let routes_text = if routes.is_empty() {
        "none (default_targets)".to_owned()
    } else {
        routes.iter().map(|r| format!("#{r}")).collect::<Vec<_>>().join(", ")
    };
    crate::output::outln!("routes:      {routes_text}")?;
    crate::output::outln!(
        "targets:     {}",
        if derived.targets.is_empty() {
            "none (the event would be stored, not delivered)".to_owned()
        } else {
            derived.targets.join(", ")
        }
    )?;
    Ok(ExitCode::SUCCESS)
}
