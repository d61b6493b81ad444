//! HTTPS targets behind an internal CA, with mTLS and a token header.

#[allow(unused_imports)]
use super::*;

/// An internal CA for targets' TLS tests.
pub(super) struct TestCa {
    pub(super) cert: rcgen::Certificate,
    pub(super) issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub(super) fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Self { cert, issuer: rcgen::Issuer::new(params, key) }
    }

    /// A certificate for these names, signed by the CA, with its key.
    pub(super) fn leaf(&self, names: &[&str]) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::CertificateParams::new(names).unwrap().signed_by(&key, &self.issuer).unwrap();
        (cert, key)
    }
}

/// A target behind an internal CA that requires a client certificate and a bearer token: the
/// target's `ca_file`, `client_cert`/`client_key` and `auth_header` (its value from the
/// environment) get the delivery through; without the client certificate the handshake fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_target_with_an_internal_ca_mtls_and_a_token_header() {
    let dir = temp_dir("mtls-target");
    let ca = TestCa::new();
    let ca_cert = &ca.cert;
    let (server_cert, server_key) = ca.leaf(&["localhost", "127.0.0.1"]);
    let (client_cert, client_key) = ca.leaf(&["hookgate"]);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("client.pem"), client_cert.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();

    // The target: TLS with client certificates required (signed by the CA), recording the token.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&tokens);
    let app = Router::new().route(
        "/in",
        post(move |headers: axum::http::HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record.lock().unwrap().push(token);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    let handshakes_refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let refused = Arc::clone(&handshakes_refused);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app, refused) = (acceptor.clone(), app.clone(), Arc::clone(&refused));
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    // The token from a file (an environment variable works the same; `{ env = "…" }`).
    std::fs::write(dir.join("token"), "Bearer s3cr3t-token\n").unwrap();
    let targets = format!(
        r#"default_targets = ["mtls", "no-cert"]

[[target]]
name = "mtls"
type = "http"
url = "https://localhost:{port}/in"
secret = {{ file = "target.secret" }}
ca_file = "ca.pem"
client_cert = "client.pem"
client_key = "client.key"
auth_header = {{ name = "Authorization", value = {{ file = "token" }} }}

[[target]]
name = "no-cert"
type = "http"
url = "https://localhost:{port}/in"
secret = {{ file = "target.secret" }}
ca_file = "ca.pem"

[target.retry]
max_attempts = 1
"#,
        port = target.port()
    );
    let config = config_text("", "").replacen("body_limit = 65536\n", &format!("body_limit = 65536\n{targets}"), 1);
    let mut gw = TestGateway::start_in(dir, &config).await;
    let body = br#"{"ResponseType":"KYC"}"#;
    assert_eq!(gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await.status, 200);
    let db = gw.db();
    wait_for("both attempts", || {
        let r = Reader::open_existing(&db).unwrap();
        r.list_deliveries(Some("delivered"), Some("mtls"), 10).unwrap().len() == 1
            && r.list_deliveries(Some("dead"), Some("no-cert"), 10).unwrap().len() == 1
    })
    .await;
    assert_eq!(*tokens.lock().unwrap(), vec!["Bearer s3cr3t-token".to_owned()], "the token, trimmed, once");
    assert!(handshakes_refused.load(Ordering::SeqCst) >= 1, "the target without a client certificate was refused");
    // The token never reaches the store.
    let dead = Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap();
    assert!(dead.iter().all(|d| !d.last_error.as_deref().unwrap_or("").contains("s3cr3t")));
    gw.stop().await;
}
