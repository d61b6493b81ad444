//! The operator API driven in process (`Gateway::admin_app`, `tower::ServiceExt::oneshot`): the
//! contract every handler shares — the error body, the page, refusals — without a socket.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hookgate_server::admin::tokens::{Role, TokenEntry, TokensFile, sha256_hex};
use hookgate_server::{Config, Gateway, Peer};
use tower::ServiceExt as _;

use crate::support::*;

const VIEWER: &str = "hgat_in-process-viewer-token";
const OPERATOR: &str = "hgat_in-process-operator-token";

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let mut builder = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    let mut request = builder.body(Body::from(body.to_owned())).unwrap();
    request.extensions_mut().insert(ConnectInfo(Peer("127.0.0.1:40001".parse().unwrap())));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// The error body's shape, exactly: `{"error": {"code", "message"}}` and nothing else.
fn error_code(body: &serde_json::Value) -> &str {
    let error = body["error"].as_object().unwrap_or_else(|| panic!("an error body: {body}"));
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message"], "{body}");
    error["code"].as_str().unwrap()
}

#[tokio::test]
async fn every_handler_answers_the_same_contract_in_process() {
    let dir = temp_dir("admin-api");
    std::fs::write(dir.join("flinks.secret"), FLINKS_SECRET).unwrap();
    std::fs::write(dir.join("fin.secret"), FIN_SECRET).unwrap();
    TokensFile::update(&dir.join("tokens.toml"), |file| {
        for (name, role, token) in [("v", Role::Viewer, VIEWER), ("o", Role::Operator, OPERATOR)] {
            file.tokens.push(TokenEntry {
                name: name.into(),
                role,
                sha256: sha256_hex(token.as_bytes()),
                created_at: 0,
                expires_at: None,
            });
        }
        Ok(())
    })
    .unwrap();
    let extra = "[admin]\nlisten = \"127.0.0.1:0\"\ntokens_file = \"tokens.toml\"\n";
    let text = config_text("", extra).replace("STORE", dir.join("hookgate.db").to_str().unwrap());
    std::fs::write(dir.join("hookgate.toml"), text).unwrap();
    let built = Config::load(&dir.join("hookgate.toml")).unwrap().build().unwrap();
    let gateway = Gateway::new(built).await.unwrap();
    let api = gateway.admin_app().expect("[admin] is configured");

    // No token, a bad one: 401, the same body for both.
    let (status, body) = call(&api, "GET", "/api/v1/events", None, "").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, body) = call(&api, "GET", "/api/v1/events", Some("hgat_nope"), "").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    // Every list is a page; an id, a parameter or a body the API cannot read is a 400 in the
    // same body, naming it.
    for list in ["/api/v1/events", "/api/v1/rejections", "/api/v1/deliveries", "/api/v1/jobs"] {
        let (status, body) = call(&api, "GET", list, Some(VIEWER), "").await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert!(body["items"].is_array() && body.get("next_cursor").is_some(), "{list}: {body}");
    }
    for (path, field) in [
        ("/api/v1/events/abc", "id: not an event id"),
        ("/api/v1/rejections/r1", "id: not a rejection id"),
        ("/api/v1/deliveries/x", "id: not a delivery id"),
        ("/api/v1/jobs/1.5", "id: not a job id"),
        ("/api/v1/events?bogus=1", "query:"),
        ("/api/v1/events?limit=0", "limit:"),
        ("/api/v1/events?since=yesterday", "since:"),
        ("/api/v1/events?match=%5B%5D", "match:"),
    ] {
        let (status, body) = call(&api, "GET", path, Some(VIEWER), "").await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "bad_request"), "{path}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with(field), "{path}: {body}");
    }
    let (status, body) = call(&api, "GET", "/api/v1/events/999", Some(VIEWER), "").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    // A role too low: 403; a body that is not the request's shape: 400.
    let (status, body) = call(&api, "POST", "/api/v1/replays", Some(VIEWER), "{}").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, body) = call(&api, "POST", "/api/v1/replays", Some(OPERATOR), r#"{"bogus":1}"#).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (status, body) = call(&api, "POST", "/api/v1/replays", Some(OPERATOR), r#"{"dry_run":true}"#).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!({"count": 0, "dry_run": true})));
    // The document served is the one committed.
    let (status, doc) = call(&api, "GET", "/api/openapi.json", None, "").await;
    assert_eq!(status, StatusCode::OK);
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap())
            .unwrap();
    assert_eq!(doc, committed);
    let _ = std::fs::remove_dir_all(dir);
}
