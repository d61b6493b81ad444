//! NATS JetStream targets: Msg-Id dedup by the broker, TLS and passwords.

use super::tls::TestCa;
#[allow(unused_imports)]
use super::*;

pub(super) fn nats_url() -> String {
    std::env::var("HOOKGATE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_jetstream_publishes_with_msg_id_and_the_broker_dedups_replays() {
    // A stream of its own, so tests run in parallel. Unreachable NATS fails the test (never skips).
    let url = nats_url();
    let client = async_nats::connect(&url).await.unwrap_or_else(|e| panic!("NATS at {url} is required: {e}"));
    let js = async_nats::jetstream::new(client);
    let tag = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let stream_name = format!("HGTEST_{tag}");
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: stream_name.clone(),
            subjects: vec![format!("hgtest.{tag}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
    let extra = format!(
        "\n[[source]]\nname = \"natsrc\"\npath = \"/webhooks/nats\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\ndefault_targets = [\"bus\"]\n\n[[target]]\nname = \"bus\"\ntype = \"nats\"\nurl = \"{url}\"\nsubject = \"hgtest.{tag}.{{source}}.{{event_type}}\"\n"
    );
    let mut gw = TestGateway::start("nats", &config_text("", &extra)).await;
    for kind in ["KYC", "GetAccountsDetail", "KYC Update"] {
        let body = format!(r#"{{"ResponseType":"{kind}"}}"#).into_bytes();
        assert_eq!(gw.post("/webhooks/nats", flinks_headers(&body), body).await.status, 200);
    }
    let db = gw.db();
    wait_for("3 published", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 3
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 3);
    let first = stream.get_raw_message(1).await.unwrap();
    let id = first.headers.get("Nats-Msg-Id").unwrap().as_str().to_owned();
    assert!(id.starts_with("evt_"), "{id}");
    assert!(first.subject.as_str().starts_with(&format!("hgtest.{tag}.natsrc.")), "{}", first.subject);
    // Delivery is unordered by default, so compare the set of subjects.
    let mut subjects = Vec::new();
    for seq in 1..=3 {
        subjects.push(stream.get_raw_message(seq).await.unwrap().subject.to_string());
    }
    subjects.sort();
    let want: Vec<String> =
        ["GetAccountsDetail", "KYC", "KYC_Update"].iter().map(|t| format!("hgtest.{tag}.natsrc.{t}")).collect();
    assert_eq!(subjects, want);
    // A replay publishes again with the same Nats-Msg-Id: the stream keeps one copy.
    let event_id: hookgate_store::EventId = id.trim_start_matches("evt_").parse().unwrap();
    let store = hookgate_store::SqliteStore::open(&db, hookgate_store::Durability::Full, operator()).unwrap();
    assert_eq!(store.admin(AdminOp::Replay { event_ids: vec![event_id], target: None }).await.unwrap(), 1);
    store.close();
    wait_for("the replay acknowledged", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 4
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 3);
    let reader = Reader::open_existing(&db).unwrap();
    let replayed = reader.list_deliveries(Some("delivered"), None, 1).unwrap();
    let rec = reader.get_delivery(replayed[0].id).unwrap().unwrap();
    assert!(rec.attempts_history[0].response_excerpt.as_deref().unwrap_or("").ends_with("(duplicate)"), "{rec:?}");
    gw.stop().await;
    js.delete_stream(&stream_name).await.unwrap();
}

/// A broker of the test's own (`nats-server` on another port, never the shared one) with TLS
/// from an internal CA and a user and password: the target's `ca_file`, `user` and `password`
/// (from a file) get the event into its stream; a target without the password is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jetstream_target_over_tls_with_a_password() {
    let dir = temp_dir("jetstream-tls");
    let ca = TestCa::new();
    let (server_cert, server_key) = ca.leaf(&["localhost", "127.0.0.1"]);
    std::fs::write(dir.join("ca.pem"), ca.cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("nats.password"), "broker-pw-77\n").unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let port = free_addr().port();
    let mut broker = std::process::Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir.join("js"))
        .args(["--user", "hookgate", "--pass", "broker-pw-77", "--tls", "--tlscert"])
        .arg(dir.join("server.pem"))
        .arg("--tlskey")
        .arg(dir.join("server.key"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server (the machine's NATS server binary)");
    let url = format!("nats://127.0.0.1:{port}");
    let mut client = None;
    for _ in 0..100 {
        let options = async_nats::ConnectOptions::with_user_and_password("hookgate".into(), "broker-pw-77".into())
            .add_root_certificates(dir.join("ca.pem"))
            .require_tls(true);
        if let Ok(c) = options.connect(&url).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let js = async_nats::jetstream::new(client.expect("the private broker starts"));
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: "HGTLS".into(),
            subjects: vec!["hgtls.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let targets = format!(
        r#"default_targets = ["bus", "no-password"]

[[target]]
name = "bus"
type = "nats"
url = "{url}"
subject = "hgtls.{{source}}"
ca_file = "ca.pem"
user = "hookgate"
password = {{ file = "nats.password" }}

[[target]]
name = "no-password"
type = "nats"
url = "{url}"
subject = "hgtls.other"
ca_file = "ca.pem"
timeout_secs = 2

[target.retry]
max_attempts = 1
"#
    );
    let config = config_text("", "").replacen("body_limit = 65536\n", &format!("body_limit = 65536\n{targets}"), 1);
    let mut gw = TestGateway::start_in(dir, &config).await;
    let body = br#"{"ResponseType":"KYC"}"#;
    assert_eq!(gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await.status, 200);
    let db = gw.db();
    wait_for("the publish and the refusal", || {
        let r = Reader::open_existing(&db).unwrap();
        r.list_deliveries(Some("delivered"), Some("bus"), 10).unwrap().len() == 1
            && r.list_deliveries(Some("dead"), Some("no-password"), 10).unwrap().len() == 1
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    assert_eq!(stream.get_raw_message(1).await.unwrap().subject.as_str(), "hgtls.flinks");
    let dead = Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap();
    assert!(dead.iter().all(|d| !d.last_error.as_deref().unwrap_or("").contains("broker-pw-77")), "{dead:?}");
    gw.stop().await;
    let _ = broker.kill();
    let _ = broker.wait();
}
