//! Conformance, continued: event queries, jobs and the overview statistics, the same on both
//! stores.

use super::*;

pub(crate) async fn a_job_batch_commits_its_deliveries_and_cursor_together_and_stops_once_cancelled(b: Backend) {
    use hookgate_store::{EventId, JobBatch, JobId, JobKind, JobState, NewAudit, NewJob};
    let store = b.open(StoreOptions::default()).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(store.insert_event(event("flinks", &format!("j{i}"), b"{}")).await.unwrap().id());
    }
    let new = |actor: &str| NewJob {
        kind: JobKind::Replay,
        filter: r#"{"source":"flinks"}"#.into(),
        targets: Some(vec!["audit".into()]),
        actor: actor.into(),
        total: 4,
        upto: ids[3],
    };
    let job = JobId(i64::try_from(store.admin(AdminOp::CreateJob(new("ops"))).await.unwrap()).unwrap());
    let queued = store.get_job(job).await.unwrap().unwrap();
    assert_eq!((queued.state, queued.total, queued.done, queued.cursor), (JobState::Queued, 4, 0, ids[3]));
    assert_eq!(store.admin(AdminOp::ClaimJob { lease_ms: 60_000, job_id: None }).await.unwrap(), job.0 as u64);
    assert_eq!(
        store.admin(AdminOp::ClaimJob { lease_ms: 60_000, job_id: None }).await.unwrap(),
        0,
        "leased: not claimed twice"
    );
    let batch = |events: &[EventId], from_cursor: EventId, cursor: EventId, last: bool| {
        AdminOp::JobBatch(JobBatch {
            job_id: job,
            event_ids: events.to_vec(),
            from_cursor,
            cursor,
            last,
            lease_ms: 60_000,
        })
    };
    assert_eq!(store.admin(batch(&[ids[3], ids[2]], ids[3], ids[1], false)).await.unwrap(), 1);
    // A runner that stalled past its lease and resumes with the batch it had read before another
    // runner moved the job on (the fencing token, the cursor it started from, is stale): nothing.
    assert_eq!(
        store.admin(batch(&[ids[3], ids[2]], ids[3], ids[1], false)).await.unwrap(),
        0,
        "a stale runner's batch"
    );
    let running = store.get_job(job).await.unwrap().unwrap();
    assert_eq!((running.state, running.done, running.made, running.cursor), (JobState::Running, 2, 2, ids[1]));
    let made = audit_deliveries(&store).await;
    let one = store.get_delivery(made[0].id).await.unwrap().unwrap();
    assert_eq!(one.origin, Some(format!("job:{}", job.0)), "a job's delivery names its job");
    let mut made: Vec<EventId> = made.iter().map(|d| d.event_id).collect();
    made.sort_unstable();
    assert_eq!(made, vec![ids[2], ids[3]]);
    assert_eq!(store.admin(AdminOp::CancelJob { job_id: job, actor: "ops".into() }).await.unwrap(), 1);
    assert_eq!(
        store.admin(batch(&[ids[1], ids[0]], ids[1], EventId(0), true)).await.unwrap(),
        0,
        "no batch after a cancel"
    );
    assert_eq!(audit_deliveries(&store).await.len(), 2);
    assert_eq!(store.get_job(job).await.unwrap().unwrap().state, JobState::Cancelled);
    assert_eq!(store.admin(AdminOp::CancelJob { job_id: job, actor: "ops".into() }).await.unwrap(), 0);

    // A runner that died: its lease runs out and another takes the job from its cursor.
    let second = JobId(i64::try_from(store.admin(AdminOp::CreateJob(new("cli"))).await.unwrap()).unwrap());
    let other = AdminOp::ClaimJob { lease_ms: 1, job_id: Some(JobId(second.0 + 100)) };
    assert_eq!(store.admin(other).await.unwrap(), 0, "only the job named");
    assert_eq!(store.admin(AdminOp::ClaimJob { lease_ms: -1, job_id: None }).await.unwrap(), second.0 as u64);
    assert_eq!(
        store.admin(AdminOp::ClaimJob { lease_ms: 60_000, job_id: None }).await.unwrap(),
        second.0 as u64,
        "expired"
    );
    assert_eq!(store.admin(batch(&[ids[3]], ids[3], EventId(0), true)).await.unwrap(), 0, "another job's batch id");
    let done = AdminOp::JobBatch(JobBatch {
        job_id: second,
        event_ids: vec![ids[0]],
        from_cursor: ids[3],
        cursor: EventId(0),
        last: true,
        lease_ms: 1,
    });
    assert_eq!(store.admin(done).await.unwrap(), 1);
    let second = store.get_job(second).await.unwrap().unwrap();
    assert_eq!((second.state, second.done), (JobState::Done, 1));
    assert_eq!(store.list_jobs(None, 10).await.unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![second.id, job]);

    store
        .admin(AdminOp::Audit(NewAudit { actor: "ops".into(), action: "delivery.cancel".into(), detail: "{}".into() }))
        .await
        .unwrap();
    let log = store.list_audit(None, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["delivery.cancel", "replay.create", "job.cancel", "replay.create"]);
    assert!(log[1].detail.contains("\"total\":4") && log[3].actor == "ops", "{log:?}");
    store.close().await;
}

pub(crate) async fn event_queries_filter_by_type_text_status_and_id(b: Backend) {
    use hookgate_store::{EventQuery, EventStatus, Finished, Next};
    let store = b.open(StoreOptions::default()).await;
    let typed = |key: &str, t: &str| NewEvent {
        event_type: Some(t.into()),
        provider_id: Some(format!("prov-{key}")),
        ..event("flinks", key, b"{}")
    };
    let a = store.insert_event(typed("a", "KYC")).await.unwrap().id();
    let b2 = store.insert_event(typed("b", "Accounts")).await.unwrap().id();
    let none = store.insert_event(NewEvent { targets: vec![], ..typed("c", "KYC") }).await.unwrap().id();
    let ids = |q: EventQuery| {
        let store = &store;
        async move { store.list_events(&q).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>() }
    };
    assert_eq!(ids(EventQuery { event_type: Some("KYC".into()), ..Default::default() }).await, vec![none, a]);
    assert_eq!(ids(EventQuery { text: Some("prov-b".into()), ..Default::default() }).await, vec![b2]);
    assert_eq!(ids(EventQuery { max_id: Some(b2), by_id: true, ..Default::default() }).await, vec![b2, a]);
    let listed = store.list_events(&EventQuery::default()).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.status).collect::<Vec<_>>(),
        vec![None, Some(EventStatus::Pending), Some(EventStatus::Pending)]
    );
    // The first event's delivery fails once (failed), the second's dies (dead).
    let claimed = store.claim("kyc", 10, false, std::time::Duration::from_secs(60)).await.unwrap();
    for c in claimed {
        let next = if c.event_id == a { Next::Retry(i64::MAX / 2) } else { Next::Dead };
        store.finish(Finished { delivery_id: c.delivery_id, attempt: attempt(500), next }).await.unwrap();
    }
    let by = |s| EventQuery { status: Some(s), ..Default::default() };
    assert_eq!(ids(by(EventStatus::Failed)).await, vec![a]);
    assert_eq!(ids(by(EventStatus::Dead)).await, vec![b2]);
    assert!(ids(by(EventStatus::Delivered)).await.is_empty());
    let scanned = store
        .scan_events(&EventQuery { event_type: Some("Accounts".into()), ..Default::default() }, true)
        .await
        .unwrap();
    assert_eq!((scanned.len(), scanned[0].body.as_slice()), (1, &b"{}"[..]));
    store.close().await;
}

/// The metadata index finds events by a value whichever way the query runs: narrowed to a rare
/// value's few events, or walking the events when every value is common (5,000 events or more:
/// the caller's filter then checks it, and the store returns every event in order).
pub(crate) async fn metadata_terms_find_the_events_carrying_every_value(b: Backend) {
    use hookgate_store::{EventQuery, MetadataTerm};
    let store = b.open(StoreOptions::default()).await;
    let tagged = |i: usize| NewEvent {
        metadata: serde_json::json!({
            "response_type": if i % 4000 == 7 { "Accounts" } else { "KYC" },
            "tag": {"userId": format!("u{}", i % 2000)},
            "http_status_code": 200,
            "codes": [i % 3, 10],
        }),
        targets: vec![],
        ..event(if i.is_multiple_of(2) { "flinks" } else { "fin" }, &format!("k{i}"), b"{}")
    };
    let mut ids = Vec::new();
    for chunk in (0..5_010).collect::<Vec<_>>().chunks(500) {
        let stored = futures_util::future::join_all(chunk.iter().map(|&i| store.insert_event(tagged(i)))).await;
        ids.extend(chunk.iter().zip(stored).map(|(&i, r)| (i, r.unwrap().id())));
    }
    let term = |path: &[&str], value: serde_json::Value| MetadataTerm {
        path: path.iter().map(|p| (*p).to_owned()).collect(),
        value,
    };
    let want = |f: &dyn Fn(usize) -> bool| {
        let mut w: Vec<_> = ids.iter().filter(|(i, _)| f(*i)).map(|(_, id)| *id).collect();
        w.sort_unstable_by(|a, b| b.cmp(a));
        w
    };
    let found = |terms: Vec<MetadataTerm>, source: Option<&str>, limit: Option<u32>| {
        let store = &store;
        let q = EventQuery { metadata_terms: terms, source: source.map(Into::into), limit, ..Default::default() };
        async move {
            let listed: Vec<_> = store.list_events(&q).await.unwrap().iter().map(|e| e.id).collect();
            let scanned: Vec<_> = store.scan_events(&q, false).await.unwrap().iter().map(|e| e.summary.id).collect();
            assert_eq!(listed, scanned, "list and scan agree");
            listed
        }
    };
    // Rare: one user's three events.
    let user = term(&["tag", "userId"], serde_json::json!("u7"));
    assert_eq!(found(vec![user.clone()], None, None).await, want(&|i| i % 2000 == 7));
    // Common alone (5,008 events): every KYC event among those returned, newest first (SQLite
    // does not narrow by a common value, PostgreSQL's planner may; the caller filters either way).
    let kyc = term(&["response_type"], serde_json::json!("KYC"));
    assert_eq!(found(vec![kyc.clone()], None, Some(3)).await, want(&|i| i % 4000 != 7)[..3].to_vec());
    // With a rare one, every value is required (the index intersects them), with a source too.
    let accounts = term(&["response_type"], serde_json::json!("Accounts"));
    assert_eq!(found(vec![user.clone(), accounts.clone()], Some("fin"), None).await, want(&|i| i == 4007 || i == 7));
    assert_eq!(found(vec![user.clone(), kyc], Some("fin"), None).await, want(&|i| i == 2007));
    // Numbers by value, arrays looked through; a value nobody has finds nothing.
    let status = term(&["http_status_code"], serde_json::json!(200.0));
    assert_eq!(found(vec![status, accounts], None, None).await, want(&|i| i % 4000 == 7));
    let code = term(&["codes"], serde_json::json!(2));
    assert_eq!(found(vec![code, user], None, None).await, want(&|i| i % 2000 == 7 && i % 3 == 2));
    assert!(found(vec![term(&["tag", "userId"], serde_json::json!("nobody"))], None, None).await.is_empty());
    store.close().await;
}

pub(crate) async fn stats_count_per_source_and_target_with_windows(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let now = now_ms();
    let at = |key: &str, ms: i64| NewEvent { received_at_ms: ms, ..event("flinks", key, b"{}") };
    store.insert_event(at("old", now - 2 * 3_600_000)).await.unwrap();
    store.insert_event(at("hour", now - 30 * 60_000)).await.unwrap();
    store.insert_event(at("now", now - 1_000)).await.unwrap();
    store.insert_event(at("now", now)).await.unwrap(); // a provider retry
    store.insert_event(NewEvent { received_at_ms: now - 1_000, ..event("fin", "f", b"{}") }).await.unwrap();
    let sources = store.source_stats(now).await.unwrap();
    let flinks = sources.iter().find(|s| s.source == "flinks").unwrap();
    assert_eq!((flinks.events, flinks.duplicates, flinks.events_last), (3, 1, [1, 1, 2]));
    assert_eq!(flinks.last_event_ms, Some(now - 1_000));
    assert_eq!(sources.iter().find(|s| s.source == "fin").unwrap().events, 1);
    let targets = store.target_stats(now).await.unwrap();
    let kyc = targets.iter().find(|t| t.target == "kyc").unwrap();
    assert_eq!(kyc.by_status, [4, 0, 0, 0, 0], "four new events, one pending delivery each");
    assert!(kyc.oldest_pending_ms.is_some());
    store.close().await;
}

async fn audit_deliveries(store: &Store) -> Vec<hookgate_store::DeliverySummary> {
    let q = hookgate_store::DeliveryQuery { target: Some("audit".into()), limit: 100, ..Default::default() };
    store.deliveries(&q).await.unwrap()
}
