//! The accept loop's pieces: one connection served on hyper with the header timeout, a connection
//! past the cap refused, and the operator listener's accept.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;

use crate::Peer;
use crate::limits;

/// One connection, served by `router` on hyper with the header timeout, watched for shutdown.
pub(crate) fn serve_connection<I>(
    http: &hyper::server::conn::http1::Builder,
    graceful: &hyper_util::server::graceful::GracefulShutdown,
    router: Router,
    io: I,
    peer: SocketAddr,
    open: limits::Open,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = tower::ServiceExt::map_request(router, move |mut req: axum::http::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(Peer(peer)));
        req
    });
    let conn =
        http.serve_connection(hyper_util::rt::TokioIo::new(io), hyper_util::service::TowerToHyperService::new(service));
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(%peer, error = %e, "Connection ended with an error.");
        }
        drop(open);
    });
}

/// A connection past `server.max_connections`: closed at once, before anything is read.
pub(crate) fn refuse_connection<I>(io: I, peer: SocketAddr, cap: &limits::ConnectionCap) {
    drop(io);
    metrics::counter!("hookgate_connections_refused_total", "listener" => cap.name()).increment(1);
    static THROTTLE: hookgate_store::throttle::LogThrottle =
        hookgate_store::throttle::LogThrottle::new(Duration::from_secs(5));
    if let Some(suppressed) = THROTTLE.admit() {
        tracing::warn!(%peer, open = cap.open(), suppressed, "Connection refused: {} are open.", cap.setting());
    }
}

/// The next operator connection; never ready when there is no operator listener.
pub(crate) async fn accept_ops(
    listener: Option<&mut tokio::net::TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// The next connection of a TLS listener (the operator API over HTTPS); never ready without one.
pub(crate) async fn accept_tls(
    listener: Option<&mut crate::tls::TlsListener>,
) -> (tokio_rustls::server::TlsStream<tokio::net::TcpStream>, SocketAddr) {
    match listener {
        Some(l) => axum::serve::Listener::accept(l).await,
        None => std::future::pending().await,
    }
}
