//! `hookgate`: the webhook gateway's command line.
//!
//! Exit codes: 0 success, 1 a negative answer (a request that does not verify), 2 a usage or
//! configuration error.

use std::process::ExitCode;

// Measured under the load harness: glibc malloc's arena locks and trimming (futex waits, TLB
// shootdowns) were a visible share of per-request CPU; mimalloc's thread-local heaps avoid both.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

mod alloc;
mod cmd;
mod hardening;
mod logging;
mod output;
mod scheme_args;
mod tls_trust;

#[derive(Debug, Parser)]
#[command(name = "hookgate", version, about = "Webhook ingress gateway: verify, store, deliver")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a body as a provider would; prints the headers to send, one `Name: value` a line.
    Sign(cmd::sign::Args),
    /// Verify a request (body on stdin); prints `valid` and exits 0, or exits 1 with the reason.
    Verify(cmd::verify::Args),
    /// List the provider presets with their headers and rejection statuses.
    Schemes(cmd::schemes::Args),
    /// Run the gateway: verify, store durably, then answer.
    Serve(cmd::serve::Args),
    /// Configuration tools.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Inspect stored events.
    #[command(subcommand)]
    Events(cmd::events::EventsCommand),
    /// Inspect rejected attempts.
    #[command(subcommand)]
    Rejections(cmd::events::RejectionsCommand),
    /// Simulate a provider: sign and POST bodies, retrying on its schedule.
    Send(cmd::send::Args),
    /// Inspect deliveries to targets.
    #[command(subcommand)]
    Deliveries(cmd::deliveries::DeliveriesCommand),
    /// Deliver stored events again (never re-verifies: they were verified on arrival).
    Replay(cmd::deliveries::ReplayArgs),
    /// Retry dead deliveries.
    Retry(cmd::deliveries::RetryArgs),
    /// Run the store's schema migrations.
    Migrate(cmd::migrate::Args),
    /// Routing tools.
    #[command(subcommand)]
    Route(cmd::route::Command),
    /// Secrets for targets and custom sources.
    #[command(subcommand)]
    Secret(cmd::secret::Command),
    /// Sources' secrets in use: which one verifies, how often, when last (rotation).
    #[command(subcommand)]
    Secrets(cmd::secrets::Command),
    /// The operator API: its tokens.
    #[command(subcommand)]
    Admin(cmd::admin::Command),
    /// Follow the gateway live through its operator API: events, deliveries, rejections.
    Tail(cmd::tail::Args),
    /// Print a shell completion script: `hookgate completions bash > /etc/bash_completion.d/hookgate`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write man pages (hookgate.1 and one per command) into a directory.
    Man {
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hookgate", &mut script);
    std::io::Write::write_all(&mut output::Stdout::lock(), &script)?;
    Ok(ExitCode::SUCCESS)
}

fn man_pages(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use clap::CommandFactory as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    let mut pages = vec![("hookgate".to_owned(), command.clone())];
    for sub in command.get_subcommands() {
        pages.push((format!("hookgate-{}", sub.get_name()), sub.clone()));
    }
    for (name, page) in pages {
        let mut text = Vec::new();
        clap_mangen::Man::new(page).title(name.to_uppercase()).render(&mut text)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    alloc::tune_c_allocator();
    if let Err(e) = hardening::deny_same_user_inspection() {
        // Not fatal (a kernel without prctl), but an operator must know secrets are exposed.
        eprintln!("hookgate: warning: cannot hide the process's environment from its user's other processes: {e}");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(args) => cmd::sign::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Schemes(args) => cmd::schemes::run(&args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Config(c) => cmd::config::run(c),
        Command::Events(c) => cmd::events::run_events(c),
        Command::Rejections(c) => cmd::events::run_rejections(c),
        Command::Send(args) => cmd::send::run(args),
        Command::Deliveries(c) => cmd::deliveries::run_deliveries(c),
        Command::Replay(args) => cmd::deliveries::run_replay(args),
        Command::Retry(args) => cmd::deliveries::run_retry(args),
        Command::Migrate(args) => cmd::migrate::run(&args),
        Command::Secret(c) => cmd::secret::run(c),
        Command::Secrets(c) => cmd::secrets::run(c),
        Command::Admin(c) => cmd::admin::run(c),
        Command::Tail(args) => cmd::tail::run(args),
        Command::Route(c) => cmd::route::run(c),
        Command::Completions { shell } => completions(shell),
        Command::Man { out } => man_pages(&out),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`| head`): nothing more to say, as with other Unix tools.
        Err(err) if output::stdout_closed(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hookgate: {}", output::error_chain(&err));
            ExitCode::from(2)
        }
    }
}
