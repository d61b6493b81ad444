//! `hookgate serve`: the gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hookgate_server::{Config, Gateway};
use tokio::signal::unix::{Signal, SignalKind, signal};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Configuration file (TOML; see examples/hookgate.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Listen address, overriding `server.listen`.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Store URL, overriding `server.store` (default sqlite://hookgate.db).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Log format, overriding `server.log_format`: text or json.
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Do not run pending schema migrations (run `hookgate migrate` first); an outdated store
    /// stops the start.
    #[arg(long)]
    no_migrate: bool,
}

/// Loads, applies flag overrides and validates: the one path `serve` and `config check` share.
pub(crate) fn load(
    config: &std::path::Path,
    listen: Option<&str>,
    store: Option<&str>,
) -> anyhow::Result<(Config, hookgate_server::Built)> {
    // What `serve` refuses at start-up beyond the file itself, `config check` refuses too.
    crate::logging::check_env()?;
    let mut cfg = Config::load(config)?;
    if let Some(l) = listen {
        cfg.server.listen = l.to_owned();
    }
    if let Some(s) = store {
        cfg.server.store = s.to_owned();
    }
    crate::logging::check_format(&cfg.server.log_format)?;
    let built = cfg.build().with_context(|| format!("invalid configuration {}", config.display()))?;
    Ok((cfg, built))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The runtime and the signal handlers come first: SIGHUP's default action ends a process,
    // and systemd's `ExecReload` sends it whenever an operator reloads, during a long start-up
    // too (opening a large store after an unclean stop takes seconds). A signal that arrives
    // before the gateway serves waits for it: a reload then, a stop right after the start.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    let signals = {
        let _in_runtime = runtime.enter();
        Signals::install()?
    };
    let (cfg, mut built) = load(&args.config, args.listen.as_deref(), args.store.as_deref())?;
    built.store_options.migrate = !args.no_migrate;
    let format = args.log_format.unwrap_or_else(|| cfg.server.log_format.clone());
    crate::logging::init(&format)?;
    for w in &built.warnings {
        tracing::warn!("{w}");
    }
    // Certificates are checked before anything listens: a bad pair stops the start.
    let certs = match &built.tls {
        Some(t) => Some(hookgate_server::tls::CertStore::open(&t.cert, &t.key)?),
        None => None,
    };
    runtime.block_on(async move {
        let Signals { hangup, terminate, interrupt } = signals;
        let (listen, reuse_port, metrics_listen) = (built.listen, built.reuse_port, built.metrics_listen);
        let sources: Vec<String> = built.sources.iter().map(|s| format!("{} {}", s.name, s.path)).collect();
        // Bound before the store is opened: an address in use stops the start before any file
        // is created or migrated.
        let listener = bind(listen, reuse_port).with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let ops_listener = match metrics_listen {
            Some(m) => {
                Some(bind(m, reuse_port).with_context(|| format!("cannot listen on {m} (server.metrics_listen)"))?)
            }
            None => None,
        };
        let admin = built.admin.as_ref().map(|a| (a.listen, a.tls.clone()));
        let admin_listener = match &admin {
            Some((a, _)) => Some(bind(*a, false).with_context(|| format!("cannot listen on {a} (admin.listen)"))?),
            None => None,
        };
        let metrics = built.metrics;
        let mut gateway = Gateway::new(built).await.context("cannot start the gateway")?;
        // Everything SIGHUP reloads: the certificates (also watched) and the operator tokens.
        let mut reloadable: Vec<std::sync::Arc<hookgate_server::tls::CertStore>> = certs.iter().cloned().collect();
        if let (Some(l), Some((_, tls))) = (admin_listener, admin) {
            let a = l.local_addr()?;
            match tls {
                Some(t) => {
                    let certs = hookgate_server::tls::CertStore::open(&t.cert, &t.key)?;
                    let l = hookgate_server::tls::TlsListener::new(l, &certs)?;
                    certs.watch(std::time::Duration::from_secs(5));
                    reloadable.push(certs);
                    gateway = gateway.with_admin_tls_listener(l);
                    tracing::info!(listen = %a, scheme = "https", "Serving the operator API.");
                }
                None => {
                    gateway = gateway.with_admin_listener(l);
                    tracing::info!(listen = %a, scheme = "http", "Serving the operator API.");
                }
            }
        }
        reload_on_sighup(hangup, gateway.admin_tokens(), reloadable);
        let ops_addr = match ops_listener {
            Some(l) => {
                let a = l.local_addr()?;
                gateway = gateway.with_ops_listener(l);
                Some(a)
            }
            None => None,
        };
        let announce_ops = move || match ops_addr {
            Some(a) => tracing::info!(listen = %a, "Serving /metrics, /healthz and /readyz for operators."),
            None if metrics => tracing::info!("Metrics are not served: set server.metrics_listen to scrape them."),
            None => {}
        };
        match certs {
            Some(certs) => {
                let listener = hookgate_server::tls::TlsListener::new(listener, &certs)?;
                certs.watch(std::time::Duration::from_secs(5));
                tracing::info!(%addr, scheme = "https", sources = ?sources, "Listening.");
                announce_ops();
                gateway.serve_tls(listener, shutdown_signal(terminate, interrupt)).await?;
            }
            None => {
                tracing::info!(%addr, scheme = "http", sources = ?sources, "Listening.");
                announce_ops();
                gateway.serve(listener, shutdown_signal(terminate, interrupt)).await?;
            }
        }
        tracing::info!("Stopped; every acknowledged event is committed.");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Binds the listener; with `reuse_port`, beside other hookgate processes on the same address.
fn bind(addr: std::net::SocketAddr, reuse_port: bool) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std's listener does: a restart must not wait for the old connections' TIME_WAIT.
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The signals `serve` handles, installed before anything else.
struct Signals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        Ok(Self {
            hangup: signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }
}

async fn shutdown_signal(mut terminate: Signal, mut interrupt: Signal) {
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: finishing in-flight requests."),
        _ = interrupt.recv() => tracing::info!("SIGINT: finishing in-flight requests."),
    }
}

/// On every SIGHUP, reloads what this configuration has that can be reloaded: the operator
/// tokens file (a revoked token stops working then, and its streams and sessions end) and the
/// TLS certificates (also re-read when their files change). Never stops the gateway.
fn reload_on_sighup(
    mut hangup: Signal,
    tokens: Option<std::sync::Arc<hookgate_server::admin::Tokens>>,
    certs: Vec<std::sync::Arc<hookgate_server::tls::CertStore>>,
) {
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if let Some(tokens) = &tokens {
                tokens.reload();
            }
            for c in &certs {
                c.reload();
            }
            if tokens.is_none() && certs.is_empty() {
                tracing::info!("SIGHUP: nothing to reload (no [admin] tokens, no TLS certificates).");
            }
        }
    });
}
