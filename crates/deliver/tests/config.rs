//! `[[target]]` tables: the flat keys load as their kind, a key of another kind is refused naming
//! both kinds, and a built target reads its secret through `Resolve`.

use std::path::{Path, PathBuf};

use hookgate_deliver::{KindConfig, Resolve, Target, TargetConfig};
use hookgate_verify::{Secret, SecretEncoding, SecretRef};

#[derive(serde::Deserialize)]
struct File {
    target: Vec<TargetConfig>,
}

fn parse(text: &str) -> Result<TargetConfig, String> {
    toml::from_str::<File>(text).map(|mut f| f.target.remove(0)).map_err(|e| e.message().to_owned())
}

struct Env;
impl Resolve for Env {
    fn path(&self, p: &Path) -> PathBuf {
        p.to_owned()
    }
    fn text(&self, _: &SecretRef) -> Result<zeroize::Zeroizing<String>, String> {
        Ok(zeroize::Zeroizing::new("token".into()))
    }
    fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String> {
        assert_eq!(r.env.as_deref(), Some("SVC_SECRET"));
        Secret::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", encoding).map_err(|e| e.to_string())
    }
}

#[test]
fn each_kind_loads_from_its_flat_keys() {
    let http = parse(
        "[[target]]\nname = \"kyc\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/in\"\nsecret = { env = \"SVC_SECRET\" }\n\
         forward_headers = [\"X-Flinks-Signature\"]\ntimeout_secs = 3\n[target.retry]\nmax_attempts = 2\n",
    )
    .unwrap();
    assert_eq!((http.name.as_str(), http.timeout_secs, http.concurrency, http.retry.max_attempts), ("kyc", 3, 8, 2));
    let KindConfig::Http(h) = &http.kind else { panic!("{http:?}") };
    assert_eq!(h.forward_headers, ["X-Flinks-Signature"]);
    let built = Target::build(&http, &Env).unwrap();
    assert_eq!((built.name(), built.type_name(), built.policy().max_attempts), ("kyc", "http", 2));

    let cmd = parse("[[target]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"cat\"]\nordered = true\n").unwrap();
    assert_eq!(cmd.kind.type_name(), "command");
    assert!(cmd.ordered);
    if cfg!(feature = "nats") {
        let nats =
            parse("[[target]]\nname = \"n\"\ntype = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\nsubject = \"s\"\n");
        assert_eq!(nats.unwrap().kind.type_name(), "nats");
    }
}

#[test]
fn a_key_of_another_kind_is_refused_naming_the_kinds() {
    let err =
        parse("[[target]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"cat\"]\nurl = \"http://x/\"\n").unwrap_err();
    assert!(err.starts_with("unknown field `url`"), "{err}");
    assert!(err.contains("for a `command` target; `url` is for http and nats targets"), "{err}");
    assert!(err.ends_with("(at `url`)"), "the key is named for the position: {err}");
    let err = parse("[[target]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"cat\"]\nbogus = 1\n").unwrap_err();
    assert!(
        err.contains("unknown field `bogus`")
            && err.contains("(for a `command` target; common keys: `name`, `type`, `timeout_secs`"),
        "{err}"
    );
    let err = parse("[[target]]\nname = \"s\"\ntype = \"smtp\"\n").unwrap_err();
    assert!(err.starts_with("unknown type `smtp` (http, command, nats)"), "{err}");
    let err = parse("[[target]]\nname = \"h\"\ntype = \"http\"\nsecret = { env = \"S\" }\n").unwrap_err();
    assert!(err.contains("missing field `url`"), "{err}");
    let err = parse("[[target]]\ntype = \"http\"\nurl = \"http://x/\"\nsecret = { env = \"S\" }\n").unwrap_err();
    assert!(err.contains("missing field `name`"), "{err}");
}

#[test]
fn a_target_refuses_what_it_cannot_use() {
    let build = |extra: &str| {
        let t = parse(&format!("[[target]]\nname = \"t\"\n{extra}")).unwrap();
        Target::build(&t, &Env).map(|_| ())
    };
    let http = "type = \"http\"\nsecret = { env = \"SVC_SECRET\" }\n";
    assert!(build(&format!("{http}url = \"ftp://x/\"\n")).unwrap_err().contains("not http or https"));
    assert!(build(&format!("{http}url = \"http://x/\"\nconcurrency = 0\n")).unwrap_err().contains("positive"));
    assert!(build("type = \"command\"\ncommand = []\n").unwrap_err().contains("at least the program"));
    let nats = "type = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\n";
    assert!(build(&format!("{nats}subject = \"a.*\"\n")).unwrap_err().contains("plain subject"));
    assert!(
        build(&format!("{nats}subject = \"a\"\ntoken = {{ env = \"T\" }}\nuser = \"u\"\n"))
            .unwrap_err()
            .contains("either")
    );
}
