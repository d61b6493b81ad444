//! `hookgate migrate`: run the store's schema migrations explicitly (`serve` runs them too unless
//! started with `--no-migrate`).

use std::process::ExitCode;

use hookgate_store::{Durability, Reader, SqliteOptions, SqliteStore, StoreUrl};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Store URL (created if it does not exist).
    #[arg(long, value_name = "URL", default_value = "sqlite://hookgate.db")]
    store: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let StoreUrl::Sqlite { path, .. } = StoreUrl::parse(&args.store)?;
    let before = Reader::open_existing(&path).ok().and_then(|r| r.schema_version().ok()).unwrap_or(0);
    let store = SqliteStore::open(&path, Durability::Full, SqliteOptions::default())?;
    store.close();
    let after = Reader::open_existing(&path)?.schema_version()?;
    if after == before {
        println!("{}: schema version {after}, up to date", args.store);
    } else {
        println!("{}: schema version {before} -> {after}", args.store);
    }
    Ok(ExitCode::SUCCESS)
}
