//! `hookgate verify`: check one request, exit 0 (`valid`) or 1 (reason on stderr); with
//! `--explain`, also say why it failed (the diagnosis in `hookgate_verify::Verifier::diagnose`).

use std::process::ExitCode;

use hookgate_verify::{Clues, SecretText, Timestamp, WebhookRequest};

use crate::scheme_args::{SchemeArgs, read_env};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

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
    /// When the request does not verify, say why: the known causes that explain it, with evidence.
    #[arg(long)]
    explain: bool,
    /// `json` prints `{"valid", "reason", "diagnosis": [{"cause", "detail"}]}`.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A secret retired from this source, tried only to explain a failure. Repeatable.
    #[arg(long, value_name = "VAR")]
    retired_secret_env: Vec<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verifier = args.scheme.build()?;
    let headers = super::parse_headers(&args.headers)?;
    if verifier.scheme().needs_url() && args.url.is_none() {
        anyhow::bail!("scheme `{}` signs the request URL: pass --url", verifier.scheme().name);
    }
    let retired = args
        .retired_secret_env
        .iter()
        .map(|var| Ok(SecretText::new(var.clone(), read_env(var)?.as_str())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let body = super::read_stdin()?;
    let mut req = WebhookRequest::new(&headers, &body).with_method(&args.method);
    if let Some(url) = &args.url {
        req = req.with_url(url);
    }
    let now = args.now.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    let rejection = verifier.verify(&req, now).err();
    let diagnosis = match (&rejection, args.explain) {
        (Some(_), true) => {
            let secrets = args.scheme.secret_texts()?;
            let clues = Clues { secrets: &secrets, retired: &retired, ..Clues::default() };
            verifier.diagnose(&req, now, &clues).findings
        }
        _ => Vec::new(),
    };
    match args.format {
        Format::Json => {
            let out = serde_json::json!({
                "valid": rejection.is_none(),
                "reason": rejection.as_ref().map(|r| r.code()),
                "diagnosis": diagnosis,
            });
            crate::output::outln!("{out}")?;
        }
        Format::Text => match &rejection {
            None => crate::output::outln!("valid")?,
            Some(r) => {
                eprintln!("invalid: {r}");
                for f in &diagnosis {
                    crate::output::outln!("{}: {}", f.cause, f.detail)?;
                }
                if args.explain && diagnosis.is_empty() {
                    eprintln!("no known cause explains it");
                }
            }
        },
    }
    Ok(if rejection.is_none() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
