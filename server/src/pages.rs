//! The few HTML pages the broker shows people: link outcomes and the sandbox consent.
//!
//! Every URL a page names is absolute, built from the public URL (`--public-url`), so a broker
//! behind a path prefix (`https://apps.example.com/grantline`) posts its forms to itself.

use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use grantline_core::engine::{CallbackPage, ConnectForm, EngineConfig, LINK_PATH};
use grantline_core::Error;

/// Marks a response that carries (or was reached with) a link token, a `state`, a code or a
/// form as private: never framed (clickjacking), never cached, and never named in a `Referer`.
pub fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A whole page around `body`, with a `data-outcome` the tests and widgets can read.
pub fn layout(title: &str, outcome: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · Grantline</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;display:grid;place-items:center;min-height:100vh;color:#1d2330}}
main{{background:#fff;border-radius:12px;box-shadow:0 2px 12px #0001;padding:2rem 2.5rem;max-width:28rem}}
h1{{font-size:1.3rem;margin-top:0}} .muted{{color:#5b6472}} button{{font-size:1rem;padding:.55rem 1.1rem;border-radius:8px;border:1px solid #c9ced6;background:#fff;cursor:pointer}}
button.primary{{background:#2358d8;color:#fff;border-color:#2358d8}} input{{font-size:1rem;padding:.45rem;border:1px solid #c9ced6;border-radius:6px;width:100%;box-sizing:border-box}}
.row{{display:flex;gap:.6rem;margin-top:1.2rem}} label{{display:block;margin-top:.9rem}} .error{{color:#b3261e}}
</style></head>
<body><main data-outcome="{outcome}">
<h1>{title}</h1>
{body}
</main></body></html>"#,
        title = esc(title),
    )
}

/// Renders a link or callback outcome.
pub fn callback_page(page: &CallbackPage) -> Response {
    let status = StatusCode::from_u16(page.http_status()).unwrap_or(StatusCode::OK);
    let html = match page {
        CallbackPage::Connected { toolkit } => layout(
            "Connected",
            "connected",
            &format!("<p>Your {} account is connected — you can close this window.</p>", esc(toolkit)),
        ),
        CallbackPage::Failed { toolkit, reason } => layout(
            "Connection failed",
            "failed",
            &format!("<p>Connecting {} did not work.</p><p class=\"muted\">{}</p><p>Go back to the app and try again.</p>", esc(toolkit), esc(reason)),
        ),
        CallbackPage::Expired => layout(
            "This link has expired",
            "expired",
            "<p>This Connect Link was not completed in time, so nothing was connected.</p><p>Go back to the app and start again.</p>",
        ),
        CallbackPage::Invalid { reason } => layout("This link cannot be used", "invalid", &format!("<p>{}</p>", esc(reason))),
    };
    (status, Html(html)).into_response()
}

/// The form of an API-key, bearer or basic toolkit's Connect Link; it posts to the link's
/// absolute URL on the broker's public URL.
pub fn connect_form(config: &EngineConfig, form: &ConnectForm, status: StatusCode) -> Response {
    let error = form.error.as_deref().map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let fields: String = form
        .fields
        .iter()
        .map(|f| {
            let (kind, value) = if f.secret {
                ("password", String::new())
            } else {
                ("text", form.kept.get(&f.name).map(|v| esc(v)).unwrap_or_default())
            };
            format!(
                r#"<label>{label}<input type="{kind}" name="{name}" value="{value}" required autocomplete="off" spellcheck="false"></label>"#,
                label = esc(&f.label),
                name = esc(&f.name),
            )
        })
        .collect();
    let body = format!(
        r#"<p class="muted">An app asks to use your {name} account. What you enter is sent to {name} only to check it, and stored encrypted.</p>{error}
<form method="post" action="{action}">{fields}
<div class="row"><button class="primary" type="submit">Connect</button></div></form>"#,
        name = esc(&form.toolkit_name),
        action = esc(&config.url(&format!("{LINK_PATH}{}", form.link_token))),
    );
    (status, Html(layout(&format!("Connect {}", form.toolkit_name), "form", &body))).into_response()
}

/// An unexpected error, as a page (no internals beyond the error's own message).
pub fn error_page(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "page failed");
    }
    let msg = if status.is_server_error() { "Something went wrong on the broker. Try again later.".to_string() } else { e.to_string() };
    let mut response = (status, Html(layout("Something went wrong", "error", &format!("<p>{}</p>", esc(&msg))))).into_response();
    if let Some(secs) = e.retry_after() {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    response
}
