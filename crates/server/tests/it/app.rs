//! The gateway's router driven in process (`Gateway::app`, `tower::ServiceExt::oneshot`): no
//! socket, the same handlers, a real SQLite store.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hookgate_server::{Config, Gateway, Peer};
use hookgate_store::{EventQuery, Reader};
use tower::ServiceExt as _;

use crate::support::*;

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (StatusCode, String) {
    let mut builder = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    let mut request = builder.body(Body::from(body.to_vec())).unwrap();
    request.extensions_mut().insert(ConnectInfo(Peer("127.0.0.1:40000".parse().unwrap())));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_router_serves_in_process() {
    let dir = temp_dir("app");
    std::fs::write(dir.join("flinks.secret"), FLINKS_SECRET).unwrap();
    std::fs::write(dir.join("fin.secret"), FIN_SECRET).unwrap();
    let text = config_text("", "").replace("STORE", dir.join("hookgate.db").to_str().unwrap());
    std::fs::write(dir.join("hookgate.toml"), text).unwrap();
    let built = Config::load(&dir.join("hookgate.toml")).unwrap().build().unwrap();
    let gateway = Gateway::new(built).await.unwrap();
    let app = gateway.app();

    let body = br#"{"ResponseType":"KYC","Tag":"userId=12345"}"#;
    let (status, answer) = call(&app, "POST", "/webhooks/flinks", &flinks_headers(body), body).await;
    assert_eq!((status, answer.as_str()), (StatusCode::OK, r#"{"status":"ok"}"#));
    let forged = flinks_headers(b"something else");
    let (status, answer) = call(&app, "POST", "/webhooks/flinks", &forged, body).await;
    assert_eq!((status, answer.as_str()), (StatusCode::FORBIDDEN, r#"{"error":"Invalid signature"}"#));
    assert_eq!(call(&app, "GET", "/healthz", &[], b"").await.0, StatusCode::OK);
    assert_eq!(call(&app, "GET", "/metrics", &[], b"").await.0, StatusCode::NOT_FOUND, "never on the webhook router");
    assert_eq!(call(&gateway.ops_app(), "GET", "/readyz", &[], b"").await.0, StatusCode::OK);

    // Answered 2xx only once committed: the event is there, with the preset's Flinks metadata.
    let events = Reader::open_existing(&dir.join("hookgate.db")).unwrap().list_events(&EventQuery::default()).unwrap();
    assert_eq!(events.len(), 1);
    let event = Reader::open_existing(&dir.join("hookgate.db")).unwrap().get_event(events[0].id).unwrap().unwrap();
    assert_eq!(
        event.metadata,
        serde_json::json!({"event_type": "KYC", "response_type": "KYC", "tag": {"userId": "12345"}})
    );
    drop(gateway);
    let _ = std::fs::remove_dir_all(dir);
}
