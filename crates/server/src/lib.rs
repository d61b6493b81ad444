//! Hookgate's gateway: configuration, the verifying ingest path, operations endpoints, and the
//! server loop with graceful shutdown.
//!
//! Request path (see ARCHITECTURE.md): body limit → verify over the raw bytes → dedup key →
//! durable commit (group commit in `hookgate-store`) → the provider's success reply. A rejected
//! request gets the provider's documented status with a generic body and is recorded.

#![deny(missing_docs)]

pub mod admin;
mod background;
pub mod config;
#[cfg(feature = "console")]
mod console;
pub mod filter;
pub mod ingest;
pub mod jobs;
mod limits;
mod listen;
pub mod matching;
mod ops;
mod pii_view;
pub mod pretty_json;
pub mod printable;
pub mod stream;

mod state;
pub mod time;
pub mod tls;
pub mod view;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use hookgate_store::Store;
use tower_http::timeout::TimeoutLayer;

pub use config::{Built, Config, ConfigError};

use crate::ingest::RouteState;
use crate::state::AppState;

/// A running gateway's pieces, before it serves.
pub struct Gateway {
    router: Router,
    /// `/metrics`, `/healthz`, `/readyz` for operators, on a listener of their own.
    ops_router: Router,
    ops_listener: Option<tokio::net::TcpListener>,
    /// The operator API (`[admin]`), on a listener of its own, plain or TLS.
    admin_router: Option<Router>,
    admin_listener: Option<tokio::net::TcpListener>,
    admin_tls_listener: Option<tls::TlsListener>,
    admin_tokens: Option<Arc<admin::Tokens>>,
    /// Matches events against filters, for the API's searches and the jobs.
    matcher: Arc<matching::EventMatcher>,
    /// What happens, for the live stream.
    bus: Arc<stream::Bus>,
    connections: Arc<limits::ConnectionCap>,
    /// The operator API's own share of connections (`[admin] max_connections`).
    api_connections: Arc<limits::ConnectionCap>,
    store: Arc<Store>,
    targets: Vec<hookgate_deliver::Target>,
    wake: Arc<tokio::sync::Notify>,
    retention: Option<Duration>,
    diagnoser: Arc<ingest::diagnosis::Diagnoser>,
    secret_uses: Vec<Arc<ingest::secret_use::SecretUse>>,
    header_read_timeout: Duration,
    request_timeout: Duration,
    /// Told when the gateway stops, so long requests (the live stream) end at once.
    closing: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// Why the gateway could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] hookgate_store::StoreError),
    /// The listener failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl Gateway {
    /// Opens the store (running migrations) and builds the router.
    ///
    /// # Errors
    /// [`ServeError::Store`] when the store cannot be opened.
    pub async fn new(built: Built) -> Result<Self, ServeError> {
        let store = Arc::new(Store::open(&built.store_url, built.store_options.clone()).await?);
        let wake = Arc::new(tokio::sync::Notify::new());
        let bus = stream::Bus::shared();
        // The recorder first: the handles registered below need it.
        let metrics = if built.metrics { ops::prometheus() } else { None };
        let sources: Vec<Arc<ingest::source::Source>> = built.sources.into_iter().map(Arc::new).collect();
        let diagnoser =
            Arc::new(ingest::diagnosis::Diagnoser::start(built.diagnosis, sources.clone(), Arc::clone(&store)));
        let app = Arc::new(AppState {
            bus: Arc::clone(&bus),
            store: Arc::clone(&store),
            wake: Arc::clone(&wake),
            store_timeout: built.store_timeout,
            metrics,
            commits: state::CommitHealth::default(),
            body_budget: limits::BodyBudget::new(built.max_body_bytes_in_flight),
            diagnoser: Arc::clone(&diagnoser),
        });
        let mut router = Router::new();
        let mut last_hour = std::collections::HashMap::new();
        let mut secret_uses = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let path = source.path.clone();
            let secrets = Arc::new(ingest::secret_use::SecretUse::new(
                &source.name,
                &source.secret_labels,
                source.auth.fingerprints(),
            ));
            secret_uses.push(Arc::clone(&secrets));
            let metrics = Arc::new(ingest::SourceMetrics::new(&source.name, secrets));
            last_hour.insert(source.name.clone(), Arc::clone(&metrics.last_hour));
            let state = RouteState { app: Arc::clone(&app), source: Arc::clone(source), index, metrics };
            let mut methods = post(ingest::ingest);
            // A provider that checks the URL with HEAD (Trello, Mandrill) or GET (X's CRC) gets
            // that method; no other.
            let probes = &source.scheme().probes;
            if probes.iter().any(|p| p.method == hookgate_verify::ProbeMethod::Head) {
                methods = methods.head(ingest::ingest);
            }
            if probes.iter().any(|p| p.method == hookgate_verify::ProbeMethod::Get) {
                methods = methods.get(ingest::ingest);
            }
            router = router.route(&path, methods.with_state(state));
        }
        let matcher = Arc::new(matching::EventMatcher::new(&sources));
        let admin_tls = built.admin.as_ref().is_some_and(|a| a.tls.is_some());
        let api_connections = limits::ConnectionCap::new(
            built.admin.as_ref().map_or(1, |a| a.max_connections),
            "api",
            "admin.max_connections",
        );
        let max_streams_per_token = built.admin.as_ref().map_or(1, |a| a.max_streams_per_token);
        let admin_tokens = built.admin.map(|a| a.tokens);
        let closing = tokio::sync::watch::Sender::new(false);
        let admin_router = admin_tokens.as_ref().map(|tokens| {
            let state = Arc::new(admin::AdminState {
                store: Arc::clone(&store),
                tokens: Arc::clone(tokens),
                matcher: Arc::clone(&matcher),
                bus: Arc::clone(&bus),
                sources: sources
                    .iter()
                    .map(|s| admin::SourceInfo {
                        name: s.name.clone(),
                        path: s.path.clone(),
                        scheme: s.scheme().name.clone(),
                        body_limit: s.body_limit,
                        keep_rejected_bodies: s.keep_rejected_bodies,
                        targets: s.routes.targets(),
                        viewer_hidden_headers: if s.scheme().signature_binds_the_request() {
                            Vec::new()
                        } else {
                            s.scheme().proof_headers()
                        },
                        pairs_fields: s
                            .metadata
                            .iter()
                            .filter(|f| f.parse == hookgate_verify::MetadataParse::Pairs)
                            .map(|f| (f.name.clone(), f.pointer.clone()))
                            .collect(),
                    })
                    .collect(),
                targets: built.targets.iter().map(admin::TargetInfo::of).collect(),
                sessions: Arc::default(),
                secure_cookies: admin_tls,
                closing: closing.subscribe(),
                streams: admin::StreamShares::new(max_streams_per_token),
                searches: tokio::sync::Semaphore::new(2),
                last_hour: last_hour.clone(),
            });
            // The console, when built in (feature `console`), is a client of the API merged
            // beside it; the API knows nothing of it.
            let routes = admin::routes();
            #[cfg(feature = "console")]
            let routes = routes.merge(console::router());
            // The live stream stays open as long as its client listens: no request timeout.
            admin::with_state(routes, Arc::clone(&state))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, built.request_timeout))
                .merge(admin::stream_router(state))
        });
        // Slow senders: the whole request, body upload included, must finish in time.
        // No `/metrics` here: the webhook listener faces senders, and the rejection counters by
        // reason would tell a forger why its request failed.
        let router = router
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, built.request_timeout))
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz).with_state(Arc::clone(&app)));
        let ops_router = Router::new()
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz).with_state(Arc::clone(&app)))
            .route("/metrics", get(ops::metrics).with_state(app))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, built.request_timeout));
        Ok(Self {
            router,
            ops_router,
            ops_listener: None,
            admin_router,
            admin_listener: None,
            admin_tls_listener: None,
            admin_tokens,
            matcher,
            bus,
            connections: limits::ConnectionCap::new(built.max_connections, "webhooks", "server.max_connections"),
            api_connections,
            store,
            targets: built.targets,
            wake,
            retention: built.retention,
            diagnoser,
            secret_uses,
            header_read_timeout: built.header_read_timeout,
            request_timeout: built.request_timeout,
            closing,
        })
    }

    /// The webhook listener's router: one route per source, `/healthz` and `/readyz`. Requests
    /// need a [`Peer`] in their extensions (the accept loop puts one there), so tests can drive it
    /// in process with `tower::ServiceExt::oneshot`.
    pub fn app(&self) -> Router {
        self.router.clone()
    }

    /// The operator listener's router: `/healthz`, `/readyz` and `/metrics`.
    pub fn ops_app(&self) -> Router {
        self.ops_router.clone()
    }

    /// The operator API's router (`[admin]`), when the configuration has one. Its requests need a
    /// [`Peer`] in their extensions, as [`Gateway::app`]'s do.
    pub fn admin_app(&self) -> Option<Router> {
        self.admin_router.clone()
    }

    /// The operator tokens in force (reload them on SIGHUP), when `[admin]` is set.
    pub fn admin_tokens(&self) -> Option<Arc<admin::Tokens>> {
        self.admin_tokens.clone()
    }

    /// Serves the operator API on `listener` (plain HTTP: a loopback address), for as long as
    /// the gateway serves. Without `[admin]` in the configuration the listener is not used.
    #[must_use]
    pub fn with_admin_listener(mut self, listener: tokio::net::TcpListener) -> Self {
        self.admin_listener = Some(listener);
        self
    }

    /// Serves the operator API over HTTPS on `listener` (`[admin.tls]`).
    #[must_use]
    pub fn with_admin_tls_listener(mut self, listener: tls::TlsListener) -> Self {
        self.admin_tls_listener = Some(listener);
        self
    }

    /// Also serves `/metrics`, `/healthz` and `/readyz` on `listener` (`server.metrics_listen`),
    /// for as long as the gateway serves.
    #[must_use]
    pub fn with_ops_listener(mut self, listener: tokio::net::TcpListener) -> Self {
        self.ops_listener = Some(listener);
        self
    }

    /// Serves plain HTTP on `listener` until `shutdown` completes, then finishes in-flight
    /// requests, commits everything queued and closes the store.
    ///
    /// # Errors
    /// [`ServeError::Io`] when serving fails.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.serve_on(listener, shutdown).await
    }

    /// Serves HTTPS (see [`tls`]) until `shutdown` completes, like [`Gateway::serve`].
    ///
    /// # Errors
    /// [`ServeError::Io`] when serving fails.
    pub async fn serve_tls(
        self,
        listener: tls::TlsListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.serve_on(listener, shutdown).await
    }

    /// The accept loop. Not `axum::serve`: it does not give hyper a timer, so a client trickling
    /// its request headers would hold a connection forever; here `header_read_timeout` closes it.
    async fn serve_on<L>(
        mut self,
        mut listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError>
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(self.header_read_timeout).keep_alive(true);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let (stop_workers, stopped) = tokio::sync::watch::channel(false);
        let bus = Arc::clone(&self.bus);
        let observer: hookgate_deliver::Observer = Arc::new(move |c, finished, target| {
            bus.publish(|| stream::StreamItem::delivery(c, finished, target));
        });
        let mut workers =
            hookgate_deliver::spawn_workers(&self.store, self.targets, &self.wake, &stopped, Some(observer));
        workers.push(hookgate_deliver::spawn_queue_metrics(&self.store, stopped.clone()));
        workers.push(jobs::spawn_runner(&self.store, Arc::clone(&self.matcher), stopped.clone()));
        workers.push(ingest::secret_use::spawn_reporter(&self.store, self.secret_uses.clone(), stopped.clone()));
        if let Some(retention) = self.retention {
            workers.push(background::spawn_pruner(&self.store, retention, stopped));
        }
        let mut ops_listener = self.ops_listener.take();
        let admin_router = self.admin_router.take().unwrap_or_default();
        let (mut admin_plain, mut admin_tls) = if self.admin_tokens.is_some() {
            (self.admin_listener.take(), self.admin_tls_listener.take())
        } else {
            (None, None)
        };
        loop {
            tokio::select! {
                (io, peer) = listener.accept() => match self.connections.admit() {
                    Some(open) => listen::serve_connection(&http, &graceful, self.router.clone(), io, peer, open),
                    None => listen::refuse_connection(io, peer, &self.connections),
                },
                accepted = listen::accept_ops(ops_listener.as_mut()) => match accepted {
                    Ok((io, peer)) => match self.connections.admit() {
                        Some(open) => listen::serve_connection(&http, &graceful, self.ops_router.clone(), io, peer, open),
                        None => listen::refuse_connection(io, peer, &self.connections),
                    },
                    Err(e) => {
                        // As axum::serve does: an accept error (too many open files) is passed;
                        // a short pause keeps it from spinning.
                        tracing::warn!(error = %e, "Accepting an operator connection failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                accepted = listen::accept_ops(admin_plain.as_mut()) => match accepted {
                    Ok((io, peer)) => match self.api_connections.admit() {
                        Some(open) => listen::serve_connection(&http, &graceful, admin_router.clone(), io, peer, open),
                        None => listen::refuse_connection(io, peer, &self.api_connections),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "Accepting an operator API connection failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                (io, peer) = listen::accept_tls(admin_tls.as_mut()) => match self.api_connections.admit() {
                    Some(open) => listen::serve_connection(&http, &graceful, admin_router.clone(), io, peer, open),
                    None => listen::refuse_connection(io, peer, &self.api_connections),
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        drop(ops_listener);
        drop((admin_plain, admin_tls));
        // Live streams would hold the graceful shutdown below until the request timeout and
        // beyond: they end now.
        self.closing.send_replace(true);
        // In-flight requests finish (each is bounded by the request timeout); idle keep-alive
        // connections are closed at once.
        if tokio::time::timeout(self.request_timeout + Duration::from_secs(1), graceful.shutdown()).await.is_err() {
            tracing::warn!("Some connections were still open after the request timeout; closing them.");
        }
        // Delivery workers finish their in-flight attempts and record them; an attempt cut short
        // is retried after the next start (its lease expires).
        let _ = stop_workers.send(true);
        for w in workers {
            if tokio::time::timeout(Duration::from_secs(15), w).await.is_err() {
                tracing::warn!("A delivery worker did not stop in time.");
            }
        }
        // Rejections still being diagnosed are recorded before the store closes.
        self.diagnoser.drain(Duration::from_secs(2)).await;
        self.store.close().await;
        Ok(())
    }
}

/// Now, in Unix ms.
pub(crate) fn now_ms() -> i64 {
    hookgate_verify::Timestamp::now().unix_millis()
}

/// The peer address of a connection, plain or TLS (recorded with rejected attempts).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);
