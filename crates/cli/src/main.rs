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
