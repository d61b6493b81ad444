//! Command targets: the body on stdin, metadata in the environment, timeouts that kill the group.

#[allow(unused_imports)]
use super::*;

pub(super) fn command_config(script: &str, out_dir: &std::path::Path, extra: &str) -> String {
    let cmd = serde_json::to_string(&["sh", "-c", script, out_dir.to_str().unwrap()]).unwrap();
    config_text(
        "",
        &format!(
            "\n[[source]]\nname = \"cmd\"\npath = \"/webhooks/cmd\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\ndefault_targets = [\"run\"]\n\n[[target]]\nname = \"run\"\ntype = \"command\"\ncommand = {cmd}\ntimeout_secs = 1\n{extra}\n"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_target_gets_the_body_on_stdin_and_metadata_in_its_environment() {
    let out = temp_dir("cmd-out");
    // `sh` is the program the operator chose; Hookgate itself runs no shell.
    let script = r#"cat > "$0/$HOOKGATE_EVENT_ID.body"; env | grep -E '^(HOOKGATE_|FLINKS|PATH=)' | sort > "$0/$HOOKGATE_EVENT_ID.env"; echo handled"#;
    let mut gw = TestGateway::start("cmd", &command_config(script, &out, "")).await;
    let body = b"{\"ResponseType\":\"KYC\",\"raw\":\"\xc3\xbf \\u00ff\"}  ";
    let r = gw.post("/webhooks/cmd", flinks_headers(body), body.to_vec()).await;
    assert_eq!(r.status, 200);
    let id = gw.events()[0].id;
    wait_for("the command ran", || {
        out.join(format!("{id}.env")).exists() && std::fs::metadata(out.join(format!("{id}.env"))).unwrap().len() > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(std::fs::read(out.join(format!("{id}.body"))).unwrap(), body);
    let env = std::fs::read_to_string(out.join(format!("{id}.env"))).unwrap();
    assert!(
        env.contains(&format!("HOOKGATE_EVENT_ID={id}\n"))
            && env.contains("HOOKGATE_SOURCE=cmd\n")
            && env.contains("HOOKGATE_EVENT_TYPE=KYC\n"),
        "{env}"
    );
    assert!(!env.contains("FLINKS"), "Hookgate's own environment is not passed on: {env}");
    let db = gw.db();
    wait_for("delivered", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 1
    })
    .await;
    let d = Reader::open_existing(&db).unwrap().list_deliveries(None, None, 10).unwrap();
    let rec = Reader::open_existing(&db).unwrap().get_delivery(d[0].id).unwrap().unwrap();
    assert_eq!(rec.attempts_history[0].status_code, Some(0));
    assert_eq!(rec.attempts_history[0].response_excerpt.as_deref(), Some("handled\n"));
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_hanging_command_is_retried_then_dead() {
    let out = temp_dir("cmd-fail");
    let retry = "[target.retry]\nmax_attempts = 2\ninitial_delay_ms = 20\nmax_delay_ms = 20\n";
    let script = r#"echo "bad input" >&2; if [ "$HOOKGATE_SOURCE" = cmd ] && grep -q hang; then sleep 30; fi; exit 3"#;
    let mut gw = TestGateway::start("cmd-fail", &command_config(script, &out, retry)).await;
    let body = b"{\"a\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&body), body).await.status, 200);
    let hang = b"{\"hang\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&hang), hang).await.status, 200);
    let db = gw.db();
    wait_for("2 dead", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 2
    })
    .await;
    let reader = Reader::open_existing(&db).unwrap();
    let mut errors = Vec::new();
    for d in reader.list_deliveries(Some("dead"), None, 10).unwrap() {
        let rec = reader.get_delivery(d.id).unwrap().unwrap();
        assert_eq!(rec.attempts_history.len(), 2);
        errors.push((rec.attempts_history[0].status_code, rec.attempts_history[0].error.clone().unwrap_or_default()));
    }
    errors.sort();
    assert_eq!(errors[0], (None, "timed out after 1 s; killed".to_owned()), "{errors:?}");
    assert_eq!(errors[1], (Some(3), "exit code 3".to_owned()), "{errors:?}");
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}

/// Whether a process is gone (or a zombie waiting for its new parent to reap it).
pub(super) fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X'))
    })
}

/// A timed-out command is killed with everything it started: its process group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_command_is_killed_with_its_children() {
    let out = temp_dir("cmd-group");
    let script = r#"sleep 30 & echo $! > "$0/child.pid"; sleep 30"#;
    let retry = "[target.retry]\nmax_attempts = 1\n";
    let mut gw = TestGateway::start("cmd-group", &command_config(script, &out, retry)).await;
    let body = b"{\"a\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&body), body).await.status, 200);
    let db = gw.db();
    wait_for("the attempt to time out", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 1
    })
    .await;
    let pid: u32 = std::fs::read_to_string(out.join("child.pid")).unwrap().trim().parse().unwrap();
    wait_for("the command's own child to be killed too", || gone(pid)).await;
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}
