//! Start-up validation: a bad configuration never serves.

use hookgate_server::Config;

use crate::support::temp_dir;

fn check(name: &str, text: &str) -> Result<(), String> {
    let dir = temp_dir(name);
    std::fs::write(dir.join("s.secret"), "secret").unwrap();
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
        .replace("{ env = \"FLINKS_HMAC_SECRET\" }", "{ file = \"s.secret\" }")
        .replace("{ env = \"FIN_WEBHOOK_SECRET\" }", "{ file = \"s.secret\" }");
    check("example", &text).unwrap();
}

#[test]
fn a_minimal_config_is_valid() {
    check("ok", SOURCE).unwrap();
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
    ];
    for (what, text, expected) in cases {
        let err = check("bad", &text).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains("secret\n") && !err.contains("hunter2"), "{what}: {err}");
    }
}
