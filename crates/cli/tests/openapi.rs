//! The operator API checked against its own OpenAPI document by schemathesis, over real HTTP
//! against `hookgate serve` with stored events, rejections and deliveries: no 5xx, every
//! status code, content type and body as documented.

mod common;

use std::process::Command;

use common::*;

#[test]
fn schemathesis_finds_the_operator_api_as_its_openapi_document_says() {
    let st = std::env::var("HOOKGATE_SCHEMATHESIS")
        .expect("HOOKGATE_SCHEMATHESIS names the schemathesis binary (scripts/test.sh installs it)");
    let dir = temp_dir("openapi");
    let secret = "openapi-secret";
    std::fs::write(dir.join("flinks.secret"), secret).unwrap();
    let tokens = dir.join("admin-tokens.toml");
    let out = cli(&[
        "admin",
        "token",
        "create",
        "--tokens-file",
        tokens.to_str().unwrap(),
        "--name",
        "st",
        "--role",
        "admin",
    ]);
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\ntokens_file = \"admin-tokens.toml\"\n\n\
         [[source]]\nname = \"flinks\"\npath = \"/webhooks/flinks\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n\
         keep_rejected_bodies = true\ndefault_targets = [\"audit\"]\n\n[[target]]\nname = \"audit\"\ntype = \"command\"\ncommand = [\"true\"]\n",
        dir.join("h.db").display()
    );
    std::fs::write(dir.join("hookgate.toml"), config).unwrap();
    let (child, hooks, _, log) = serve_command(Command::new(bin()), &dir.join("hookgate.toml"), false);
    let api = admin_addr(&log);
    for i in 0..5 {
        let body = format!(r#"{{"ResponseType":"KYC","Tag":"userId={i}","RequestId":"o{i}"}}"#);
        assert_eq!(post_flinks(hooks, secret, body.as_bytes()).unwrap(), 200);
    }
    assert_eq!(post_flinks(hooks, "wrong", b"{\"forged\":1}").unwrap(), 403);
    let out = Command::new(&st)
        .args([
            "run",
            &format!("http://{api}/api/openapi.json"),
            "-H",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            // An endless stream of events: schemathesis would wait on it for ever.
            "--exclude-path",
            "/api/v1/stream",
            "--max-time",
            "40",
            "--request-timeout",
            "10",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        // Its cache goes in the test's own directory, not the source tree.
        .current_dir(&dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis found failures:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("passed"), "{report}");
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}
