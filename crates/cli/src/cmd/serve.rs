//! `hookgate serve`: the gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hookgate_server::{Config, Gateway};

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
    let mut cfg = Config::load(config)?;
    if let Some(l) = listen {
        cfg.server.listen = l.to_owned();
    }
    if let Some(s) = store {
        cfg.server.store = s.to_owned();
    }
    let built = cfg.build().with_context(|| format!("invalid configuration {}", config.display()))?;
    Ok((cfg, built))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (cfg, mut built) = load(&args.config, args.listen.as_deref(), args.store.as_deref())?;
    built.store_options.migrate = !args.no_migrate;
    let format = args.log_format.unwrap_or_else(|| cfg.server.log_format.clone());
    crate::logging::init(&format)?;
    // Certificates are checked before anything listens: a bad pair stops the start.
    let certs = match &built.tls {
        Some(t) => Some(hookgate_server::tls::CertStore::open(&t.cert, &t.key)?),
        None => None,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
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
        if let (Some(l), Some((_, tls))) = (admin_listener, admin) {
            let a = l.local_addr()?;
            match tls {
                Some(t) => {
                    let certs = hookgate_server::tls::CertStore::open(&t.cert, &t.key)?;
                    let l = hookgate_server::tls::TlsListener::new(l, &certs)?;
                    certs.watch(std::time::Duration::from_secs(5));
                    gateway = gateway.with_admin_tls_listener(l);
                    tracing::info!(listen = %a, scheme = "https", "Serving the operator API.");
                }
                None => {
                    gateway = gateway.with_admin_listener(l);
                    tracing::info!(listen = %a, scheme = "http", "Serving the operator API.");
                }
            }
        }
        if let Some(tokens) = gateway.admin_tokens() {
            reload_tokens_on_sighup(tokens)?;
        }
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
                gateway.serve_tls(listener, shutdown_signal()).await?;
            }
            None => {
                tracing::info!(%addr, scheme = "http", sources = ?sources, "Listening.");
                announce_ops();
                gateway.serve(listener, shutdown_signal()).await?;
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

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        // Without signal handlers the server still runs; it just cannot stop gracefully.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing in-flight requests."),
        _ = int.recv() => tracing::info!("SIGINT: finishing in-flight requests."),
    }
}

/// Reads the operator tokens file again on every SIGHUP (a revoked token stops working then).
fn reload_tokens_on_sighup(tokens: std::sync::Arc<hookgate_server::admin::Tokens>) -> anyhow::Result<()> {
    let mut hup =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tokens.reload();
        }
    });
    Ok(())
}
