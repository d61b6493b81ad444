//! HTTPS on the gateway's listener, and certificate reload.

use std::sync::Arc;
use std::time::Duration;

use hookgate_server::tls::{CertStore, TlsListener};
use hookgate_server::{Config, Gateway};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{FLINKS_SECRET, config_text, flinks_headers, temp_dir};

fn write_cert(dir: &std::path::Path) -> CertificateDer<'static> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), ck.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
    ck.cert.der().clone()
}

/// One HTTPS request trusting only `root`; returns the status line and the server's certificate.
async fn https_post(
    addr: std::net::SocketAddr,
    root: &CertificateDer<'static>,
    body: &[u8],
) -> (String, CertificateDer<'static>) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0].clone().into_owned();
    let mut req = format!(
        "POST /webhooks/flinks HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in flinks_headers(body) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes()).await.unwrap();
    tls.write_all(body).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    (text.lines().next().unwrap_or_default().to_owned(), presented)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_listener_verifies_stores_and_reloads_its_certificate() {
    let dir = temp_dir("tls");
    std::fs::write(dir.join("flinks.secret"), FLINKS_SECRET).unwrap();
    std::fs::write(dir.join("fin.secret"), "x").unwrap();
    let first = write_cert(&dir);
    let text = config_text("[server.tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n", "")
        .replace("STORE", dir.join("hookgate.db").to_str().unwrap());
    std::fs::write(dir.join("hookgate.toml"), text).unwrap();
    let built = Config::load(&dir.join("hookgate.toml")).unwrap().build().unwrap();
    let tls = built.tls.clone().expect("tls from the config, paths relative to it");
    let certs = CertStore::open(&tls.cert, &tls.key).unwrap();
    let gateway = Gateway::new(built).await.unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let listener = TlsListener::new(tcp, &certs).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway.serve_tls(listener, async move {
        let _ = stopped.await;
    }));

    let (status, presented) = https_post(addr, &first, b"{\"ResponseType\":\"KYC\"}").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(presented, first);

    // A plain-HTTP client gets no answer, and the listener keeps serving others.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain.write_all(b"POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));

    // Renewal: new files on disk are picked up without a restart.
    tokio::time::sleep(Duration::from_millis(20)).await; // a distinct modification time
    let second = write_cert(&dir);
    assert!(certs.reload_if_changed());
    let (status, presented) = https_post(addr, &second, b"{\"ResponseType\":\"KYC\",\"n\":2}").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(presented, second);

    // A broken renewal keeps the running certificate.
    std::fs::write(dir.join("key.pem"), "not a key").unwrap();
    assert!(!certs.reload());
    let (status, presented) = https_post(addr, &second, b"{\"n\":3}").await;
    assert_eq!((status.as_str(), presented), ("HTTP/1.1 200 OK", second));

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let stored = hookgate_store::Reader::open_existing(&dir.join("hookgate.db")).unwrap().count_events().unwrap();
    assert_eq!(stored, 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_certificate_pair_stops_the_start() {
    let dir = temp_dir("tls-bad");
    let _ = write_cert(&dir);
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("other-key.pem"), other.signing_key.serialize_pem()).unwrap();
    let err = CertStore::open(&dir.join("cert.pem"), &dir.join("other-key.pem")).unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
    let err = CertStore::open(&dir.join("missing.pem"), &dir.join("key.pem")).unwrap_err().to_string();
    assert!(err.contains("cannot read certificate"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
