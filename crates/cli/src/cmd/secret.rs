//! `hookgate secret generate`: a new signing secret from the operating system's random source,
//! for a target (`secret = { env = … }`) or for a custom source to share with its sender.

use std::process::ExitCode;

use base64::Engine as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SecretFormat {
    /// `whsec_` + base64, the Standard Webhooks form Hookgate signs targets with.
    Whsec,
    /// Lower-case hex.
    Hex,
    /// Standard base64.
    Base64,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print a new random secret (put it in an environment file or a 0600 file, never in the config).
    Generate {
        /// Encoding of the printed secret.
        #[arg(long, value_enum, default_value_t = SecretFormat::Whsec)]
        format: SecretFormat,
        /// Key bytes (Standard Webhooks: 24 to 64).
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(16..=64))]
        bytes: u16,
    },
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Generate { format, bytes } = cmd;
    let mut key = zeroize::Zeroizing::new(vec![0u8; usize::from(bytes)]);
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("cannot read the system's random source: {e}"))?;
    let text = zeroize::Zeroizing::new(match format {
        SecretFormat::Whsec => format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&*key)),
        SecretFormat::Hex => key.iter().map(|b| format!("{b:02x}")).collect(),
        SecretFormat::Base64 => base64::engine::general_purpose::STANDARD.encode(&*key),
    });
    crate::output::outln!("{}", &*text)?;
    Ok(ExitCode::SUCCESS)
}
