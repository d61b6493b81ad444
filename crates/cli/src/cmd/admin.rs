//! `hookgate admin token create|list|revoke`: the operator API's tokens. A new token is printed
//! once on stdout; the file keeps only its SHA-256, name, role and expiry. The gateway reloads
//! the file on SIGHUP.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use base64::Engine as _;
use hookgate_server::admin::tokens::{Role, TOKEN_PREFIX, TokenEntry, TokensFile, sha256_hex};
use hookgate_verify::Timestamp;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Operator API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token: printed once on stdout (`hgat_…`); the file keeps only its hash.
    Create {
        /// The tokens file (`[admin] tokens_file`).
        #[arg(long, value_name = "PATH")]
        tokens_file: PathBuf,
        /// A unique name (the audit log's actor).
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// It stops working after this long (`12h`, `30d`, `1w`); default: never.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List the tokens: name, role, creation and expiry (never a hash).
    List {
        /// The tokens file.
        #[arg(long, value_name = "PATH")]
        tokens_file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = super::events::Format::Table)]
        format: super::events::Format,
    },
    /// Revoke a token: it stops working once the gateway reloads the file (SIGHUP).
    Revoke {
        /// Its name.
        name: String,
        /// The tokens file.
        #[arg(long, value_name = "PATH")]
        tokens_file: PathBuf,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// `30d` as seconds: the ages every time option takes (`hookgate_server::time`), and not zero.
fn duration_secs(text: &str) -> anyhow::Result<i64> {
    match hookgate_server::time::age_ms(text) {
        Some(ms) if ms > 0 => Ok(ms / 1000),
        _ => bail!("--expires `{text}` is not a duration like 12h, 30d or 1w"),
    }
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Token(cmd) = cmd;
    match cmd {
        TokenCommand::Create { tokens_file, name, role, expires } => {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) {
                bail!("--name `{name}` must be letters, digits, `-`, `_`, `.` or `@`");
            }
            let now = Timestamp::now().unix_secs();
            let expires_at = expires.as_deref().map(duration_secs).transpose()?.map(|d| now.saturating_add(d));
            let mut random = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut *random)
                .map_err(|e| anyhow::anyhow!("cannot read the system's random source: {e}"))?;
            let token = zeroize::Zeroizing::new(format!(
                "{TOKEN_PREFIX}{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random.as_slice())
            ));
            TokensFile::update(&tokens_file, |file| {
                if file.tokens.iter().any(|t| t.name == name) {
                    return Err(format!("a token named `{name}` exists already (revoke it first)"));
                }
                file.tokens.push(TokenEntry {
                    name,
                    role,
                    sha256: sha256_hex(token.as_bytes()),
                    created_at: now,
                    expires_at,
                });
                Ok(())
            })
            .map_err(anyhow::Error::msg)?;
            crate::output::outln!("{}", &*token)?;
        }
        TokenCommand::List { tokens_file, format } => {
            let file = TokensFile::read(&tokens_file).map_err(anyhow::Error::msg)?;
            let time = |s: i64| Timestamp::from_unix_millis(s.saturating_mul(1000)).to_rfc3339();
            match format {
                super::events::Format::Json => {
                    let rows: Vec<serde_json::Value> = file
                        .tokens
                        .iter()
                        .map(|t| {
                            serde_json::json!({"name": t.name, "role": t.role.as_str(),
                                "created_at": time(t.created_at), "expires_at": t.expires_at.map(time)})
                        })
                        .collect();
                    crate::output::outln!("{}", serde_json::to_string_pretty(&rows)?)?;
                }
                super::events::Format::Table => {
                    crate::output::outln!("{:<24}  {:<8}  {:<20}  EXPIRES", "NAME", "ROLE", "CREATED")?;
                    for t in &file.tokens {
                        let expires = t.expires_at.map_or_else(|| "never".to_owned(), time);
                        crate::output::outln!(
                            "{:<24}  {:<8}  {:<20}  {expires}",
                            t.name,
                            t.role.as_str(),
                            time(t.created_at)
                        )?;
                    }
                }
            }
        }
        TokenCommand::Revoke { name, tokens_file } => {
            TokensFile::update(&tokens_file, |file| {
                let before = file.tokens.len();
                file.tokens.retain(|t| t.name != name);
                if file.tokens.len() == before {
                    return Err(format!("no token named `{name}` in {}", tokens_file.display()));
                }
                Ok(())
            })
            .map_err(anyhow::Error::msg)?;
            eprintln!("hookgate: revoked `{name}`; reload the gateway (SIGHUP) for it to take effect");
        }
    }
    Ok(ExitCode::SUCCESS)
}
