//! The Flinks guide's Flask/Express endpoint, in Rust with hookgate.
//!
//! Run with:
//! ```sh
//! FLINKS_HMAC_SECRET=your-hmac-secret-key cargo run -p hookgate-axum --example flinks_receiver
//! # then, in another shell:
//! body='{"ResponseType":"KYC","Tag":"userId=12345,session=abc"}'
//! sig=$(printf '%s' "$body" | FLINKS_HMAC_SECRET=your-hmac-secret-key \
//!       hookgate sign --scheme flinks --secret-env FLINKS_HMAC_SECRET)
//! curl -i http://127.0.0.1:3000/webhook -H "$sig" -H 'Content-Type: application/json' -d "$body"
//! ```
//!
//! The secret comes from the environment, never from the source. The body is verified as raw bytes
//! before anything parses it; a bad signature gets Flinks' documented 403 with a generic body.

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use hookgate_axum::{VerifiedWebhook, WebhookRejection, WebhookVerifier};
use hookgate_verify::{Auth, preset};

async fn handle_webhook(hook: Result<VerifiedWebhook, WebhookRejection>) -> axum::response::Response {
    let hook = match hook {
        Ok(hook) => hook,
        Err(rejection) => {
            // "Return HTTP 403 on signature mismatch (and log the event for investigation)."
            if let Some(reason) = rejection.reason() {
                eprintln!("Rejected webhook: {reason}.");
            }
            return rejection.into_response();
        }
    };
    // Only now is the body trusted enough to parse.
    let response_type = serde_json::from_slice::<serde_json::Value>(&hook.body)
        .ok()
        .and_then(|v| v.get("ResponseType").and_then(|t| t.as_str()).map(str::to_owned));
    match response_type.as_deref() {
        Some("KYC") => eprintln!("KYC webhook, {} bytes.", hook.body.len()),
        Some("GetAccountsDetail") => eprintln!("Account detail webhook, {} bytes.", hook.body.len()),
        other => eprintln!("Other webhook: {other:?}."),
    }
    (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scheme = preset("flinks").ok_or("the flinks preset exists")?;
    let secret = std::env::var("FLINKS_HMAC_SECRET").map_err(|_| "set FLINKS_HMAC_SECRET")?;
    let key = scheme.key(&secret)?;
    let verifier = Auth::new(scheme, vec![key])?;
    let app = Router::new()
        .route("/webhook", post(handle_webhook))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(WebhookVerifier::new(verifier));
    let addr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("Listening on http://{addr}/webhook.");
    axum::serve(listener, app).await?;
    Ok(())
}
