//! `hookgate schemes`: the preset table.

use std::process::ExitCode;

use hookgate_verify::{AlgorithmSpec, PRESETS, Scheme, preset};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the full description of one scheme as TOML (a starting point for `--scheme-file`).
    #[arg(long, value_name = "NAME")]
    show: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.show {
        let scheme = preset(name).ok_or_else(|| anyhow::anyhow!("unknown scheme `{name}`"))?;
        crate::output::out!("{}", toml::to_string(&scheme)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::outln!("{:<20} {:<8} {:<10} {:<7} HEADERS", "SCHEME", "REJECT", "ALGORITHM", "WINDOW")?;
    for name in PRESETS {
        let Some(s) = preset(name) else { continue };
        crate::output::outln!(
            "{:<20} {:<8} {:<10} {:<7} {}",
            s.name,
            s.rejection.status,
            algorithm(&s),
            s.timestamp.as_ref().map_or_else(|| "-".to_owned(), |t| format!("{}s", t.tolerance_secs)),
            s.header_names().join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn algorithm(s: &Scheme) -> String {
    match &s.algorithm {
        AlgorithmSpec::Fixed(a) => a.to_string(),
        AlgorithmSpec::FromHeader { .. } => "header".to_owned(),
    }
}
