//! `hookgate deliveries`, `hookgate replay`, `hookgate retry`: the operator's view of delivery.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hookgate_server::view::{DeliveryDetailView, DeliveryView, rfc3339};
use hookgate_store::{AdminOp, DeliveryId, DeliveryStatus, EventId, JobKind, JobState, Store, StoreOptions};
use indicatif::{ProgressBar, ProgressDrawTarget};

use super::events::{Format, StoreArg};
use crate::output::{Align, Table};
use hookgate_server::printable::line;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DeliveriesCommand {
    /// List deliveries, newest first.
    List {
        #[command(flatten)]
        store: StoreArg,
        /// Only this status.
        #[arg(long, value_parser = parse_status)]
        status: Option<DeliveryStatus>,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// Only the deliveries of this event.
        #[arg(long, value_name = "EVENT_ID")]
        event: Option<EventId>,
        /// The next page: only deliveries older than this id (the last one listed).
        #[arg(long, value_name = "ID")]
        before: Option<DeliveryId>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one delivery with its attempt history.
    Show {
        /// Delivery id.
        id: DeliveryId,
        #[command(flatten)]
        store: StoreArg,
        /// Output format: text, or `json` (the operator API's delivery).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Cancel a pending delivery: it is never attempted again (an attempt in flight finishes, and
    /// its result is not recorded).
    Cancel {
        /// Delivery id.
        id: DeliveryId,
        #[command(flatten)]
        store: StoreArg,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// Events to deliver again.
    #[arg(value_name = "EVENT_ID", required_unless_present = "source", conflicts_with = "source")]
    events: Vec<EventId>,
    /// Or every event of this source...
    #[arg(long, requires = "since")]
    source: Option<String>,
    /// ...received at or after this time (RFC 3339, Unix seconds, or an age: `1h`, `2d`)...
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// ...and before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only to this target, routed to or not (backfilling a target added later): a target of
    /// `--config`, or one the store has delivered to. Default: every target each event was routed to.
    #[arg(long)]
    target: Option<String>,
    /// Show what would be replayed, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format (`json`: `{"events": N, "deliveries": M, "dry_run": …}`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RetryArgs {
    /// Retry dead deliveries (due now, attempts reset).
    #[arg(long, required = true)]
    dead: bool,
    /// Only this target.
    #[arg(long)]
    target: Option<String>,
    /// Output format (`json`: `{"revived": N}`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArg,
}

/// Opens the store for writing, next to running gateways if there are any (each operator action
/// is one short transaction). Never creates a store, never migrates one.
fn writer(store: &StoreArg) -> anyhow::Result<(tokio::runtime::Runtime, Store)> {
    let (rt, _) = store.inspect()?;
    let url = store.url()?;
    let options =
        StoreOptions { migrate: false, pool_size: 2, pg_writers: 1, take_events: false, ..StoreOptions::default() };
    let store = rt.block_on(Store::open(&url, options))?;
    Ok((rt, store))
}

pub(crate) fn run_deliveries(cmd: DeliveriesCommand) -> anyhow::Result<ExitCode> {
    let mut out = crate::output::Stdout::lock();
    match cmd {
        DeliveriesCommand::List { store, status, target, event, before, limit, format } => {
            let (rt, store) = store.inspect()?;
            let rows = rt.block_on(store.deliveries(&hookgate_store::DeliveryQuery {
                status,
                target,
                event_id: event,
                before_id: before,
                limit,
            }))?;
            match format {
                Format::Json => {
                    let views: Vec<DeliveryView<'_>> = rows.iter().map(DeliveryView::from).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?;
                }
                Format::Table => {
                    let mut table = Table::new(&[
                        ("ID", Align::Right),
                        ("EVENT", Align::Right),
                        ("TARGET", Align::Left),
                        ("STATUS", Align::Left),
                        ("ATTEMPTS", Align::Right),
                        ("NEXT", Align::Left),
                        ("LAST ERROR", Align::Left),
                    ]);
                    for d in &rows {
                        table.row(vec![
                            d.id.to_string(),
                            d.event_id.to_string(),
                            d.target.clone(),
                            d.status.to_string(),
                            d.attempts.to_string(),
                            d.next_attempt_at_ms.map_or_else(|| "-".to_owned(), rfc3339),
                            d.last_error.clone().unwrap_or_default(),
                        ]);
                    }
                    table.print(&mut out)?;
                }
            }
        }
        DeliveriesCommand::Show { id, store, format } => {
            let (rt, store) = store.inspect()?;
            let Some(d) = rt.block_on(store.get_delivery(id))? else {
                eprintln!("hookgate: no delivery {id}");
                return Ok(ExitCode::from(1));
            };
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&DeliveryDetailView::from(&d))?)?,
                Format::Table => show_delivery(&mut out, &d)?,
            }
        }
        DeliveriesCommand::Cancel { id, store } => {
            let (rt, reader) = store.inspect()?;
            let Some(d) = rt.block_on(reader.get_delivery(id))? else {
                bail!("no delivery {id}");
            };
            drop(reader);
            let (rt, writer) = writer(&store)?;
            let n = rt.block_on(writer.admin(AdminOp::Cancel { delivery_id: id }))?;
            rt.block_on(writer.close());
            if n == 0 {
                bail!("delivery {id} is {}, not pending: nothing to cancel", d.summary.status);
            }
            writeln!(out, "delivery {id} to {} cancelled", d.summary.target)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `deliveries show` as text, like `events show`: the delivery, then each attempt, numbered.
fn show_delivery(out: &mut impl std::io::Write, d: &hookgate_store::DeliveryRecord) -> std::io::Result<()> {
    let s = &d.summary;
    writeln!(out, "id:           {}", s.id)?;
    writeln!(out, "event:        {}", s.event_id)?;
    writeln!(out, "target:       {}", line(&s.target))?;
    writeln!(out, "status:       {}", s.status)?;
    writeln!(
        out,
        "attempts:     {}{}",
        s.attempts,
        if d.revived > 0 {
            format!(" (revived {})", crate::output::count(u64::try_from(d.revived).unwrap_or(0), "time", "times"))
        } else {
            String::new()
        }
    )?;
    writeln!(out, "origin:       {}", d.origin.as_deref().unwrap_or("route"))?;
    writeln!(out, "created_at:   {}", rfc3339(s.created_at_ms))?;
    if let Some(t) = s.next_attempt_at_ms {
        writeln!(out, "next_attempt: {}", rfc3339(t))?;
    }
    if let Some(t) = s.delivered_at_ms {
        writeln!(out, "delivered_at: {}", rfc3339(t))?;
    }
    if let Some(e) = &s.last_error {
        writeln!(out, "last_error:   {}", line(e))?;
    }
    writeln!(out, "history:")?;
    for (n, a) in d.attempts_history.iter().enumerate() {
        writeln!(
            out,
            "  #{:<3} {}  {:>6} ms  {}{}",
            n + 1,
            rfc3339(a.started_at_ms),
            a.duration_ms,
            a.status_code.map_or_else(|| "-".to_owned(), |c| c.to_string()),
            a.error.as_deref().map(|e| format!("  {}", line(e))).unwrap_or_default()
        )?;
        if let Some(r) = a.request.as_deref().and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()) {
            let names: Vec<&str> = r["headers"].as_array().into_iter().flatten().filter_map(|h| h.as_str()).collect();
            writeln!(
                out,
                "       sent: {} {} ({} bytes; headers: {})",
                r["method"].as_str().unwrap_or("POST"),
                line(r["url"].as_str().unwrap_or("")),
                r["body_bytes"],
                line(&names.join(", "))
            )?;
        }
        if let Some(x) = &a.response_excerpt {
            writeln!(out, "       response: {}", line(x))?;
        }
        if let Some(h) = a.response_headers.as_deref().and_then(|h| serde_json::from_str::<Vec<[String; 2]>>(h).ok()) {
            let shown: Vec<String> = h.iter().map(|[k, v]| format!("{k}: {v}")).collect();
            writeln!(out, "       response headers: {}", line(&shown.join("; ")))?;
        }
    }
    if d.attempts_history.is_empty() {
        writeln!(out, "  (no attempt yet)")?;
    }
    Ok(())
}

pub(crate) fn run_replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    if let Some(target) = &args.target {
        check_target(&args.store, target)?;
    }
    let Some(source) = &args.source else { return replay_ids(&args) };
    // A bulk replay is a job, as the operator API runs it: counted, then done in batches whose
    // progress survives a crash; this process runs it unless a gateway took it first.
    let since =
        super::events::time_arg("--since", args.since.as_deref().context("--since is required with --source")?)?;
    let until = args.until.as_deref().map(|t| super::events::time_arg("--until", t)).transpose()?;
    let filter = hookgate_server::jobs::JobFilter {
        source: Some(source.clone()),
        since: Some(rfc3339(since)),
        until: until.map(rfc3339),
        ..Default::default()
    };
    let targets = args.target.clone().map(|t| vec![t]);
    let (rt, store) = if args.dry_run { args.store.inspect()? } else { writer(&args.store)? };
    let matcher = hookgate_server::matching::EventMatcher::default();
    if args.dry_run {
        let (n, _) = rt.block_on(hookgate_server::jobs::count(&store, &matcher, JobKind::Replay, &filter))?;
        return replay_report(&args, n, 0, true, None);
    }
    let job = run_job(&rt, &store, &matcher, JobKind::Replay, &filter, targets)?;
    rt.block_on(store.close());
    if job.total == 0 {
        bail!("no events to replay");
    }
    replay_report(&args, job.done, job.made, false, Some(job.id))
}

/// Creates a job, runs it here with a progress bar (or follows the gateway that runs it), and
/// answers it once it has ended.
fn run_job(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    matcher: &hookgate_server::matching::EventMatcher,
    kind: JobKind,
    filter: &hookgate_server::jobs::JobFilter,
    targets: Option<Vec<String>>,
) -> anyhow::Result<hookgate_store::Job> {
    rt.block_on(async {
        let (id, total) = hookgate_server::jobs::create(store, matcher, kind, filter, targets, "cli").await?;
        let bar = if total > 1 { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Some(job) = hookgate_server::jobs::claim(store, id).await? {
            hookgate_server::jobs::run(store, matcher, &job, None, |j| bar.set_position(j.done as u64)).await?;
        }
        // Done here, or by a gateway's runner: follow it to its end.
        loop {
            let job = store.get_job(id).await?.context("the job disappeared")?;
            bar.set_position(job.done as u64);
            if !matches!(job.state, JobState::Queued | JobState::Running) {
                bar.finish_and_clear();
                if job.state == JobState::Failed {
                    bail!("job {id} failed: {}", job.error.unwrap_or_default());
                }
                return Ok(job);
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

fn replay_report(
    args: &ReplayArgs,
    events: i64,
    made: i64,
    dry_run: bool,
    job: Option<hookgate_store::JobId>,
) -> anyhow::Result<ExitCode> {
    if args.format == Format::Json {
        let mut out = serde_json::json!({"events": events, "deliveries": made, "dry_run": dry_run});
        if let Some(job) = job {
            out["job"] = serde_json::json!(job.0);
        }
        crate::output::outln!("{out}")?;
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        crate::output::outln!(
            "would replay {}{}",
            crate::output::count(events as u64, "event", "events"),
            args.target.as_ref().map(|t| format!(" to {t}")).unwrap_or_default()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::outln!(
        "replayed {}: {}",
        crate::output::count(events as u64, "event", "events"),
        crate::output::count(made as u64, "new delivery", "new deliveries")
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Replays events named by id: each once, all of them known.
fn replay_ids(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let mut ids = args.events.clone();
    ids.sort_unstable();
    ids.dedup();
    {
        let (rt, store) = args.store.inspect()?;
        let mut missing = Vec::new();
        for &id in &ids {
            if rt.block_on(store.get_event(id))?.is_none() {
                missing.push(id.to_string());
            }
        }
        if !missing.is_empty() {
            bail!("no event {} in {}", missing.join(", "), args.store.url_text()?);
        }
    }
    if args.dry_run {
        return replay_report(args, ids.len() as i64, 0, true, None);
    }
    if ids.is_empty() {
        bail!("no events to replay");
    }
    let (rt, store) = writer(&args.store)?;
    let mut created = 0;
    for chunk in ids.chunks(500) {
        created +=
            rt.block_on(store.admin(AdminOp::Replay { event_ids: chunk.to_vec(), target: args.target.clone() }))?;
    }
    rt.block_on(store.close());
    replay_report(args, ids.len() as i64, created as i64, false, None)
}

/// A replay's target must exist: a delivery to an unknown name would stay pending for ever.
fn check_target(store: &StoreArg, target: &str) -> anyhow::Result<()> {
    if let Some(targets) = store.targets()? {
        if !targets.iter().any(|t| t == target) {
            bail!("unknown target `{target}`: the configuration has {}", targets.join(", "));
        }
        return Ok(());
    }
    let (rt, reader) = store.inspect()?;
    let q = hookgate_store::DeliveryQuery { target: Some(target.to_owned()), limit: 1, ..Default::default() };
    if rt.block_on(reader.deliveries(&q))?.is_empty() {
        bail!(
            "unknown target `{target}`: the store has never delivered to it; pass --config FILE to replay to a configured target that has no deliveries yet"
        );
    }
    Ok(())
}

pub(crate) fn run_retry(args: RetryArgs) -> anyhow::Result<ExitCode> {
    let _ = args.dead;
    // Like the operator API's `POST /api/v1/retries`: a job over the events with a dead delivery.
    let (rt, store) = writer(&args.store)?;
    let matcher = hookgate_server::matching::EventMatcher::default();
    let filter = hookgate_server::jobs::JobFilter::default();
    let targets = args.target.clone().map(|t| vec![t]);
    let job = run_job(&rt, &store, &matcher, JobKind::Retry, &filter, targets)?;
    rt.block_on(store.close());
    if args.format == Format::Json {
        crate::output::outln!("{}", serde_json::json!({"revived": job.made}))?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::outln!(
        "{} pending again",
        crate::output::count(job.made as u64, "dead delivery is", "dead deliveries are")
    )?;
    Ok(ExitCode::SUCCESS)
}

fn parse_status(s: &str) -> Result<DeliveryStatus, String> {
    s.parse()
}
