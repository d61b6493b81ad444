//! The operator API over real HTTP against `hookgate serve`: tokens made with `hookgate admin
//! token`, every read resource, roles, expired and revoked tokens, filters, `match`, pages, bad
//! input, and the OpenAPI document.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::api::*;
use common::*;

const SECRET: &str = "flinks-admin-secret";

fn token(tokens: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    admin_token(tokens, name, role, extra)
}

/// Starts `hookgate serve` with `[admin]` and returns it with the webhook and operator API
/// addresses.
fn serve_admin(dir: &Path) -> (std::process::Child, SocketAddr, SocketAddr) {
    serve_admin_with(dir, "")
}

fn serve_admin_with(dir: &Path, extra: &str) -> (std::process::Child, SocketAddr, SocketAddr) {
    let (child, hooks, api, _) = serve_admin_config(dir, SECRET, extra);
    (child, hooks, api)
}

#[test]
fn the_operator_api_reads_with_tokens_filters_pages_and_refuses_what_it_should() {
    let dir = temp_dir("admin-api");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = token(&tokens, "viewer-1", "viewer", &[]);
    let revoked = token(&tokens, "gone", "operator", &[]);
    let expired = token(&tokens, "short", "viewer", &["--expires", "1s"]);
    let text = std::fs::read_to_string(&tokens).unwrap();
    assert!(!text.contains(&viewer) && !text.contains(&revoked), "the file keeps only hashes");
    let listed = cli(&["admin", "token", "list", "--tokens-file", tokens.to_str().unwrap(), "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert!(!listed.to_string().contains("sha256"), "list never shows a hash: {listed}");

    let (child, hooks, api) = serve_admin(&dir);
    let bodies = [
        r#"{"ResponseType":"KYC","Tag":"userId=12345","RequestId":"r1"}"#,
        r#"{"ResponseType":"GetAccountsDetail","Tag":"userId=999","RequestId":"r2"}"#,
        r#"{"ResponseType":"KYC","Tag":"userId=777","RequestId":"r3","Note":"<script>alert(1)</script>"}"#,
    ];
    for b in bodies {
        assert_eq!(post_flinks(hooks, SECRET, b.as_bytes()).unwrap(), 200);
    }
    assert_eq!(post_flinks(hooks, "wrong-secret", b"{\"forged\":true}").unwrap(), 403);

    // Who may ask.
    let r = get(api, "/api/v1/events", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    assert_eq!(get(api, "/api/v1/events", Some("hgat_not-a-token")).status, 401);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(get(api, "/api/v1/events", Some(&expired)).status, 401, "an expired token");
    assert_eq!(get(api, "/api/v1/events", Some(&revoked)).status, 200);
    let out = cli(&["admin", "token", "revoke", "gone", "--tokens-file", tokens.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(get(api, "/api/v1/events", Some(&revoked)).status, 200, "in force until the reload");
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    wait_for("the reload", 10, || get(api, "/api/v1/events", Some(&revoked)).status == 401);

    // Events: newest first, with their status and the filters.
    let v = Some(viewer.as_str());
    let all = get(api, "/api/v1/events", v).json();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{all}");
    assert!(items[0]["id"].as_i64() > items[2]["id"].as_i64(), "newest first");
    assert_eq!(items[0]["source"], "flinks");
    assert!(items[0]["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(all["next_cursor"], serde_json::Value::Null);
    let kyc = get(api, "/api/v1/events?type=KYC", v).json();
    assert_eq!(kyc["items"].as_array().unwrap().len(), 2);
    let q = get(api, "/api/v1/events?q=r2", v).json();
    assert_eq!(q["items"].as_array().unwrap().len(), 1, "{q}");
    assert_eq!(get(api, "/api/v1/events?source=other", v).json()["items"].as_array().unwrap().len(), 0);
    let matched =
        get(api, &format!("/api/v1/events?match={}", enc(r#"{"ResponseType":"KYC","Tag":{"userId":"12345"}}"#)), v)
            .json();
    let matched = matched["items"].as_array().unwrap();
    assert_eq!(matched.len(), 1, "{matched:?}");
    let first_id = matched[0]["id"].as_i64().unwrap();
    let ops = get(api, &format!("/api/v1/events?match={}", enc(r#"{"RequestId":{"$in":["r1","r3"]}}"#)), v).json();
    assert_eq!(ops["items"].as_array().unwrap().len(), 2);

    // Pages: no gap, no repeat, while another event arrives between them.
    let page1 = get(api, "/api/v1/events?limit=2", v).json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(post_flinks(hooks, SECRET, br#"{"ResponseType":"KYC","RequestId":"r4"}"#).unwrap(), 200);
    let page2 = get(api, &format!("/api/v1/events?limit=2&cursor={cursor}"), v).json();
    let ids: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Bad input: 400 naming the parameter; never a 500.
    for (path, field) in [
        ("/api/v1/events?since=yesterday", "since"),
        ("/api/v1/events?limit=0", "limit"),
        ("/api/v1/events?cursor=x", "cursor"),
        ("/api/v1/events?status=lost", "status"),
        ("/api/v1/events?frobnicate=1", "frobnicate"),
        (&format!("/api/v1/events?match={}", enc(r#"{"a":{"$regex":"x"}}"#)), "match"),
        (&format!("/api/v1/events?match={}", enc("{not json")), "match"),
        ("/api/v1/events/abc", "id"),
        ("/api/v1/rejections?until=never", "until"),
        ("/api/v1/deliveries?status=gone", "status"),
    ] {
        let r = get(api, path, v);
        assert_eq!(r.status, 400, "{path}: {}", String::from_utf8_lossy(&r.body));
        let e = r.json();
        assert_eq!(e["error"]["code"], "bad_request");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{path}: {e}");
    }
    assert_eq!(get(api, "/api/v1/events/999999", v).status, 404);

    // One event in full, and its exact body.
    let detail = get(api, &format!("/api/v1/events/{first_id}"), v).json();
    assert_eq!(detail["metadata"]["tag"]["userId"], "12345");
    assert_eq!(detail["size"].as_i64().unwrap() as usize, bodies[0].len());
    assert!(detail["headers"].as_array().unwrap().iter().any(|h| h[0] == "x-flinks-signature"));
    wait_for("the delivery", 20, || {
        get(api, &format!("/api/v1/events/{first_id}"), v).json()["deliveries"][0]["status"] == "delivered"
    });
    let detail = get(api, &format!("/api/v1/events/{first_id}"), v).json();
    assert_eq!(detail["status"], "delivered");
    assert_eq!(detail["deliveries"][0]["attempts_history"].as_array().unwrap().len(), 1);
    let raw = get(api, &format!("/api/v1/events/{first_id}/body"), v);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, bodies[0].as_bytes(), "byte-exact");
    let script = get(api, &format!("/api/v1/events?q={}", enc("r3")), v).json();
    let script_id = script["items"][0]["id"].as_i64().unwrap();
    let raw = get(api, &format!("/api/v1/events/{script_id}/body"), v);
    let h = raw.headers.to_ascii_lowercase();
    assert!(
        h.contains("content-security-policy: default-src 'none'; sandbox")
            && h.contains("x-content-type-options: nosniff"),
        "{h}"
    );

    // Rejections and deliveries.
    let rej = get(api, "/api/v1/rejections", v).json();
    let rej = rej["items"].as_array().unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0]["reason_code"], "signature_mismatch");
    let rid = rej[0]["id"].as_i64().unwrap();
    assert_eq!(get(api, "/api/v1/rejections?reason=missing_header", v).json()["items"].as_array().unwrap().len(), 0);
    let one = get(api, &format!("/api/v1/rejections/{rid}"), v).json();
    assert!(one["headers"].as_array().unwrap().iter().any(|h| h[0] == "x-flinks-signature"));
    assert_eq!(get(api, &format!("/api/v1/rejections/{rid}/body"), v).body, b"{\"forged\":true}");
    wait_for("every delivery", 20, || {
        get(api, "/api/v1/deliveries?status=delivered", v).json()["items"].as_array().unwrap().len() == 4
    });
    let d = get(api, &format!("/api/v1/deliveries?event={first_id}"), v).json();
    let did = d["items"][0]["id"].as_i64().unwrap();
    let d = get(api, &format!("/api/v1/deliveries/{did}"), v).json();
    assert_eq!(d["target"], "audit");
    assert_eq!(d["attempts_history"][0]["status_code"], 0);
    let status_filtered = get(api, "/api/v1/events?status=delivered", v).json();
    assert_eq!(status_filtered["items"].as_array().unwrap().len(), 4);

    // Sources and targets: configuration (never a secret) and what they did.
    let sources = get(api, "/api/v1/sources", v);
    assert!(!String::from_utf8_lossy(&sources.body).contains(SECRET));
    let sources = sources.json();
    let flinks = &sources.as_array().unwrap()[0];
    assert_eq!(
        (flinks["name"].as_str(), flinks["scheme"].as_str(), flinks["path"].as_str()),
        (Some("flinks"), Some("flinks"), Some("/webhooks/flinks"))
    );
    assert_eq!((flinks["events"].as_i64(), flinks["rejections"].as_i64()), (Some(4), Some(1)));
    assert_eq!(flinks["targets"], serde_json::json!(["audit"]));
    assert!(flinks["event_rate"]["last_5m"].as_f64().unwrap() > 0.0 && flinks["last_event_at"].is_string());
    let targets = get(api, "/api/v1/targets", v).json();
    let audit = &targets.as_array().unwrap()[0];
    assert_eq!(
        (audit["name"].as_str(), audit["type"].as_str(), audit["destination"].as_str()),
        (Some("audit"), Some("command"), Some("true"))
    );
    assert_eq!(
        (audit["delivered"].as_i64(), audit["pending"].as_i64(), audit["dead"].as_i64()),
        (Some(4), Some(0), Some(0))
    );
    assert!(audit["oldest_pending_at"].is_null() && audit["delivery_rate"]["last_60m"].as_f64().unwrap() > 0.0);

    // The OpenAPI document, without a token.
    let doc = get(api, "/api/openapi.json", None).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["paths"]["/api/v1/events"]["get"].is_object());
    // The webhook listener never serves the operator API.
    assert_eq!(get(hooks, "/api/v1/events", v).status, 404);
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_public_operator_listener_needs_tls() {
    let dir = temp_dir("admin-tls");
    std::fs::write(dir.join("s.secret"), "x").unwrap();
    let config = format!(
        "[admin]\nlisten = \"0.0.0.0:8081\"\ntokens_file = \"t.toml\"\n\n[server]\nstore = \"sqlite://{}\"\n\n[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s.secret\" }}]\n",
        dir.join("h.db").display()
    );
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let out = cli(&["config", "check", "--config", dir.join("c.toml").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin.listen") && err.contains("[admin.tls]"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Waits for a job to reach `state` and returns it.
fn wait_job(api: SocketAddr, token: &str, id: i64, state: &str) -> serde_json::Value {
    let mut job = serde_json::Value::Null;
    wait_for(&format!("job {id} to be {state}"), 60, || {
        job = get(api, &format!("/api/v1/jobs/{id}"), Some(token)).json();
        job["state"] == state
    });
    job
}

#[test]
fn replays_and_retries_run_as_jobs_for_operators_and_are_audited() {
    let dir = temp_dir("admin-jobs");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = token(&tokens, "watcher", "viewer", &[]);
    let operator = token(&tokens, "oncall", "operator", &[]);
    let admin = token(&tokens, "lead", "admin", &[]);
    let flaky = "[[target]]\nname = \"flaky\"\ntype = \"command\"\ncommand = [\"false\"]\nretry = { max_attempts = 1 }\n\n[[source.route]]\nwhen = [{ field = \"response_type\", equals = \"Fail\" }]\ntargets = [\"flaky\"]\n";
    // The route belongs to the source: put the target after it and the route under the source.
    let extra = flaky.replace("\n\n[[source.route]]", "\n[[source.route]]");
    let (child, hooks, api) = serve_admin_with(&dir, &extra);
    for (i, t) in ["KYC", "KYC", "KYC", "Fail", "Fail"].iter().enumerate() {
        let body = format!(r#"{{"ResponseType":"{t}","RequestId":"j{i}"}}"#);
        assert_eq!(post_flinks(hooks, SECRET, body.as_bytes()).unwrap(), 200);
    }
    let kyc = r#"{"filter": {"type": "KYC"}, "targets": ["audit"]}"#;
    let r = request(api, "POST", "/api/v1/replays", Some(&viewer), kyc);
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (403, Some("forbidden")));
    let dry =
        request(api, "POST", "/api/v1/replays", Some(&operator), r#"{"filter": {"type": "KYC"}, "dry_run": true}"#);
    assert_eq!((dry.status, dry.json()["count"].as_i64()), (200, Some(3)));
    let created = request(api, "POST", "/api/v1/replays", Some(&operator), kyc);
    assert_eq!(created.status, 202, "{}", String::from_utf8_lossy(&created.body));
    let id = created.json()["job"].as_i64().unwrap();
    let job = wait_job(api, &viewer, id, "done");
    assert_eq!(
        (job["total"].as_i64(), job["done"].as_i64(), job["actor"].as_str()),
        (Some(3), Some(3), Some("oncall"))
    );
    wait_for("the replays' deliveries", 20, || {
        let d = get(api, "/api/v1/deliveries?target=audit&status=delivered", Some(&viewer)).json();
        d["items"].as_array().unwrap().len() == 3 + 3
    });
    assert_eq!(request(api, "DELETE", &format!("/api/v1/jobs/{id}"), Some(&operator), "").status, 409, "it is done");
    assert_eq!(request(api, "DELETE", "/api/v1/jobs/999999", Some(&operator), "").status, 404);

    // Retry the dead: the two Fail events' deliveries died after their one attempt.
    wait_for("two dead deliveries", 20, || {
        get(api, "/api/v1/deliveries?status=dead", Some(&viewer)).json()["items"].as_array().unwrap().len() == 2
    });
    let dry = request(api, "POST", "/api/v1/retries", Some(&operator), r#"{"dry_run": true}"#).json();
    assert_eq!(dry["count"], 2);
    let retry = request(api, "POST", "/api/v1/retries", Some(&operator), r#"{"filter": {}}"#);
    assert_eq!(retry.status, 202);
    let rid = retry.json()["job"].as_i64().unwrap();
    assert_eq!(wait_job(api, &viewer, rid, "done")["done"], 2);
    wait_for("the retried attempts", 20, || {
        let dead = get(api, "/api/v1/deliveries?status=dead", Some(&viewer)).json();
        let items = dead["items"].as_array().unwrap().clone();
        items.len() == 2 && items.iter().all(|d| d["attempts"] == 1) && {
            let one = get(api, &format!("/api/v1/deliveries/{}", items[0]["id"]), Some(&viewer)).json();
            one["attempts_history"].as_array().unwrap().len() == 2
        }
    });
    let bad = request(api, "POST", "/api/v1/retries", Some(&operator), r#"{"filter": {"status": "pending"}}"#);
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("filter.status"));
    let bad = request(api, "POST", "/api/v1/replays", Some(&operator), r#"{"filter": {"match": {"$bogus": 1}}}"#);
    assert!(bad.status == 400 && bad.json()["error"]["message"].as_str().unwrap().contains("filter.match"));
    let bad = request(api, "POST", "/api/v1/replays", Some(&operator), r#"{"filters": {}}"#);
    assert!(bad.status == 400 && bad.json()["error"]["message"].as_str().unwrap().contains("filters"));
    assert_eq!(request(api, "POST", "/api/v1/replays", Some(&operator), "not json").status, 400);

    // The audit log: admins only.
    assert_eq!(get(api, "/api/v1/audit", Some(&operator)).status, 403);
    let log = get(api, "/api/v1/audit", Some(&admin)).json();
    let actions: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap().to_owned(), a["actor"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        actions,
        [("retry.create".to_owned(), "oncall".to_owned()), ("replay.create".to_owned(), "oncall".to_owned())]
    );
    assert_eq!(log["items"][1]["detail"]["filter"]["type"], "KYC");
    let jobs = get(api, "/api/v1/jobs", Some(&viewer)).json();
    assert_eq!(jobs["items"].as_array().unwrap().len(), 2);

    // The CLI's bulk replay is the same kind of job, beside the running gateway, and the API
    // shows its progress.
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let out = cli(&[
        "replay", "--source", "flinks", "--since", "0", "--target", "audit", "--store", &store, "--format", "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["events"].as_i64(), report["deliveries"].as_i64()), (Some(5), Some(5)), "{report}");
    let cli_job = get(api, &format!("/api/v1/jobs/{}", report["job"]), Some(&viewer)).json();
    assert_eq!(
        (cli_job["state"].as_str(), cli_job["actor"].as_str(), cli_job["done"].as_i64()),
        (Some("done"), Some("cli"), Some(5))
    );
    assert_eq!(cli_job["deliveries"], 5);
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

/// A replay job of 10,000 events, the gateway SIGKILLed while it runs: after the restart the job
/// resumes from its cursor and finishes, and every event gets exactly one delivery from it.
#[test]
fn a_replay_job_survives_a_sigkill_and_makes_each_delivery_once() {
    let dir = temp_dir("admin-job-kill");
    let tokens = dir.join("admin-tokens.toml");
    let operator = token(&tokens, "oncall", "operator", &[]);
    const EVENTS: usize = 10_000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let url = hookgate_store::StoreUrl::parse(&format!("sqlite://{}", dir.join("h.db").display())).unwrap();
        let store = std::sync::Arc::new(
            hookgate_store::Store::open(&url, hookgate_store::StoreOptions::default()).await.unwrap(),
        );
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..EVENTS {
            let store = std::sync::Arc::clone(&store);
            tasks.spawn(async move {
                let body = format!(r#"{{"ResponseType":"KYC","RequestId":"k{i}"}}"#).into_bytes();
                let event = hookgate_store::NewEvent {
                    source: "flinks".into(),
                    received_at_ms: 1_700_000_000_000 + i as i64,
                    dedup_key: format!("json:k{i}"),
                    provider_id: None,
                    event_type: Some("KYC".into()),
                    signed_at_ms: None,
                    body_sha256: hookgate_store::sha256_hex(&body),
                    body,
                    headers: vec![],
                    metadata: serde_json::json!({"response_type": "KYC"}),
                    targets: vec![],
                    pii: vec![],
                };
                store.insert_event(event).await.unwrap();
            });
        }
        while tasks.join_next().await.is_some() {}
        store.close().await;
    });
    // A target that refuses at once and retries an hour later: the test measures the job, not
    // ten thousand deliveries.
    std::fs::write(dir.join("void.secret"), TARGET_SECRET).unwrap();
    let void = "[[target]]\nname = \"void\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\nsecret = { file = \"void.secret\" }\nretry = { initial_delay_ms = 3600000 }\n";
    let (child, _hooks, api) = serve_admin_with(&dir, void);
    let created = request(
        api,
        "POST",
        "/api/v1/replays",
        Some(&operator),
        r#"{"filter": {"source": "flinks"}, "targets": ["void"]}"#,
    );
    assert_eq!(created.status, 202, "{}", String::from_utf8_lossy(&created.body));
    let id = created.json()["job"].as_i64().unwrap();
    assert_eq!(created.json()["total"], EVENTS);
    let mut done_at_kill = 0;
    wait_for("the job to be under way", 60, || {
        let job = get(api, &format!("/api/v1/jobs/{id}"), Some(&operator)).json();
        done_at_kill = job["done"].as_i64().unwrap_or(0);
        done_at_kill > 0
    });
    let mut child = child;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(done_at_kill < EVENTS as i64, "killed mid-way (done {done_at_kill} of {EVENTS})");

    let (child, _hooks, api) = serve_admin_with(&dir, void);
    let job = wait_job(api, &operator, id, "done");
    assert_eq!((job["done"].as_i64(), job["total"].as_i64()), (Some(EVENTS as i64), Some(EVENTS as i64)));
    sigterm_and_wait(child);
    // Every event has exactly one delivery to the target: none twice, none missed.
    let reader = hookgate_store::Reader::open_existing(&dir.join("h.db")).unwrap();
    let q = hookgate_store::DeliveryQuery { target: Some("void".into()), limit: 50_000, ..Default::default() };
    let made = reader.deliveries(&q).unwrap();
    let rows = made.len();
    let events = made.iter().map(|d| d.event_id).collect::<std::collections::HashSet<_>>().len();
    assert_eq!((rows, events), (EVENTS, EVENTS));
    let _ = std::fs::remove_dir_all(dir);
}

/// `hookgate tail` follows `/api/v1/stream`: events, their delivery outcomes and rejections as
/// they happen; a refused token stops it with a clear message.
#[test]
fn tail_prints_events_deliveries_and_rejections_as_they_happen() {
    use std::io::BufRead as _;
    let dir = temp_dir("admin-tail");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = token(&tokens, "watcher", "viewer", &[]);
    let (child, hooks, api) = serve_admin(&dir);
    assert_eq!(get(api, "/api/v1/stream", None).status, 401);
    assert_eq!(get(api, "/api/v1/stream?kinds=everything", Some(&viewer)).status, 400);

    let refused = Command::new(bin())
        .args(["tail", "--admin-url", &format!("http://{api}"), "--token-env", "HG_TOKEN"])
        .env("HG_TOKEN", "hgat_wrong")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused the token"), "{refused:?}");

    let mut tail = Command::new(bin())
        .args([
            "tail",
            "--admin-url",
            &format!("http://{api}"),
            "--token-env",
            "HG_TOKEN",
            "--rejections",
            "--format",
            "json",
        ])
        .env("HG_TOKEN", &viewer)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let stdout = tail.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")));
        }
    });
    // Post until tail shows one (it may not be connected yet for the first few).
    let mut seen = Vec::new();
    for i in 0..100 {
        let body = format!(r#"{{"ResponseType":"KYC","RequestId":"t{i}"}}"#);
        assert_eq!(post_flinks(hooks, SECRET, body.as_bytes()).unwrap(), 200);
        // The first item shown may be the delivery of an event posted before tail connected.
        while let Ok(item) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(item);
        }
        if seen.iter().any(|i| i["kind"] == "event") {
            break;
        }
    }
    assert!(seen.iter().any(|i| i["kind"] == "event" && i["source"] == "flinks"), "{seen:?}");
    assert_eq!(post_flinks(hooks, "wrong-secret", b"{}").unwrap(), 403);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(seen.iter().any(|i| i["kind"] == "rejection" && i["reason_code"] == "signature_mismatch")
        && seen.iter().any(|i| i["kind"] == "delivery" && i["target"] == "audit" && i["outcome"] == "delivered"))
    {
        assert!(std::time::Instant::now() < deadline, "{seen:?}");
        if let Ok(item) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push(item);
        }
    }
    tail.kill().unwrap();
    let _ = tail.wait();
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tail_with_a_match_shows_only_the_matching_events() {
    use std::io::BufRead as _;
    let dir = temp_dir("admin-tail-match");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = token(&tokens, "watcher", "viewer", &[]);
    let (child, hooks, api) = serve_admin(&dir);
    let tail = |filter: &str| {
        let mut command = Command::new(bin());
        command
            .args(["tail", "--admin-url", &format!("http://{api}"), "--token-env", "HG_TOKEN", "--format", "json"])
            .args(["--match", filter])
            .env("HG_TOKEN", &viewer);
        command
    };
    let refused = tail(r#"{"Tag":{"$regex":"x"}}"#).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("(400): match: Tag.$regex: unknown operator"), "{stderr}");

    let mut watching = tail(r#"{"Tag":{"userId":"u1"}}"#)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let stdout = watching.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")));
        }
    });
    // Alternate users, each event also sent once badly signed, until tail has shown three
    // delivery outcomes: every event shown is u1's, every delivery outcome is of an event shown
    // (the audit target gets them all), and no rejection is shown (an unverified body is never
    // matched).
    let mut items: Vec<serde_json::Value> = Vec::new();
    for i in 0..200 {
        let user = if i % 2 == 0 { "u1" } else { "u2" };
        let body = format!(r#"{{"ResponseType":"KYC","RequestId":"m{i}-{user}","Tag":"userId={user}"}}"#);
        assert_eq!(post_flinks(hooks, SECRET, body.as_bytes()).unwrap(), 200);
        assert_eq!(post_flinks(hooks, "wrong-secret", body.as_bytes()).unwrap(), 403);
        while let Ok(item) = rx.recv_timeout(Duration::from_millis(100)) {
            items.push(item);
        }
        if items.iter().filter(|i| i["kind"] == "delivery").count() >= 3 {
            break;
        }
    }
    assert!(items.iter().filter(|i| i["kind"] == "delivery").count() >= 3, "{items:?}");
    let shown: Vec<i64> = items.iter().filter(|i| i["kind"] == "event").map(|i| i["id"].as_i64().unwrap()).collect();
    for item in &items {
        match item["kind"].as_str() {
            Some("event") => assert!(item["dedup_key"].as_str().unwrap().ends_with("-u1"), "{item}"),
            Some("delivery") => {
                let event = item["event_id"].as_i64().unwrap();
                assert!(shown.contains(&event), "a delivery of an event not shown: {item}");
                assert_eq!(item["source"], "flinks");
            }
            _ => panic!("a match stream shows events and their deliveries only: {item}"),
        }
    }
    watching.kill().unwrap();
    let _ = watching.wait();
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

/// The `hookgate_session=…` cookie a sign-in set, and its attributes.
fn session_cookie(reply: &Reply) -> (String, String) {
    let line = reply
        .headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {}", reply.headers));
    let value = line.split_once(':').unwrap().1.trim().to_owned();
    (value.split(';').next().unwrap().to_owned(), value)
}

#[test]
fn console_sessions_need_csrf_and_end_with_their_token() {
    let dir = temp_dir("admin-console-session");
    let tokens = dir.join("admin-tokens.toml");
    let ops = token(&tokens, "ops", "operator", &[]);
    let short = token(&tokens, "short", "viewer", &["--expires", "1h"]);
    let (child, _hooks, api) = serve_admin(&dir);
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";

    // Sign-in: a bad token gets the page again with 401; a good one a cookie and a redirect.
    assert_eq!(raw(api, "POST", "/login", form, "token=hgat_nope").status, 401);
    let signed = raw(api, "POST", "/login", form, format!("token={ops}"));
    assert_eq!(signed.status, 303, "{}", signed.headers);
    let (cookie, attributes) = session_cookie(&signed);
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(attributes.contains(attr), "{attributes}");
    }
    assert!(!attributes.contains("Secure"), "plain HTTP on loopback: {attributes}");
    let (_, short_attributes) = session_cookie(&raw(api, "POST", "/login", form, format!("token={short}")));
    let max_age: i64 = short_attributes.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&max_age), "a session ends with its token: {short_attributes}");
    // From another site, refused.
    let cross = format!("{form}Sec-Fetch-Site: cross-site\r\n");
    assert_eq!(raw(api, "POST", "/login", &cross, format!("token={ops}")).status, 403);

    // The page carries the session's CSRF token; the API takes the cookie, and with it a change
    // needs the token.
    let with_cookie = format!("Cookie: {cookie}\r\n");
    let page = raw(api, "GET", "/", &with_cookie, "");
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let csrf = html.split("name=\"hookgate-csrf\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(html.contains("ops (operator)"), "{html}");
    assert!(page.headers.to_ascii_lowercase().contains("x-frame-options: deny"), "{}", page.headers);
    assert_eq!(raw(api, "GET", "/api/v1/events", &with_cookie, "").status, 200);
    let json = "Content-Type: application/json\r\n";
    let dry = r#"{"filter":{},"dry_run":true}"#;
    let no_csrf = raw(api, "POST", "/api/v1/replays", &format!("{with_cookie}{json}"), dry);
    assert_eq!((no_csrf.status, no_csrf.json()["error"]["code"].clone()), (403, "csrf".into()));
    let wrong = raw(api, "POST", "/api/v1/replays", &format!("{with_cookie}{json}X-CSRF-Token: nope\r\n"), dry);
    assert_eq!(wrong.status, 403);
    let ok = raw(api, "POST", "/api/v1/replays", &format!("{with_cookie}{json}X-CSRF-Token: {csrf}\r\n"), dry);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));

    // Sign-out needs the token too, and ends the session.
    assert_eq!(raw(api, "POST", "/logout", &format!("{with_cookie}{form}"), "csrf=nope").status, 403);
    let out = raw(api, "POST", "/logout", &format!("{with_cookie}{form}"), format!("csrf={csrf}"));
    assert_eq!(out.status, 303);
    assert!(session_cookie(&out).1.contains("Max-Age=0"));
    assert_eq!(raw(api, "GET", "/api/v1/events", &with_cookie, "").status, 401);

    // Revoking a token ends its sessions at the reload.
    let (again, _) = session_cookie(&raw(api, "POST", "/login", form, format!("token={ops}")));
    let again = format!("Cookie: {again}\r\n");
    assert_eq!(raw(api, "GET", "/api/v1/events", &again, "").status, 200);
    assert!(cli(&["admin", "token", "revoke", "ops", "--tokens-file", tokens.to_str().unwrap()]).status.success());
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    wait_for("the reload", 10, || raw(api, "GET", "/api/v1/events", &again, "").status == 401);
    let login_page = String::from_utf8_lossy(&raw(api, "GET", "/", &again, "").body).into_owned();
    assert!(login_page.contains("Operator token"), "signed out: {login_page}");
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}
