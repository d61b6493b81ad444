//! `hookgate schemes`: the preset table. `--format markdown` prints the README's table: both come
//! from the presets' data, and a test keeps the README equal to it.

use std::process::ExitCode;

use hookgate_verify::{
    AlgorithmSpec, Challenge, ChallengeMatch, ChallengeReply, Encoding, PRESETS, Part, Primitive, ProbeMethod,
    ProbeReply, Proof, Scheme, SecretEncoding, Signing, TimestampFormat, Window, preset,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TableFormat {
    /// Aligned columns.
    Table,
    /// The README's Markdown table, with the signature and signed content spelled out.
    Markdown,
    /// One object per scheme: `name`, `kind`, `weak`, `reject_status`, `headers`, `docs`,
    /// `handshake` (what tools read).
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the full description of one scheme as TOML (a starting point for `--scheme-file`).
    #[arg(long, value_name = "NAME")]
    show: Option<String>,
    /// Output format of the table.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.show {
        let scheme = preset(name).ok_or_else(|| anyhow::anyhow!("unknown scheme `{name}`"))?;
        crate::output::out!("{}", toml::to_string(&scheme)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let schemes: Vec<Scheme> = PRESETS.iter().filter_map(|n| preset(n)).collect();
    match args.format {
        TableFormat::Table => {
            crate::output::outln!(
                "{:<20} {:<8} {:<8} {:<10} {:<7} HEADERS",
                "SCHEME",
                "KIND",
                "REJECT",
                "ALGORITHM",
                "WINDOW"
            )?;
            for s in &schemes {
                let signing = s.signing();
                crate::output::outln!(
                    "{:<20} {:<8} {:<8} {:<10} {:<7} {}",
                    s.name,
                    kind(s),
                    s.rejection.status,
                    signing.map_or_else(|| "-".to_owned(), algorithm),
                    signing
                        .and_then(|g| g.timestamp.as_ref())
                        .map_or_else(|| "-".to_owned(), |t| format!("{}s", t.tolerance_secs)),
                    s.header_names().join(", ")
                )?;
            }
        }
        TableFormat::Markdown => {
            crate::output::outln!("| scheme | kind | reject | signature | window | headers | signed content |")?;
            crate::output::outln!("|---|---|---|---|---|---|---|")?;
            for s in &schemes {
                let (sig, win, signed) = match &s.proof {
                    Proof::Signature(g) => (signature(g), window(g), content(g)),
                    Proof::Token(t) if t.prefix.is_empty() => {
                        (format!("token in `{}`", t.header), "–".into(), "–".into())
                    }
                    Proof::Token(t) => {
                        (format!("`{}` + token in `{}`", t.prefix.trim(), t.header), "–".into(), "–".into())
                    }
                    Proof::Basic(_) => ("`Basic` + base64(`user:password`)".into(), "–".into(), "–".into()),
                    Proof::BodyHmac(b) => (
                        format!(
                            "HMAC-{} in the body at `{}`, {}",
                            b.algorithm.name().to_uppercase(),
                            b.signature,
                            encoding(b.encoding)
                        ),
                        format!("±{} s", b.tolerance_secs),
                        b.content.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" + "),
                    ),
                    Proof::Jwt(j) => (
                        format!("{} JWT in `{}`, `kid` choosing the key (a JWK or JWKS)", j.algorithm.name(), j.header),
                        format!("`iat` {} s", j.max_age_secs),
                        format!("SHA-256(body) in the `{}` claim", j.body_sha256_claim),
                    ),
                    _ => ("–".into(), "–".into(), "–".into()),
                };
                crate::output::outln!(
                    "| `{}` | {}{} | {} | {} | {} | {} | {} |",
                    s.name,
                    kind(s),
                    if s.is_weak() { " (weak)" } else { "" },
                    s.rejection.status,
                    sig,
                    win,
                    match s.header_names().as_slice() {
                        [] => "– (the body)".to_owned(),
                        names => names.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", "),
                    },
                    signed
                )?;
            }
        }
        TableFormat::Json => {
            let list: Vec<serde_json::Value> = schemes
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "name": s.name,
                        "kind": kind(s),
                        "weak": s.is_weak(),
                        "reject_status": s.rejection.status,
                        "headers": s.header_names(),
                        "docs": s.docs,
                        "handshake": handshakes(s),
                    })
                })
                .collect();
            crate::output::outln!("{}", serde_json::to_string_pretty(&list)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The kind `hookgate schemes --format json` names: the primitive of a signature scheme's first
/// header (Standard Webhooks' `v1a` Ed25519 entry shows in its signature column).
fn kind(s: &Scheme) -> &'static str {
    s.proof.kind()
}

/// Every request the gateway answers itself for the scheme (signed handshakes and unsigned
/// probes), `null` when there is none.
fn handshakes(s: &Scheme) -> Option<String> {
    let mut all: Vec<String> = s.challenge.iter().map(handshake).collect();
    for p in &s.probes {
        all.push(match (p.method, &p.form_field, &p.query_param, &p.reply) {
            (ProbeMethod::Head, ..) => "unsigned HEAD: 200".to_owned(),
            (ProbeMethod::Post, Some(f), ..) => format!("unsigned POST `{f}=<digits>`: 200"),
            (_, _, Some(q), ProbeReply::HmacJson { field, .. }) => {
                format!("unsigned GET `?{q}=`: HMAC of the token in `{field}`")
            }
            (_, _, Some(q), _) => format!("unsigned GET `?{q}=`: 200"),
            _ => "unsigned check: 200".to_owned(),
        });
    }
    (!all.is_empty()).then(|| all.join("; "))
}

/// What the gateway answers itself, and when.
fn handshake(c: &Challenge) -> String {
    let when = match &c.when {
        ChallengeMatch::Header { name, value } => format!("`{name}: {value}`"),
        ChallengeMatch::Json { pointer, value, absent: None } => format!("`{pointer}` = {value}"),
        ChallengeMatch::Json { pointer, value, absent: Some(a) } => format!("`{pointer}` = {value} without `{a}`"),
    };
    let reply = match &c.reply {
        ChallengeReply::Echo { pointer } => format!("echo `{pointer}`"),
        ChallengeReply::HmacToken { pointer } => format!("HMAC of `{pointer}`"),
        ChallengeReply::Json { body } => format!("`{body}`"),
    };
    format!("when {when}: {reply}")
}

fn algorithm(s: &Signing) -> String {
    match (&s.algorithm, s.signature.first().map(|h| h.primitive)) {
        (_, Some(p)) if p != Primitive::Hmac => p.name().to_owned(),
        (AlgorithmSpec::Fixed(a), _) => a.to_string(),
        (AlgorithmSpec::FromHeader { .. }, _) => "header".to_owned(),
    }
}

fn encoding(e: Encoding) -> &'static str {
    match e {
        Encoding::Hex => "hex",
        Encoding::Base64 => "base64",
        Encoding::Base64url => "base64url",
    }
}

/// The signature: algorithm, how the first signature header carries it, other headers' own
/// algorithms or primitives, and the key's encoding when it is not the text itself.
fn signature(s: &Signing) -> String {
    let mut out = match &s.algorithm {
        _ if s.signature.first().is_some_and(|h| h.primitive != Primitive::Hmac) => {
            title(s.signature[0].primitive).to_owned()
        }
        AlgorithmSpec::Fixed(a) => format!("HMAC-{}", a.to_string().to_uppercase()),
        AlgorithmSpec::FromHeader { header, default, allowed } => format!(
            "HMAC named by `{header}` ({}allowed: {})",
            default.map(|d| format!("absent: {d}; ")).unwrap_or_default(),
            allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    if let Some(h) = s.signature.first() {
        let enc = encoding(h.encoding);
        let shape = match (&h.key, h.separator) {
            (Some(key), Some(sep)) => {
                let ts = h.timestamp_key.as_deref().map(|t| format!("{t}=…{sep}")).unwrap_or_default();
                format!("{enc} in `{ts}{key}=…`")
            }
            (None, Some(sep)) => {
                let sep = if sep == ' ' { "space".to_owned() } else { format!("`{sep}`") };
                format!("`{}` + {enc}, {sep}-separated list", h.prefix)
            }
            _ if !h.prefix.is_empty() => format!("`{}` + {enc}", h.prefix),
            _ => enc.to_owned(),
        };
        out.push_str(", ");
        out.push_str(&shape);
    }
    for h in s.signature.iter().skip(1) {
        if h.primitive != s.signature[0].primitive {
            let p = title(h.primitive);
            out.push_str(&format!("; `{}` + {}: {p}", h.prefix, encoding(h.encoding)));
        }
        if let Some(a) = h.algorithm {
            out.push_str(&format!("; `{}`: {a}", h.name));
            if a == hookgate_verify::Algorithm::Sha1 {
                out.push_str(" (with `allow_sha1`)");
            }
        }
    }
    let public_key_only = s.primitives().iter().all(|p| !p.is_symmetric());
    match s.secret_encoding {
        SecretEncoding::Utf8 => {}
        SecretEncoding::Whsec if s.primitives().contains(&Primitive::Ed25519) => {
            out.push_str("; secret `whsec_` + base64, public key `whpk_` + base64");
        }
        SecretEncoding::Whsec => out.push_str("; secret `whsec_` + base64"),
        SecretEncoding::Hex if public_key_only => out.push_str("; public key hex"),
        SecretEncoding::Base64 if public_key_only => out.push_str("; public key base64 (DER for ECDSA)"),
        SecretEncoding::Hex => out.push_str("; secret hex"),
        SecretEncoding::Base64 => out.push_str("; secret base64"),
    }
    out
}

/// How the README names a primitive.
fn title(p: Primitive) -> &'static str {
    match p {
        Primitive::Hmac => "HMAC",
        Primitive::Ed25519 => "Ed25519",
        Primitive::EcdsaP256 => "ECDSA P-256/SHA-256",
        _ => p.name(),
    }
}

fn window(s: &Signing) -> String {
    let Some(t) = &s.timestamp else { return "–".to_owned() };
    let mut out = match t.window {
        Window::Symmetric => format!("±{} s", t.tolerance_secs),
        Window::PastOnly => format!("{} s old", t.tolerance_secs),
    };
    match t.format {
        TimestampFormat::Seconds => {}
        TimestampFormat::Milliseconds => out.push_str(" (ms)"),
        TimestampFormat::Rfc3339 => out.push_str(" (RFC 3339)"),
    }
    out
}

fn content(s: &Signing) -> String {
    let parts: Vec<String> = s
        .content
        .iter()
        .map(|p| match p {
            Part::Body => "body".to_owned(),
            Part::Timestamp => "timestamp".to_owned(),
            Part::Url if s.url_port_variant => "URL (with or without the default port)".to_owned(),
            Part::Url => "URL".to_owned(),
            Part::UrlUnescaped => "URL (HubSpot-decoded)".to_owned(),
            Part::Method => "method".to_owned(),
            Part::SortedFormParams => "sorted form params".to_owned(),
            Part::Header(h) => format!("`{h}`"),
            // A `|` would end the Markdown table cell, even inside a code span.
            Part::Literal(t) => format!("`{}`", t.replace('|', "\\|")),
            Part::BodyDigest { algorithm, encoding: e } => format!("{algorithm}(body) as {}", encoding(*e)),
        })
        .collect();
    let mut out = parts.join(" + ");
    if let Some(d) = &s.body_digest_param {
        out.push_str(&format!(
            "; JSON bodies: `{}` ({}, {}) in the URL instead of form params",
            d.param,
            d.algorithm,
            encoding(d.encoding)
        ));
    }
    out
}
