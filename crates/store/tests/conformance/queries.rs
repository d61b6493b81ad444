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
    let batch = |events: &[EventId], cursor: EventId, last: bool| {
        AdminOp::JobBatch(JobBatch { job_id: job, event_ids: events.to_vec(), cursor, last, lease_ms: 60_000 })
    };
    assert_eq!(store.admin(batch(&[ids[3], ids[2]], ids[1], false)).await.unwrap(), 1);
    let running = store.get_job(job).await.unwrap().unwrap();
    assert_eq!((running.state, running.done, running.made, running.cursor), (JobState::Running, 2, 2, ids[1]));
    let made = audit_deliveries(&store).await;
    let mut made: Vec<EventId> = made.iter().map(|d| d.event_id).collect();
    made.sort_unstable();
    assert_eq!(made, vec![ids[2], ids[3]]);
    assert_eq!(store.admin(AdminOp::CancelJob { job_id: job, actor: "ops".into() }).await.unwrap(), 1);
    assert_eq!(store.admin(batch(&[ids[1], ids[0]], EventId(0), true)).await.unwrap(), 0, "no batch after a cancel");
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
    assert_eq!(store.admin(batch(&[ids[3]], EventId(0), true)).await.unwrap(), 0, "another job's batch id");
    let done = AdminOp::JobBatch(JobBatch {
        job_id: second,
        event_ids: vec![ids[0]],
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
