//! Start-up validation: a bad configuration never serves.

use hookgate_server::Config;

use crate::support::temp_dir;

fn check(name: &str, text: &str) -> Result<(), String> {
    let dir = temp_dir(name);
    std::fs::write(dir.join("s.secret"), "secret").unwrap();
    // A target's signing secret (Standard Webhooks).
    std::fs::write(dir.join("t.secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    std::fs::write(dir.join("c.toml"), text).unwrap();
    let result = Config::load(&dir.join("c.toml"))
        .map_err(|e| e.to_string())
        .and_then(|c| c.build().map(|_| ()).map_err(|e| e.to_string()));
    let _ = std::fs::remove_dir_all(dir);
    result
}

const SOURCE: &str =
    "[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{ file = \"s.secret\" }]\n";

#[test]
fn the_shipped_example_is_valid() {
    // Same file, with its two secrets read from files instead of the environment (the CLI test
    // runs it unchanged with the variables set).
    let text = include_str!("../../../../examples/hookgate.toml")
        .replace(
            "{ env = \"FLINKS_HMAC_SECRET\", label = \"current\" }",
            "{ file = \"s.secret\", label = \"current\" }",
        )
        .replace("{ env = \"FIN_WEBHOOK_SECRET\" }", "{ file = \"s.secret\" }");
    check("example", &text).unwrap();
}

#[test]
fn the_shipped_deployment_configs_are_valid() {
    let node = include_str!("../../../../deploy/hookgate.toml")
        .replace("{ env = \"FLINKS_HMAC_SECRET\" }", "{ file = \"s.secret\" }")
        .replace("{ env = \"FIN_WEBHOOK_SECRET\" }", "{ file = \"s.secret\" }")
        .replace("{ env = \"KYC_SVC_SECRET\" }", "{ file = \"t.secret\" }");
    assert!(node.contains("postgres://"));
    check("deploy", &node).unwrap();
    let compose = include_str!("../../../../deploy/compose/hookgate.toml")
        .replace("/run/secrets/flinks_secret", "s.secret")
        .replace("/run/secrets/fin_secret", "s.secret")
        .replace("/run/secrets/kyc_secret", "t.secret")
        // `config check` reads the store's password file as start-up would (compose mounts it).
        .replace("/run/secrets/pg_password", "/dev/null");
    check("compose", &compose).unwrap();
}

#[test]
fn the_shipped_delivery_example_is_valid_and_routes_as_documented() {
    let text = include_str!("../../../../examples/hookgate-delivery.toml")
        .replace("{ env = \"FLINKS_HMAC_SECRET\" }", "{ file = \"s.secret\" }")
        .replace("{ env = \"KYC_SVC_SECRET\" }", "{ file = \"t.secret\" }")
        .replace("{ env = \"ACCOUNTS_SVC_SECRET\" }", "{ file = \"t.secret\" }")
        .replace("{ env = \"AUDIT_SECRET\" }", "{ file = \"t.secret\" }");
    let dir = temp_dir("delivery-example");
    std::fs::write(dir.join("s.secret"), "secret").unwrap();
    std::fs::write(dir.join("t.secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    std::fs::write(dir.join("c.toml"), text).unwrap();
    let built = Config::load(&dir.join("c.toml")).unwrap().build().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    let routes = &built.sources[0].routes;
    let none = |_: &str| None;
    let m = |v: serde_json::Value| routes.select(&v, &none, &|| serde_json::Value::Null);
    assert_eq!(m(serde_json::json!({"response_type": "KYC"})), ["kyc"]);
    assert_eq!(m(serde_json::json!({"response_type": "Other"})), ["catch-all"]);
    assert_eq!(m(serde_json::json!({"response_type": "KYC", "tag": {"userId": "12345"}})), ["kyc", "accounts"]);
    let body = |p: &str| (p == "/ResponseType").then(|| serde_json::json!("GetAccountsDetail"));
    assert_eq!(routes.select(&serde_json::json!({}), &body, &|| serde_json::Value::Null), ["accounts"]);
}

#[test]
fn delivery_mistakes_stop_the_start() {
    let target =
        "[[target]]\nname = \"t\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/x\"\nsecret = { file = \"w.secret\" }\n";
    let dir_check = |name: &str, text: String| {
        let dir = temp_dir(name);
        std::fs::write(dir.join("s.secret"), "secret").unwrap();
        std::fs::write(dir.join("w.secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        std::fs::write(dir.join("c.toml"), text).unwrap();
        let r = Config::load(&dir.join("c.toml"))
            .map_err(|e| e.to_string())
            .and_then(|c| c.build().map(|_| ()).map_err(|e| e.to_string()));
        let _ = std::fs::remove_dir_all(dir);
        r
    };
    dir_check("d-ok", format!("{SOURCE}default_targets = [\"t\"]\n{target}")).unwrap();
    for (what, text, expected) in [
        ("unknown target", format!("{SOURCE}default_targets = [\"nope\"]\n{target}"), "unknown target `nope`"),
        ("duplicate target", format!("{SOURCE}{target}{target}"), "duplicate target name `t`"),
        ("bad type", format!("{SOURCE}{}", target.replace("\"http\"\nurl", "\"smtp\"\nurl")), "unknown type `smtp`"),
        ("bad url", format!("{SOURCE}{}", target.replace("http://127.0.0.1:9/x", "ftp://x")), "not http or https"),
        ("bad secret", format!("{SOURCE}{}", target.replace("w.secret", "s.secret")), "not valid base64"),
    ] {
        let err = dir_check("d-bad", text).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
    }
}

#[test]
fn labels_retired_secrets_and_diagnosis_are_accepted() {
    let labelled = SOURCE.replace(
        "[{ file = \"s.secret\" }]",
        "[{ file = \"s.secret\", label = \"2026-12\" }, { file = \"t.secret\" }]\nretired_secrets = [{ file = \"s.secret\" }]",
    );
    check("labels", &format!("{labelled}[diagnosis]\nenabled = false\nper_second = 2.5\n")).unwrap();
}

#[test]
fn a_minimal_config_is_valid() {
    check("ok", SOURCE).unwrap();
}

#[test]
fn body_compression_is_on_by_default_and_can_be_turned_off() {
    let options = |text: &str| {
        let dir = temp_dir("compress");
        std::fs::write(dir.join("s.secret"), "secret").unwrap();
        std::fs::write(dir.join("c.toml"), text).unwrap();
        let built = Config::load(&dir.join("c.toml")).unwrap().build().unwrap();
        let _ = std::fs::remove_dir_all(dir);
        built.store_options
    };
    assert!(options(SOURCE).compress_bodies);
    assert!(!options(&format!("{SOURCE}[store]\ncompress_bodies = false\n")).compress_bodies);
}

#[test]
fn mistakes_stop_the_start_with_a_clear_message() {
    let cases = [
        ("unknown key", format!("{SOURCE}bogus = 1\n"), "unknown field `bogus`"),
        ("unknown server key", format!("[server]\nlisten_on = \"x\"\n{SOURCE}"), "unknown field `listen_on`"),
        ("unknown scheme", SOURCE.replace("flinks", "flonks"), "unknown scheme `flonks`"),
        (
            "missing secret env",
            SOURCE.replace("{ file = \"s.secret\" }", "{ env = \"HOOKGATE_TEST_UNSET\" }"),
            "`HOOKGATE_TEST_UNSET` is not set",
        ),
        ("missing secret file", SOURCE.replace("s.secret", "nope.secret"), "cannot read"),
        ("no secrets", SOURCE.replace("secrets = [{ file = \"s.secret\" }]", "secrets = []"), "no secrets"),
        (
            "literal secret",
            SOURCE.replace("{ file = \"s.secret\" }", "{ value = \"hunter2\" }"),
            "unknown field `value`",
        ),
        (
            "duplicate path",
            format!("{SOURCE}{}", SOURCE.replace("name = \"a\"", "name = \"b\"")),
            "duplicate path `/a`",
        ),
        (
            "duplicate name",
            format!("{SOURCE}{}", SOURCE.replace("path = \"/a\"", "path = \"/b\"")),
            "duplicate source name `a`",
        ),
        ("no sources", String::new(), "no [[source]]"),
        ("bad listen", format!("[server]\nlisten = \"nowhere\"\n{SOURCE}"), "server.listen"),
        ("bad store", format!("[server]\nstore = \"mysql://x\"\n{SOURCE}"), "server.store"),
        ("url scheme without public_url", SOURCE.replace("flinks", "square"), "public_url"),
        ("algorithms on fixed", format!("{SOURCE}algorithms = [\"sha512\"]\n"), "fixed algorithm"),
        ("sha1 without allow", SOURCE.replace("flinks", "fin") + "algorithms = [\"sha1\"]\n", "allow_sha1"),
        ("reserved path", SOURCE.replace("/a", "/metrics"), "reserved"),
        ("bad dedup", format!("{SOURCE}dedup = \"sometimes\"\n"), "unknown dedup"),
        ("reuse_port on sqlite", format!("[server]\nreuse_port = true\n{SOURCE}"), "reuse_port needs a postgres://"),
        (
            "password in the store url",
            format!("[server]\nstore = \"postgres://u:hunter2@localhost/db\"\n{SOURCE}"),
            "PGPASSWORD",
        ),
        ("bad pool size", format!("{SOURCE}[store]\npool_size = 1\n"), "pool_size"),
        (
            "a label twice",
            SOURCE.replace(
                "[{ file = \"s.secret\" }]",
                "[{ file = \"s.secret\", label = \"x\" }, { file = \"s.secret\", label = \"x\" }]",
            ),
            "label `x` is used twice",
        ),
        ("an empty label", SOURCE.replace("\"s.secret\" }", "\"s.secret\", label = \" \" }"), "label must be"),
        (
            "an unknown secret key",
            SOURCE.replace("\"s.secret\" }", "\"s.secret\", lable = \"x\" }"),
            "unknown field `lable`",
        ),
        (
            "an unreadable retired secret",
            format!("{SOURCE}retired_secrets = [{{ file = \"gone.secret\" }}]\n"),
            "retired secret 1",
        ),
        ("diagnosis rate", format!("{SOURCE}[diagnosis]\nper_second = 0\n"), "diagnosis.per_second"),
        ("diagnosis key", format!("{SOURCE}[diagnosis]\nrate = 5\n"), "unknown field `rate`"),
    ];
    for (what, text, expected) in cases {
        let err = check("bad", &text).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains("secret\n") && !err.contains("hunter2"), "{what}: {err}");
    }
}

/// A secret pasted where a reference belongs (or any value of the wrong type) is refused with the
/// line, the key and the expected shape, and the value never appears in the message: it goes to
/// terminals, logs and tickets.
#[test]
fn config_errors_never_quote_the_value() {
    let pasted = "pasted-secret-93c1";
    let target = "[[target]]\nname = \"t\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n";
    let cases = [
        ("secret in a list", SOURCE.replace("[{ file = \"s.secret\" }]", &format!("[\"{pasted}\"]")), "`secrets`"),
        ("secret as the list", SOURCE.replace("[{ file = \"s.secret\" }]", &format!("\"{pasted}\"")), "`secrets`"),
        ("target secret", format!("{SOURCE}{target}secret = \"whsec_{pasted}\"\n"), "`secret` in [[target]]"),
        ("string for a number", format!("{SOURCE}body_limit = \"{pasted}\"\n"), "`body_limit` in [[source]]"),
        ("string for a bool", format!("[server]\nmetrics = \"{pasted}\"\n{SOURCE}"), "`metrics` in [server]"),
        ("unknown variant", format!("{SOURCE}secret_encoding = \"{pasted}\"\n"), "`secret_encoding`"),
        ("bad algorithm", SOURCE.replace("flinks", "fin") + &format!("algorithms = [\"{pasted}\"]\n"), "`algorithms`"),
    ];
    for (what, text, key) in cases {
        let err = check("quote", &text).expect_err(what);
        assert!(!err.contains(pasted), "{what}: the value is quoted: {err}");
        assert!(err.contains(key), "{what}: the key is not named: {err}");
        assert!(err.contains("line "), "{what}: no position: {err}");
        assert!(!err.contains("SecretRef"), "{what}: an internal type name: {err}");
    }
    // The shape a secret reference must have is spelled out.
    let err = check("quote", &SOURCE.replace("[{ file = \"s.secret\" }]", &format!("[\"{pasted}\"]"))).unwrap_err();
    assert!(err.contains("{ env = \"VAR\" } or { file = \"PATH\" }"), "{err}");
}

#[test]
fn http_target_tls_and_credential_mistakes_stop_the_start() {
    let target =
        "[[target]]\nname = \"t\"\ntype = \"http\"\nurl = \"https://127.0.0.1:9/\"\nsecret = { file = \"t.secret\" }\n";
    let cases = [
        ("missing ca file", format!("{SOURCE}{target}ca_file = \"nope.pem\"\n"), "cannot read"),
        ("a cert without its key", format!("{SOURCE}{target}client_cert = \"t.secret\"\n"), "go together"),
        ("not PEM", format!("{SOURCE}{target}ca_file = \"t.secret\"\n"), "ca_file"),
        (
            "a literal token",
            format!("{SOURCE}{target}auth_header = {{ name = \"Authorization\", value = \"Bearer hunter2\" }}\n"),
            "{ env = \"VAR\" }",
        ),
        (
            "on a command target",
            format!(
                "{SOURCE}[[target]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"true\"]\nca_file = \"x.pem\"\n"
            ),
            "for http and nats targets",
        ),
        (
            "a broker password on an http target",
            format!("{SOURCE}{target}user = \"u\"\npassword = {{ file = \"t.secret\" }}\n"),
            "for nats targets",
        ),
        (
            "a password without its user",
            format!(
                "{SOURCE}[[target]]\nname = \"n\"\ntype = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\nsubject = \"s\"\npassword = {{ file = \"t.secret\" }}\n"
            ),
            "`user` and `password`",
        ),
    ];
    for (what, text, expected) in cases {
        let err = check("http-extras", &text).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains("hunter2"), "{what}: {err}");
    }
}

/// A route in the operator API's filter language: the body with its metadata fields, so Flinks'
/// `Tag` is matched as the object it means.
#[test]
fn a_route_with_match_routes_on_the_body_and_metadata() {
    let text = format!(
        "{SOURCE}default_targets = [\"rest\"]\n\n[[source.route]]\nmatch = {{ ResponseType = \"KYC\", Tag = {{ userId = {{ \"$in\" = [\"12345\", \"9\"] }} }} }}\ntargets = [\"vip\"]\n\n\
         [[target]]\nname = \"vip\"\ntype = \"command\"\ncommand = [\"true\"]\n\n[[target]]\nname = \"rest\"\ntype = \"command\"\ncommand = [\"true\"]\n"
    );
    let dir = temp_dir("route-match");
    std::fs::write(dir.join("s.secret"), "secret").unwrap();
    std::fs::write(dir.join("c.toml"), &text).unwrap();
    let built = Config::load(&dir.join("c.toml")).unwrap().build().unwrap();
    let source = &built.sources[0];
    let headers = hookgate_verify::http::HeaderMap::new();
    let route = |body: &str| source.route_test(&headers, body.as_bytes()).0.targets;
    assert_eq!(route(r#"{"ResponseType":"KYC","Tag":"userId=12345"}"#), ["vip"]);
    assert_eq!(route(r#"{"ResponseType":"KYC","Tag":"userId=1"}"#), ["rest"]);
    assert_eq!(route(r#"{"ResponseType":"GetAccountsDetail","Tag":"userId=9"}"#), ["rest"]);
    let bad = text.replace("\"$in\"", "\"$within\"");
    std::fs::write(dir.join("c.toml"), bad).unwrap();
    let err = Config::load(&dir.join("c.toml")).unwrap().build().unwrap_err().to_string();
    assert!(err.contains("route 1: match: Tag.userId.$within: unknown operator"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
