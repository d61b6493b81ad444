//! The `hookgate sign` / `verify` / `schemes` contract, run as a user would run the binary.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn hookgate(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error exits before reading stdin; the broken pipe is then expected.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Turns `sign`'s output lines into `-H` arguments for `verify`.
fn header_args(signed: &Output) -> Vec<String> {
    text(&signed.stdout).lines().flat_map(|l| ["-H".to_owned(), l.to_owned()]).collect()
}

/// Valid as UTF-8 text and as base64, so one secret suits every HMAC preset (Airtable and
/// Microsoft Teams base64-decode theirs).
const SECRET: (&str, &str) = ("HG_TEST_SECRET", "clitestsecretZq8");

/// RFC 8032 §7.1 TEST 1's key pair: seed ‖ public key (the provider's private key, as libsodium
/// writes it) and the public key, in hex (Discord) and base64 (Telnyx).
const ED25519_PRIVATE_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const ED25519_PUBLIC_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const ED25519_PRIVATE_B64: &str =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";
const ED25519_PUBLIC_B64: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

/// A P-256 key pair made with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`:
/// the PKCS#8 private key (`openssl pkcs8 -topk8 -nocrypt -outform DER`) and the
/// SubjectPublicKeyInfo SendGrid's dashboard shows (`MFkw…`), both base64 DER.
const P256_PKCS8_B64: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYXABLM+mIqIqsF5JrruiWr+7P55KUROw5roNCeqOW0ihRANCAARgMtNHfhQ97LFiDRwB+xgR9ueN1xODpzfBz1onIir/E0o2qHo3GgZuZHH5eoL0ZraBQBazCgXx6XDy9NuvmGVY";
/// A P-256 JWK made with Python's `cryptography` from a fixed scalar: with `d` it plays Plaid,
/// without it is what `/webhook_verification_key/get` returns.
const PLAID_PRIVATE_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"cli-test","x":"5IgT5lYhm0CQwoKgIPQOB7Th79YKPdF0kqFmfFdY7ls","y":"dg-bmxyEC09PY6tAQ8BTfKKbNRLDLlDlb15OjULQ0x4","d":"K34VFiiu0qar9xWICc9PPHYucWDzi02lanhNkEUZDP4"}"#;
const PLAID_PUBLIC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"cli-test","x":"5IgT5lYhm0CQwoKgIPQOB7Th79YKPdF0kqFmfFdY7ls","y":"dg-bmxyEC09PY6tAQ8BTfKKbNRLDLlDlb15OjULQ0x4"}"#;
const P256_SPKI_B64: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYDLTR34UPeyxYg0cAfsYEfbnjdcTg6c3wc9aJyIq/xNKNqh6NxoGbmRx+XqC9Ga2gUAWswoF8elw8vTbr5hlWA==";

#[test]
fn sign_then_verify_every_preset() {
    let out = hookgate(&["schemes"], &[], b"");
    assert!(out.status.success());
    let names: Vec<String> =
        text(&out.stdout).lines().skip(1).map(|l| l.split_whitespace().next().unwrap().to_owned()).collect();
    assert!(names.len() >= 15, "{names:?}");
    let body = b"CallSid=CA1&From=%2B1555\x00\xff";
    let schemes = hookgate(&["schemes", "--format", "json"], &[], b"");
    let listed: serde_json::Value = serde_json::from_slice(&schemes.stdout).unwrap();
    let weak: Vec<&str> =
        listed.as_array().unwrap().iter().filter(|s| s["weak"] == true).map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(weak, ["mailgun", "gitlab", "basic-auth", "bearer-token", "api-key-header"]);
    for entry in listed.as_array().unwrap() {
        let keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "kind", "weak", "reject_status", "headers", "docs", "handshake"], "{entry}");
    }
    for name in &names {
        if name == "mailgun" {
            // Mailgun's MAC is a field of the body the sender writes: there is no header to
            // sign, and its vectors and gateway test cover it.
            continue;
        }
        // The provider signs with its key; the receiver verifies with what its dashboard shows
        // (the same secret for HMAC, the public key for Ed25519).
        let (signing_key, verifying_key) = match name.as_str() {
            "standard-webhooks" | "svix" => {
                ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            }
            "discord" => (ED25519_PRIVATE_HEX, ED25519_PUBLIC_HEX),
            "telnyx" => (ED25519_PRIVATE_B64, ED25519_PUBLIC_B64),
            "basic-auth" => ("hooks:cli-test-secret", "hooks:cli-test-secret"),
            "sendgrid" => (P256_PKCS8_B64, P256_SPKI_B64),
            "plaid" => (PLAID_PRIVATE_JWK, PLAID_PUBLIC_JWK),
            _ => (SECRET.1, SECRET.1),
        };
        let url = "https://hooks.example.com/in?x=1";
        // X's events must be JSON objects (its CRC answers HMACs of other text).
        let (body, tampered_body): (&[u8], &[u8]) = if name == "twitter" {
            (br#"{"for_user_id":"1"}"#, br#"{"for_user_id":"2"}"#)
        } else {
            (body, b"CallSid=CA2&From=%2B1555\x00\xff")
        };
        let signed = hookgate(
            &["sign", "--scheme", name, "--secret-env", SECRET.0, "--url", url, "--timestamp", "1700000000"],
            &[(SECRET.0, signing_key)],
            body,
        );
        assert!(signed.status.success(), "{name}: {}", text(&signed.stderr));
        let env = [(SECRET.0, verifying_key)];
        let mut args = vec!["verify", "--scheme", name, "--secret-env", SECRET.0, "--url", url, "--now", "1700000001"];
        let headers = header_args(&signed);
        args.extend(headers.iter().map(String::as_str));
        let verified = hookgate(&args, &env, body);
        assert_eq!(text(&verified.stdout), "valid\n", "{name}: {}", text(&verified.stderr));
        assert_eq!(verified.status.code(), Some(0));
        let tampered = hookgate(&args, &env, tampered_body);
        if weak.contains(&name.as_str()) {
            // A credential covers no byte of the request: that is what makes these schemes weak.
            assert_eq!(tampered.status.code(), Some(0), "{name}");
            continue;
        }
        assert_eq!(tampered.status.code(), Some(1), "{name}");
        assert!(
            text(&tampered.stderr).contains("signature mismatch") || text(&tampered.stderr).contains("body digest"),
            "{name}: {}",
            text(&tampered.stderr)
        );
        assert!(tampered.stdout.is_empty());
    }
}

#[test]
fn public_keys_verify_and_only_private_keys_sign() {
    let body = br#"{"type":2,"id":"1180000000000000000","data":{"name":"ping"}}"#;
    // A public key cannot play the provider: a clear error, exit 2.
    let out = hookgate(&["sign", "--scheme", "discord", "--secret-env", "K"], &[("K", ED25519_PUBLIC_HEX)], body);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("a public key only verifies"), "{}", text(&out.stderr));
    // An OpenSSL PEM private key (PKCS#8) signs; the PEM public key verifies, as does the hex one.
    let dir = std::env::temp_dir().join(format!("hookgate-cli-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("key.pem");
    std::fs::write(
        &private,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let public = dir.join("key.pub.pem");
    std::fs::write(
        &public,
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let signed = hookgate(
        &["sign", "--scheme", "discord", "--secret-file", private.to_str().unwrap(), "--timestamp", "1700000000"],
        &[],
        body,
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    // Deterministic: the same signature as the independent vector (tests/vectors.toml, discord).
    assert!(text(&signed.stdout).contains("f986942453c614c18f8c5db5dcb8e9c033f648299f28f21d6139b26b380e5b0d3588145aeb9f77657a2e52bab7ba73eb061e16938e76db7d3099616eed20f809"), "{}", text(&signed.stdout));
    for key in [vec!["--secret-file", public.to_str().unwrap()], vec!["--secret-env", "K"]] {
        let mut args = vec!["verify", "--scheme", "discord", "--now", "1700000003"];
        args.extend(key);
        let headers = header_args(&signed);
        args.extend(headers.iter().map(String::as_str));
        let out = hookgate(&args, &[("K", ED25519_PUBLIC_HEX)], body);
        assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "valid\n".into()), "{}", text(&out.stderr));
    }
    // A key that is neither (31 bytes) is refused when it is read, without quoting it.
    let out =
        hookgate(&["verify", "--scheme", "discord", "--secret-env", "K"], &[("K", &ED25519_PUBLIC_HEX[2..])], body);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains(&ED25519_PUBLIC_HEX[2..]), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_reports_why_on_stderr_with_exit_1() {
    let env = [SECRET];
    let out = hookgate(&["verify", "--scheme", "flinks", "--secret-env", SECRET.0], &env, b"{}");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "invalid: missing header `X-Flinks-Signature`\n");
    let out = hookgate(
        &[
            "verify",
            "--scheme",
            "fin",
            "--secret-env",
            SECRET.0,
            "-H",
            "x-fin-signature: 00",
            "-H",
            "x-fin-signature-algorithm: md5",
        ],
        &env,
        b"{}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "invalid: unsupported signature algorithm\n");
}

#[test]
fn verify_uses_now_and_the_tolerance() {
    let env = [SECRET];
    let signed =
        hookgate(&["sign", "--scheme", "slack", "--secret-env", SECRET.0, "--timestamp", "1700000000"], &env, b"a=b");
    let headers = header_args(&signed);
    let run = |now: &str| {
        let mut args = vec!["verify", "--scheme", "slack", "--secret-env", SECRET.0, "--now", now];
        args.extend(headers.iter().map(String::as_str));
        hookgate(&args, &env, b"a=b")
    };
    assert_eq!(run("1700000300").status.code(), Some(0));
    let late = run("1700000301");
    assert_eq!(late.status.code(), Some(1));
    assert_eq!(text(&late.stderr), "invalid: timestamp outside tolerance: too old\n");
    // Without --now the current time is used, and 2023 is long past.
    let mut args = vec!["verify", "--scheme", "slack", "--secret-env", SECRET.0];
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &env, b"a=b").status.code(), Some(1));
}

#[test]
fn repeated_secret_flags_give_rotation() {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old.secret");
    std::fs::write(&file, "old-secret\n").unwrap();
    let signed = hookgate(&["sign", "--scheme", "github", "--secret-file", file.to_str().unwrap()], &[], b"{}");
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let mut args =
        vec!["verify", "--scheme", "github", "--secret-env", SECRET.0, "--secret-file", file.to_str().unwrap()];
    let headers = header_args(&signed);
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &[SECRET], b"{}").status.code(), Some(0));
    // With only the new secret it fails.
    let mut args = vec!["verify", "--scheme", "github", "--secret-env", SECRET.0];
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &[SECRET], b"{}").status.code(), Some(1));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case<'_>> = vec![
        (vec!["verify", "--scheme", "flinks"], vec![]),
        (vec!["verify", "--scheme", "nope", "--secret-env", SECRET.0], vec![SECRET]),
        (vec!["verify", "--scheme", "flinks", "--secret-env", "HG_UNSET_VAR"], vec![]),
        (vec!["verify", "--scheme", "flinks", "--secret", "plain-text"], vec![]),
        (vec!["sign", "--scheme", "flinks", "--secret-file", "/nonexistent/secret"], vec![]),
        (vec!["verify", "--scheme", "square", "--secret-env", SECRET.0], vec![SECRET]),
        (vec!["verify", "--scheme", "flinks", "--secret-env", SECRET.0, "-H", "no colon"], vec![SECRET]),
        (vec!["sign", "--scheme", "fin", "--secret-env", SECRET.0, "--algorithm", "md5"], vec![SECRET]),
        (vec!["sign", "--scheme", "fin", "--secret-env", SECRET.0, "--algorithm", "sha1"], vec![SECRET]),
    ];
    for (args, env) in cases {
        let out = hookgate(&args, &env, b"{}");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains(SECRET.1));
    }
}

#[test]
fn fin_algorithm_flags() {
    let env = [SECRET];
    let signed = hookgate(&["sign", "--scheme", "fin", "--secret-env", SECRET.0, "--algorithm", "sha512"], &env, b"{}");
    let out = text(&signed.stdout);
    assert!(out.contains("x-fin-signature-algorithm: sha512"), "{out}");
    let headers = header_args(&signed);
    let mut args = vec!["verify", "--scheme", "fin", "--secret-env", SECRET.0];
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &env, b"{}").status.code(), Some(0));
    // Narrow the allow-list: sha512 is now refused.
    args.extend(["--algorithms", "sha256"]);
    assert_eq!(hookgate(&args, &env, b"{}").status.code(), Some(1));
}

#[test]
fn custom_scheme_from_toml() {
    let dir = std::env::temp_dir().join(format!("hookgate-scheme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acme.toml");
    std::fs::write(
        &path,
        r#"
name = "acme"
content = [{ header = "X-Acme-Id" }, { literal = ":" }, "timestamp", { literal = ":" }, "body"]
algorithm = "sha512"
id_header = "X-Acme-Id"
rejection = { status = 403, body = "nope" }

[[signature]]
name = "X-Acme-Signature"
encoding = "base64url"
prefix = "v2="

[timestamp]
header = "X-Acme-Time"
format = "rfc3339"
tolerance_secs = 60
window = "past_only"
"#,
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let env = [SECRET];
    let signed = hookgate(
        &["sign", "--scheme-file", p, "--secret-env", SECRET.0, "--id", "42", "--timestamp", "1700000000"],
        &env,
        b"payload",
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let out = text(&signed.stdout);
    assert!(out.contains("X-Acme-Id: 42\nX-Acme-Time: 2023-11-14T22:13:20Z\nX-Acme-Signature: v2="), "{out}");
    let headers = header_args(&signed);
    let mut args = vec!["verify", "--scheme-file", p, "--secret-env", SECRET.0, "--now", "1700000060"];
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &env, b"payload").status.code(), Some(0));
    args[6] = "1700000061";
    assert_eq!(hookgate(&args, &env, b"payload").status.code(), Some(1));

    // A scheme with an unknown field, or an inconsistent one, is a configuration error.
    std::fs::write(
        &path,
        "name = \"x\"\ncontent = [\"body\"]\nbogus = 1\n[[signature]]\nname = \"X-S\"\nencoding = \"hex\"\n",
    )
    .unwrap();
    let out = hookgate(&["verify", "--scheme-file", p, "--secret-env", SECRET.0], &env, b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bogus"), "{}", text(&out.stderr));
    std::fs::write(
        &path,
        "name = \"x\"\ncontent = [\"timestamp\"]\n[[signature]]\nname = \"X-S\"\nencoding = \"hex\"\n",
    )
    .unwrap();
    let out = hookgate(&["verify", "--scheme-file", p, "--secret-env", SECRET.0], &env, b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn schemes_show_prints_a_loadable_scheme_file() {
    let out = hookgate(&["schemes", "--show", "stripe"], &[], b"");
    assert!(out.status.success());
    let path = std::env::temp_dir().join(format!("hookgate-stripe-{}.toml", std::process::id()));
    std::fs::write(&path, &out.stdout).unwrap();
    let env = [SECRET];
    let signed = hookgate(&["sign", "--scheme", "stripe", "--secret-env", SECRET.0], &env, b"{}");
    let headers = header_args(&signed);
    let mut args = vec!["verify", "--scheme-file", path.to_str().unwrap(), "--secret-env", SECRET.0];
    args.extend(headers.iter().map(String::as_str));
    assert_eq!(hookgate(&args, &env, b"{}").status.code(), Some(0), "{}", text(&out.stdout));
    std::fs::remove_file(path).unwrap();
}

/// The README's scheme table is what `hookgate schemes --format markdown` prints: one source.
#[test]
fn the_readme_scheme_table_is_the_presets_table() {
    let out = hookgate(&["schemes", "--format", "markdown"], &[], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&text(&out.stdout)),
        "README's table differs; paste the output of `hookgate schemes --format markdown`:\n{}",
        text(&out.stdout)
    );
}

/// The README's quick start, run as written with the built `hookgate` first on PATH.
#[test]
fn the_readme_quick_start_runs_as_written() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("## Quick start").expect("a Quick start section")..];
    let start = section.find("```sh\n").unwrap() + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_hookgate")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash").arg("-c").arg(block).env("PATH", path).output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // Each command's output is the comment the README puts under it.
    assert!(stdout.contains("X-Flinks-Signature: "), "{stdout}{stderr}");
    assert!(stdout.lines().any(|l| l == "valid"), "{stdout}{stderr}");
    assert!(stderr.contains("invalid: signature mismatch"), "{stdout}{stderr}");
}

/// `verify --explain --format json` for a request signed the wrong way: the exit code, the
/// rejection code and the one cause, as the issue's contract writes them.
fn explain(args: &[&str], env: &[(&str, &str)], body: &[u8]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["verify", "--explain", "--format", "json"];
    all.extend_from_slice(args);
    let out = hookgate(&all, env, body);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", text(&out.stdout), text(&out.stderr)));
    (out.status.code(), json)
}

fn signed_headers(args: &[&str], env: &[(&str, &str)], body: &[u8]) -> Vec<String> {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    let out = hookgate(&all, env, body);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

fn with_headers<'a>(mut args: Vec<&'a str>, headers: &'a [String]) -> Vec<&'a str> {
    for h in headers {
        args.extend(["-H", h.as_str()]);
    }
    args
}

fn only_cause(json: &serde_json::Value, reason: &str, cause: &str, detail: &str) {
    assert_eq!(json["valid"], false, "{json}");
    assert_eq!(json["reason"], reason, "{json}");
    let d = json["diagnosis"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{json}");
    assert_eq!(d[0]["cause"], cause, "{json}");
    assert!(d[0]["detail"].as_str().unwrap().contains(detail), "{json}");
}

#[test]
fn verify_explain_names_each_cause() {
    let body = br#"{"ResponseType":"KYC","Tag":"userId=12345"}"#;
    let pretty = b"{\n  \"ResponseType\": \"KYC\",\n  \"Tag\": \"userId=12345\"\n}";
    let env = [SECRET, ("HG_OLD", "old-secret"), ("HG_NL", "Y2xpdGVzdHNlY3JldFpxOAo="), ("HG_B64", "c2VjcmV0LWJ5dGVz")];
    let flinks = ["--scheme", "flinks", "--secret-env", SECRET.0];

    // body-reserialized: the sender signed a pretty-printed body and sent it compact.
    let h = signed_headers(&flinks, &env, pretty);
    let (code, json) = explain(&with_headers(flinks.to_vec(), &h), &env, body);
    assert_eq!(code, Some(1));
    only_cause(&json, "signature_mismatch", "body-reserialized", "2-space indent");

    // secret-retired.
    let h = signed_headers(&["--scheme", "flinks", "--secret-env", "HG_OLD"], &env, body);
    let args = with_headers([&flinks[..], &["--retired-secret-env", "HG_OLD"]].concat(), &h);
    let (_, json) = explain(&args, &env, body);
    only_cause(&json, "signature_mismatch", "secret-retired", "`HG_OLD`");

    // secret-whitespace: the sender's key is the secret with a newline (base64 of it, decoded).
    let h = signed_headers(&["--scheme", "flinks", "--secret-env", "HG_NL", "--secret-encoding", "base64"], &env, body);
    let (_, json) = explain(&with_headers(flinks.to_vec(), &h), &env, body);
    only_cause(&json, "signature_mismatch", "secret-whitespace", "trailing newline");

    // secret-encoding: configured as UTF-8 text, the sender base64-decodes it.
    let h =
        signed_headers(&["--scheme", "flinks", "--secret-env", "HG_B64", "--secret-encoding", "base64"], &env, body);
    let args = with_headers(vec!["--scheme", "flinks", "--secret-env", "HG_B64"], &h);
    let (_, json) = explain(&args, &env, body);
    only_cause(&json, "signature_mismatch", "secret-encoding", "base64-decoded");

    // signature-encoding: Flinks Pay without its `sha256=` prefix.
    let pay = ["--scheme", "flinks-pay", "--secret-env", SECRET.0];
    let h: Vec<String> = signed_headers(&pay, &env, body).iter().map(|l| l.replace("sha256=", "")).collect();
    let (_, json) = explain(&with_headers(pay.to_vec(), &h), &env, body);
    only_cause(&json, "malformed_signature", "signature-encoding", "without the `sha256=` prefix");

    // algorithm-mismatch: Fin signs SHA-512 but the header announces sha256.
    let fin = ["--scheme", "fin", "--secret-env", SECRET.0];
    let h: Vec<String> = signed_headers(&[&fin[..], &["--algorithm", "sha512"]].concat(), &env, body)
        .iter()
        .map(|l| l.replace(": sha512", ": sha256"))
        .collect();
    let (_, json) = explain(&with_headers(fin.to_vec(), &h), &env, body);
    only_cause(&json, "malformed_signature", "algorithm-mismatch", "HMAC-SHA512");

    // url-mismatch: Twilio signed the http:// URL, the gateway sees https://.
    let twilio = ["--scheme", "twilio", "--secret-env", SECRET.0];
    let form = b"CallSid=CA1&From=%2B15145550199";
    let h = signed_headers(&[&twilio[..], &["--url", "http://hooks.example.com/twilio"]].concat(), &env, form);
    let args = with_headers([&twilio[..], &["--url", "https://hooks.example.com/twilio"]].concat(), &h);
    let (_, json) = explain(&args, &env, form);
    only_cause(&json, "signature_mismatch", "url-mismatch", "`http://`");

    // clock-skew: a valid Stripe signature, 700 s late.
    let stripe = ["--scheme", "stripe", "--secret-env", SECRET.0];
    let h = signed_headers(&[&stripe[..], &["--timestamp", "1700000000"]].concat(), &env, body);
    let args = with_headers([&stripe[..], &["--now", "1700000700"]].concat(), &h);
    let (_, json) = explain(&args, &env, body);
    only_cause(&json, "timestamp_too_old", "clock-skew", "700 s behind");

    // header-missing: the signature under another name.
    let h: Vec<String> =
        signed_headers(&flinks, &env, body).iter().map(|l| l.replace("X-Flinks-Signature", "X-Signature")).collect();
    let (_, json) = explain(&with_headers(flinks.to_vec(), &h), &env, body);
    only_cause(&json, "missing_header", "header-missing", "the signature in `x-signature` is valid");

    // Nothing explains a forgery; a valid request is valid.
    let forged = ["X-Flinks-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()];
    let args = with_headers(flinks.to_vec(), &forged);
    let (code, json) = explain(&args, &env, body);
    assert_eq!((code, &json["diagnosis"]), (Some(1), &serde_json::json!([])), "{json}");
    let h = signed_headers(&flinks, &env, body);
    let (code, json) = explain(&with_headers(flinks.to_vec(), &h), &env, body);
    assert_eq!(code, Some(0));
    assert_eq!(json, serde_json::json!({"valid": true, "reason": null, "diagnosis": []}));

    // Without --format json: one line per cause on stdout, the rejection on stderr.
    let h = signed_headers(&flinks, &env, pretty);
    let out = hookgate(&with_headers([&["verify", "--explain"][..], &flinks[..]].concat(), &h), &env, body);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "invalid: signature mismatch\n");
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("body-reserialized: it matches the body pretty-printed"), "{lines:?}");
    // No secret in any output.
    assert!(!text(&out.stdout).contains(SECRET.1));
}

#[test]
fn verify_works_offline_for_every_kind_with_now_for_every_window() {
    // Plaid's real sandbox webhook (tests/vectors.toml): the JWT's iat is 2020, so --now sets
    // the clock the iat window is checked against.
    let jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjZjNTUxNmUxLTkyZGMtNDc5ZS1hOGZmLTVhNTE5OTJlMDAwMSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1OTA4ODcwMDEsInJlcXVlc3RfYm9keV9zaGEyNTYiOiJiNjNhMDdiNTQ3YjAwZjk5MjU0N2Y2YmJjOGQ5YWNjNjFhOGNjZWUxMzhiYzgyZjQ0YTZiYWEwOTY4M2E1ZDBmIn0.OOKvIihgqCj7Qrb2bmz7T3t7uK-0JyjiEqL2s1kWeJBM4MMmjaHKK8GmU_z91QolBWMzvPgs718EElY-rE3cwQ";
    let jwk = r#"{"alg":"ES256","crv":"P-256","kid":"6c5516e1-92dc-479e-a8ff-5a51992e0001","kty":"EC","x":"35lvC8uz2QrWpQJ3TUH8t9o9DURMp7ydU518RKDl20k","y":"I8BuXB2bvxelzJAd7OKhd-ZwjCst05Fx47Mb_0ugros"}"#;
    let body = b"{\n  \"error\": null,\n  \"item_id\": \"yxQbxDjnD8hr69pKbQpbcKeVn3GL9QuyA7NV3\",\n  \"new_transactions\": 390,\n  \"webhook_code\": \"HISTORICAL_UPDATE\",\n  \"webhook_type\": \"TRANSACTIONS\"\n}";
    let header = format!("Plaid-Verification: {jwt}");
    let at = |now: &str| {
        let args = ["verify", "--scheme", "plaid", "--secret-env", "PLAID_JWK", "--now", now, "-H", header.as_str()];
        hookgate(&args, &[("PLAID_JWK", jwk)], body)
    };
    let ok = at("1590887001");
    assert_eq!((ok.status.code(), text(&ok.stdout)), (Some(0), "valid\n".into()), "{}", text(&ok.stderr));
    let stale = at("1590887400");
    assert_eq!(stale.status.code(), Some(1));
    assert!(text(&stale.stderr).contains("too old"), "{}", text(&stale.stderr));

    // A custom scheme file of another kind than a signature: a token in a header.
    let dir = std::env::temp_dir().join(format!("hookgate-cli-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("acme.toml");
    std::fs::write(
        &file,
        "name = \"acme\"\ndocs = \"https://acme.example/hooks\"\n[token]\nheader = \"X-Acme-Token\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let check = |token: &str| {
        let h = format!("X-Acme-Token: {token}");
        hookgate(
            &["verify", "--scheme-file", path, "--secret-env", "ACME", "-H", h.as_str()],
            &[("ACME", "t0k3n")],
            b"{}",
        )
    };
    assert_eq!(check("t0k3n").status.code(), Some(0));
    assert_eq!(check("t0k3m").status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
