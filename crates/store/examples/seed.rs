//! Fills a store with synthetic Flinks-style events, for the operator API's benchmarks
//! (`bench/run-admin-bench.sh`): `seed STORE_URL COUNT`. Three sources, four event types, a
//! `Tag` with a user id out of 50,000, bodies of ~700 bytes, arrival times spread over 30 days
//! before now; one event in ten has a delivery.

use std::sync::Arc;

use hookgate_store::{NewEvent, Store, StoreOptions, StoreUrl};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = StoreUrl::parse(&args.next().ok_or("usage: seed STORE_URL COUNT")?)?;
    let count: u64 = args.next().ok_or("usage: seed STORE_URL COUNT")?.parse()?;
    let store = Arc::new(Store::open(&url, StoreOptions { queue_capacity: 65_536, ..StoreOptions::default() }).await?);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let span = 30 * 86_400_000_i64;
    let sources = ["flinks", "fin", "partner"];
    let types = ["KYC", "GetAccountsDetail", "Transactions", "Identity"];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let store = Arc::clone(&store);
        // A cheap, repeatable spread (no RNG needed for a benchmark's data).
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let source = sources[(h % 3) as usize];
        let event_type = types[((h >> 8) % 4) as usize];
        let user = (h >> 16) % 50_000;
        let balance = (h >> 32) % 100_000;
        let received = now - span + (i as i64 * span / count.max(1) as i64);
        let body = format!(
            r#"{{"ResponseType":"{event_type}","HttpStatusCode":200,"Login":{{"Id":"login-{i}"}},"Tag":"userId={user},channel=web","RequestId":"req-{i}","Accounts":[{{"Id":"acc-{i}","Balance":{{"Current":{balance},"Available":{balance}}},"Currency":"CAD","Holder":{{"Name":"Holder {user}","Email":"h{user}@example.com"}},"Transactions":[{{"Id":"t1","Amount":12.5,"Description":"COFFEE"}},{{"Id":"t2","Amount":-200,"Description":"PAYROLL"}}]}}]}}"#
        )
        .into_bytes();
        let metadata = serde_json::json!({
            "event_type": event_type, "response_type": event_type, "http_status_code": 200,
            "login_id": format!("login-{i}"), "tag": {"userId": user.to_string(), "channel": "web"}
        });
        let event = NewEvent {
            source: source.into(),
            received_at_ms: received,
            dedup_key: format!("json:req-{i}"),
            provider_id: None,
            event_type: Some(event_type.into()),
            signed_at_ms: None,
            body_sha256: hookgate_store::sha256_hex(&body),
            body,
            headers: vec![("content-type".into(), hookgate_store::HeaderBytes::from("application/json"))],
            metadata,
            targets: if i % 10 == 0 { vec!["audit".into()] } else { vec![] },
            pii: vec![],
        };
        tasks.spawn(async move { store.insert_event(event).await.map(|_| ()) });
        if tasks.len() >= 2_000 {
            while tasks.len() > 1_000 {
                tasks.join_next().await.transpose()?.transpose()?;
            }
        }
        if i > 0 && i % 100_000 == 0 {
            eprintln!("seed: {i} events");
        }
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    store.close().await;
    eprintln!("seed: {count} events");
    Ok(())
}
