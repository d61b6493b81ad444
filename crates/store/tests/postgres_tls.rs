//! PostgreSQL over TLS, against real servers: a private instance with `ssl=on` and a certificate
//! from a test CA, and one without TLS. Started as the `postgres` user, so these tests need root
//! (named `as_root_`; `scripts/test.sh` excludes them without root, and this binary when
//! PostgreSQL is not there).

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use hookgate_store::{Inserted, NewEvent, Store, StoreError, StoreOptions, StoreUrl, TlsError};
use hookgate_test_support::postgres::PrivatePostgres as Server;

fn require_root() {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    assert!(root, "this test starts PostgreSQL as the postgres user and needs root");
}

/// A private server (`hookgate-test-support`) with TLS or without, and the directory it lives in
/// (removed after the server stops: field order).
struct PrivatePostgres {
    server: Server,
    dir: hookgate_test_support::TempDir,
}

impl PrivatePostgres {
    /// `tls`: the server's certificate and key (PEM), or no TLS (`ssl=off`).
    fn start(name: &str, tls: Option<(&str, &str)>) -> Self {
        let dir = hookgate_test_support::TempDir::new(name);
        let settings = match tls {
            Some((cert, key)) => {
                let (cert_file, key_file) = (dir.join("server.crt"), dir.join("server.key"));
                std::fs::write(&cert_file, cert).unwrap();
                std::fs::write(&key_file, key).unwrap();
                // PostgreSQL refuses a key that others can read, or that is not its own.
                std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
                Server::give(&cert_file);
                Server::give(&key_file);
                vec![
                    "ssl=on".to_owned(),
                    format!("ssl_cert_file={}", cert_file.display()),
                    format!("ssl_key_file={}", key_file.display()),
                ]
            }
            None => vec!["ssl=off".to_owned()],
        };
        let server = Server::start(dir.path(), &settings);
        Self { server, dir }
    }

    fn port(&self) -> u16 {
        self.server.port()
    }

    /// Which of the connections named `app` are encrypted (asked over a plain connection).
    async fn ssl_of(&self, app: &str) -> Vec<bool> {
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port());
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let rows = client
            .query(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
                &[&app],
            )
            .await
            .unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    }
}

/// A test CA: its certificate (PEM) and an issuer for server certificates.
struct TestCa {
    pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self { pem: cert.pem(), issuer: rcgen::Issuer::new(params, key) }
    }

    /// A server certificate and key (PEM) for `names`.
    fn server(&self, names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::CertificateParams::new(names).unwrap().signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn event(key: &str) -> NewEvent {
    NewEvent { body: format!("{{\"id\":\"{key}\"}}").into_bytes(), ..hookgate_store::testing::event(key) }
}

async fn open(url: &str) -> Result<Store, StoreError> {
    Store::open(&StoreUrl::parse(url).unwrap(), StoreOptions::default()).await
}

/// Opens the store at `url`, stores and reads back an event, and says whether its connections
/// were encrypted.
async fn store_and_read(pg: &PrivatePostgres, url: &str, app: &str) -> bool {
    let store = open(&format!("{url}&application_name={app}")).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let inserted = store.insert_event(event(app)).await.unwrap();
    let id = match inserted {
        Inserted::New(id) | Inserted::Duplicate(id) => id,
    };
    let read = store.get_event(id).await.unwrap().expect("the event just stored");
    assert_eq!(read.body, event(app).body);
    let ssl = pg.ssl_of(app).await;
    store.close().await;
    assert!(!ssl.is_empty() && ssl.iter().all(|s| *s == ssl[0]), "{app}: {ssl:?}");
    ssl[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_postgres_over_tls_checks_what_sslmode_asks() {
    require_root();
    let (ca, other_ca) = (TestCa::new("Hookgate test CA"), TestCa::new("Another CA"));
    let (cert, key) = ca.server(&["localhost"]);
    let pg = PrivatePostgres::start("pg-tls", Some((&cert, &key)));
    let (ca_file, other_ca_file) = (pg.dir.join("ca.pem"), pg.dir.join("other-ca.pem"));
    std::fs::write(&ca_file, &ca.pem).unwrap();
    std::fs::write(&other_ca_file, &other_ca.pem).unwrap();
    let (ca_file, other_ca_file) = (ca_file.display().to_string(), other_ca_file.display().to_string());
    let base = format!("postgres://postgres@localhost:{}/postgres", pg.port());
    // Reaches the same server by a name its certificate does not hold.
    let other_name = format!("postgres://postgres@db.example:{}/postgres?hostaddr=127.0.0.1", pg.port());

    // The right CA and host name: stored and read over TLS.
    assert!(store_and_read(&pg, &format!("{base}?sslmode=verify-full&sslrootcert={ca_file}"), "full").await);

    // Another CA: refused, saying which file and what to do.
    let err = open(&format!("{base}?sslmode=verify-full&sslrootcert={other_ca_file}")).await.unwrap_err();
    assert!(matches!(err, StoreError::Tls(TlsError::UnknownCa { .. })), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("a certificate not signed by the CA in sslrootcert={other_ca_file}")), "{text}");
    assert!(text.contains("give the CA that issued the server's certificate"), "{text}");
    // require with a CA given checks the chain too (as libpq).
    let err = open(&format!("{base}?sslmode=require&sslrootcert={other_ca_file}")).await.unwrap_err();
    assert!(matches!(err, StoreError::Tls(TlsError::UnknownCa { .. })), "{err:?}");

    // A certificate for another host name: refused by verify-full, naming what it holds; verify-ca
    // checks the CA only.
    let err = open(&format!("{other_name}&sslmode=verify-full&sslrootcert={ca_file}")).await.unwrap_err();
    assert!(matches!(err, StoreError::Tls(TlsError::HostMismatch { .. })), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("`db.example` presented a certificate not issued for that name (it holds localhost)"),
        "{text}"
    );
    assert!(text.contains("sslmode=verify-ca"), "{text}");
    assert!(store_and_read(&pg, &format!("{other_name}&sslmode=verify-ca&sslrootcert={ca_file}"), "ca").await);

    // require without a CA: encrypted, the certificate unchecked.
    assert!(store_and_read(&pg, &format!("{other_name}&sslmode=require"), "require").await);
    // disable: plain text, though the server offers TLS.
    assert!(!store_and_read(&pg, &format!("{base}?sslmode=disable"), "disable").await);
    // No sslmode at all: as before TLS support, plain text.
    assert!(!store_and_read(&pg, &format!("{base}?schema=public"), "absent").await);

    // A CA file that is not there: refused before connecting, saying what to give.
    let missing = pg.dir.join("missing-ca.pem").display().to_string();
    let err = open(&format!("{base}?sslmode=verify-full&sslrootcert={missing}")).await.unwrap_err();
    assert!(matches!(err, StoreError::Tls(TlsError::RootCert { .. })), "{err:?}");
    assert!(err.to_string().contains(&format!("cannot use sslrootcert={missing}")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_sslmode_require_is_refused_by_a_server_without_tls() {
    require_root();
    let pg = PrivatePostgres::start("pg-no-tls", None);
    let base = format!("postgres://postgres@localhost:{}/postgres", pg.port());
    let err = open(&format!("{base}?sslmode=require")).await.unwrap_err();
    assert!(matches!(err, StoreError::Tls(TlsError::NotOffered)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "postgres TLS: the server does not offer TLS: enable ssl on the server or use sslmode=disable"
    );
    // prefer falls back to plain text, as libpq's.
    assert!(!store_and_read(&pg, &format!("{base}?sslmode=prefer"), "prefer").await);
}
