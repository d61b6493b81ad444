//! A test gateway (config file, secret files, store in a temp dir) and a raw HTTP/1.1 client.

use std::net::SocketAddr;
use std::path::PathBuf;

use hookgate_server::{Config, Gateway};
use hookgate_store::{EventQuery, EventSummary, Reader, RejectionQuery, RejectionRecord};
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{SignOptions, Verifier, WebhookRequest};
use tokio::sync::oneshot;

pub(crate) const FLINKS_SECRET: &str = "flinks-test-secret";
pub(crate) const FIN_SECRET: &str = "fin-test-secret";

pub(crate) struct TestGateway {
    pub(crate) addr: SocketAddr,
    /// The operator listener (`/metrics`).
    pub(crate) ops_addr: SocketAddr,
    pub(crate) dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A directory of the test's own (`hookgate-test-support`), removed by the `TestGateway` using it.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    hookgate_test_support::TempDir::new(&format!("it-{name}")).keep()
}

/// The standard two sources (Flinks and Fin) plus `extra` TOML appended to the file.
pub(crate) fn config_text(extra_server: &str, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
store = "sqlite://STORE"
{extra_server}

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "flinks.secret" }}]
body_limit = 65536

[[source]]
name = "fin"
path = "/webhooks/fin"
scheme = "fin"
secrets = [{{ file = "fin.secret" }}]
body_limit = 65536
{extra}
"#
    )
}

impl TestGateway {
    pub(crate) async fn start(name: &str, config: &str) -> Self {
        Self::start_in(temp_dir(name), config).await
    }

    /// Like `start`, in a directory the caller may have put more files in.
    pub(crate) async fn start_in(dir: PathBuf, config: &str) -> Self {
        std::fs::write(dir.join("flinks.secret"), format!("{FLINKS_SECRET}\n")).unwrap();
        std::fs::write(dir.join("fin.secret"), FIN_SECRET).unwrap();
        let text = config.replace("STORE", dir.join("hookgate.db").to_str().unwrap());
        std::fs::write(dir.join("hookgate.toml"), text).unwrap();
        let built = Config::load(&dir.join("hookgate.toml")).unwrap().build().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ops = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops_addr = ops.local_addr().unwrap();
        let gateway = Gateway::new(built).await.unwrap().with_ops_listener(ops);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            gateway
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self { addr, ops_addr, dir, stop: Some(stop), task: Some(task) }
    }

    /// Graceful stop: in-flight requests finish, the store is closed.
    pub(crate) async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.dir.join("hookgate.db")
    }

    pub(crate) fn events(&self) -> Vec<EventSummary> {
        Reader::open_existing(&self.db()).unwrap().list_events(&EventQuery::default()).unwrap()
    }

    pub(crate) fn event_body(&self, id: hookgate_store::EventId) -> Vec<u8> {
        Reader::open_existing(&self.db()).unwrap().get_event(id).unwrap().unwrap().body
    }

    /// Rejections are recorded without making the sender wait; `/readyz` waits for the writer
    /// to commit everything queued before it, so the log is complete after it.
    pub(crate) async fn rejections(&self) -> Vec<RejectionRecord> {
        assert_eq!(self.get("/readyz").await.status, 200);
        Reader::open_existing(&self.db()).unwrap().list_rejections(&RejectionQuery::default()).unwrap()
    }

    pub(crate) async fn post(&self, path: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        let addr = self.addr;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || http(addr, "POST", &path, &headers, &body)).await.unwrap()
    }

    /// A GET on the operator listener.
    pub(crate) async fn get_ops(&self, path: &str) -> Response {
        let addr = self.ops_addr;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || http(addr, "GET", &path, &[], b"")).await.unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        let addr = self.addr;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || http(addr, "GET", &path, &[], b"")).await.unwrap()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on its own connection (`Connection: close`), read to the end: the shared raw
/// client (`hookgate-test-support`), its headers given as pairs.
pub(crate) fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Response {
    let lines: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let r = hookgate_test_support::http::raw(addr, method, path, &lines, body);
    Response { status: r.status, head: r.headers, body: r.body }
}

pub(crate) fn signer(scheme: &str, secret: &str) -> Verifier {
    let s = hookgate_verify::preset(scheme).unwrap();
    let secret = s.key(secret).unwrap();
    Verifier::new(s, vec![secret]).unwrap()
}

pub(crate) fn sign_with(v: &Verifier, body: &[u8], opts: &SignOptions<'_>) -> Vec<(String, String)> {
    let empty = HeaderMap::new();
    v.sign(&WebhookRequest::new(&empty, body), opts).unwrap()
}

pub(crate) fn flinks_headers(body: &[u8]) -> Vec<(String, String)> {
    sign_with(&signer("flinks", FLINKS_SECRET), body, &SignOptions::default())
}

pub(crate) fn fin_headers(body: &[u8], alg: Option<hookgate_verify::Algorithm>) -> Vec<(String, String)> {
    let mut s = hookgate_verify::preset("fin").unwrap();
    if alg == Some(hookgate_verify::Algorithm::Sha1) {
        let signing = s.signing_mut().unwrap();
        signing.allow_sha1 = true;
        if let hookgate_verify::AlgorithmSpec::FromHeader { allowed, .. } = &mut signing.algorithm {
            allowed.push(hookgate_verify::Algorithm::Sha1);
        }
    }
    let v = Verifier::new(
        s,
        vec![hookgate_verify::Secret::decode(FIN_SECRET, hookgate_verify::SecretEncoding::Utf8).unwrap()],
    )
    .unwrap();
    sign_with(&v, body, &SignOptions { algorithm: alg, ..SignOptions::default() })
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hookgate_store::sha256_hex(b)
}

/// Deliveries by status name and target, as the tests read them (the store takes a query).
pub(crate) trait ListDeliveries {
    fn list_deliveries(
        &self,
        status: Option<&str>,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<hookgate_store::DeliverySummary>, hookgate_store::StoreError>;
}

impl ListDeliveries for Reader {
    fn list_deliveries(
        &self,
        status: Option<&str>,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<hookgate_store::DeliverySummary>, hookgate_store::StoreError> {
        self.deliveries(&hookgate_store::DeliveryQuery {
            status: status.map(|s| s.parse().unwrap()),
            target: target.map(str::to_owned),
            event_id: None,
            before_id: None,
            limit,
        })
    }
}
