//! `hookgate config check`: the start-up validation, without serving.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Validate a configuration file exactly as `serve` would (secrets are read, not printed).
    Check {
        /// Configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Output format (`json`: `{"valid": true, "listen", "store", "sources": […]}` or
        /// `{"valid": false, "error": "…"}`; the exit code is the same).
        #[arg(long, value_enum, default_value_t = super::events::Format::Table)]
        format: super::events::Format,
    },
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { config, format: super::events::Format::Json } => {
            match super::serve::load(&config, None, None) {
                Ok((_, built)) => {
                    let sources: Vec<serde_json::Value> = built
                        .sources
                        .iter()
                        .map(|s| {
                            serde_json::json!({"name": s.name, "path": s.path, "scheme": s.scheme().name, "reject": s.rejection().status})
                        })
                        .collect();
                    crate::output::outln!(
                        "{}",
                        serde_json::json!({"valid": true, "listen": built.listen.to_string(), "store": describe(&built), "sources": sources, "warnings": built.warnings})
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    crate::output::outln!(
                        "{}",
                        serde_json::json!({"valid": false, "error": crate::output::error_chain(&e)})
                    )?;
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Check { config, .. } => match super::serve::load(&config, None, None) {
            Ok((_, built)) => {
                crate::output::outln!(
                    "ok: {} listening on {}, store {}",
                    config.display(),
                    built.listen,
                    describe(&built)
                )?;
                for s in &built.sources {
                    crate::output::outln!(
                        "  {} {} scheme={} reject={}",
                        s.name,
                        s.path,
                        s.scheme().name,
                        s.rejection().status
                    )?;
                }
                for w in &built.warnings {
                    eprintln!("hookgate: warning: {w}");
                }
                Ok(ExitCode::SUCCESS)
            }
            // Exit 2, as `serve` does on the same configuration (a configuration error).
            Err(e) => {
                eprintln!("hookgate: {}", crate::output::error_chain(&e));
                Ok(ExitCode::from(2))
            }
        },
    }
}

fn describe(built: &hookgate_server::Built) -> String {
    built.store_url.to_string()
}
