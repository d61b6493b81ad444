//! `hookgate send`: the provider simulator. Signs and POSTs like the provider would, retries
//! failed deliveries on the provider's schedule (compressed by `--time-scale`), and prints a
//! summary by final status.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Auth, SignOptions, Timestamp, WebhookRequest};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scheme_args::SchemeArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RetrySchedule {
    /// Flinks: up to 10 retries, 30 minutes apart.
    Flinks,
    /// Standard Webhooks / Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure.
    StandardWebhooks,
    /// Slack's Events API: 3 retries, nearly at once, after 1 min, after 5 min.
    Slack,
    /// Stripe (approximate): exponential backoff over about 3 days; Stripe documents the span,
    /// not the intervals, so this is 5 min, 30 min, 1, 2, 4, 8, 16 h, then 24 h twice.
    Stripe,
    /// Shopify (approximate): 8 retries over about 4 hours, growing from 1 min.
    Shopify,
    /// GitHub: no automatic retries (failed deliveries are redelivered by hand).
    Github,
    /// One attempt only.
    None,
}

impl RetrySchedule {
    /// Delays before each retry, at real scale.
    fn delays(self) -> Vec<Duration> {
        match self {
            RetrySchedule::Flinks => vec![Duration::from_secs(30 * 60); 10],
            // docs.svix.com/retries, the schedule Standard Webhooks senders follow.
            RetrySchedule::StandardWebhooks => {
                [5, 300, 1800, 7200, 18_000, 36_000, 36_000].into_iter().map(Duration::from_secs).collect()
            }
            // api.slack.com/apis/events-api#retries
            RetrySchedule::Slack => [1, 60, 300].into_iter().map(Duration::from_secs).collect(),
            RetrySchedule::Stripe => [300, 1800, 3600, 7200, 14_400, 28_800, 57_600, 86_400, 86_400]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            RetrySchedule::Shopify => {
                [60, 180, 420, 900, 1800, 2700, 3600, 3600].into_iter().map(Duration::from_secs).collect()
            }
            RetrySchedule::Github | RetrySchedule::None => Vec::new(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    scheme: SchemeArgs,
    /// Where to POST (the gateway's source URL).
    #[arg(long)]
    url: String,
    /// The body to send (`-` for standard input).
    #[arg(value_name = "BODY_FILE", conflicts_with = "generate", required_unless_present = "generate")]
    body_file: Option<PathBuf>,
    /// Send N generated JSON bodies instead, each distinct, shaped like the scheme's provider's
    /// events (Flinks' fields; the provider id and event type where the scheme reads them, such
    /// as Stripe's `id` and `type` or GitHub's `X-GitHub-Event` header).
    #[arg(long, value_name = "N")]
    generate: Option<u64>,
    /// Retry non-2xx answers and connection errors on this provider's schedule.
    #[arg(long, value_enum, default_value_t = RetrySchedule::None)]
    retry_schedule: RetrySchedule,
    /// Multiply the schedule's delays by this (0.001 turns 30 minutes into 1.8 s).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    time_scale: f64,
    /// Corrupt one byte of each body after signing (the gateway must reject it).
    #[arg(long)]
    tamper: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Content type of the bodies.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// Trust this PEM certificate (a self-signed gateway) in addition to the system's roots.
    #[arg(long, value_name = "PATH")]
    ca_cert: Option<PathBuf>,
    /// Per-attempt timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Extra request header, `Name: value`, sent and (for schemes that sign it) signed. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Delivery id to send (default: one per webhook, the same on each of its retries).
    #[arg(long, conflicts_with = "generate")]
    id: Option<String>,
    /// Unix seconds to sign (default: now, for each attempt).
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    timestamp: Option<i64>,
    /// Exit 0 when every webhook ended with this status (e.g. 403 with --tamper), else 1.
    #[arg(long, value_name = "STATUS")]
    expect: Option<u16>,
    /// Output format of the summary (`json`: `{"sent", "attempts", "retried", "final": {status: n}, "errors": {reason: n}}`).
    #[arg(long, value_enum, default_value_t = super::events::Format::Table)]
    format: super::events::Format,
}

/// What happened to one webhook after all its attempts.
#[derive(Debug)]
struct Outcome {
    /// Final status, or `None` for a connection error.
    status: Option<u16>,
    attempts: usize,
    /// Why the last attempt got no answer (the whole cause chain).
    error: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        bail!("--time-scale must be a non-negative number");
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let verifier = Arc::new(args.scheme.build()?);
    let mut headers = super::parse_headers(&args.headers)?;
    if args.generate.is_some() {
        super::generated::add_type_header(verifier.scheme(), &mut headers);
    }
    let headers = Arc::new(headers);
    let bodies: Vec<Vec<u8>> = match (&args.body_file, args.generate) {
        (Some(path), None) if path.as_os_str() == "-" => vec![super::read_stdin()?],
        (Some(path), None) => vec![std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?],
        (None, Some(n)) => (0..n).map(|i| super::generated::body(verifier.scheme(), i)).collect(),
        _ => bail!("give a BODY_FILE or --generate N"),
    };
    // reqwest is built without a bundled crypto provider; use ring, like the server.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut client = reqwest::Client::builder().timeout(Duration::from_secs(args.timeout_secs));
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let certs: Vec<rustls::pki_types::CertificateDer<'static>> = {
            use rustls::pki_types::pem::PemObject as _;
            rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .with_context(|| format!("invalid --ca-cert {}", path.display()))?
        };
        if certs.is_empty() {
            bail!("--ca-cert {}: no PEM certificate in it", path.display());
        }
        client = client.use_preconfigured_tls(crate::tls_trust::PinnedOrPlatform::client_config(certs)?);
    }
    let client = client.build().context("cannot build the HTTP client")?;
    let delays: Vec<Duration> = args.retry_schedule.delays().into_iter().map(|d| d.mul_f64(args.time_scale)).collect();

    let total = bodies.len() as u64;
    let bar = if total > 1 { ProgressBar::new(total) } else { ProgressBar::hidden() };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} sent, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
        let mut tasks = Vec::with_capacity(bodies.len());
        for (i, body) in bodies.into_iter().enumerate() {
            let permit = Arc::clone(&semaphore).acquire_owned().await.expect("the semaphore is never closed");
            let ctx = Send1 {
                client: client.clone(),
                verifier: Arc::clone(&verifier),
                url: args.url.clone(),
                content_type: args.content_type.clone(),
                tamper: args.tamper,
                delays: delays.clone(),
                id: args.id.clone().unwrap_or_else(|| format!("hookgate-send-{}-{i}", std::process::id())),
                headers: headers.clone(),
                timestamp: args.timestamp.map(Timestamp::from_unix_secs),
            };
            let bar = bar.clone();
            tasks.push(tokio::spawn(async move {
                let outcome = ctx.deliver(body).await;
                bar.inc(1);
                drop(permit);
                outcome
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.expect("a send task does not panic"));
        }
        out
    });
    bar.finish_and_clear();

    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for o in &outcomes {
        *by_status.entry(o.status.map_or_else(|| "error".to_owned(), |s| s.to_string())).or_default() += 1;
    }
    let attempts: usize = outcomes.iter().map(|o| o.attempts).sum();
    let retried = outcomes.iter().filter(|o| o.attempts > 1).count();
    // Why attempts got no answer, each reason once (connection refused, TLS, a bad URL, signing).
    let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
    for e in outcomes.iter().filter_map(|o| o.error.as_deref()) {
        *errors.entry(e).or_default() += 1;
    }
    if args.format == super::events::Format::Json {
        crate::output::outln!(
            "{}",
            serde_json::json!({"sent": outcomes.len(), "attempts": attempts, "retried": retried, "final": by_status, "errors": errors})
        )?;
    } else {
        let summary: Vec<String> = by_status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        crate::output::outln!(
            "sent {} webhooks in {attempts} attempts ({retried} retried); final status: {}",
            outcomes.len(),
            summary.join(", ")
        )?;
        for (e, n) in &errors {
            eprintln!("hookgate: {}: {e}", crate::output::count(*n, "webhook failed", "webhooks failed"));
        }
    }
    let all_ok = match args.expect {
        Some(want) => outcomes.iter().all(|o| o.status == Some(want)),
        None => outcomes.iter().all(|o| o.status.is_some_and(|s| (200..300).contains(&s))),
    };
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

struct Send1 {
    client: reqwest::Client,
    verifier: Arc<Auth>,
    url: String,
    content_type: String,
    tamper: bool,
    delays: Vec<Duration>,
    id: String,
    headers: Arc<HeaderMap>,
    timestamp: Option<Timestamp>,
}

impl Send1 {
    /// Every attempt is signed anew (timestamped schemes need a fresh timestamp) with the same
    /// delivery id, as providers do, so the gateway can recognise a retry.
    async fn deliver(&self, body: Vec<u8>) -> Outcome {
        let mut attempts = 0;
        let mut last = Err(String::new());
        for delay in std::iter::once(Duration::ZERO).chain(self.delays.iter().copied()) {
            tokio::time::sleep(delay).await;
            attempts += 1;
            last = self.attempt(&body).await;
            if last.as_ref().is_ok_and(|s| (200..300).contains(s)) {
                break;
            }
        }
        let (status, error) = match last {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        Outcome { status, attempts, error }
    }

    /// The status, or why there was none.
    async fn attempt(&self, body: &[u8]) -> Result<u16, String> {
        let req = WebhookRequest::new(&self.headers, body).with_url(&self.url);
        let opts = SignOptions {
            timestamp: Some(self.timestamp.unwrap_or_else(Timestamp::now)),
            id: Some(&self.id),
            algorithm: None,
        };
        let headers = self.verifier.sign(&req, &opts).map_err(|e| format!("cannot sign: {e}"))?;
        let mut sent = body.to_vec();
        if self.tamper {
            match sent.last_mut() {
                Some(b) => *b ^= 0x01,
                None => sent.push(b' '),
            }
        }
        let mut request = self.client.post(&self.url).header("content-type", &self.content_type).body(sent);
        for (k, v) in self.headers.iter() {
            request = request.header(k, v);
        }
        for (k, v) in headers {
            request = request.header(k, v);
        }
        match request.send().await {
            Ok(r) => Ok(r.status().as_u16()),
            Err(e) => Err(hookgate_deliver::error_chain(&e)),
        }
    }
}
