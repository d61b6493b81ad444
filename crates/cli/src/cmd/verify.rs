//! `hookgate verify`: check one request, exit 0 (`valid`) or 1 (reason on stderr).

use std::process::ExitCode;

use hookgate_verify::{Timestamp, WebhookRequest};

use crate::scheme_args::SchemeArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    scheme: SchemeArgs,
    /// A request header, `Name: value`. Repeatable; a repeated name keeps every value.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The URL the provider posted to (Square, Twilio, HubSpot sign it).
    #[arg(long)]
    url: Option<String>,
    /// HTTP method (HubSpot signs it).
    #[arg(long, default_value = "POST")]
    method: String,
    /// Unix seconds to verify at (default: now).
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    now: Option<i64>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verifier = args.scheme.build()?;
    let headers = super::parse_headers(&args.headers)?;
    if verifier.scheme().needs_url() && args.url.is_none() {
        anyhow::bail!("scheme `{}` signs the request URL: pass --url", verifier.scheme().name);
    }
    let body = super::read_stdin()?;
    let mut req = WebhookRequest::new(&headers, &body).with_method(&args.method);
    if let Some(url) = &args.url {
        req = req.with_url(url);
    }
    let now = args.now.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    match verifier.verify(&req, now) {
        Ok(_) => {
            crate::output::outln!("valid")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            eprintln!("invalid: {rejection}");
            Ok(ExitCode::from(1))
        }
    }
}
