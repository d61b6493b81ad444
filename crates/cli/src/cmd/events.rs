//! `hookgate events` and `hookgate rejections`: inspecting the store.

use hookgate_server::pretty_json;
use hookgate_server::printable::{self, line};
use hookgate_server::view::{DeliveryView, EventDetailView, EventView, RejectionDetailView, RejectionView, rfc3339};
use std::io::Write as _;
use std::process::ExitCode;

use hookgate_store::{EventQuery, RejectionQuery, Store, StoreUrl};

use crate::output::{Align, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StoreArg {
    /// Store URL [default: the config's `server.store`, else sqlite://hookgate.db].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// The gateway's configuration: its store (and its targets, for `replay --target`). Only
    /// parsed: no secret is read.
    #[arg(long, value_name = "FILE", env = "HOOKGATE_CONFIG")]
    config: Option<std::path::PathBuf>,
}

impl StoreArg {
    fn config(&self) -> anyhow::Result<Option<hookgate_server::Config>> {
        self.config.as_deref().map(hookgate_server::Config::load).transpose().map_err(Into::into)
    }

    /// The store URL as given (`--store`, then the config's, then the default), for messages.
    pub(crate) fn url_text(&self) -> anyhow::Result<String> {
        Ok(match (&self.store, self.config()?) {
            (Some(url), _) => url.clone(),
            (None, Some(config)) => config.server.store,
            (None, None) => "sqlite://hookgate.db".to_owned(),
        })
    }

    pub(crate) fn url(&self) -> anyhow::Result<StoreUrl> {
        Ok(StoreUrl::parse(&self.url_text()?)?)
    }

    /// The configured targets' names, when a config was given.
    pub(crate) fn targets(&self) -> anyhow::Result<Option<Vec<String>>> {
        Ok(self.config()?.map(|c| c.targets.iter().map(|t| t.name.clone()).collect()))
    }

    /// Opens the store for reading only: an inspection command never creates a store.
    pub(crate) fn inspect(&self) -> anyhow::Result<(tokio::runtime::Runtime, Store)> {
        let rt = runtime()?;
        let store = rt.block_on(Store::inspect(&self.url()?))?;
        Ok((rt, store))
    }
}

/// The CLI's commands run one store call at a time: a single-threaded runtime is enough.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// A time given on the command line: `hookgate_server::time`'s one grammar (RFC 3339, Unix
/// seconds, or an age: `90s`, `15m`, `1h`, `2d`, `1w` before now). Unix ms.
pub(crate) fn time_arg(flag: &str, t: &str) -> anyhow::Result<i64> {
    hookgate_server::time::parse(t)
        .ok_or_else(|| anyhow::anyhow!("{flag} `{t}` is not {}", hookgate_server::time::EXPECTED))
}

#[derive(Debug, clap::Args)]
pub(crate) struct Filters {
    /// Only this source.
    #[arg(long)]
    source: Option<String>,
    /// Only since this time: RFC 3339, Unix seconds, or an age (`1h`, `2d`).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// The next page: rows after this id in the list (the last id of the previous page).
    #[arg(long, value_name = "ID")]
    before: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum EventsCommand {
    /// List stored events, newest first.
    List {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        filters: Filters,
    },
    /// Show one event: metadata, headers and the body (pretty-printed when it is JSON).
    Show {
        /// Event id.
        id: hookgate_store::EventId,
        #[command(flatten)]
        store: StoreArg,
        /// Write the exact raw body bytes to stdout and nothing else.
        #[arg(long, conflicts_with = "format")]
        body: bool,
        /// Output format (`json`: the record, the body as `body` when it is UTF-8, else `body_base64`).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum RejectionsCommand {
    /// List rejected attempts, newest first.
    List {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        filters: Filters,
    },
    /// Show one rejected attempt: why, the headers it carried (minus `drop_headers`), and its body
    /// when the source keeps rejected bodies. Re-verify it offline with `hookgate verify`.
    Show {
        /// Rejection id.
        id: hookgate_store::RejectionId,
        #[command(flatten)]
        store: StoreArg,
        /// Write the exact raw body bytes to stdout and nothing else.
        #[arg(long, conflicts_with = "format")]
        body: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// A body in a JSON record: `body` when it is UTF-8 (the exact text), else `body_base64`.
fn add_body(record: &mut serde_json::Value, body: &[u8]) {
    use base64::Engine as _;
    match std::str::from_utf8(body) {
        Ok(text) => record["body"] = text.into(),
        Err(_) => record["body_base64"] = base64::engine::general_purpose::STANDARD.encode(body).into(),
    }
}

fn filter(f: &Filters) -> anyhow::Result<EventQuery> {
    let since_ms = f.since.as_deref().map(|t| time_arg("--since", t)).transpose()?;
    let until_ms = f.until.as_deref().map(|t| time_arg("--until", t)).transpose()?;
    Ok(EventQuery {
        source: f.source.clone(),
        since_ms,
        until_ms,
        before_id: f.before.map(hookgate_store::EventId),
        limit: Some(f.limit),
        ..EventQuery::default()
    })
}

fn rejection_filter(f: &Filters) -> anyhow::Result<RejectionQuery> {
    let q = filter(f)?;
    Ok(RejectionQuery {
        source: q.source,
        since_ms: q.since_ms,
        until_ms: q.until_ms,
        before_id: f.before.map(hookgate_store::RejectionId),
        limit: q.limit,
        reason: None,
    })
}

pub(crate) fn run_events(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::List { store, filters } => {
            let (rt, store) = store.inspect()?;
            let events = rt.block_on(store.list_events(&filter(&filters)?))?;
            let mut out = crate::output::Stdout::lock();
            match filters.format {
                Format::Json => {
                    let views: Vec<EventView<'_>> = events.iter().map(EventView::from).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?;
                }
                Format::Table => {
                    let mut table = Table::new(&[
                        ("ID", Align::Right),
                        ("RECEIVED", Align::Left),
                        ("SOURCE", Align::Left),
                        ("SIZE", Align::Right),
                        ("TYPE", Align::Left),
                        ("DEDUP KEY", Align::Left),
                    ]);
                    for e in &events {
                        let retries =
                            if e.duplicates > 0 { format!("  (+{} retries)", e.duplicates) } else { String::new() };
                        table.row(vec![
                            e.id.to_string(),
                            rfc3339(e.received_at_ms),
                            e.source.clone(),
                            e.size.to_string(),
                            e.event_type.clone().unwrap_or_else(|| "-".into()),
                            format!("{}{retries}", e.dedup_key),
                        ]);
                    }
                    table.print(&mut out)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EventsCommand::Show { id, store, body, format } => {
            let (rt, store) = store.inspect()?;
            let Some(event) = rt.block_on(store.get_event(id))? else {
                eprintln!("hookgate: no event {id}");
                return Ok(ExitCode::from(1));
            };
            let mut out = crate::output::Stdout::lock();
            if body {
                out.write_all(&event.body)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            let deliveries = rt.block_on(store.deliveries(&hookgate_store::DeliveryQuery {
                event_id: Some(id),
                limit: 1000,
                ..Default::default()
            }))?;
            if format == Format::Json {
                let mut record = serde_json::to_value(EventDetailView::from(&event))?;
                let views: Vec<DeliveryView<'_>> = deliveries.iter().map(DeliveryView::from).collect();
                record["deliveries"] = serde_json::to_value(&views)?;
                add_body(&mut record, &event.body);
                writeln!(out, "{}", serde_json::to_string_pretty(&record)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let s = &event.summary;
            writeln!(out, "id:          {}", s.id)?;
            writeln!(out, "source:      {}", s.source)?;
            writeln!(out, "received_at: {}", rfc3339(s.received_at_ms))?;
            if let Some(t) = event.signed_at_ms {
                writeln!(out, "signed_at:   {}", rfc3339(t))?;
            }
            writeln!(out, "dedup_key:   {}", line(&s.dedup_key))?;
            writeln!(out, "provider_id: {}", line(s.provider_id.as_deref().unwrap_or("-")))?;
            writeln!(out, "event_type:  {}", line(s.event_type.as_deref().unwrap_or("-")))?;
            writeln!(out, "body_sha256: {}", s.body_sha256)?;
            writeln!(out, "size:        {}", s.size)?;
            writeln!(out, "duplicates:  {}", s.duplicates)?;
            writeln!(out, "metadata:    {}", line(&event.metadata.to_string()))?;
            writeln!(out, "headers:")?;
            for (k, v) in &event.headers {
                writeln!(out, "  {}: {}", line(k), line(&v.to_string()))?;
            }
            writeln!(out, "deliveries:")?;
            for d in &deliveries {
                writeln!(
                    out,
                    "  {:>6}  {:<16}  {:<9}  {}{}",
                    d.id,
                    line(&d.target),
                    d.status,
                    crate::output::count(u64::try_from(d.attempts).unwrap_or(0), "attempt", "attempts"),
                    d.last_error.as_deref().map(|e| format!("  {}", line(e))).unwrap_or_default()
                )?;
            }
            if deliveries.is_empty() {
                writeln!(out, "  (none)")?;
            }
            writeln!(out, "body:")?;
            // Re-indented token by token: digits, escapes and key order exactly as received
            // (`--body` gives the bytes themselves).
            match std::str::from_utf8(&event.body) {
                Ok(text) => match pretty_json::reindent(text) {
                    Some(pretty) => writeln!(out, "{pretty}")?,
                    None => writeln!(out, "{}", printable::block(text))?,
                },
                Err(_) => writeln!(out, "({} bytes, not UTF-8; use --body for the raw bytes)", event.body.len())?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn run_rejections(cmd: RejectionsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RejectionsCommand::Show { id, store, body, format } => {
            let (rt, store) = store.inspect()?;
            let Some(r) = rt.block_on(store.get_rejection(id))? else {
                eprintln!("hookgate: no rejection {id}");
                return Ok(ExitCode::from(1));
            };
            let mut out = crate::output::Stdout::lock();
            if body {
                let Some(bytes) = &r.body else {
                    anyhow::bail!("rejection {id} kept no body (set keep_rejected_bodies = true on the source)");
                };
                out.write_all(bytes)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            if format == Format::Json {
                let mut record = serde_json::to_value(RejectionDetailView::from(&r))?;
                if let Some(bytes) = &r.body {
                    add_body(&mut record, bytes);
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&record)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let rec = &r.record;
            writeln!(out, "id:          {}", rec.id)?;
            writeln!(out, "source:      {}", rec.source)?;
            writeln!(out, "received_at: {}", rfc3339(rec.received_at_ms))?;
            writeln!(out, "peer:        {}", line(rec.peer.as_deref().unwrap_or("-")))?;
            writeln!(out, "reason:      {} ({})", line(&rec.reason), rec.reason_code)?;
            writeln!(out, "body_sha256: {}", rec.body_sha256)?;
            writeln!(out, "size:        {}", rec.size)?;
            writeln!(out, "headers:")?;
            for (k, v) in &r.headers {
                writeln!(out, "  {}: {}", line(k), line(&v.to_string()))?;
            }
            if r.headers.is_empty() {
                writeln!(out, "  (values not kept; names: {})", line(&rec.header_names.join(", ")))?;
            }
            match &r.body {
                Some(_) => writeln!(out, "body:        kept (--body for the raw bytes)")?,
                None => writeln!(out, "body:        not kept")?,
            }
            match &rec.diagnosis {
                None => writeln!(out, "diagnosis:   not diagnosed")?,
                Some(d) if d.is_empty() => writeln!(out, "diagnosis:   no known cause explains it")?,
                Some(d) => {
                    writeln!(out, "diagnosis:")?;
                    for f in d {
                        writeln!(out, "  {}: {}", f.cause, line(&f.detail))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RejectionsCommand::List { store, filters } => {
            let (rt, store) = store.inspect()?;
            let rows = rt.block_on(store.list_rejections(&rejection_filter(&filters)?))?;
            let mut out = crate::output::Stdout::lock();
            match filters.format {
                Format::Json => {
                    let views: Vec<RejectionView<'_>> = rows.iter().map(RejectionView::from).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?;
                }
                Format::Table => {
                    let mut table = Table::new(&[
                        ("ID", Align::Right),
                        ("RECEIVED", Align::Left),
                        ("SOURCE", Align::Left),
                        ("PEER", Align::Left),
                        ("SIZE", Align::Right),
                        ("REASON", Align::Left),
                        ("CAUSE", Align::Left),
                    ]);
                    for r in &rows {
                        let causes = match &r.diagnosis {
                            None => "-".to_owned(),
                            Some(d) if d.is_empty() => "unknown".to_owned(),
                            Some(d) => d.iter().map(|f| f.cause.as_str()).collect::<Vec<_>>().join(","),
                        };
                        table.row(vec![
                            r.id.to_string(),
                            rfc3339(r.received_at_ms),
                            r.source.clone(),
                            r.peer.clone().unwrap_or_else(|| "-".into()),
                            r.size.to_string(),
                            r.reason.clone(),
                            causes,
                        ]);
                    }
                    table.print(&mut out)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
