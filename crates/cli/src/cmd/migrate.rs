//! `hookgate migrate`: run the store's schema migrations explicitly (`serve` runs them too unless
//! started with `--no-migrate`).

use std::process::ExitCode;

use hookgate_store::{Store, StoreOptions};

use super::events::StoreArg;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The store (created if it does not exist).
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let url = args.store.url()?;
    let shown = args.store.url_text()?;
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
        crate::output::outln!("{shown}: schema version {after}, up to date")?;
    } else {
        crate::output::outln!("{shown}: schema version {before} -> {after}")?;
    }
    Ok(ExitCode::SUCCESS)
}
