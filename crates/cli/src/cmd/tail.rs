//! `hookgate tail`: the operator API's live stream printed as it arrives (accepted events,
//! delivery outcomes, and with `--rejections` rejected requests), like `stripe listen`. The token
//! comes from an environment variable, never an argument (argv is visible in `ps`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use super::events::Format;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The operator API (`http://127.0.0.1:8081`, `[admin] listen`).
    #[arg(long, value_name = "URL")]
    admin_url: String,
    /// The environment variable holding an operator API token (`hgat_…`).
    #[arg(long, value_name = "VAR")]
    token_env: String,
    /// Only events and rejections of this source.
    #[arg(long)]
    source: Option<String>,
    /// Only events whose body and metadata match this JSON filter (the filter language of
    /// routes and of the API's `match`, e.g. '{"ResponseType":"KYC"}').
    #[arg(long = "match", value_name = "JSON")]
    match_: Option<String>,
    /// Also rejected requests.
    #[arg(long)]
    rejections: bool,
    /// `table`: one line each; `json`: the stream's JSON items, one a line.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Trust exactly this certificate (PEM) for an HTTPS operator API.
    #[arg(long, value_name = "PATH")]
    ca_cert: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let token = zeroize::Zeroizing::new(
        std::env::var(&args.token_env)
            .with_context(|| format!("environment variable `{}` is not set", args.token_env))?,
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut client = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let certs: Vec<rustls::pki_types::CertificateDer<'static>> = {
            use rustls::pki_types::pem::PemObject as _;
            rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .with_context(|| format!("invalid --ca-cert {}", path.display()))?
        };
        client = client.use_preconfigured_tls(crate::tls_trust::PinnedOrPlatform::client_config(certs)?);
    }
    let client = client.build().context("cannot build the HTTP client")?;
    let kinds = if args.rejections { "event,delivery,rejection" } else { "event,delivery" };
    let mut url = reqwest::Url::parse(&args.admin_url)
        .with_context(|| format!("--admin-url `{}` is not a URL", args.admin_url))?
        .join("/api/v1/stream")?;
    url.query_pairs_mut().append_pair("kinds", kinds);
    if let Some(m) = &args.match_ {
        url.query_pairs_mut().append_pair("match", m);
    }
    if let Some(s) = &args.source {
        url.query_pairs_mut().append_pair("source", s);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut connected_once = false;
        loop {
            match follow(&client, &url, &token, args.format, &mut connected_once).await {
                Ok(()) => eprintln!("hookgate: the stream ended; reconnecting"),
                Err(Stop(e)) => return Err(e),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Why following stops for good (a refused token, a closed stdout); other errors reconnect.
struct Stop(anyhow::Error);

async fn follow(
    client: &reqwest::Client,
    url: &reqwest::Url,
    token: &str,
    format: Format,
    connected_once: &mut bool,
) -> Result<(), Stop> {
    let response = match client.get(url.clone()).bearer_auth(token).send().await {
        Ok(r) => r,
        Err(e) if *connected_once => {
            eprintln!("hookgate: {}; retrying", hookgate_deliver::error_chain(&e.without_url()));
            return Ok(());
        }
        Err(e) => {
            return Err(Stop(anyhow::anyhow!(
                "cannot reach {}: {}",
                url.origin().ascii_serialization(),
                hookgate_deliver::error_chain(&e.without_url())
            )));
        }
    };
    match response.status().as_u16() {
        200 => {}
        401 => {
            return Err(Stop(anyhow::anyhow!("the operator API refused the token (401): unknown, revoked or expired")));
        }
        403 => return Err(Stop(anyhow::anyhow!("the token's role may not read the stream (403)"))),
        400 => {
            // A bad filter: the API names the field and what is wrong.
            let text = response.text().await.unwrap_or_default();
            let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let message = body["error"]["message"].as_str().unwrap_or("bad request");
            return Err(Stop(anyhow::anyhow!("the operator API refused the request (400): {message}")));
        }
        s => return Err(Stop(anyhow::anyhow!("the operator API answered {s}"))),
    }
    if !*connected_once {
        eprintln!("hookgate: following {} (Ctrl-C to stop)", url.origin().ascii_serialization());
        *connected_once = true;
    }
    let mut response = response;
    let mut pending = String::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => {
                eprintln!("hookgate: {}", hookgate_deliver::error_chain(&e.without_url()));
                return Ok(());
            }
        };
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find("\n\n") {
            let message: String = pending.drain(..end + 2).collect();
            show(&message, format).map_err(Stop)?;
        }
    }
}

/// One SSE message: `event: lagged` says how many were missed; a `data:` line is an item.
fn show(message: &str, format: Format) -> anyhow::Result<()> {
    let mut event = "message";
    let mut data = String::new();
    for line in message.lines() {
        if let Some(e) = line.strip_prefix("event:") {
            event = e.trim();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    if event == "lagged" {
        eprintln!("hookgate: {data} items were missed (this terminal fell behind)");
        return Ok(());
    }
    if format == Format::Json {
        crate::output::outln!("{data}")?;
        return Ok(());
    }
    let item: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
    let s = |k: &str| item[k].as_str().unwrap_or("-").to_owned();
    let line = match item["kind"].as_str() {
        Some("event") => format!(
            "{}  event      {:<14}  #{}  {}  {} B{}",
            s("received_at"),
            s("source"),
            item["id"],
            s("event_type"),
            item["size"],
            if item["duplicate"] == true { "  (provider retry, deduplicated)" } else { "" }
        ),
        Some("rejection") => {
            format!("{}  rejected   {:<14}  {}  from {}", s("received_at"), s("source"), s("reason_code"), s("peer"))
        }
        Some("delivery") => format!(
            "{}  delivery   {:<14}  #{} -> {}{}{}",
            hookgate_verify::Timestamp::now().to_rfc3339(),
            s("target"),
            item["event_id"],
            s("outcome"),
            item["status_code"].as_i64().map(|c| format!("  ({c})")).unwrap_or_default(),
            item["error"].as_str().map(|e| format!("  {e}")).unwrap_or_default()
        ),
        _ => data.clone(),
    };
    // Event types, sources and errors come from senders and targets: never raw to a terminal.
    crate::output::outln!("{}", hookgate_server::printable::line(&line))?;
    Ok(())
}
