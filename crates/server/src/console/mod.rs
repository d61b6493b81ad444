//! The web console, on the operator listener at `/`: a sign-in page, then one page whose script
//! is a client of the operator API (`/api/v1/…`, with the session cookie and its CSRF token). The
//! console never reads the store itself; everything it shows or does, the API shows or does, with
//! the same roles.
//!
//! Safety: the session cookie is `HttpOnly; SameSite=Strict` (`Secure` under TLS); every response
//! of the operator listener carries a Content-Security-Policy with no inline script or style, so
//! the page runs only `/assets/main.js` and the ES modules it imports, all from `ASSETS`: one per
//! view (`views/*.js`), the API client, the shared table, and pure helpers (`format.js`: JSON
//! re-indented as received, times, reading a link's filters). They build the page from text nodes
//! (a payload with `<script>` in it is shown, never run).

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hookgate_store::{DeliveryStatus, EventStatus};
use serde::Deserialize;

use crate::admin::AdminState;

const JS: &str = "text/javascript; charset=utf-8";

/// Every file served under `/assets/`: (path, content, content type). A new module is one line
/// here (a test fails until it is); any other path under `/assets/` is a 404.
const ASSETS: &[(&str, &str, &str)] = &[
    ("console.css", include_str!("assets/console.css"), "text/css; charset=utf-8"),
    ("main.js", include_str!("assets/main.js"), JS),
    ("api.js", include_str!("assets/api.js"), JS),
    ("dom.js", include_str!("assets/dom.js"), JS),
    ("filters.js", include_str!("assets/filters.js"), JS),
    ("format.js", include_str!("assets/format.js"), JS),
    ("job.js", include_str!("assets/job.js"), JS),
    ("json.js", include_str!("assets/json.js"), JS),
    ("page.js", include_str!("assets/page.js"), JS),
    ("payload.js", include_str!("assets/payload.js"), JS),
    ("route.js", include_str!("assets/route.js"), JS),
    ("table.js", include_str!("assets/table.js"), JS),
    ("views/audit.js", include_str!("assets/views/audit.js"), JS),
    ("views/deliveries.js", include_str!("assets/views/deliveries.js"), JS),
    ("views/delivery.js", include_str!("assets/views/delivery.js"), JS),
    ("views/event.js", include_str!("assets/views/event.js"), JS),
    ("views/events.js", include_str!("assets/views/events.js"), JS),
    ("views/jobs.js", include_str!("assets/views/jobs.js"), JS),
    ("views/overview.js", include_str!("assets/views/overview.js"), JS),
    ("views/rejection.js", include_str!("assets/views/rejection.js"), JS),
    ("views/rejections.js", include_str!("assets/views/rejections.js"), JS),
    ("views/secrets.js", include_str!("assets/views/secrets.js"), JS),
];

/// The console's routes (merged into the operator listener's router).
pub(crate) fn router() -> axum::Router<Arc<AdminState>> {
    axum::Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/assets/{*path}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

/// A file of `ASSETS` by its path under `/assets/`: (content, content type).
fn find_asset(path: &str) -> Option<(&'static str, &'static str)> {
    ASSETS.iter().find(|(p, _, _)| *p == path).map(|&(_, text, content_type)| (text, content_type))
}

/// `GET /assets/{*path}`: a file of `ASSETS`, or 404.
async fn asset(Path(path): Path<String>) -> Response {
    let Some((text, content_type)) = find_asset(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut r = text.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn now() -> i64 {
    hookgate_verify::Timestamp::now().unix_secs()
}

/// Text for HTML: the five characters that could end an element or an attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn page(title: &str, body_class: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/console.css\">{head}</head>\
         <body class=\"{body_class}\">{body}</body></html>\n"
    )
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<main class=\"login\"><h1>Hookgate</h1>\
         <form method=\"post\" action=\"/login\">\
         <label for=\"token\">Operator token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus>\
         <button type=\"submit\">Sign in</button></form>{error}\
         <p class=\"hint\">A token from <code>hookgate admin token create</code>.</p></main>"
    );
    html(status, page("Hookgate: sign in", "login", "", &body))
}

/// `GET /`: the console for a signed-in browser, the sign-in page otherwise.
async fn index(State(state): State<Arc<AdminState>>, headers: HeaderMap) -> Response {
    let Some((caller, session)) = crate::admin::session_caller(&state.tokens, &state.sessions, &headers, now()) else {
        return login_page(StatusCode::OK, None);
    };
    // The configured names the filters offer, with the page: the API's lists of sources and
    // targets also count events and deliveries, more than a filter's choices need.
    let names = |names: Vec<&str>| escape(&serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()));
    // A module script is deferred by default, and CSP `script-src 'self'` allows it.
    let head = format!(
        "<meta name=\"hookgate-csrf\" content=\"{}\"><meta name=\"hookgate-role\" content=\"{}\">\
         <meta name=\"hookgate-name\" content=\"{}\"><meta name=\"hookgate-sources\" content=\"{}\">\
         <meta name=\"hookgate-targets\" content=\"{}\"><meta name=\"hookgate-statuses\" content=\"{}\">\
         <script type=\"module\" src=\"/assets/main.js\"></script>",
        escape(&session.csrf),
        caller.role.as_str(),
        escape(&caller.name),
        names(state.sources.iter().map(|s| s.name.as_str()).collect()),
        names(state.targets.iter().map(|t| t.name.as_str()).collect()),
        escape(&statuses_json()),
    );
    let body = format!(
        "<header><a class=\"brand\" href=\"#/\">Hookgate</a>\
         <nav aria-label=\"Views\"><a href=\"#/\">Overview</a><a href=\"#/events\">Events</a>\
         <a href=\"#/rejections\">Rejections</a><a href=\"#/deliveries\">Deliveries</a>\
         <a href=\"#/jobs\">Jobs</a><a href=\"#/secrets\">Secrets</a>{audit}</nav>\
         <form class=\"who\" method=\"post\" action=\"/logout\"><span>{name} ({role})</span>\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Sign out</button></form>\
         </header><main id=\"view\" tabindex=\"-1\" aria-live=\"polite\"></main>",
        audit = if caller.role >= crate::admin::tokens::Role::Admin { "<a href=\"#/audit\">Audit</a>" } else { "" },
        name = escape(&caller.name),
        role = caller.role.as_str(),
        csrf = escape(&session.csrf),
    );
    html(StatusCode::OK, page("Hookgate", "console", &head, &body))
}

/// The statuses the filters offer and check a link against, from the store's own lists, so the
/// script keeps no copy of them to drift: `{"event": [...], "delivery": [...]}`.
fn statuses_json() -> String {
    serde_json::json!({
        "event": EventStatus::ALL.map(EventStatus::as_str),
        "delivery": DeliveryStatus::ALL.map(DeliveryStatus::as_str),
    })
    .to_string()
}

/// Whether a form post comes from this origin (a page elsewhere cannot sign a browser in or out).
/// Browsers say where a request comes from in `Sec-Fetch-Site`; without it, `Origin` must name
/// the host the request went to. (`Origin` alone is not enough: under `Referrer-Policy:
/// no-referrer` a browser sends `Origin: null` even from this console's own page, and so does a
/// sandboxed frame on any site. `null` passes only with `Sec-Fetch-Site: same-origin`, which
/// every browser that sends it for this page also sends; no `Origin` at all is not a browser.)
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin";
    }
    match text(header::ORIGIN.as_str()) {
        None => true,
        Some("null") => false,
        Some(origin) => {
            let host = text(header::HOST.as_str()).unwrap_or("");
            origin.split_once("://").is_some_and(|(_, rest)| rest == host)
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /login`: a valid token opens a session (until the token expires, at most 12 hours).
async fn login(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    if !same_origin(&headers) {
        return login_page(StatusCode::FORBIDDEN, Some("Sign in from this console's own page."));
    }
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, Some("Enter an operator token."));
    };
    let now = now();
    let Some(entry) = state.tokens.entry(form.token.trim(), now) else {
        // At most a line every 5 s (with the count left out): a flood of guesses must not
        // flood the log.
        static THROTTLE: hookgate_store::throttle::LogThrottle =
            hookgate_store::throttle::LogThrottle::new(std::time::Duration::from_secs(5));
        metrics::counter!("hookgate_console_signin_refused_total").increment(1);
        if let Some(suppressed) = THROTTLE.admit() {
            tracing::info!(suppressed, "Console sign-in refused: unknown, revoked or expired token.");
        }
        return login_page(StatusCode::UNAUTHORIZED, Some("That token is not valid (unknown, revoked or expired)."));
    };
    let expires_at = entry
        .expires_at
        .map_or(now + crate::admin::session::MAX_AGE_SECS, |t| t.min(now + crate::admin::session::MAX_AGE_SECS));
    let (id, _) = match state.sessions.open(entry.sha256.clone(), expires_at, now) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "Cannot open a console session: no randomness.");
            return login_page(StatusCode::INTERNAL_SERVER_ERROR, Some("The gateway cannot open a session."));
        }
    };
    tracing::info!(token = %entry.name, "Console sign-in.");
    to_console_with_cookie(&id, (expires_at - now).max(0), state.secure_cookies)
}

/// A redirect to the console that sets the session cookie (`Max-Age=0` with an empty id: ends it).
fn to_console_with_cookie(id: &str, max_age: i64, secure: bool) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", crate::admin::session::COOKIE);
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

/// `POST /logout`: ends the session (the form carries its CSRF token).
async fn logout(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let id = crate::admin::session::cookie_id(&headers).map(str::to_owned);
    if let Some(id) = &id {
        let valid = state.sessions.get(id, now()).is_some_and(|s| {
            let presented = form.as_ref().map(|f| f.csrf.as_str()).unwrap_or_default();
            crate::admin::session::csrf_ok(&s, presented)
        });
        if !valid || !same_origin(&headers) {
            return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
        }
        state.sessions.close(id);
    }
    to_console_with_cookie("", 0, state.secure_cookies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_file_is_served_and_nothing_else() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/assets");
        for sub in ["", "views"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".js") || name.ends_with(".css") {
                    let path = if sub.is_empty() { name } else { format!("{sub}/{name}") };
                    assert!(find_asset(&path).is_some(), "assets/{path} is missing from ASSETS");
                }
            }
        }
        assert_eq!(find_asset("main.js").map(|(_, t)| t), Some(JS));
        for absent in ["", "views", "console.js", "format.test.mjs", "package.json", "../mod.rs", "/main.js"] {
            assert!(find_asset(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn every_module_a_module_imports_is_served() {
        for (path, text, _) in ASSETS.iter().filter(|(p, _, _)| p.ends_with(".js")) {
            // `import … from './x.js'` (or '../x.js'), resolved against the importing module's folder.
            for spec in text.split(" from '").skip(1).filter_map(|rest| rest.split('\'').next()) {
                let mut parts: Vec<&str> = path.split('/').collect();
                parts.pop();
                for segment in spec.split('/') {
                    match segment {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(find_asset(&target).is_some(), "{path} imports {spec}, which ASSETS does not serve");
            }
        }
    }

    #[test]
    fn the_page_carries_the_stores_status_names() {
        let v: serde_json::Value = serde_json::from_str(&statuses_json()).unwrap();
        assert_eq!(v["event"], serde_json::json!(["pending", "failed", "delivered", "dead"]));
        assert_eq!(v["delivery"], serde_json::json!(["pending", "failed", "delivered", "dead", "cancelled"]));
    }

    #[test]
    fn escape_covers_what_ends_an_element_or_attribute() {
        assert_eq!(escape(r#"<script>"a"&'b'</script>"#), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
    }

    #[test]
    fn the_session_cookie_is_secure_over_tls() {
        let cookie = |secure| {
            let r = to_console_with_cookie("abc", 60, secure);
            r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned()
        };
        assert_eq!(cookie(true), "hookgate_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
        assert!(!cookie(false).contains("Secure"));
    }

    #[test]
    fn a_form_post_from_another_origin_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&h), "no Origin: not a browser's cross-site post");
        h.insert(header::ORIGIN, "http://127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h), "this page under no-referrer");
        h.remove("sec-fetch-site");
        assert!(!same_origin(&h), "a sandboxed frame (Origin: null) without Sec-Fetch-Site");
    }
}
