//! `hookgate schemes`: the preset table. `--format markdown` prints the README's table: both come
//! from the presets' data, and a test keeps the README equal to it.

use std::process::ExitCode;

use hookgate_verify::{
    AlgorithmSpec, Encoding, PRESETS, Part, Scheme, SecretEncoding, TimestampFormat, Window, preset,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TableFormat {
    /// Aligned columns.
    Table,
    /// The README's Markdown table, with the MAC and signed content spelled out.
    Markdown,
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
            crate::output::outln!("{:<20} {:<8} {:<10} {:<7} HEADERS", "SCHEME", "REJECT", "ALGORITHM", "WINDOW")?;
            for s in &schemes {
                crate::output::outln!(
                    "{:<20} {:<8} {:<10} {:<7} {}",
                    s.name,
                    s.rejection.status,
                    algorithm(s),
                    s.timestamp.as_ref().map_or_else(|| "-".to_owned(), |t| format!("{}s", t.tolerance_secs)),
                    s.header_names().join(", ")
                )?;
            }
        }
        TableFormat::Markdown => {
            crate::output::outln!("| scheme | reject | MAC | window | headers | signed content |")?;
            crate::output::outln!("|---|---|---|---|---|---|")?;
            for s in &schemes {
                crate::output::outln!(
                    "| `{}` | {} | {} | {} | {} | {} |",
                    s.name,
                    s.rejection.status,
                    mac(s),
                    window(s),
                    s.header_names().iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", "),
                    content(s)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn algorithm(s: &Scheme) -> String {
    match &s.algorithm {
        AlgorithmSpec::Fixed(a) => a.to_string(),
        AlgorithmSpec::FromHeader { .. } => "header".to_owned(),
    }
}

fn encoding(e: Encoding) -> &'static str {
    match e {
        Encoding::Hex => "hex",
        Encoding::Base64 => "base64",
        Encoding::Base64url => "base64url",
    }
}

/// The MAC: algorithm, how the first signature header carries it, other headers' own algorithms,
/// and the secret's encoding when it is not the text itself.
fn mac(s: &Scheme) -> String {
    let mut out = match &s.algorithm {
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
        if let Some(a) = h.algorithm {
            out.push_str(&format!("; `{}`: {a}", h.name));
            if a == hookgate_verify::Algorithm::Sha1 {
                out.push_str(" (with `allow_sha1`)");
            }
        }
    }
    match s.secret_encoding {
        SecretEncoding::Utf8 => {}
        SecretEncoding::Whsec => out.push_str("; secret `whsec_` + base64"),
        SecretEncoding::Hex => out.push_str("; secret hex"),
        SecretEncoding::Base64 => out.push_str("; secret base64"),
    }
    out
}

fn window(s: &Scheme) -> String {
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

fn content(s: &Scheme) -> String {
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
            Part::Literal(t) => format!("`{t}`"),
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
