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

const SECRET: (&str, &str) = ("HG_TEST_SECRET", "cli-test-secret");

#[test]
fn sign_then_verify_every_preset() {
    let out = hookgate(&["schemes"], &[], b"");
    assert!(out.status.success());
    let names: Vec<String> =
        text(&out.stdout).lines().skip(1).map(|l| l.split_whitespace().next().unwrap().to_owned()).collect();
    assert!(names.len() >= 15, "{names:?}");
    let body = b"CallSid=CA1&From=%2B1555\x00\xff";
    for name in &names {
        let secret = if name == "standard-webhooks" || name == "svix" {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        } else {
            SECRET.1
        };
        let env = [(SECRET.0, secret)];
        let url = "https://hooks.example.com/in?x=1";
        let signed = hookgate(
            &["sign", "--scheme", name, "--secret-env", SECRET.0, "--url", url, "--timestamp", "1700000000"],
            &env,
            body,
        );
        assert!(signed.status.success(), "{name}: {}", text(&signed.stderr));
        let mut args = vec!["verify", "--scheme", name, "--secret-env", SECRET.0, "--url", url, "--now", "1700000001"];
        let headers = header_args(&signed);
        args.extend(headers.iter().map(String::as_str));
        let verified = hookgate(&args, &env, body);
        assert_eq!(text(&verified.stdout), "valid\n", "{name}: {}", text(&verified.stderr));
        assert_eq!(verified.status.code(), Some(0));
        let tampered = hookgate(&args, &env, b"CallSid=CA2&From=%2B1555\x00\xff");
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
