//! `hookgate sign`: produce the headers a provider would send for a body.

use std::process::ExitCode;

use anyhow::Context as _;
use hookgate_verify::{Algorithm, SignOptions, Timestamp, WebhookRequest};

use crate::scheme_args::SchemeArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    scheme: SchemeArgs,
    /// Unix seconds to sign (default: now).
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    timestamp: Option<i64>,
    /// Delivery id to send, for schemes that have one (default: derived from the body and time).
    #[arg(long)]
    id: Option<String>,
    /// The URL the request will be sent to (Square, Twilio, HubSpot sign it).
    #[arg(long)]
    url: Option<String>,
    /// HTTP method (HubSpot signs it).
    #[arg(long, default_value = "POST")]
    method: String,
    /// Algorithm, for schemes that allow several (Fin) or a legacy one (GitHub `sha1`).
    #[arg(long, value_name = "ALG")]
    algorithm: Option<Algorithm>,
    /// Extra request header that the scheme signs, `Name: value`. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verifier = args.scheme.build()?;
    let body = super::read_stdin()?;
    let headers = super::parse_headers(&args.headers)?;
    let mut req = WebhookRequest::new(&headers, &body).with_method(&args.method);
    if let Some(url) = &args.url {
        req = req.with_url(url);
    }
    // The delivery id may be given as the scheme's own id header (`-H "X-Acme-Id: v"`): that is
    // the id to sign, not one generated beside it.
    let from_header = verifier
        .scheme()
        .id_header
        .as_deref()
        .and_then(|name| headers.get(name))
        .map(|v| v.to_str().map(str::to_owned).context("the id header is not text"))
        .transpose()?;
    let id = match (args.id.as_deref(), from_header.as_deref()) {
        (Some(flag), Some(header)) if flag != header => {
            anyhow::bail!("--id `{flag}` and the id header `{header}` disagree; give one")
        }
        (flag, header) => flag.or(header),
    };
    let opts = SignOptions { timestamp: args.timestamp.map(Timestamp::from_unix_secs), id, algorithm: args.algorithm };
    let out = verifier.sign(&req, &opts).context("cannot sign")?;
    for (name, value) in out {
        crate::output::outln!("{name}: {value}")?;
    }
    Ok(ExitCode::SUCCESS)
}
