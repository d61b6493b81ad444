//! `hookgate secrets status`: which configured secret verifies the requests of each source, so
//! an operator can tell when a rotated-out secret has stopped being used and is safe to remove.
//! The counts are the gateway's (reported to the store every few seconds and at shutdown).

use std::io::Write as _;
use std::process::ExitCode;

use hookgate_server::view::rfc3339;

use super::events::{Format, StoreArg};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Per source and secret: fingerprint, matches, and when it last matched.
    Status {
        #[command(flatten)]
        store: StoreArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Status { store, format } = cmd;
    let (rt, store) = store.inspect()?;
    let rows = rt.block_on(store.secret_matches())?;
    let mut out = crate::output::Stdout::lock();
    match format {
        Format::Json => {
            let entries: Vec<serde_json::Value> = rows
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "source": m.source,
                        "secret": m.secret,
                        "fingerprint": m.fingerprint,
                        "matches": m.matches,
                        "last_matched_at": m.last_matched_at_ms.map(rfc3339),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<16}  {:<16}  {:<11}  {:>10}  LAST MATCHED",
                "SOURCE", "SECRET", "FINGERPRINT", "MATCHES"
            )?;
            for m in &rows {
                writeln!(
                    out,
                    "{:<16}  {:<16}  {:<11}  {:>10}  {}",
                    m.source,
                    m.secret,
                    m.fingerprint,
                    m.matches,
                    m.last_matched_at_ms.map_or_else(|| "never".to_owned(), rfc3339)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
