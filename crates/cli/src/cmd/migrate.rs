//! `hookgate migrate`: run the store's schema migrations explicitly (`serve` runs them too unless
//! started with `--no-migrate`).

use std::process::ExitCode;

use hookgate_store::{Store, StoreOptions, StoreUrl};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Store URL (created if it does not exist).
    #[arg(long, value_name = "URL", default_value = "sqlite://hookgate.db")]
    store: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let url = StoreUrl::parse(&args.store)?;
    let rt = super::events::runtime()?;
    let (before, after) = rt.block_on(async {
        let before = match Store::inspect(&url).await {
            Ok(store) => store.schema_version().await.unwrap_or(0),
            Err(_) => 0,
        };
        let store = Store::open(
            &url,
            StoreOptions { pool_size: 2, pg_writers: 1, take_events: false, ..StoreOptions::default() },
        )
        .await?;
        let after = store.schema_version().await?;
        store.close().await;
        anyhow::Ok((before, after))
    })?;
    if after == before {
        println!("{}: schema version {after}, up to date", args.store);
    } else {
        println!("{}: schema version {before} -> {after}", args.store);
    }
    Ok(ExitCode::SUCCESS)
}
